"""The foundation path: iCal source -> harvest -> database -> API and calendar export."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.models import Event, HarvestRun, SourceRecord
from tests.cli import run_cli
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.harvesting import harvest_once


def _harvest(engine, config, now=SAMPLE_NOW):  # type: ignore[no-untyped-def]
    return harvest_once(engine, config, now=now)


@pytest.fixture
def ics_config(tmp_path: Path, sample_dir: Path):  # type: ignore[no-untyped-def]
    shutil.copy(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v1.ics", tmp_path / "ua.ics")
    shutil.copy(sample_dir / "ics/twents-onderwijsnetwerk.ics", tmp_path / "twente.ics")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "ua",
                "name": "Utrecht & Amersfoort",
                "kind": "ics",
                "url": "ua.ics",
                "region": "regio-utrecht",
            },
            {
                "id": "twente",
                "name": "Twente",
                "kind": "ics",
                "url": "twente.ics",
                "region": "twente",
            },
        ],
    )
    return config_for(sources)


@pytest.mark.both_backends
def test_harvest_stores_events_and_runs(engine, ics_config) -> None:  # type: ignore[no-untyped-def]
    outcomes = _harvest(engine, ics_config)
    assert [o.outcome for o in outcomes] == ["success", "success"]
    assert outcomes[0].new == 12 and outcomes[1].new == 16
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Event)).one() == 28
        runs = session.exec(select(HarvestRun)).all()
        assert {r.outcome for r in runs} == {"success"} and all(r.bytes for r in runs)


@pytest.mark.both_backends
def test_second_harvest_is_unchanged_and_changes_nothing(engine, ics_config) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ics_config)
    with Session(engine) as session:
        before = {e.id: (e.last_modified, e.sequence) for e in session.exec(select(Event))}
    outcomes = _harvest(engine, ics_config)
    assert [o.outcome for o in outcomes] == ["unchanged", "unchanged"]
    with Session(engine) as session:
        after = {e.id: (e.last_modified, e.sequence) for e in session.exec(select(Event))}
    assert before == after


@pytest.mark.both_backends
def test_unreachable_source_fails_alone_and_keeps_events(engine, ics_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ics_config)
    (tmp_path / "ua.ics").unlink()
    outcomes = {o.source_id: o for o in _harvest(engine, ics_config)}
    assert outcomes["ua"].outcome == "failed" and "file not found" in (outcomes["ua"].error or "")
    assert outcomes["twente"].outcome == "unchanged"
    with Session(engine) as session:
        live = session.exec(
            select(func.count()).select_from(SourceRecord).where(SourceRecord.removed_at.is_(None))
        ).one()  # type: ignore[union-attr]
        assert live == 28


@pytest.mark.both_backends
def test_not_a_calendar_fails_with_clear_reason(engine, ics_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ics_config)
    (tmp_path / "ua.ics").write_text("<html><body>Onderhoud</body></html>")
    outcome = {o.source_id: o for o in _harvest(engine, ics_config)}["ua"]
    assert outcome.outcome == "failed"
    assert "not an iCalendar file" in (outcome.error or "")
    with Session(engine) as session:
        assert (
            session.exec(
                select(func.count()).select_from(Event).where(Event.removed_at.is_(None))
            ).one()
            == 28
        )  # type: ignore[union-attr]


def test_api_and_calendar_serve_harvested_events(engine, ics_config) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ics_config)
    client = TestClient(create_app(settings=Settings(), config=ics_config, engine=engine))
    body = client.get("/api/events", params={"per_page": 200, "from": "2027-01-01"}).json()
    assert body["total"] == 28 and len(body["items"]) == 28
    first = body["items"][0]
    assert {"id", "title", "start", "end", "all_day", "sources", "region"} <= first.keys()
    utrecht = client.get("/api/events", params={"region": "regio-utrecht", "from": "2027-01-01"})
    assert utrecht.json()["total"] == 12
    paged = client.get("/api/events", params={"per_page": 5, "page": 2, "from": "2027-01-01"})
    assert [i["id"] for i in paged.json()["items"]] == [i["id"] for i in body["items"][5:10]]
    ics = client.get("/calendar.ics", params={"from": "2027-01-01"})
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(ics.content)
    assert len(calendar.walk("VEVENT")) == 28
    again = client.get(
        "/calendar.ics",
        params={"from": "2027-01-01"},
        headers={"If-None-Match": ics.headers["etag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "params", [{"region": "atlantis"}, {"from": "gisteren"}, {"per_page": "1000"}, {"page": "0"}]
)
def test_bad_requests_get_4xx_with_message(engine, ics_config, params) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(create_app(settings=Settings(), config=ics_config, engine=engine))
    response = client.get("/api/events", params=params)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def _agenda(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script in a child process: the entry point itself."""
    script = Path(sys.executable).with_name("agenda")
    return subprocess.run(
        [str(script), *args], cwd=cwd, text=True, capture_output=True, timeout=120
    )


def test_cli_parse_prints_json_lines(sample_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _agenda(
        "parse",
        str(sample_dir / "ics/onderwijsregio-utrecht-amersfoort.v2.ics"),
        "--now",
        "2027-01-05T00:00:00+01:00",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 12
    assert all(line["start"].startswith("2027-") for line in lines)


def test_cli_config_errors_exit_2_naming_file_and_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    missing = run_cli("harvest", "--config", str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert (
        missing.returncode == 2 and "nope.yaml" in missing.stderr and "not found" in missing.stderr
    )
    bad = write_sources(
        tmp_path / "bad.yaml",
        [{"id": "x", "name": "X", "kind": "ics", "url": "x.ics", "region": "atlantis"}],
    )
    result = run_cli("harvest", "--config", str(bad), cwd=tmp_path)
    assert result.returncode == 2
    assert "bad.yaml" in result.stderr and "entry 1 (x)" in result.stderr
    assert "unknown region 'atlantis'" in result.stderr


def test_cli_harvest_exit_1_when_a_source_fails(tmp_path, sample_dir) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(sample_dir / "ics/twents-onderwijsnetwerk.ics", tmp_path / "twente.ics")
    sources = write_sources(
        tmp_path / "sources.yaml",
        [
            {
                "id": "twente",
                "name": "Twente",
                "kind": "ics",
                "url": "twente.ics",
                "region": "twente",
            },
            {
                "id": "gone",
                "name": "Gone",
                "kind": "ics",
                "url": "http://127.0.0.1:9/agenda.ics",
                "region": "twente",
            },
        ],
    )
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}
    result = run_cli(
        "harvest",
        "--config",
        str(sources),
        "--now",
        "2027-01-05T00:00:00+01:00",
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 1
    assert "gone: failed: cannot reach" in " ".join(result.stderr.split())
    assert "twente: success" in " ".join(result.stderr.split())


def test_health_and_metrics(engine, ics_config, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _harvest(engine, ics_config)
    (tmp_path / "ua.ics").write_text("kapot")
    _harvest(engine, ics_config)
    client = TestClient(create_app(settings=Settings(), config=ics_config, engine=engine))
    assert client.get("/healthz").json() == {"status": "ok"}
    text = client.get("/metrics").text
    assert 'agenda_events{status="confirmed"} 28.0' in text
    assert 'agenda_source_failing{source="ua"} 1.0' in text
    assert 'agenda_source_failing{source="twente"} 0.0' in text
    assert 'agenda_harvest_runs{outcome="failed",source="ua"} 1.0' in text
