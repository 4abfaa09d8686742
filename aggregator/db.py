"""Engine and session factories; migrations through Alembic (`agenda db upgrade`)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, event
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


PING_IDLE_AFTER = 5.0  # seconds a pooled PostgreSQL connection may idle before a ping


def make_engine(url: str, *, ping_idle_after: float = PING_IDLE_AFTER) -> Engine:
    """Create an engine for a SQLite file or PostgreSQL URL (never at import time).

    PostgreSQL connections that sat idle in the pool for more than ``ping_idle_after``
    seconds are pinged before use (see ``_ping_idle``).
    """
    url = normalise_database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pre-ping on every checkout: it costs a round trip, as much as a 304 answer's own
    # query. A busy pool reuses its connections within moments; only a connection that
    # idled longer is pinged, which is when a restart or pg_terminate_backend has most
    # likely ended it unseen. Recycling keeps connections younger than usual idle timeouts
    # of proxies and firewalls.
    engine = create_engine(
        url, pool_pre_ping=False, pool_recycle=1800, pool_size=10, max_overflow=10
    )
    event.listen(engine, "handle_error", _closed_connection_is_a_disconnect)
    event.listen(engine, "checkin", _note_checkin)
    event.listen(
        engine,
        "checkout",
        lambda dbapi, record, proxy: _ping_idle(dbapi, record, ping_idle_after),
    )
    return engine


def _note_checkin(dbapi_connection: Any, record: Any) -> None:
    record.info["checked_in"] = time.monotonic()


def _ping_idle(dbapi_connection: Any, record: Any, idle_after: float) -> None:
    """Ping a connection that idled over ``idle_after`` s; a dead one is replaced (the pool
    retries the checkout on DisconnectionError), so no request sees it fail."""
    checked_in = record.info.get("checked_in")
    if checked_in is None or time.monotonic() - checked_in <= idle_after:
        return
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # the ping began a transaction (psycopg is not in autocommit): end it, or setting
        # an isolation level on this checkout (StoreSnapshot) fails "connection in
        # transaction status INTRANS"
        dbapi_connection.rollback()
    except Exception as exc:  # any driver error: the connection is no use
        raise DisconnectionError(f"pooled connection is gone: {exc}") from exc


def _closed_connection_is_a_disconnect(context: Any) -> None:
    """Count every error on a connection the server closed as a disconnect.

    SQLAlchemy renews the whole pool on a disconnect, but it recognises one by the error
    text; a backend ended by the server (``pg_terminate_backend``, a restart: SQLSTATE
    57P01 "terminating connection due to administrator command", or a plain operational
    error on a now closed connection) was not always among them, so every pooled
    connection failed a request of its own. Here the first such error renews the pool.
    """
    original = context.original_exception
    sqlstate = getattr(original, "sqlstate", None)
    connection = getattr(context.connection, "connection", None)
    dbapi = getattr(connection, "dbapi_connection", None)
    if sqlstate in _SERVER_ENDED or getattr(dbapi, "closed", False):
        context.is_disconnect = True


# admin_shutdown, crash_shutdown, cannot_connect_now (SQLSTATE class 57P)
_SERVER_ENDED = frozenset({"57P01", "57P02", "57P03"})


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic config bound to this database URL and the bundled migrations."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Apply migrations up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
