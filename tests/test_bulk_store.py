"""The bulk store and the dedup index: exact candidates, few statements, no idle writes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, event, text
from sqlmodel import Session, select

from aggregator.db import alembic_config, make_engine, session_scope, upgrade
from aggregator.dedup import Fingerprint, place_key, probe, same_event, start_bucket
from aggregator.dedup_index import fetch_candidates
from aggregator.draft import EventDraft
from aggregator.models import Event, SourceRecord
from aggregator.store import StoreCounts, store_drafts, sync_sources
from crawlers.records import RawEvent, Window
from crawlers.source import SourceConfig
from tests.conftest import AMS, SAMPLE_NOW

WINDOW = Window.around(SAMPLE_NOW)
TOWNS = ["GM0193", "GM0153", "GM0363", "GM0344", None]  # Zwolle, Enschede, A'dam, Utrecht
TITLES = [
    "Informatieavond zij-instroom basisonderwijs",
    "Voorlichting zij-instroom PO",
    "Meeloopdag voortgezet onderwijs",
    "Webinar leraar worden",
    "Open dag deeltijdpabo",
    "Open dag deeltijdpabo Windesheim",
]


def _source(source_id: str) -> SourceConfig:
    return SourceConfig(id=source_id, name=source_id, kind="ics", url="x.ics", region="landelijk")


def _draft(
    source_id: str,
    uid: str,
    title: str,
    start: datetime | date,
    *,
    town: str | None = "GM0193",
    attendance: str = "offline",
    organizer: str | None = None,
) -> EventDraft:
    raw = RawEvent(source_id=source_id, uid=uid, title=title, start=start)
    draft = EventDraft.from_raw(raw)
    draft.municipality_code, draft.attendance, draft.organizer_name = town, attendance, organizer
    draft.activity_type = "voorlichting"
    return draft


def _store(engine: Engine, source_id: str, drafts: list[EventDraft]) -> StoreCounts:
    with session_scope(engine) as session:
        sync_sources(session=session, sources=[_source(source_id)])
    with session_scope(engine) as session:
        return store_drafts(
            session=session, source=_source(source_id), drafts=drafts, now=SAMPLE_NOW, window=WINDOW
        )


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the engine sends while the block runs (one per executemany)."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _publish_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT version FROM publish_state")).scalar_one())


def _fingerprints(rng: random.Random, count: int) -> list[Fingerprint]:
    base = datetime(2027, 3, 9, 19, tzinfo=AMS)
    out = []
    for _ in range(count):
        if rng.random() < 0.1:
            start: datetime | date = date(2027, 3, 9) + timedelta(days=rng.choice((0, 1)))
        else:
            start = base + timedelta(minutes=rng.choice((-45, -20, -10, 0, 0, 5, 15, 20, 30)))
        out.append(
            Fingerprint(
                title=rng.choice(TITLES),
                start=start,
                municipality_code=rng.choice(TOWNS),
                attendance=rng.choice(("offline", "offline", "online", "mixed", None)),
                activity_type=rng.choice(("voorlichting", "webinar", None)),
                organizer=rng.choice(("Pabo Noord", "RAP Twente", None)),
            )
        )
    return out


def test_the_index_probe_admits_every_record_dedup_would_accept() -> None:
    """Exactness: any pair ``same_event`` accepts sits in a slot the probe reads."""
    fingerprints = _fingerprints(random.Random(42), 160)
    matches = 0
    for a in fingerprints:
        wanted = probe(a)
        for b in fingerprints:
            if same_event(a, b):
                matches += 1
                assert wanted.admits(start_bucket(b.start), place_key(b)), (a, b)
    assert matches > 500  # the sample holds many duplicates of every kind


def test_a_probe_reads_its_own_town_and_the_placeless_only() -> None:
    zwolle = Fingerprint("Voorlichting", datetime(2027, 3, 9, 19, tzinfo=AMS), "GM0193")
    wanted = probe(zwolle)
    at = start_bucket(zwolle.start)
    assert wanted.admits(at, "m:GM0193") and wanted.admits(at, "m:GM0193/o")
    assert wanted.admits(at, "none") and wanted.admits(at, "mixed")
    assert not wanted.admits(at, "m:GM0153")  # Enschede at the same moment
    assert not wanted.admits(at, "online")  # online-only: an offline record never agrees
    hybrid = Fingerprint(zwolle.title, zwolle.start, "GM0193", attendance="mixed")
    assert probe(hybrid).admits(at, "online")
    assert not wanted.admits(start_bucket(zwolle.start + timedelta(hours=1)), "m:GM0193")


def test_candidates_come_from_the_slot_not_the_whole_day(engine: Engine) -> None:
    seven = datetime(2027, 3, 9, 19, tzinfo=AMS)
    crowd = [
        _draft("crowd", f"c{n}", f"Voorlichting {n}", seven + timedelta(hours=n % 5), town=town)
        for n, town in enumerate(["GM0153", "GM0363", "GM0344", "GM0193"] * 40)
    ]
    _store(engine, "crowd", crowd)
    new = _draft("new", "n1", "Voorlichting zij-instroom", seven, town="GM0193")
    fingerprint = Fingerprint(new.title, seven, "GM0193", "offline")
    with Session(engine) as session:
        found = fetch_candidates(session=session, probes=[probe(fingerprint)], exclude_source="new")
    # of the 160 records that day, only Zwolle's at 19:00 are read
    assert {c.place for c in found} == {"m:GM0193"}
    assert len(found) == sum(
        1 for d in crowd if d.start == seven and d.municipality_code == "GM0193"
    )


def test_a_listing_costs_a_few_statements_whatever_its_length(engine: Engine) -> None:
    def listing(source_id: str, count: int) -> list[EventDraft]:
        start = datetime(2027, 2, 1, 19, tzinfo=AMS)
        return [
            _draft(source_id, f"{n}", TITLES[n % 4], start + timedelta(days=n), town=TOWNS[n % 4])
            for n in range(count)
        ]

    _store(engine, "before", listing("before", 50))  # candidates to find
    counted = []
    for source_id, count in (("short", 40), ("long", 400)):
        with _statements(engine) as seen:
            counts = _store(engine, source_id, listing(source_id, count))
        assert counts.new == count
        counted.append(len(seen))
    # ten times the records, a few statements more (IN lists are cut at 900 buckets; new
    # events get placeholder rows, then their columns, in one UPDATE per chunk)
    assert counted[0] <= counted[1] <= counted[0] + 4 and counted[1] < 30


@pytest.mark.both_backends
def test_an_unchanged_listing_writes_nothing(engine: Engine) -> None:
    start = datetime(2027, 2, 1, 10, tzinfo=AMS)
    drafts = [_draft("s", f"u{n}", TITLES[n % 6], start + timedelta(days=n)) for n in range(30)]
    first = _store(engine, "s", drafts)
    version = _publish_version(engine)
    with _statements(engine) as seen:
        again = _store(engine, "s", drafts)
    assert (first.new, again.unchanged, again.updated) == (30, 30, 0)
    assert again.changed_event_ids == set()
    assert [s for s in seen if s in {"INSERT", "UPDATE", "DELETE"}] == []
    assert _publish_version(engine) == version


@pytest.mark.both_backends
def test_a_new_source_joins_the_event_it_duplicates(engine: Engine) -> None:
    seven = datetime(2027, 3, 9, 19, tzinfo=AMS)
    _store(engine, "regio", [_draft("regio", "r1", "Voorlichting zij-instroom PO Zwolle", seven)])
    counts = _store(
        engine,
        "landelijk",
        [
            _draft(
                "landelijk", "l1", "Voorlichting zij-instroom PO", seven + timedelta(minutes=10)
            ),
            _draft("landelijk", "l2", "Voorlichting zij-instroom PO", seven, town="GM0153"),
        ],
    )
    with Session(engine) as session:
        records = {r.uid: r for r in session.exec(select(SourceRecord))}
        events = session.exec(select(Event)).all()
    assert counts.new == 2 and len(events) == 2
    assert records["l1"].event_id == records["r1"].event_id != records["l2"].event_id
    assert records["l1"].dedup_place == "m:GM0193" and records["l1"].dedup_bucket is not None


OLD_ROWS = [
    "INSERT INTO source (id, name, kind, url, region) VALUES ('s', 's', 'ics', 'x', 'landelijk')",
    "INSERT INTO event (id, title, start_at, first_seen, last_modified, description, all_day,"
    " status, attendance, sectors, phases, audiences, relevant, sequence, search_text)"
    " VALUES ('e', 't', '2027-03-09 18:00:00', '2027-01-01 00:00:00', '2027-01-01 00:00:00',"
    " '', 0, 'confirmed', 'offline', '[]', '[]', '[]', 1, 0, '')",
    "INSERT INTO sourcerecord (source_id, uid, recurrence_id, event_id, title, content_hash,"
    " data, fields, first_seen, last_seen, harvested_at) VALUES ('s', 'u', '', 'e', 't', '',"
    ' \'{"raw": "payload"}\','
    ' \'{"start_at": "2027-03-09T18:00:00+00:00", "municipality_code": "GM0193"}\','
    " '2027-01-01 00:00:00', '2027-01-01 00:00:00', '2027-01-01 00:00:00')",
]


def test_upgrade_indexes_stored_records_and_drops_raw_payloads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0006")
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            for statement in OLD_ROWS:  # the 0006 schema, not the model's: plain SQL
                connection.execute(text(statement))
        upgrade(url)
        with engine.connect() as connection:
            row = connection.execute(text("SELECT * FROM sourcerecord")).mappings().one()
        assert "data" not in row
        expected = start_bucket(datetime.fromisoformat("2027-03-09T18:00:00+00:00"))
        assert (row["dedup_bucket"], row["dedup_place"]) == (expected, "m:GM0193")
        command.downgrade(alembic_config(url), "0006")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT data FROM sourcerecord")).scalar_one() == "{}"
    finally:
        engine.dispose()
