"""Shared fixtures: a fresh, migrated database per test, copied from a template.

Databases
    Each session migrates one template per backend (the whole Alembic chain, once) and every
    test gets its own copy: SQLite copies the template file into the test's ``tmp_path``,
    PostgreSQL makes a new database with ``CREATE DATABASE ... TEMPLATE``. A template can also
    be *seeded* (``seeded_engine(key, seed)``): the seed (a harvest, a set of rows) runs once
    per session and backend, and each test still gets its own copy to write to. The Alembic
    chain itself is still run by tests/test_migrations.py (down and up again) and by the
    migration tests that start from an empty database (``postgres_url``, a SQLite path).

Which backend
    A test that asks for ``engine``, ``database_url`` or ``seeded_engine`` runs on SQLite.
    It runs on PostgreSQL too when marked ``@pytest.mark.both_backends`` (on the test or as
    the module's ``pytestmark``). Mark it when the dialect matters: SQL written per dialect
    (full-text search, the query and its ordering, the store's upserts and history, the
    publish-version triggers, migrations), rate limits and concurrent writers. A test of
    rendering, forms, pages or a reader does not need the second backend.

PostgreSQL
    Databases live on the server of TEST_DATABASE_URL (default 127.0.0.1:5432, trust auth;
    the role needs CREATEDB), named after the session so parallel sessions never meet, and
    are dropped afterwards. When PostgreSQL is unreachable its tests are skipped with the
    reason, unless AGENDA_REQUIRE_POSTGRES=1 (CI), which turns that into a failure.

Rules for new tests
    Take ``engine`` (or ``seeded_engine`` for data many tests read) rather than migrating a
    database yourself; put read-only data in a seeded template, not in a per-test harvest,
    and let tests that only read share one copy per module (``read_only_engine``);
    run the CLI in-process (``tests.cli.run_cli``), keeping real child processes for the
    few tests of the console script itself; no sleeps.

Mail
    ``smtp_server`` (and ``smtp_tls_server``: STARTTLS plus login) is a real aiosmtpd server
    on loopback; ``server.inbox.wait_for(n)`` returns the parsed messages (tests/mailserver.py).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, create_engine, make_url, text

from agenda.settings import Settings
from aggregator import accounts
from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from config import bundled

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data"
AMS = ZoneInfo("Europe/Amsterdam")
SAMPLE_NOW = datetime(2027, 1, 5, tzinfo=AMS)
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("AGENDA_REQUIRE_POSTGRES") == "1"
BACKENDS = ("sqlite", "postgres")
# fixtures of the loopback SMTP server (smtp_server, smtp_tls_server) for every mail test
pytest_plugins = ["tests.mailserver"]

Seed = Callable[[Engine], object]

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


def _require_postgres() -> None:
    """Skip (or, in CI, fail) the current test when PostgreSQL is unreachable."""
    problem = _postgres_problem()
    if problem:
        if REQUIRE_PG:
            pytest.fail(problem + " (AGENDA_REQUIRE_POSTGRES=1)")
        pytest.skip(problem)


def _pg_database_url(name: str) -> str:
    """TEST_DATABASE_URL pointing at another database of the same server."""
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


class DatabaseTemplates:
    """Migrated (and optionally seeded) template databases, made on first use, copied per test."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._tag = uuid.uuid4().hex[:10]
        self._sqlite: dict[str, Path] = {}
        self._postgres: dict[str, str] = {}
        self._admin: Engine | None = None

    def copy(
        self, backend: str, into: Path, key: str = "migrated", seed: Seed | None = None
    ) -> str:
        """The URL of a new database holding what template ``key`` holds.

        The template is migrated to head and then handed to ``seed`` the first time ``key``
        is asked for on this backend; the same key must always come with the same seed.
        A SQLite copy is a file in ``into``; a PostgreSQL copy is dropped by ``drop``.
        """
        if backend == "sqlite":
            target = into / f"agenda-{uuid.uuid4().hex[:8]}.sqlite"
            shutil.copyfile(self._sqlite_template(key, seed), target)
            return f"sqlite:///{target}"
        name = f"agenda_{self._tag}_{uuid.uuid4().hex[:10]}"
        with self._admin_engine().connect() as connection:
            connection.execute(
                text(f'CREATE DATABASE "{name}" TEMPLATE "{self._postgres_template(key, seed)}"')
            )
        return _pg_database_url(name)

    def drop(self, url: str) -> None:
        """Drop a PostgreSQL copy made by ``copy`` (connections still open are ended)."""
        name = make_url(url).database
        with self._admin_engine().connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the PostgreSQL templates of this session."""
        if self._admin is None:
            return
        with self._admin.connect() as connection:
            for name in self._postgres.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()

    def _admin_engine(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        return self._admin

    def _sqlite_template(self, key: str, seed: Seed | None) -> Path:
        if key not in self._sqlite:
            path = self._workdir / f"{_slug(key)}.sqlite"
            _build(f"sqlite:///{path}", seed)
            # fold the write-ahead log into the file, so copying the file copies everything
            connection = sqlite3.connect(path)
            try:
                connection.execute("PRAGMA journal_mode=DELETE")
            finally:
                connection.close()
            self._sqlite[key] = path
        return self._sqlite[key]

    def _postgres_template(self, key: str, seed: Seed | None) -> str:
        if key not in self._postgres:
            name = f"agenda_{self._tag}_tpl_{_slug(key)}"[:63]
            with self._admin_engine().connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self._postgres[key] = name
            _build(_pg_database_url(name), seed)
        return self._postgres[key]


def _build(url: str, seed: Seed | None) -> None:
    """Migrate a new database to head and seed it; no connection stays open afterwards."""
    upgrade(url)
    if seed is not None:
        engine = make_engine(url)
        try:
            seed(engine)
        finally:
            engine.dispose()


def _slug(key: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run database tests on SQLite, and on PostgreSQL too when marked ``both_backends``."""
    if "backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("both_backends") is None:
        params = [pytest.param("sqlite", id="sqlite")]
    else:
        params = [
            pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
        ]
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> None:
    """Argon2 at its lowest costs: the suite hashes hundreds of passwords, none of them real."""
    accounts.use_hash_parameters(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseTemplates]:
    """The session's template databases."""
    templates = DatabaseTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    templates.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: ``sqlite`` or ``postgres``."""
    if request.param == "postgres":
        _require_postgres()
    return request.param


@pytest.fixture
def database_copy(
    backend: str, database_templates: DatabaseTemplates, tmp_path: Path
) -> Iterator[Callable[..., str]]:
    """A function ``(key="migrated", seed=None) -> url`` making copies that this test owns."""
    made: list[str] = []

    def copy(key: str = "migrated", seed: Seed | None = None) -> str:
        url = database_templates.copy(backend, tmp_path, key, seed)
        made.append(url)
        return url

    yield copy
    if backend == "postgres":
        for url in made:
            database_templates.drop(url)


@pytest.fixture
def database_url(database_copy: Callable[..., str]) -> str:
    """A migrated, empty database of its own for this test."""
    return database_copy()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the fresh database of ``database_url``."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_engine(database_copy: Callable[..., str]) -> Iterator[Callable[[str, Seed], Engine]]:
    """A function ``(key, seed) -> engine`` on this test's copy of a seeded template.

    ``seed(engine)`` fills the template once per session and backend (key names it; give
    each distinct seed its own key); the test may write to its copy freely.
    """
    engines: list[Engine] = []

    def make(key: str, seed: Seed) -> Engine:
        engines.append(make_engine(database_copy(key, seed)))
        return engines[-1]

    yield make
    for made in engines:
        made.dispose()


@pytest.fixture(scope="module")
def _module_copies(
    database_templates: DatabaseTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[tuple[str, str], tuple[Engine, str]]]:
    """The copies ``read_only_engine`` made for this module: (backend, key) -> (engine, url)."""
    copies: dict[tuple[str, str], tuple[Engine, str]] = {}
    yield copies
    for (backend, _key), (made, url) in copies.items():
        made.dispose()
        if backend == "postgres":
            database_templates.drop(url)


@pytest.fixture
def read_only_engine(
    backend: str,
    database_templates: DatabaseTemplates,
    tmp_path_factory: pytest.TempPathFactory,
    _module_copies: dict[tuple[str, str], tuple[Engine, str]],
) -> Callable[[str, Seed], Engine]:
    """A function ``(key, seed) -> engine`` on one copy that all tests of the module share.

    For tests that only read: the copy of the seeded template is made once per module and
    backend instead of per test. A test that writes takes ``seeded_engine`` instead.
    """

    def make(key: str, seed: Seed) -> Engine:
        if (backend, key) not in _module_copies:
            folder = tmp_path_factory.mktemp("read-only")
            url = database_templates.copy(backend, folder, key, seed)
            _module_copies[backend, key] = (make_engine(url), url)
        return _module_copies[backend, key][0]

    return make


@pytest.fixture
def published_engine(seeded_engine: Callable[[str, Seed], Engine]) -> Engine:
    """This test's copy of the stored events of tests/publishing_data.py (inserted once)."""
    from tests.publishing_data import seed

    return seeded_engine("publishing-data", seed)


