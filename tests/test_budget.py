"""The processing budget: fields cut to size, a wall time per source, the rest kept."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from aggregator.budget import FIELD_LIMITS, Budget, bound_fields
from crawlers.records import RawEvent
from tests.conftest import config_for, write_sources
from tests.faultserver import ics_feed
from tests.harvesting import harvest_once


def _raw(**fields: object) -> RawEvent:
    values: dict[str, object] = {"title": "Open dag", **fields}
    return RawEvent(source_id="s", uid="u", start=date(2027, 2, 1), **values)  # type: ignore[arg-type]


def test_a_huge_field_is_cut_and_the_record_goes_through_the_stages_quickly() -> None:
    word = "onderwijs" * 1_200_000  # one unbroken "word" of 10.8 MB
    raw = _raw(description=word, title=word[:50_000])
    budget = Budget("s")
    started = time.monotonic()
    [bounded] = list(budget.records([raw]))
    assert len(bounded.description or "") == FIELD_LIMITS["description"]
    assert len(bounded.title) == FIELD_LIMITS["title"]
    assert "description (10800000 characters" in budget.problems[0].reason
    assert time.monotonic() - started < 1.0
    assert bound_fields(_raw(description="kort")) == []


def test_a_spent_budget_keeps_what_was_processed_and_removes_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.ics"
    feed.write_bytes(ics_feed(10))
    entry = {"id": "slow", "name": "Slow", "kind": "ics", "url": "feed.ics", "region": "twente"}
    config = config_for(write_sources(tmp_path / "sources.yaml", [entry]))

    def run(seconds: float):  # type: ignore[no-untyped-def]
        [outcome] = harvest_once(engine, config, process_budget=seconds)
        return outcome

    first = run(120.0)
    assert first.outcome == "success" and first.new == 10
    feed.write_bytes(ics_feed(10, title="Meeloopdag {i}"))  # every event changed
    spent = run(0.0)  # nothing may be processed: the budget is spent at once
    assert spent.outcome == "success" and spent.seen == 0 and spent.removed == 0
    assert spent.problems == 1
    rest = run(120.0)  # the part left out is read again, not skipped as "unchanged"
    assert rest.outcome == "success" and rest.updated == 10
