"""Alembic environment: runs migrations against the URL given by aggregator.db.alembic_config."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from aggregator import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from aggregator.db import make_engine

config = context.config
target_metadata = SQLModel.metadata

# Search objects of migrations 0002 and 0005 live outside the models (FTS5 tables, triggers'
# counter, tsvector column, covering indexes): autogenerate must not propose dropping them.
_SEARCH_PREFIXES = (
    "event_fts",
    "publish_state",
    "ix_event_search",
    "search_vector",
    "title_vector",
)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    """Leave the hand-written search objects alone in ``alembic revision --autogenerate``."""
    return not (reflected and compare_to is None and (name or "").startswith(_SEARCH_PREFIXES))


def run_migrations_offline() -> None:
    """Emit SQL without a connection (``alembic upgrade --sql``)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on a live connection (SQLite uses batch mode for ALTERs)."""
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
