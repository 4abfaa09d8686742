"""Unchanged records skip the pipeline (``aggregator.unchanged_records``), with the same result.

A feed read again after one of its events changed runs the stages for that event only;
the events, records, ids and history equal those of a harvest that ran every record
through the stages. A change of the taxonomy (the pipeline's key) or of the source's
configuration makes every record go through the stages again; a UID listed twice is
never skipped. A source that answers 304 costs its request and its run record: no parse,
no stage, no read of the stored records, no write to them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from aggregator.config import AppConfig
from aggregator.db import make_engine
from aggregator.draft import EventDraft
from aggregator.models import SourceRecord
from aggregator.pipeline import Pipeline, build_pipeline, pipeline_key
from aggregator.unchanged_records import RecordSkip, input_hash, source_key
from config import bundled
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.feedserver import Answer, feed_server
from tests.harvesting import harvest_once
from tests.test_harvest_concurrent import snapshot

UTRECHT = "samples/nl-sample/ics/onderwijsregio-utrecht-amersfoort"


class Counting:
    """A first stage that counts the records it sees and passes them on unchanged."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Count the draft; return it as it is."""
        self.seen.append(draft.raw.uid)
        return draft


def counted(config: AppConfig, *, skip: bool = True) -> tuple[Pipeline, Counting]:
    """The default pipeline behind a counting stage; without a key when not ``skip``."""
    pipeline = build_pipeline(config)
    counter = Counting()
    stages = (counter, *pipeline.stages)
    return replace(pipeline, stages=stages, key=pipeline.key if skip else None), counter


def _without_input_hash(state: dict[str, list[Any]]) -> dict[str, list[Any]]:
    records = [{k: v for k, v in r.items() if k != "input_hash"} for r in state["records"]]
    return {**state, "records": records}


@pytest.fixture
def feed(tmp_path: Path) -> Callable[[str], AppConfig]:
    """Put a version of the Utrecht sample in place (v1, v2); the config reading it."""
    sources = write_sources(
        tmp_path / "sources.yaml",
        [{"id": "ua", "name": "U&A", "kind": "ics", "url": "ua.ics", "region": "regio-utrecht"}],
    )

    def put(version: str) -> AppConfig:
        shutil.copy(bundled(f"{UTRECHT}.{version}.ics"), tmp_path / "ua.ics")
        return config_for(sources)

    return put


@pytest.mark.both_backends
def test_a_changed_feed_runs_the_stages_for_its_changed_records_only(
    database_copy: Callable[..., str], feed: Callable[[str], AppConfig]
) -> None:
    engines = {"skip": make_engine(database_copy()), "every": make_engine(database_copy())}
    counters: dict[str, list[Counting]] = {"skip": [], "every": []}
    outcomes: dict[str, list[Any]] = {"skip": [], "every": []}
    try:
        for version in ("v1", "v2"):
            config = feed(version)
            for name, engine in engines.items():
                pipeline, counter = counted(config, skip=name == "skip")
                (outcome,) = harvest_once(engine, config, pipeline=pipeline)
                counters[name].append(counter)
                outcomes[name].append((outcome.outcome, outcome.seen, outcome.new, outcome.updated))
        states = {name: snapshot(engine) for name, engine in engines.items()}
        with Session(engines["skip"]) as session:
            hashes = session.exec(select(SourceRecord.input_hash)).all()
    finally:
        for engine in engines.values():
            engine.dispose()
    first, second = counters["skip"]
    every_first, every_second = counters["every"]
    assert len(first.seen) == len(every_first.seen) > 0  # an empty store: every record
    changed = outcomes["skip"][1][2] + outcomes["skip"][1][3]  # new + updated
    assert 0 < len(second.seen) < len(every_second.seen) / 2  # only what changed (and a few)
    assert len(second.seen) >= changed
    assert outcomes["skip"] == outcomes["every"]
    assert all(hashes) and len(set(hashes)) == len(hashes)
    assert _without_input_hash(states["skip"]) == _without_input_hash(states["every"])


