"""Which process schedules: exactly one at a time, through a PostgreSQL advisory lock.

On PostgreSQL every ``agenda run`` process asks for the same session-level advisory
lock on a connection of its own; the one that gets it schedules, the others poll. The
lock lives as long as that connection: when its holder dies (``kill -9``, a crash, a
lost machine) PostgreSQL ends the session and frees the lock, and the next poll of
another process takes it. TCP keepalives on the lock connection bound how long a
vanished machine holds it. SQLite is the embedded single-process database: its one
process always schedules.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

log = logging.getLogger(__name__)

# one lock per database and schema: tests (and staging) may share a server
_KEY = (
    "hashtextextended('overstap-agenda scheduler:' || current_database() || ':' ||"
    " current_schema(), 0)"
)
_TRY_LOCK = text(f"SELECT pg_try_advisory_lock({_KEY})")
# pg_locks shows a bigint advisory key as classid (high 32 bits), objid (low) and objsubid 1
_HELD = (
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    f" AND ((l.classid::bigint << 32) | l.objid::bigint) = {_KEY}"
)
_STILL_HELD = text(
    f"SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE {_HELD} AND l.pid = pg_backend_pid())"
)
_HOLDERS = text(
    "SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    f" WHERE {_HELD} ORDER BY l.pid"
)
# libpq keepalives: a holder whose machine vanished is noticed within about 25 s
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def application_name() -> str:
    """The lock connection's name in ``pg_stat_activity``: host and process id."""
    return f"agenda-scheduler {socket.gethostname()} {os.getpid()}"[:63]


class Leadership(Protocol):
    """Whether this process may schedule now."""

    def hold(self) -> bool:
        """Take or keep the right to schedule; False while another process has it."""
        ...

    def release(self) -> None:
        """Give the right up (at shutdown)."""
        ...


class SoleLeader:
    """The embedded single-process database (SQLite): this process always schedules."""

    def hold(self) -> bool:
        """Always True."""
        return True

    def release(self) -> None:
        """Nothing to release."""


class AdvisoryLockLeader:
    """Leadership through a session-level PostgreSQL advisory lock on its own connection."""

    def __init__(self, engine: Engine) -> None:
        """Open lock connections to the database of ``engine`` (none is opened yet)."""
        # autocommit: the lock is held by the session, and no transaction stays open idle;
        # the application name says in pg_stat_activity which process schedules
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={**KEEPALIVES, "application_name": application_name()},
            isolation_level="AUTOCOMMIT",
        )
        self._connection: Connection | None = None

    def hold(self) -> bool:
        """Check that this session still holds the lock, or try to take the lock.

        The check asks ``pg_locks`` whether the lock connection's own backend holds this
        database's and schema's key, so a lock gone while the session lives (a
        ``pg_advisory_unlock_all``, a pooler that moved the connection to another backend)
        counts as lost, like a session the server ended: this process stops scheduling
        until it takes the lock again.
        """
        if self._connection is not None:
            try:
                held = bool(self._connection.execute(_STILL_HELD).scalar())
            except Exception as exc:  # any driver error: the session and its lock are gone
                log.warning("scheduler lock connection lost: %s", exc)
                self._drop()
                return False
            if held:
                return True
            log.warning("scheduler lock no longer held by this session")
            self._drop()
            return False
        try:
            connection = self._engine.connect()
        except Exception as exc:  # database unreachable: try again at the next poll
            log.warning("scheduler lock: cannot connect: %s", exc)
            return False
        try:
            taken = bool(connection.execute(_TRY_LOCK).scalar())
        except Exception as exc:
            log.warning("scheduler lock: %s", exc)
            connection.close()
            return False
        if not taken:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        """Close the lock connection (which ends the lock) and the lock engine."""
        self._drop()
        self._engine.dispose()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # already broken: nothing more to close
                log.debug("closing the broken lock connection failed", exc_info=True)
            self._connection = None


def scheduler_holders(connection: Connection) -> list[tuple[int, str]]:
    """The backends (pid, application name) holding the scheduler lock of the database and
    schema ``connection`` is on: one while a process schedules, none between holders."""
    if connection.dialect.name != "postgresql":
        return []
    return [(int(pid), str(name)) for pid, name in connection.execute(_HOLDERS)]


def leadership_for(engine: Engine) -> Leadership:
    """The advisory lock on PostgreSQL; the sole process on SQLite."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeader(engine)
    return SoleLeader()


_SYNC_LOCK = text(
    "SELECT pg_advisory_xact_lock(hashtextextended('overstap-agenda sources:' ||"
    " current_database() || ':' || current_schema(), 0))"
)


def lock_source_rows(session: Session) -> None:
    """On PostgreSQL, wait for (and hold to the end of this transaction) the lock that
    makes processes starting together add the configured sources one after another; on
    SQLite the first write does that already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_SYNC_LOCK)
