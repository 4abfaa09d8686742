"""Source health: `agenda sources`, `/api/sources` and the metrics count events one way."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.db import session_scope
from aggregator.health import source_health
from aggregator.models import Event, SourceRecord
from tests.conftest import config_for, write_sources
from tests.harvesting import harvest_once

UA = "overstap-agenda-tests"


def _published_by_hand(engine: Engine) -> dict[str, int]:
    """The count spelled out over every row in Python: live record, live relevant event."""
    with Session(engine) as session:
        events = {e.id: e for e in session.exec(select(Event))}
        seen: dict[str, set[str]] = {}
        for record in session.exec(select(SourceRecord)):
            event = events[record.event_id]
            if record.removed_at is None and event.removed_at is None and event.relevant:
                seen.setdefault(record.source_id, set()).add(event.id)
    return {source_id: len(ids) for source_id, ids in seen.items()}


def test_every_view_counts_the_events_a_source_publishes(
    engine: Engine, tmp_path: Path, sample_dir: Path
) -> None:
    shutil.copy(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v1.ics", tmp_path / "ua.ics")
    shutil.copy(sample_dir / "ics/twents-onderwijsnetwerk.ics", tmp_path / "twente.ics")
    config = config_for(
        write_sources(
            tmp_path / "sources.yaml",
            [
                {
                    "id": "ua",
                    "name": "UA",
                    "kind": "ics",
                    "url": "ua.ics",
                    "region": "regio-utrecht",
                },
                {
                    "id": "twente",
                    "name": "T",
                    "kind": "ics",
                    "url": "twente.ics",
                    "region": "twente",
                },
            ],
        )
    )
    harvest_once(engine, config)
    # one event of each source leaves the calendar without its record being removed:
    # one marked removed, one marked irrelevant (the two ways the old counts disagreed)
    with session_scope(engine) as session:
        for source_id, change in (("ua", "removed"), ("twente", "irrelevant")):
            record = session.exec(
                select(SourceRecord).where(SourceRecord.source_id == source_id)
            ).first()
            assert record is not None
            event = session.get(Event, record.event_id)
            assert event is not None
            if change == "removed":
                event.removed_at = datetime.now(UTC)
            else:
                event.relevant = False
            session.add(event)
    expected = _published_by_hand(engine)
    assert set(expected) == {"ua", "twente"} and all(n > 1 for n in expected.values())

    cli = {row.id: row.events for row in source_health(engine=engine, config=config)}
    client = TestClient(create_app(settings=Settings(), config=config, engine=engine))
    api = {row["id"]: row["events"] for row in client.get("/api/sources").json()}
    metrics = {
        source: int(float(value))
        for source, value in re.findall(
            r'^agenda_source_events\{source="([^"]+)"\} (\S+)$', client.get("/metrics").text, re.M
        )
    }
    assert cli == expected
    assert {k: v for k, v in api.items() if k in expected} == expected
    assert {k: v for k, v in metrics.items() if k in expected} == expected