def test_the_same_feed_again_runs_no_stage_and_writes_nothing(
    engine: Engine, feed: Callable[[str], AppConfig], tmp_path: Path
) -> None:
    config = feed("v2")
    harvest_once(engine, config)
    before = snapshot(engine)
    (tmp_path / "ua.ics").write_bytes((tmp_path / "ua.ics").read_bytes() + b"\r\n")  # a new body
    pipeline, counter = counted(config)
    (outcome,) = harvest_once(engine, config, pipeline=pipeline)
    assert outcome.outcome == "success" and outcome.seen > 0
    assert (outcome.new, outcome.updated, outcome.removed) == (0, 0, 0)
    assert counter.seen == []
    after = snapshot(engine)
    assert after["records"] == before["records"] and after["events"] == before["events"]


def test_a_taxonomy_change_processes_every_record_again(
    engine: Engine, feed: Callable[[str], AppConfig], tmp_path: Path
) -> None:
    config = feed("v2")
    harvest_once(engine, config)
    term = config.taxonomy.model_copy(deep=True)
    changed = config.model_copy(update={"taxonomy": term})
    field = next(name for name, value in term if isinstance(value, list) and value)
    getattr(term, field).pop()
    assert pipeline_key(changed, ["normalise"]) != pipeline_key(config, ["normalise"])
    (tmp_path / "ua.ics").write_bytes((tmp_path / "ua.ics").read_bytes() + b"\r\n")
    pipeline, counter = counted(config)
    pipeline = replace(pipeline, key=pipeline_key(changed, ["normalise", "classify", "geocode"]))
    (outcome,) = harvest_once(engine, config, pipeline=pipeline)
    assert len(counter.seen) == outcome.seen > 0


RAW = RawEvent(source_id="s", uid="a", title="Open dag", start=SAMPLE_NOW)


def test_a_source_setting_or_a_version_field_and_a_twice_listed_uid() -> None:
    source = SourceConfig(id="s", name="S", kind="ics", url="x.ics", region="regio-utrecht")
    other = source.model_copy(update={"relevance": "keywords"})
    assert source_key("k", source) != source_key("k", other)
    assert source_key(None, source) is None
    key = source_key("k", source)
    assert key is not None
    newer = replace(RAW, sequence=3)
    assert input_hash(newer, key) == input_hash(RAW, key)  # no stage reads the version
    assert input_hash(replace(RAW, title="Open avond"), key) != input_hash(RAW, key)
    twice = [RAW, replace(RAW, title="Open dag (verzet)")]
    single = replace(RAW, uid="b")
    skip = RecordSkip({("a", ""): input_hash(RAW, key), ("b", ""): input_hash(single, key)}, key)
    listing = [*twice, single]
    assert list(skip.split(listing, listing=listing)) == twice
    assert skip.unchanged == [("b", "")]
    nothing = RecordSkip({("b", ""): input_hash(single, key)}, None)
    assert list(nothing.split([single], listing=[single])) == [single]


def test_a_304_costs_its_request_and_the_run_record_only(engine: Engine, tmp_path: Path) -> None:
    body = bundled(f"{UTRECHT}.v2.ics").read_bytes()
    statements: list[str] = []
    with feed_server() as server:
        server.set("/ua.ics", Answer(body, headers={"ETag": '"v2"'}))
        sources = write_sources(
            tmp_path / "sources.yaml",
            [
                {
                    "id": "ua",
                    "name": "U&A",
                    "kind": "ics",
                    "url": server.url("/ua.ics"),
                    "region": "regio-utrecht",
                }
            ],
        )
        config = config_for(sources)
        harvest_once(engine, config)
        server.set("/ua.ics", Answer(b"", status=304, headers={"ETag": '"v2"'}))
        pipeline, counter = counted(config)

        def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", seen)
        try:
            (outcome,) = harvest_once(engine, config, pipeline=pipeline)
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert outcome.outcome == "unchanged" and counter.seen == []
    assert not [s for s in statements if "input_hash" in s]  # nothing read to skip
    writes = ("INSERT INTO EVENT", "UPDATE EVENT", "INSERT INTO SOURCERECORD", "UPDATE SOURCER")
    assert not [s for s in statements if s.lstrip().upper().startswith(writes)]
    assert any("harvestrun" in s.lower() for s in statements)  # the run is recorded
