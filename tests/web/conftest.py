"""Fixtures for the web tests: a harvested sample database, a client with a session, and
Debian's Chromium (one per test process, open only while browser tests run)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import AppConfig
from config import bundled
from tests.conftest import Seed, config_for, write_sources
from tests.harvesting import harvest_once

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class _SharedChromium:
    """Chromium under Playwright, launched on first use and shared by consecutive browser
    tests of this process (contexts stay per test).

    Playwright's sync API keeps its event loop set on the main thread while it runs, which
    breaks ``asyncio.run`` in later tests: so it is stopped as soon as the next test is not
    a browser test (``pytest_runtest_teardown`` below) and launched again when needed.
    """

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        """The running browser (launched now when it is not)."""
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
        return self._browser

    def stop(self) -> None:
        """Close the browser and stop Playwright (nothing to do when not running)."""
        if self._browser is not None:
            self._browser.close()
            self._playwright.stop()
            self._browser = self._playwright = None


_CHROMIUM = _SharedChromium()


@pytest.fixture
def browser() -> Any:
    """Debian's Chromium (Playwright), shared with the neighbouring browser tests."""
    return _CHROMIUM.get()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the fixtures' teardown: stop Chromium unless the next test is a browser test."""
    try:
        return (yield)
    finally:
        if nextitem is None or nextitem.get_closest_marker("browser") is None:
            _CHROMIUM.stop()


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
    harvest_once(engine, config)


def web_settings(**overrides: object) -> Settings:
    """Settings for web tests: a fixed secret, an unreachable tile server."""
    values: dict[str, object] = {
        "WEB_SECRET_KEY": "test-secret",
        "WEB_TILE_URL": "http://127.0.0.1:9/{z}/{x}/{y}.png",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def web_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample sources file of the web tests, in a folder of the session (read only)."""
    folder = tmp_path_factory.mktemp("web-sources")
    sample_config(folder, bundled("samples/nl-sample"))
    return folder / "sources.yaml"


@pytest.fixture
def web_config(web_sources: Path) -> AppConfig:
    """The sample configuration (loaded per test: a test may change its copy)."""
    return config_for(web_sources)


def samples_seed(sources: Path) -> Seed:
    """The seed of the ``web-samples`` template: a harvest of these sample sources."""
    return lambda engine: harvest_samples(engine, config_for(sources))


@pytest.fixture
def harvested(seeded_engine: Callable[[str, Seed], Engine], web_sources: Path) -> Engine:
    """This test's copy of a database holding the harvested samples (harvested once)."""
    return seeded_engine("web-samples", samples_seed(web_sources))


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


def add_user(
    engine: Engine,
    email: str,
    role: str,
    region: str | None = None,
    trusted: bool = False,
    password: str = "correct horse battery",
) -> None:
    """Create an account directly in the database."""
    from aggregator.accounts import create_user
    from aggregator.db import session_scope

    with session_scope(engine) as session:
        create_user(
            session=session,
            email=email,
            password=password,
            role=role,
            region=region,
            trusted=trusted,
        )


def login(client: TestClient, email: str, password: str = "correct horse battery") -> None:
    """Log in through the form (CSRF token from the login page)."""
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token, "next": "/moderation"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def event_form(**overrides: object) -> dict[str, object]:
    """A complete, valid event submission 30 days from now."""
    from datetime import timedelta

    from aggregator.localtime import today_local

    day = today_local() + timedelta(days=30)
    data: dict[str, object] = {
        "title": "Kijkje in de klas bij De Regenboog",
        "description": "Loop een ochtend mee in groep 5 en praat met de directeur.",
        "start_date": day.isoformat(),
        "start_time": "09:00",
        "end_time": "12:00",
        "attendance": "offline",
        "location_name": "Basisschool De Regenboog",
        "address": "Schoolstraat 1",
        "postcode": "7511ab",
        "city": "Enschede",
        "region": "twente",
        "organizer_name": "Stichting Primair Twente",
        "registration_url": "https://example.org/aanmelden",
        "activity_type": "meeloopdag",
        "sectors": ["po"],
        "audiences": ["zij-instromers"],
        "language": "nl",
        "is_free": "yes",
        "submitter_email": "Juf@Example.org",
    }
    data.update(overrides)
    return data


def submit_event(client: TestClient, **overrides: object):  # type: ignore[no-untyped-def]
    """Post the submission form the way a browser does (token from the form page)."""
    token = csrf_from(client.get("/submit").text)
    return client.post("/submit", data={**event_form(**overrides), "csrf_token": token})
