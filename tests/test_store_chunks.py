"""A listing stored in tiny chunks stores exactly what one chunk stores (events, ids, history).

The same harvests (three sources duplicating each other, changes, removals, re-minted UIDs,
a listing that comes back, a UID listed twice) are stored once with the whole listing in
one chunk and once a record or three at a time; every row of every event and record must
be equal afterwards, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, text

from aggregator.db import make_engine, session_scope
from aggregator.draft import EventDraft
from aggregator.store import StoreCounts, store_drafts, sync_sources
from tests.conftest import AMS, SAMPLE_NOW
from tests.test_bulk_store import TITLES, TOWNS, WINDOW, _draft, _source

pytestmark = pytest.mark.both_backends

WHOLE = 1_000_000  # larger than any listing here: one chunk


def _listing(
    source_id: str, numbers: range | list[int], *, retitled: int = 0, prefix: str = ""
) -> list[EventDraft]:
    start = datetime(2027, 2, 1, 19, tzinfo=AMS)
    drafts = []
    for n in numbers:
        title = TITLES[n % 6] + (" (gewijzigd)" if n < retitled else "")
        when = start + timedelta(days=n % 40)
        drafts.append(_draft(source_id, f"{prefix}{n}", title, when, town=TOWNS[n % 5]))
    return drafts


def _store(engine: Engine, source_id: str, drafts: list[EventDraft], chunk: int) -> StoreCounts:
    with session_scope(engine) as session:
        sync_sources(session=session, sources=[_source(source_id)])
    with session_scope(engine) as session:
        return store_drafts(
            session=session,
            source=_source(source_id),
            drafts=drafts,
            now=SAMPLE_NOW,
            window=WINDOW,
            chunk=chunk,
        )


def _harvests(engine: Engine, chunk: int) -> tuple[list[tuple[object, ...]], list[object]]:
    """The harvests, then every event and record row (all columns) and the counts."""
    counts: list[object] = []

    def store(source_id: str, drafts: list[EventDraft]) -> None:
        done = _store(engine, source_id, drafts, chunk)
        counts.append((done.seen, done.new, done.updated, done.removed, done.unchanged, done.stale))
        counts.append(sorted(done.changed_event_ids))

    store("regio", _listing("regio", range(60)))
    store("landelijk", _listing("landelijk", range(45)))
    # 10 vanish (removed), 7 retitled, 5 re-minted under new UIDs (same content)
    reminted = _listing("regio", range(50, 55), prefix="nieuw-")
    store("regio", _listing("regio", range(45), retitled=7) + reminted)
    # the vanished come back, and one UID is listed twice (an older copy after it)
    again = _listing("regio", range(60))
    older = _listing("regio", [3], retitled=10)[0]
    older.raw.sequence, again[3].raw.sequence = 1, 2
    store("regio", [*again, older])
    store("landelijk", _listing("landelijk", range(20, 45), retitled=30))  # most gone
    with engine.connect() as connection:
        events = connection.execute(text("SELECT * FROM event ORDER BY id")).all()
        records = connection.execute(text("SELECT * FROM sourcerecord ORDER BY id")).all()
    return [tuple(row) for row in [*events, *records]], counts


@pytest.mark.parametrize("chunk", [1, 3])
def test_tiny_chunks_store_what_one_chunk_stores(
    database_copy: Callable[..., str], chunk: int
) -> None:
    results = []
    for size in (WHOLE, chunk):
        engine = make_engine(database_copy())
        try:
            results.append(_harvests(engine, size))
        finally:
            engine.dispose()
    (whole_rows, whole_counts), (rows, counts) = results
    assert len(whole_rows) > 150  # 60 events, 105 records (the re-minted ones kept theirs)
    assert counts == whole_counts
    assert rows == whole_rows


def test_an_event_touched_in_two_chunks_changes_once(database_copy: Callable[..., str]) -> None:
    """Two records of one source on one event, in different chunks: one SEQUENCE bump."""
    engine = make_engine(database_copy())
    try:
        first = _listing("regio", range(6))
        _store(engine, "regio", first, WHOLE)
        with engine.begin() as connection:  # a second record of the source on event 0
            connection.execute(
                text(
                    "UPDATE sourcerecord SET event_id ="
                    " (SELECT event_id FROM sourcerecord WHERE uid = '0')"
                    " WHERE uid = '5'"
                )
            )
            target = connection.execute(
                text("SELECT event_id FROM sourcerecord WHERE uid = '0'")
            ).scalar_one()
            connection.execute(text("UPDATE event SET sequence = 4 WHERE id = :id"), {"id": target})
        changed = _listing("regio", range(6), retitled=6)  # records 0 and 5 both change
        counts = _store(engine, "regio", changed, 1)  # 0 and 5 are decided five chunks apart
        assert counts.updated == 6
        with engine.connect() as connection:
            sequence = connection.execute(
                text("SELECT sequence FROM event WHERE id = :id"), {"id": target}
            ).scalar_one()
        assert sequence == 5
    finally:
        engine.dispose()


def test_a_chunk_holds_at_least_one_record(database_copy: Callable[..., str]) -> None:
    engine = make_engine(database_copy())
    try:
        with pytest.raises(ValueError, match="at least one record"):
            _store(engine, "regio", _listing("regio", range(2)), 0)
    finally:
        engine.dispose()
