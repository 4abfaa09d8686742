"""A listing written in tiny batches stores exactly what one batch stores (ids, history)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from aggregator import bulk_sql
from aggregator.db import make_engine, upgrade
from aggregator.draft import EventDraft
from tests.conftest import AMS
from tests.test_bulk_store import TITLES, TOWNS, _draft, _store


def _listing(source_id: str, count: int, *, retitled: int = 0) -> list[EventDraft]:
    start = datetime(2027, 2, 1, 19, tzinfo=AMS)
    drafts = []
    for n in range(count):
        title = TITLES[n % 6] + (" (gewijzigd)" if n < retitled else "")
        drafts.append(
            _draft(source_id, f"{n}", title, start + timedelta(days=n % 40), town=TOWNS[n % 5])
        )
    return drafts


def _harvests(engine: Engine) -> list[tuple[object, ...]]:
    """Three sources that duplicate each other, then a change and removals; every row after."""
    _store(engine, "regio", _listing("regio", 60))
    _store(engine, "landelijk", _listing("landelijk", 45))
    _store(engine, "regio", _listing("regio", 50, retitled=7))  # 10 removed, 7 changed
    with engine.connect() as connection:
        events = connection.execute(
            text(
                "SELECT id, title, start_at, sequence, removed_at, merged_into"
                " FROM event ORDER BY id"
            )
        ).all()
        records = connection.execute(
            text(
                "SELECT id, source_id, uid, event_id, content_hash, removed_at, fields"
                " FROM sourcerecord ORDER BY id"
            )
        ).all()
    return [tuple(row) for row in [*events, *records]]


def test_tiny_batches_store_what_one_batch_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = []
    for rows in (bulk_sql.ROWS, 3):
        monkeypatch.setattr(bulk_sql, "ROWS", rows)
        url = f"sqlite:///{tmp_path / f'rows-{rows}.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            results.append(_harvests(engine))
        finally:
            engine.dispose()
    one_batch, tiny = results
    assert len(one_batch) > 150  # events and records of 155 listed rows
    assert tiny == one_batch


def test_batches_build_rows_only_as_they_are_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_sql, "ROWS", 2)
    taken: list[int] = []

    def rows() -> Iterator[dict[str, int]]:
        for n in range(5):
            taken.append(n)
            yield {"id": n}

    batches = bulk_sql.batches(rows())
    assert next(batches) == [{"id": 0}, {"id": 1}]
    assert taken == [0, 1]  # the rest not built yet
    assert list(batches) == [[{"id": 2}, {"id": 3}], [{"id": 4}]]
