"""History and dedup in the store: versions of a feed, vanished and re-minted records,
one canonical event from several sources, on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from aggregator.models import Event, SourceRecord
from tests.conftest import AMS, SAMPLE_NOW, config_for, write_sources
from tests.harvesting import harvest_once

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py

UID = "@onderwijsregio-ua.example.org"


def _harvest(engine, config, now=SAMPLE_NOW):  # type: ignore[no-untyped-def]
    return harvest_once(engine, config, now=now)


def _records(engine) -> dict[str, SourceRecord]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {r.uid: r for r in session.exec(select(SourceRecord))}


def _events(engine) -> dict[str, Event]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return {e.id: e for e in session.exec(select(Event))}


@pytest.fixture
def ua_config(tmp_path: Path, sample_dir: Path):  # type: ignore[no-untyped-def]
    shutil.copy(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v1.ics", tmp_path / "ua.ics")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [{"id": "ua", "name": "U&A", "kind": "ics", "url": "ua.ics", "region": "regio-utrecht"}],
    )
    return config_for(sources)


def test_v1_then_v2_moves_drops_and_adds(engine, ua_config, tmp_path, sample_dir) -> None:  # type: ignore[no-untyped-def]
    assert _harvest(engine, ua_config)[0].new == 12
    before_records, before_events = _records(engine), _events(engine)
    shutil.copy(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v2.ics", tmp_path / "ua.ics")
    later = SAMPLE_NOW + timedelta(hours=6)
    outcome = _harvest(engine, ua_config, now=later)[0]
    assert (outcome.new, outcome.removed) == (1, 1)
    records, events = _records(engine), _events(engine)

    moved = records[f"agenda-1047{UID}"]
    assert moved.event_id == before_records[f"agenda-1047{UID}"].event_id
    event = events[moved.event_id]
    assert event.start_at == datetime(2027, 2, 9, 15, 0, tzinfo=AMS)
    assert event.sequence > before_events[moved.event_id].sequence
    assert event.last_modified == later and event.removed_at is None

    dropped = records[f"agenda-1051{UID}"]
    assert dropped.removed_at == later
    assert events[dropped.event_id].removed_at == later  # kept, marked
    assert events[dropped.event_id].title.startswith("Informatieavond onderwijsassistent")

    added = records[f"agenda-1066{UID}"]
    assert added.event_id not in before_events and events[added.event_id].municipality == "Zeist"
    unchanged = records[f"agenda-1074{UID}"]
    assert events[unchanged.event_id].sequence == before_events[unchanged.event_id].sequence

    # the source becomes unreachable: nothing is lost, nothing changes
    (tmp_path / "ua.ics").unlink()
    assert _harvest(engine, ua_config, now=later + timedelta(hours=6))[0].outcome == "failed"
    after = _events(engine)
    assert {k: (e.sequence, e.removed_at) for k, e in after.items()} == {
        k: (e.sequence, e.removed_at) for k, e in events.items()
    }
    assert sum(e.removed_at is None for e in after.values()) == 12


def test_reminted_uids_are_the_same_records(engine, ua_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ua_config)
    before = {r.uid: r.event_id for r in _records(engine).values()}
    text = (tmp_path / "ua.ics").read_text(encoding="utf-8")
    (tmp_path / "ua.ics").write_text(text.replace(UID, "@export-2.example.org"), "utf-8")
    outcome = _harvest(engine, ua_config, now=SAMPLE_NOW + timedelta(hours=1))[0]
    assert (outcome.new, outcome.removed) == (0, 0)
    after = {r.uid: r.event_id for r in _records(engine).values()}
    assert sorted(after.values()) == sorted(before.values())
    assert all(uid.endswith("@export-2.example.org") for uid in after)


def _vevent(uid: str, summary: str, start: str, end: str, location: str) -> str:
    return (
        f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261201T000000Z\nSUMMARY:{summary}\n"
        f"DTSTART;TZID=Europe/Amsterdam:{start}\nDTEND;TZID=Europe/Amsterdam:{end}\n"
        f"LOCATION:{location}\nEND:VEVENT\n"
    )


def _calendar(*events: str) -> str:
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//NL\n" + "".join(events) + "END:VCALENDAR\n"
    )


@pytest.fixture
def two_sources(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A college's own calendar and a national aggregator listing one of its events."""
    (tmp_path / "college.ics").write_text(
        _calendar(
            _vevent(
                "c1@college",
                "Informatieavond zij-instroom basisonderwijs",
                "20270209T190000",
                "20270209T210000",
                "Hogeschool, Zernikeplein 7\\, 9747 AS Groningen",
            ),
            _vevent(
                "c2@college",
                "Open dag deeltijdopleidingen",
                "20270313T100000",
                "20270313T140000",
                "Hogeschool\\, Nijmegen",
            ),
        ),
        "utf-8",
    )
    (tmp_path / "national.ics").write_text(
        _calendar(
            _vevent(
                "n1@national",
                "Voorlichting zij-instroom PO – Groningen",
                "20270209T190000",
                "20270209T210000",
                "Groningen",
            ),
            _vevent(
                "n2@national",
                "Open dag deeltijd lerarenopleidingen",
                "20270313T100000",
                "20270313T140000",
                "Lerarenacademie\\, Utrecht",
            ),
        ),
        "utf-8",
    )

    def config(order: list[str]):  # type: ignore[no-untyped-def]
        entries = {
            "college": {
                "id": "college",
                "name": "College",
                "kind": "ics",
                "url": "college.ics",
                "region": "groningen-drenthe",
            },
            "national": {
                "id": "national",
                "name": "National",
                "kind": "ics",
                "url": "national.ics",
                "region": "landelijk",
            },
        }
        path = write_sources(
            tmp_path / f"sources-{'-'.join(order)}.yaml", [entries[o] for o in order]
        )
        return config_for(path)

    return config


