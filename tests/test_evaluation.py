"""`agenda eval` on the bundled nl-sample, and the pipeline on reversed input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import icalendar
import yaml
from sqlmodel import Session, select

from aggregator.evaluation import read_labels, run_eval, source_for_label
from aggregator.models import Event, SourceRecord
from aggregator.pipeline import build_pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from tests.cli import run_cli
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.harvesting import harvest_once

UA = "overstap-agenda-tests"


def test_eval_on_the_bundled_sample(sample_dir: Path) -> None:
    config = config_for(sample_dir / "sources.yaml")
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        report = run_eval(
            labels_path=sample_dir / "labels.jsonl",
            config=config,
            now=SAMPLE_NOW,
            fetcher=fetcher,
            pipeline=build_pipeline(config),
            crawl_options=CrawlOptions(user_agent=UA),
        )
    assert report.evaluated >= 58  # at least the four iCal sources
    assert report.relevance.f1 is not None and report.relevance.f1 >= 0.95
    assert report.fields["activity_type"].value >= 0.90  # type: ignore[operator]
    assert report.municipality.value is not None and report.municipality.value >= 0.95
    assert report.dedup.fp == 0
    assert report.dedup_from_labels.f1 is not None and report.dedup_from_labels.f1 >= 0.95
    assert report.activity_type_from_titles.value >= 0.90  # type: ignore[operator]
    # the issue 17 targets on the development set (docs/aggregator.md)
    assert report.fields["activity_type"].value >= 0.95  # type: ignore[operator]
    assert report.fields["sectors"].value >= 0.92  # type: ignore[operator]
    assert report.fields["audiences"].value >= 0.90  # type: ignore[operator]
    assert report.municipality.value == 1.0
    assert report.dedup.f1 == 1.0
    assert report.overig.total and report.overig.value < 0.05  # type: ignore[operator]


def test_labels_map_to_sources(sample_dir: Path) -> None:
    config = config_for(sample_dir / "sources.yaml")
    ids = {
        label["source"]: getattr(source_for_label(label["source"], config.sources), "id", None)
        for label in read_labels(sample_dir / "labels.jsonl")
    }
    assert ids["ics/onderwijsregio-utrecht-amersfoort.v1.ics"] is None  # a previous version
    assert ids["json/ijsseldelta-tribe-events.page2.json"] == "hogeschool-ijsseldelta"
    assert ids["html/overstappunt/agenda/lunchwebinar-zij-instroom-mbo.html"] == (
        "overstappunt-onderwijs"
    )


def test_cli_eval_prints_the_figures(sample_dir: Path, tmp_path: Path) -> None:
    # the figures of the whole sample are checked above; here the command prints them, for
    # the sources read without a crawl (each crawl is a child process of its own)
    read = ("ics", "rss")
    for folder in read:
        shutil.copytree(sample_dir / folder, tmp_path / folder)
    entries = yaml.safe_load((sample_dir / "sources.yaml").read_text(encoding="utf-8"))
    sources = write_sources(tmp_path / "sources.yaml", [e for e in entries if e["kind"] in read])
    lines = (sample_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join(line for line in lines if json.loads(line)["source"].split("/")[0] in read),
        encoding="utf-8",
    )
    result = run_cli("eval", str(labels), str(sources), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = ("relevance: precision", "activity_type accuracy", "municipality accuracy", "overig")
    for line in lines:
        assert line in result.stdout
    assert "dedup pairs" in result.stdout


def _reverse_calendar(body: bytes) -> bytes:
    calendar = icalendar.Calendar.from_ical(body)
    zones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    others = [c for c in calendar.subcomponents if c.name != "VTIMEZONE"]
    calendar.subcomponents = zones + list(reversed(others))
    return calendar.to_ical()


def _snapshot(engine) -> set[tuple]:  # type: ignore[no-untyped-def,type-arg]
    with Session(engine) as session:
        events = {e.id: e for e in session.exec(select(Event))}
        by_event: dict[str, list[str]] = {}
        for record in session.exec(select(SourceRecord)):
            by_event.setdefault(record.event_id, []).append(
                f"{record.source_id}|{record.uid}|{record.recurrence_id}"
            )
    return {
        (
            tuple(sorted(by_event[event_id])),
            e.title,
            e.start_at,
            e.end_at,
            e.municipality,
            e.activity_type,
            tuple(e.sectors),
            e.attendance,
            e.region,
            e.sequence,
        )
        for event_id, e in events.items()
    }


def test_pipeline_on_reversed_input_gives_the_same_events(
    engine, sample_dir: Path, tmp_path: Path, database_copy
) -> None:  # type: ignore[no-untyped-def]
    from aggregator.db import make_engine

    names = {
        "groningen": ("onderwijsregio-groningen-drenthe.ics", "groningen-drenthe"),
        "friesland": ("friese-pabo-academie-voorlichting.ics", "friesland"),
        "twente": ("twents-onderwijsnetwerk.ics", "twente"),
        "utrecht": ("onderwijsregio-utrecht-amersfoort.v2.ics", "regio-utrecht"),
    }
    entries = []
    for source_id, (name, region) in names.items():
        body = (sample_dir / "ics" / name).read_bytes()
        (tmp_path / f"{source_id}.ics").write_bytes(body)
        (tmp_path / f"{source_id}.reversed.ics").write_bytes(_reverse_calendar(body))
        entries.append({"id": source_id, "name": source_id, "kind": "ics", "region": region})
    forward = config_for(
        write_sources(tmp_path / "forward.yaml", [{**e, "url": f"{e['id']}.ics"} for e in entries])
    )
    backward = config_for(
        write_sources(
            tmp_path / "backward.yaml",
            [{**e, "url": f"{e['id']}.reversed.ics"} for e in reversed(entries)],
        )
    )
    other = make_engine(database_copy())
    try:
        for eng, config in ((engine, forward), (other, backward)):
            harvest_once(eng, config)
        assert _snapshot(engine) == _snapshot(other)
        assert len(_snapshot(engine)) > 58  # series occurrences are events of their own
    finally:
        other.dispose()


def test_labels_match_records_by_a_key_inside_the_uid() -> None:
    from aggregator.evaluation import _loose_match

    record = SourceRecord(
        source_id="s", uid="www.example.nl?id=4790", event_id="e", title="t", content_hash=""
    )
    other = SourceRecord(
        source_id="s", uid="www.example.nl?id=47901", event_id="f", title="t", content_hash=""
    )
    record.id, other.id = 1, 2
    index = {("s", record.uid): record, ("s", other.uid): other}
    assert _loose_match(index, "s", "4790") is record
    assert _loose_match(index, "s", "479") is None
