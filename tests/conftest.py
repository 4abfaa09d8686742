"""Shared fixtures: a fresh database per test on SQLite and on the real PostgreSQL.

PostgreSQL tests use their own schema in the database of TEST_DATABASE_URL (default
127.0.0.1:5432/test, trust auth), so parallel runs never share tables. When PostgreSQL is
unreachable they are skipped with the reason, unless AGENDA_REQUIRE_POSTGRES=1 (CI), which
turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, create_engine, text

from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from config import bundled

DATA = Path(__file__).parent / "data"
AMS = ZoneInfo("Europe/Amsterdam")
SAMPLE_NOW = datetime(2027, 1, 5, tzinfo=AMS)
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("AGENDA_REQUIRE_POSTGRES") == "1"

_pg_state: dict[str, str | None] = {}


def _postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    if "problem" not in _pg_state:
        try:
            engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["problem"] = None
        except Exception as exc:  # any driver or network error means: not available here
            _pg_state["problem"] = f"PostgreSQL at {PG_URL} is unreachable: {exc}".splitlines()[0]
    return _pg_state["problem"]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    problem = _postgres_problem()
    if problem:
        if REQUIRE_PG:
            pytest.fail(problem + " (AGENDA_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: a SQLite file, then a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'agenda.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_url")
    upgrade(url)
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database of ``database_url``."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def write_sources(path: Path, entries: list[dict]) -> Path:
    """Write a sources.yaml with these entries and return its path."""
    path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def config_for(sources_path: Path) -> AppConfig:
    """Load a sources file with the bundled regions and taxonomy."""
    return load_config(sources_path, bundled("regions.yaml"), bundled("taxonomy.yaml"))


@pytest.fixture
def sample_dir() -> Path:
    """The bundled nl-sample calendars (package data, not ../shared)."""
    return bundled("samples/nl-sample")
