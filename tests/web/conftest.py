"""Fixtures for the web tests: a harvested sample database and a client with a session."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aggregator.config import AppConfig
from aggregator.harvest import harvest
from aggregator.settings import Settings
from api.app import create_app
from crawlers.fetch import Fetcher
from crawlers.records import Window
from tests.conftest import SAMPLE_NOW, config_for, write_sources

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sample_config(tmp_path: Path, sample_dir: Path) -> AppConfig:
    """Two sample iCal sources (Utrecht-Amersfoort and Twente) copied next to a sources file."""
    shutil.copy(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v1.ics", tmp_path / "ua.ics")
    shutil.copy(sample_dir / "ics/twents-onderwijsnetwerk.ics", tmp_path / "twente.ics")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "ua",
                "name": "Utrecht & Amersfoort",
                "kind": "ics",
                "url": "ua.ics",
                "region": "regio-utrecht",
            },
            {
                "id": "twente",
                "name": "Twents Onderwijsnetwerk",
                "kind": "ics",
                "url": "twente.ics",
                "region": "twente",
            },
        ],
    )
    return config_for(sources)


def harvest_samples(engine: Engine, config: AppConfig) -> None:
    """Harvest the sample sources at SAMPLE_NOW."""
    with Fetcher(user_agent="overstap-agenda-tests", timeout=5) as fetcher:
        harvest(
            engine=engine,
            config=config,
            fetcher=fetcher,
            now=SAMPLE_NOW,
            window=Window.around(SAMPLE_NOW),
        )


def web_settings(**overrides: object) -> Settings:
    """Settings for web tests: a fixed secret, an unreachable tile server."""
    values: dict[str, object] = {
        "WEB_SECRET_KEY": "test-secret",
        "WEB_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def web_config(tmp_path: Path, sample_dir: Path) -> AppConfig:
    return sample_config(tmp_path, sample_dir)


@pytest.fixture
def harvested(engine: Engine, web_config: AppConfig) -> Engine:
    harvest_samples(engine, web_config)
    return engine


@pytest.fixture
def client(harvested: Engine, web_config: AppConfig) -> Iterator[TestClient]:
    app = create_app(settings=web_settings(), config=web_config, engine=harvested)
    with TestClient(app) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The CSRF token of a rendered form."""
    match = _CSRF.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)
