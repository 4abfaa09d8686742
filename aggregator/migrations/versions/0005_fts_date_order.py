"""full text in date order (SQLite rowids by start) and a title vector (PostgreSQL)

FTS5 returns matches in rowid order and stops as soon as a ``LIMIT`` is reached. Keying
``event_fts`` (through ``event_fts_map``) by the event's start, ``start second << 20``
plus a free slot within that second, makes "the first 50 upcoming matches" a walk over
the first matches of the index instead of a sort of all of them: a search that matches
half the store costs what a narrow one does. The triggers now also re-key an event when
its start moves.

PostgreSQL gets ``title_vector``, the title alone as a generated ``tsvector`` with its own
GIN index: searches rank title hits first (``aggregator.fulltext``), and testing a small
unweighted vector is much cheaper than rechecking weight A in ``search_vector``.

Revision ID: 0005
Revises: 0004
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOT_BITS = 20  # mirrors aggregator.fulltext.SLOT_BITS


def _second(start: str) -> str:
    return f"CAST(strftime('%s', {start}) AS INTEGER)"


def _free_key(start: str) -> str:
    """SQL for the first free map key in the start second of ``start``."""
    base = f"({_second(start)} << {SLOT_BITS})"
    return (
        f"coalesce((SELECT max(fts_rowid) FROM event_fts_map "
        f"WHERE fts_rowid >= {base} AND fts_rowid < {base} + {1 << SLOT_BITS}), {base} - 1) + 1"
    )


_INSERT_ROW = f"""
        INSERT INTO event_fts_map(fts_rowid, event_id) VALUES ({_free_key("new.start_at")}, new.id);
        INSERT INTO event_fts(rowid, title, body)
        VALUES ((SELECT fts_rowid FROM event_fts_map WHERE event_id = new.id),
                new.title, new.search_text);"""
_DELETE_ROW = """
        DELETE FROM event_fts
        WHERE rowid = (SELECT fts_rowid FROM event_fts_map WHERE event_id = old.id);
        DELETE FROM event_fts_map WHERE event_id = old.id;"""

TRIGGERS = [
    f"CREATE TRIGGER event_fts_ai AFTER INSERT ON event BEGIN{_INSERT_ROW}\n    END",
    "CREATE TRIGGER event_fts_au AFTER UPDATE OF id, title, search_text, start_at ON event "
    f"BEGIN{_DELETE_ROW}{_INSERT_ROW}\n    END",
    f"CREATE TRIGGER event_fts_ad AFTER DELETE ON event BEGIN{_DELETE_ROW}\n    END",
]


def _drop_triggers() -> None:
    for name in ("event_fts_ai", "event_fts_au", "event_fts_ad"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def _revision_0002():  # type: ignore[no-untyped-def]
    path = Path(__file__).with_name("0002_search.py")
    spec = importlib.util.spec_from_file_location("agenda_migration_0002", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE event ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ("
            "to_tsvector('dutch'::regconfig, coalesce(title, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_event_search_title ON event USING gin (title_vector)")
        return
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_triggers()
    op.execute("DELETE FROM event_fts")
    op.execute("DELETE FROM event_fts_map")
    op.execute(
        "INSERT INTO event_fts_map(fts_rowid, event_id) "
        f"SELECT ({_second('start_at')} << {SLOT_BITS}) "
        f"+ row_number() OVER (PARTITION BY {_second('start_at')} ORDER BY id) - 1, id "
        "FROM event"
    )
    op.execute(
        "INSERT INTO event_fts(rowid, title, body) "
        "SELECT m.fts_rowid, e.title, e.search_text "
        "FROM event e JOIN event_fts_map m ON m.event_id = e.id"
    )
    for statement in TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_event_search_title")
        op.execute("ALTER TABLE event DROP COLUMN IF EXISTS title_vector")
        return
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_triggers()
    previous = _revision_0002()
    previous.create_sqlite_fts_triggers()
    previous.backfill_sqlite_fts()