@pytest.fixture(scope="module")
def _published_clients() -> dict[Engine, object]:
    """The module's clients of shared read-only copies (one per backend)."""
    return {}


@pytest.fixture
def published_client(
    request: pytest.FixtureRequest,
    read_only_engine: Callable[[str, Seed], Engine],
    _published_clients: dict[Engine, object],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Settings], TestClient]:
    """A function ``(settings) -> client`` of the app on the stored events of publishing_data.

    A test that asks for ``engine`` (it writes) gets a client of its own copy; the others
    share one copy and one client per module and backend, so a module passes one settings.
    """
    from fastapi.testclient import TestClient

    from agenda.web import create_app
    from tests.publishing_data import seed

    def client_of(engine: Engine, settings: Settings) -> TestClient:
        folder = tmp_path_factory.mktemp("published")
        config = config_for(write_sources(folder / "sources.yaml", []))
        return TestClient(create_app(settings=settings, config=config, engine=engine))

    def make(settings: Settings) -> TestClient:
        if "engine" in request.fixturenames:
            return client_of(request.getfixturevalue("engine"), settings)
        shared = read_only_engine("publishing-data", seed)
        if shared not in _published_clients:
            _published_clients[shared] = client_of(shared, settings)
        return _published_clients[shared]  # type: ignore[return-value]

    return make


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh, empty schema, dropped afterwards."""
    _require_postgres()
    yield from _postgres_schema()


def _postgres_schema() -> Iterator[str]:
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
