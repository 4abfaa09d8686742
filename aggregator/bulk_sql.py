"""Set-based SQL for the store: IN lists in chunks, executemany INSERT and UPDATE by id."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session, SQLModel

CHUNK = 500  # ids per IN list
ROWS = 2000  # rows per executemany


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    """The values sorted, in lists of at most ``CHUNK`` (for ``IN`` lists)."""
    ordered = sorted(values)
    for at in range(0, len(ordered), CHUNK):
        yield ordered[at : at + CHUNK]


def batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The rows in lists of at most ``ROWS``, built as they are taken (never all at once)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


def insert_rows(session: Session, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
    """Executemany INSERTs of ``rows``, ``ROWS`` at a time (Core: no ORM objects, no per-row
    work; the parameters of a 50,000-record listing are never all built at once)."""
    for batch in batches(rows):
        session.execute(insert(table_of(model)), batch)


def update_by_id(session: Session, model: type[SQLModel], rows: Iterable[dict[str, Any]]) -> None:
    """Executemany UPDATEs by primary key ``id``, ``ROWS`` at a time; every row names the
    same columns."""
    table = table_of(model)
    for batch in batches(rows):
        names = [name for name in batch[0] if name != "id"]
        statement = (
            update(table)
            .where(table.c.id == bindparam("key_id"))
            .values({name: bindparam(f"new_{name}") for name in names})
        )
        session.execute(
            statement,
            [
                {"key_id": row["id"], **{f"new_{name}": row[name] for name in names}}
                for row in batch
            ],
        )


def table_of(model: Any) -> Table:
    """The Core table of a SQLModel table class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
