"""The processing budget: fields cut to size, a wall time per source, the rest kept."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from aggregator.budget import FIELD_LIMITS, Budget, bound_fields
from aggregator.draft import EventDraft
from aggregator.pipeline import run_pipeline
from crawlers import deadline, ical
from crawlers.deadline import Deadline
from crawlers.records import RawEvent, Window
from crawlers.source import SourceConfig
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.faultserver import HEAVY_OCCURRENCES, heavy_series, ics_feed
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


class _Slow:
    """A stage that takes ``seconds`` on records titled "langzaam" (a pathological one)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        if draft.title == "langzaam":
            time.sleep(self.seconds)
        return draft


def test_a_record_over_its_share_in_the_stages_is_left_out_and_the_rest_goes_on() -> None:
    source = SourceConfig(id="s", name="s", kind="ics", url="x.ics", region="twente")
    raws = [_raw(title=title) for title in ("Open dag", "langzaam", "Meeloopdag")]
    budget = Budget("s", seconds=2.0)  # a share of 0.2 s
    with deadline.bounded(budget.deadline):
        done = list(run_pipeline(budget.records(raws), source, [_Slow(0.5)]))
    assert [p.draft.title for p in done if p.overrun is None] == ["Open dag", "Meeloopdag"]
    (slow,) = [p for p in done if p.overrun]
    assert "after _Slow: stopped after" in (slow.overrun or "")
    assert "over its share of 0.2 s" in (slow.overrun or "")
    # no clock (agenda parse, the evaluation): no bound
    assert [p.overrun for p in run_pipeline([_raw(title="langzaam")], source, [_Slow(0.3)])] == [
        None
    ]


def test_the_budget_covers_parsing_a_spent_one_leaves_series_unexpanded() -> None:
    source = SourceConfig(id="s", name="s", kind="ics", url="x.ics", region="twente")
    body = heavy_series(5, 2)
    window = Window.around(SAMPLE_NOW)
    with deadline.bounded(Deadline(0.0).start()):
        result = ical.parse(body, source, now=SAMPLE_NOW, window=window)
    assert len(result.events) == 5 and result.partial  # the singles, read as they came
    (problem,) = result.problems
    assert "2 series left unexpanded" in problem.reason
    whole = ical.parse(body, source, now=SAMPLE_NOW, window=window)  # no clock: all of it
    assert len(whole.events) == 5 + 2 * HEAVY_OCCURRENCES and not whole.partial


def test_a_series_over_its_share_is_its_own_problem() -> None:
    source = SourceConfig(id="s", name="s", kind="ics", url="x.ics", region="twente")
    clock = Deadline(60.0)
    clock.share = 0.05  # the series take longer (0.2 s CPU each at rest)
    with deadline.bounded(clock.start()):
        result = ical.parse(
            heavy_series(3, 2), source, now=SAMPLE_NOW, window=Window.around(SAMPLE_NOW)
        )
    assert len(result.events) == 3 and result.partial
    assert sorted(p.uid or "" for p in result.problems) == [
        "heavy-0@faultserver",
        "heavy-1@faultserver",
    ]
    assert all("over its share of 0.05 s" in p.reason for p in result.problems)