def _clusters(engine) -> set[frozenset[str]]:  # type: ignore[no-untyped-def]
    by_event: dict[str, set[str]] = {}
    for record in _records(engine).values():
        by_event.setdefault(record.event_id, set()).add(record.uid)
    return {frozenset(uids) for uids in by_event.values()}


def test_one_canonical_event_from_two_sources(engine, two_sources) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, two_sources(["national", "college"]))
    assert _clusters(engine) == {
        frozenset({"c1@college", "n1@national"}),
        frozenset({"c2@college"}),  # same day and hours, another town: not the same
        frozenset({"n2@national"}),
    }
    records = _records(engine)
    event = _events(engine)[records["n1@national"].event_id]
    # the organiser's own (regional) record wins over the national one
    assert event.title == "Informatieavond zij-instroom basisonderwijs"
    assert event.postcode == "9747 AS" and event.region == "groningen"


def test_reversed_harvest_order_gives_the_same_events(engine, two_sources, database_copy) -> None:  # type: ignore[no-untyped-def]
    from aggregator.db import make_engine

    _harvest(engine, two_sources(["national", "college"]))
    other = make_engine(database_copy())
    try:
        _harvest(other, two_sources(["college", "national"]))
        assert _clusters(engine) == _clusters(other)

        def shown(e: Event) -> tuple:  # type: ignore[type-arg]
            return (e.title, e.start_at, e.municipality, e.postcode, e.sequence)

        assert sorted(map(shown, _events(engine).values())) == sorted(
            map(shown, _events(other).values())
        )
    finally:
        other.dispose()


def test_canonical_id_survives_its_first_source_leaving(engine, two_sources, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = two_sources(["college", "national"])
    _harvest(engine, config)
    event_id = _records(engine)["c1@college"].event_id
    assert _records(engine)["n1@national"].event_id == event_id
    (tmp_path / "college.ics").write_text(_calendar(), "utf-8")
    _harvest(engine, config, now=SAMPLE_NOW + timedelta(hours=2))
    assert _records(engine)["c1@college"].removed_at is None  # emptied: held (removal guard)
    _harvest(engine, config, now=SAMPLE_NOW + timedelta(hours=3))  # the same again: confirmed
    event = _events(engine)[event_id]
    assert event.removed_at is None  # the national record still lists it
    assert event.title == "Voorlichting zij-instroom PO – Groningen"
    assert event.sequence == 1


def test_an_update_that_makes_a_duplicate_merges_and_marks(engine, two_sources, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = two_sources(["college", "national"])
    national = tmp_path / "national.ics"
    national.write_text(national.read_text("utf-8").replace("20270209T190000", "20270209T193000"))
    _harvest(engine, config)
    records = _records(engine)
    own_event = records["n1@national"].event_id
    assert own_event != records["c1@college"].event_id
    national.write_text(
        national.read_text("utf-8").replace("20270209T193000", "20270209T190000"), "utf-8"
    )
    later = SAMPLE_NOW + timedelta(hours=1)
    _harvest(engine, config, now=later)
    records, events = _records(engine), _events(engine)
    assert records["n1@national"].event_id == records["c1@college"].event_id
    folded = events[own_event]
    assert folded.merged_into == records["c1@college"].event_id
    assert folded.removed_at == later and folded.sequence == 1  # marked, not deleted
