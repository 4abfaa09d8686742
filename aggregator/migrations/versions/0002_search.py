"""search indexes: full text (SQLite FTS5 / PostgreSQL tsvector 'dutch'), places, filters

SQLite: ``event_fts`` (FTS5) holds title and search_text of every event, keyed through
``event_fts_map`` (an INTEGER PRIMARY KEY per event id, so VACUUM never breaks the link,
and a match reaches its event by two cheap index lookups);
triggers on ``event`` keep both in sync. PostgreSQL: a generated ``search_vector`` column
(title weight A, search_text weight B) with a GIN index.

Both backends get covering indexes for the search filters, led by start (date ranges and
upcoming lists), region, municipality and latitude (the ``near`` bounding box): each holds
every column a filter, the ordering or the export change marker reads, so searches filter,
count and order inside an index and fetch only the rows of one page (on PostgreSQL the
extra columns are INCLUDEd, since json has no B-tree operator class).

``publish_state`` holds one version number that triggers raise on every write to event,
source or sourcerecord: exports validate against it in one primary-key read, and only
recompute their change marker when it moved.

Note for later migrations: a batch ALTER of ``event`` on SQLite recreates the table and
drops its triggers: recreate them as ``create_sqlite_fts_triggers()`` does and
refill the index as ``backfill_sqlite_fts()`` does.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every column a search filter, its ordering or the change marker reads.
FILTER_COLUMNS = [
    "end_at",
    "relevant",
    "removed_at",
    "status",
    "region",
    "municipality_code",
    "lat",
    "lon",
    "activity_type",
    "attendance",
    "language",
    "is_free",
    "sectors",
    "phases",
    "audiences",
    "sequence",
    "last_modified",
]
COVERING_INDEXES = {
    "ix_event_search_id": ["id", "start_at"],  # joins from full-text matches
    "ix_event_search_start": ["start_at", "id"],
    "ix_event_search_region": ["region", "start_at", "id"],
    "ix_event_search_municipality": ["municipality_code", "start_at", "id"],
    "ix_event_search_geo": ["lat", "lon", "start_at", "id"],
}

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER event_fts_ai AFTER INSERT ON event BEGIN
        INSERT INTO event_fts_map(event_id) VALUES (new.id);
        INSERT INTO event_fts(rowid, title, body)
        VALUES ((SELECT fts_rowid FROM event_fts_map WHERE event_id = new.id),
                new.title, new.search_text);
    END
    """,
    """
    CREATE TRIGGER event_fts_au AFTER UPDATE OF id, title, search_text ON event BEGIN
        DELETE FROM event_fts
        WHERE rowid = (SELECT fts_rowid FROM event_fts_map WHERE event_id = old.id);
        UPDATE event_fts_map SET event_id = new.id WHERE event_id = old.id;
        INSERT INTO event_fts(rowid, title, body)
        VALUES ((SELECT fts_rowid FROM event_fts_map WHERE event_id = new.id),
                new.title, new.search_text);
    END
    """,
    """
    CREATE TRIGGER event_fts_ad AFTER DELETE ON event BEGIN
        DELETE FROM event_fts
        WHERE rowid = (SELECT fts_rowid FROM event_fts_map WHERE event_id = old.id);
        DELETE FROM event_fts_map WHERE event_id = old.id;
    END
    """,
]


PUBLISH_TABLES = ("event", "source", "sourcerecord")


def create_publish_state(dialect: str) -> None:
    op.execute("CREATE TABLE publish_state (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)")
    op.execute("INSERT INTO publish_state (id, version) VALUES (1, 0)")
    if dialect == "postgresql":
        # once a statement, not once a row: a harvest's bulk updates bump it cheaply
        op.execute(
            "CREATE FUNCTION publish_state_bump() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE publish_state SET version = version + 1 WHERE id = 1; "
            "RETURN NULL; END $$"
        )
        for table in PUBLISH_TABLES:
            op.execute(
                f"CREATE TRIGGER publish_{table}_bump AFTER INSERT OR UPDATE OR DELETE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION publish_state_bump()"
            )
    else:
        for table in PUBLISH_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER publish_{table}_{action.lower()} AFTER {action} ON {table} "
                    "BEGIN UPDATE publish_state SET version = version + 1 WHERE id = 1; END"
                )


def drop_publish_state(dialect: str) -> None:
    if dialect == "postgresql":
        for table in PUBLISH_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS publish_{table}_bump ON {table}")
        op.execute("DROP FUNCTION IF EXISTS publish_state_bump()")
    else:
        for table in PUBLISH_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS publish_{table}_{action}")
    op.execute("DROP TABLE IF EXISTS publish_state")


def create_sqlite_fts_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def backfill_sqlite_fts() -> None:
    op.execute("DELETE FROM event_fts")
    op.execute("DELETE FROM event_fts_map")
    op.execute("INSERT INTO event_fts_map(event_id) SELECT id FROM event ORDER BY rowid")
    op.execute(
        "INSERT INTO event_fts(rowid, title, body) "
        "SELECT m.fts_rowid, e.title, e.search_text "
        "FROM event e JOIN event_fts_map m ON m.event_id = e.id"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    create_publish_state(dialect)
    if dialect == "sqlite":
        op.execute(
            "CREATE TABLE event_fts_map ("
            "fts_rowid INTEGER PRIMARY KEY, event_id VARCHAR(40) NOT NULL UNIQUE)"
        )
        # unicode61 folds case and diacritics (café = cafe); prefix indexes make the
        # prefix queries every search word becomes fast.
        op.execute(
            "CREATE VIRTUAL TABLE event_fts USING fts5("
            "title, body, "
            "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')"
        )
        create_sqlite_fts_triggers()
        backfill_sqlite_fts()
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE event ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('dutch'::regconfig, coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('dutch'::regconfig, coalesce(search_text, '')), 'B')"
            ") STORED"
        )
        op.execute("CREATE INDEX ix_event_search_vector ON event USING gin (search_vector)")
        # Searches are small indexed reads: starting parallel workers costs more (~10 ms)
        # than the whole query.
        op.execute("ALTER TABLE event SET (parallel_workers = 0)")
    for name, keys in COVERING_INDEXES.items():
        if dialect == "postgresql":
            op.execute(
                f"CREATE INDEX {name} ON event ({', '.join(keys)}) "
                f"INCLUDE ({', '.join(c for c in FILTER_COLUMNS if c not in keys)})"
            )
        else:
            columns = [*keys, *(c for c in FILTER_COLUMNS if c not in keys)]
            op.execute(f"CREATE INDEX {name} ON event ({', '.join(columns)})")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    drop_publish_state(dialect)
    for name in COVERING_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    if dialect == "sqlite":
        for name in ("event_fts_ai", "event_fts_au", "event_fts_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS event_fts")
        op.execute("DROP TABLE IF EXISTS event_fts_map")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_event_search_vector")
        op.execute("ALTER TABLE event RESET (parallel_workers)")
        op.execute("ALTER TABLE event DROP COLUMN IF EXISTS search_vector")
