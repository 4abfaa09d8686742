"""Interrupted harvests: kill -9 and SIGTERM leave no run "running" and no crawl child alive."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url
from sqlmodel import Session, create_engine, select

from aggregator.models import HarvestRun
from tests.faultserver import FaultServer, running
from tests.test_faults import HARVEST, NOW, Site, site


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    """One fault server for the module."""
    with running() as server:
        yield server


def migrated_site(tmp_path: Path, database_url: str) -> Site:
    """A fresh site on a copy of the migrated template: the child harvests at once instead
    of running the Alembic chain first (it still checks the revision, as every start does)."""
    where = site(tmp_path)
    database = make_url(database_url).database
    assert database is not None
    shutil.move(database, where.database)
    return where


def runs(database: Path) -> list[tuple[str, str | None]]:
    """(outcome, error) of every harvest run, oldest first."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            rows = session.exec(select(HarvestRun).order_by(HarvestRun.id)).all()  # type: ignore[arg-type]
            return [(run.outcome, run.error) for run in rows]
    finally:
        engine.dispose()


def start_harvest(where: Site) -> subprocess.Popen[bytes]:
    """`agenda harvest` in the background; returns once its run is recorded as running."""
    child = subprocess.Popen(
        [sys.executable, "-m", "agenda.cli", "harvest", "--now", "2027-01-05T00:00:00+01:00"],
        env={**os.environ, **where.env, "HARVEST_TIMEOUT": "60", "HARVEST_CRAWL_TIMEOUT": "60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if where.database.exists() and ("running", None) in _safe_runs(where.database):
            return child
        time.sleep(0.2)
    child.kill()
    raise AssertionError("the harvest never started its run")


def _safe_runs(database: Path) -> list[tuple[str, str | None]]:
    try:
        return runs(database)
    except Exception:  # the schema is still being created
        return []


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid``, started by any of its threads (Linux /proc)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(x) for x in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
    return found


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process ``pid`` ends (or is a zombie) within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


def test_a_killed_harvest_is_closed_as_interrupted_at_the_next_start(
    tmp_path: Path, faults: FaultServer, database_url: str
) -> None:
    where = migrated_site(tmp_path, database_url)
    where.point(faults.url("/slow"))
    child = start_harvest(where)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert runs(where.database) == [("running", None)]  # what kill -9 leaves behind
    where.point(faults.url("/feed.ics?n=2"))
    after = where.run(*HARVEST, *NOW)  # the next start, in this process
    assert after.status == 0, after.stderr
    (first, error), second = runs(where.database)
    assert first == "interrupted" and "stopped before this run finished" in (error or "")
    assert second == ("success", None)


def test_sigterm_records_the_run_as_interrupted(
    tmp_path: Path, faults: FaultServer, database_url: str
) -> None:
    where = migrated_site(tmp_path, database_url)
    where.point(faults.url("/slow"))
    child = start_harvest(where)
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=30) != 0
    assert time.monotonic() - started < 30
    [(outcome, error)] = runs(where.database)
    assert outcome == "interrupted", error


def test_a_crawl_child_dies_with_its_killed_harvest(
    tmp_path: Path, faults: FaultServer, database_url: str
) -> None:
    where = migrated_site(tmp_path, database_url)
    where.point(faults.url("/slow"), "jsonld")
    child = start_harvest(where)
    deadline = time.monotonic() + 30
    while not children(child.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    [crawl] = children(child.pid)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert gone(crawl), f"crawl process {crawl} outlived its harvest"
