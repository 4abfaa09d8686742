"""Misbehaving sources (tests/faultserver.py) against the real `agenda harvest` command.

Each failing fault runs the command in a child process against a SQLite file that a good
harvest filled first, and checks the exit status, the one-line message (source and reason),
the child's peak memory and wall time, and that every stored event is unchanged. What is
not about the process (the good harvest, the held listings, `agenda sources` and `agenda
parse` output) runs the same command in-process (``tests.cli.run_cli``): a child costs
seconds of imports each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select

from aggregator.models import Event, SourceRecord
from bench.memory import tree_peak_kb
from tests.cli import run_cli
from tests.conftest import write_sources
from tests.faultserver import FaultServer, running

MEMORY_LIMIT_MB = 300
# start-up (migrations, imports, a Scrapy child) takes most of it on a shared machine; a
# fault that hangs runs into HARVEST_CRAWL_TIMEOUT (10 minutes by default) instead
TIME_LIMIT_S = 120.0


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    """One fault server for the module."""
    with running() as server:
        yield server


@dataclass(slots=True)
class Run:
    """What one `agenda` command did: exit status, stderr, peak memory, wall time."""

    status: int
    stderr: str
    peak_mb: float
    seconds: float
    stdout: str = ""


def agenda(args: list[str], *, env: dict[str, str], timeout: float = 120) -> Run:
    """Run the `agenda` command in a child process; measure its own peak memory.

    The peak is the largest VmHWM seen in /proc for the child and its descendants (crawl
    workers), polled while it runs. Not wait4's ru_maxrss: Linux carries the parent's
    high-water mark across fork and exec, so under pytest-xdist it reports the (large)
    test worker instead of the command.
    """
    started = time.monotonic()
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as stdout,
        tempfile.TemporaryFile("w+", encoding="utf-8") as stderr,
    ):
        child = subprocess.Popen(
            [sys.executable, "-m", "agenda.cli", *args],
            env={**os.environ, "COLUMNS": "200", **env},
            stdout=stdout,
            stderr=stderr,
        )
        peak_kb = 0
        while True:
            peak_kb = max(peak_kb, tree_peak_kb(child.pid))
            pid, status, _usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                child.kill()
                child.wait()
                raise AssertionError(f"agenda {' '.join(args)} still running after {timeout} s")
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    return Run(child.returncode, errors, peak_kb / 1024, time.monotonic() - started, output)


def snapshot(database: Path) -> list[tuple[object, ...]]:
    """Every stored event and record as a sortable tuple (what a harvest may change)."""
    engine = create_engine(f"sqlite:///{database}")
    with Session(engine) as session:
        events = [
            ("event", e.id, e.title, str(e.start_at), e.url, e.sequence, str(e.removed_at))
            for e in session.exec(select(Event))
        ]
        records = [
            ("record", r.source_id, r.uid, r.content_hash, str(r.removed_at))
            for r in session.exec(select(SourceRecord))
        ]
    engine.dispose()
    return sorted(events + records, key=repr)


@dataclass(slots=True)
class Site:
    """A sources.yaml with one source ``faulty`` and the database it harvests into."""

    folder: Path
    env: dict[str, str]

    def point(self, url: str, kind: str = "ics") -> None:
        """Make the source ``faulty`` read ``url``."""
        write_sources(
            self.folder / "sources.yaml",
            [
                {
                    "id": "faulty",
                    "name": "Faulty",
                    "kind": kind,
                    "url": url,
                    "region": "regio-zwolle",
                }
            ],
        )

    @property
    def database(self) -> Path:
        """The SQLite file."""
        return self.folder / "agenda.sqlite"

    def harvest(self, **env: str) -> Run:
        """`agenda harvest` with the test clock, in a child process (memory and time measured)."""
        return agenda([*HARVEST, *NOW], env={**self.env, **env})

    def run(self, *args: str) -> Run:
        """`agenda ARGS` in this process (no memory or time measured)."""
        started = time.monotonic()
        result = run_cli(*args, cwd=self.folder, env={"COLUMNS": "200", **self.env})
        return Run(result.returncode, result.stderr, 0.0, time.monotonic() - started, result.stdout)


HARVEST = ("harvest",)
NOW = ("--now", "2027-01-05T00:00:00+01:00")


def site(tmp_path: Path) -> Site:
    """A fresh site: its own sources file and SQLite database."""
    env = {
        "AGENDA_CONFIG": str(tmp_path / "sources.yaml"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'agenda.sqlite'}",
        "HARVEST_TIMEOUT": "3",
        "HARVEST_MAX_BYTES": str(1024 * 1024),
        "HARVEST_CACHE_DIR": str(tmp_path / "cache"),
        "HARVEST_CRAWL_DELAY": "0",
    }
    return Site(tmp_path, env)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, faults: FaultServer) -> Path:
    """A database harvested once from a good iCal feed of 20 events (copied per test)."""
    folder = tmp_path_factory.mktemp("baseline")
    where = site(folder)
    where.point(faults.url("/feed.ics?n=20"))
    good = where.run(*HARVEST, *NOW)
    assert good.status == 0, good.stderr
    return where.database


def harvested(tmp_path: Path, baseline: Path) -> Site:
    """A fresh site holding a copy of the baseline database."""
    where = site(tmp_path)
    shutil.copyfile(baseline, where.database)
    return where


def assert_failed_cleanly(run: Run, *reason: str) -> None:
    """Exit 1, one line naming the source and the reason, within the bounds, no traceback."""
    assert run.status == 1, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("faulty: failed:")]
    for words in reason:
        assert words in line, line
    assert run.peak_mb < MEMORY_LIMIT_MB, run.peak_mb
    assert run.seconds < TIME_LIMIT_S, run.seconds


# fault endpoint, source kind, words the failure line must contain
FAILING = [
    pytest.param(
        "/bomb.ics",
        "ics",
        ["exceeds the limit of 1048576 bytes", "counted after decoding"],
        id="gzip-gzip-bomb",
    ),
    pytest.param(
        "/bomb.html", "jsonld", ["DOWNLOAD_MAXSIZE", "1048576"], id="gzip-gzip-bomb-crawled"
    ),
    pytest.param("/slow", "ics", ["timed out"], id="trickle"),
    pytest.param("/truncated.rss", "rss", ["truncated", "nothing stored"], id="truncated-rss"),
]


@pytest.mark.parametrize("path,kind,reason", FAILING)
def test_a_faulty_source_fails_in_one_line_and_keeps_its_events(
    tmp_path: Path, faults: FaultServer, baseline: Path, path: str, kind: str, reason: list[str]
) -> None:
    where = harvested(tmp_path, baseline)
    before = snapshot(where.database)
    where.point(faults.url(path), kind)
    run = where.harvest()
    assert_failed_cleanly(run, *reason)
    assert snapshot(where.database) == before


def test_console_markup_in_source_text_is_printed_not_parsed(
    tmp_path: Path, faults: FaultServer, baseline: Path
) -> None:
    where = harvested(tmp_path, baseline)
    url = faults.url("/markup-error")
    where.point(url)
    harvest = where.harvest()
    assert_failed_cleanly(harvest, "HTTP 503 Open dag [/x] [bold]lerarenopleiding[/bold]")
    listing = where.run("sources")
    assert listing.status == 0 and "Traceback" not in listing.stderr, listing.stderr
    assert "[/x]" in listing.stdout
    parse = where.run("parse", url)
    assert parse.status == 1 and "Traceback" not in parse.stderr, parse.stderr
    assert "[/x] [bold]" in parse.stderr


def test_a_listing_that_empties_is_held_until_a_second_harvest_confirms(
    tmp_path: Path, faults: FaultServer, baseline: Path
) -> None:
    where = harvested(tmp_path, baseline)
    before = snapshot(where.database)
    where.point(faults.url("/feed.ics?n=0"))
    held = where.run(*HARVEST, *NOW)
    assert held.status == 0, held.stderr
    (line,) = [x for x in held.stderr.splitlines() if x.startswith("faulty:")]
    assert "held: the listing has 0 event(s) and would remove 20 of 20 stored" in line
    assert snapshot(where.database) == before
    listing = where.run("sources")
    assert "held:" in listing.stdout
    confirmed = where.run(*HARVEST, *NOW)
    assert confirmed.status == 0, confirmed.stderr
    assert "20 removed" in confirmed.stderr
    removed = [row for row in snapshot(where.database) if row[0] == "record"]
    assert all(row[-1] != "None" for row in removed)  # every record now carries removed_at


def test_a_listing_that_lost_most_events_is_held(
    tmp_path: Path, faults: FaultServer, baseline: Path
) -> None:
    where = harvested(tmp_path, baseline)
    before = snapshot(where.database)
    where.point(faults.url("/feed.ics?n=3"))
    held = where.run(*HARVEST, *NOW)
    assert held.status == 0, held.stderr
    assert "would remove 17 of 20 stored" in held.stderr
    assert snapshot(where.database) == before


def test_a_series_over_its_share_is_a_problem_and_the_rest_is_stored(
    tmp_path: Path, faults: FaultServer, baseline: Path
) -> None:
    where = harvested(tmp_path, baseline)
    before = snapshot(where.database)
    where.point(faults.url("/heavy-series.ics?n=20&series=2"))
    # a budget of 3 s: each series may take 0.3 s, and takes longer (0.4 s CPU at rest)
    run = where.harvest(HARVEST_PROCESS_BUDGET="3")
    assert run.status == 0, run.stderr
    assert "Traceback" not in run.stderr
    cut = [x for x in run.stderr.splitlines() if "over its share of 0.3 s" in x]
    assert len(cut) == 2 and all("left out" in x for x in cut), run.stderr
    assert "heavy-0@faultserver" in cut[0] + cut[1] and "heavy-1@faultserver" in cut[0] + cut[1]
    (line,) = [x for x in run.stderr.splitlines() if x.startswith("faulty: success")]
    assert "20 seen" in line and "0 removed" in line and "2 unreadable" in line, line
    assert snapshot(where.database) == before  # the 20 events as they were, none removed
    assert run.peak_mb < MEMORY_LIMIT_MB and run.seconds < TIME_LIMIT_S
