"""Set-based SQL for the store: IN lists in chunks, executemany INSERT and UPDATE by id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session, SQLModel

CHUNK = 500  # ids per IN list


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    """The values sorted, in lists of at most ``CHUNK`` (for ``IN`` lists)."""
    ordered = sorted(values)
    for at in range(0, len(ordered), CHUNK):
        yield ordered[at : at + CHUNK]


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """One executemany INSERT of ``rows`` (Core: no ORM objects, no per-row work)."""
    if rows:
        session.execute(insert(table_of(model)), rows)


def update_by_id(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """One executemany UPDATE by primary key ``id``; every row names the same columns."""
    if not rows:
        return
    table = table_of(model)
    names = [name for name in rows[0] if name != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("key_id"))
        .values({name: bindparam(f"new_{name}") for name in names})
    )
    session.execute(
        statement,
        [{"key_id": row["id"], **{f"new_{name}": row[name] for name in names}} for row in rows],
    )


def table_of(model: Any) -> Table:
    """The Core table of a SQLModel table class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
