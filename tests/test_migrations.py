"""Migrations leave the search and publish-state triggers of 0002 in place on both backends.

A later migration that rebuilds a table on SQLite (a batch ALTER) silently drops its
triggers; exports would then miss changes. This pins the full set after ``upgrade head``
and after a downgrade to 0002 and back.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, text

from aggregator.db import alembic_config

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py

PUBLISH_TABLES = ("event", "source", "sourcerecord")


def _triggers(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(
                text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            )
        else:
            rows = connection.execute(
                text(
                    "SELECT DISTINCT event_object_table, trigger_name"
                    " FROM information_schema.triggers WHERE trigger_schema = current_schema()"
                )
            )
        return {(table, name) for table, name in rows}


def _expected(dialect: str) -> set[tuple[str, str]]:
    if dialect == "sqlite":
        expected = {("event", f"event_fts_{x}") for x in ("ai", "au", "ad")}
        expected |= {
            (t, f"publish_{t}_{a}") for t in PUBLISH_TABLES for a in ("insert", "update", "delete")
        }
        return expected
    return {(t, f"publish_{t}_bump") for t in PUBLISH_TABLES}


def test_every_trigger_survives_all_migrations(engine: Engine, database_url: str) -> None:
    expected = _expected(engine.dialect.name)
    assert expected <= _triggers(engine)
    config = alembic_config(database_url)
    command.downgrade(config, "0002")
    command.upgrade(config, "heads")
    assert expected <= _triggers(engine)
