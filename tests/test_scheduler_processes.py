"""Two `agenda run` processes on one PostgreSQL: one schedules, each source once per interval.

20 sources on a loopback server, a 4-second interval (SCHEDULER_INTERVAL): both processes
run for a few intervals, then the scheduling one is killed with SIGKILL and the other
must take over within the bound, without a source harvested twice in an interval or
skipped for longer than the takeover.

The suite runs it short. For the long form, set SCHEDULER_SOAK_INTERVAL and
SCHEDULER_SOAK_SECONDS (each process phase, before and after the kill), e.g. a 60-second
interval for 2 x 300 seconds: ten minutes of two processes on one database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from aggregator.db import upgrade
from aggregator.leadership import scheduler_holders
from tests.conftest import write_sources
from tests.faultserver import ics_feed
from tests.feedserver import Answer, feed_server

pytestmark = pytest.mark.postgres

SOURCES = 20
INTERVAL = float(os.environ.get("SCHEDULER_SOAK_INTERVAL", "4"))
PHASE = float(os.environ.get("SCHEDULER_SOAK_SECONDS", str(2 * INTERVAL)))
TICK = 0.2
TAKEOVER_BOUND = 3.0  # seconds from SIGKILL to the other process holding the lock
# A loaded machine (the test suite on two cores) claims a due source late by this much
SLACK = 2.0  # seconds, plus a second for each unit of load above the two cores
CLAIMS = text("SELECT source_id, last_attempt_at, last_finished_at FROM source_schedule")
RUNS = text(
    "SELECT source_id, count(*) FROM harvestrun"
    " WHERE outcome IN ('success', 'unchanged') GROUP BY source_id"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "agenda.cli", "run", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _wait_served(
    port: int,
    child: subprocess.Popen[bytes],
    within: float = 180,
    between: Callable[[], object] | None = None,
) -> None:
    """Wait until ``child`` answers /healthz on ``port``; call ``between`` while waiting."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert child.poll() is None, "agenda run ended early"
        if between is not None:
            between()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("agenda run did not serve in time")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for child in started:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)


def test_two_processes_harvest_each_source_once_per_interval_and_hand_over(
    postgres_url: str, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    db = create_engine(postgres_url)
    with feed_server() as server:
        names = [f"s{i:02d}" for i in range(SOURCES)]
        for name in names:
            server.set(f"/{name}.ics", Answer(ics_feed(2)))
        entries = [
            {"id": n, "name": n, "kind": "ics", "region": "twente", "url": server.url(f"/{n}.ics")}
            for n in names
        ]
        env = {
            **os.environ,
            "DATABASE_URL": postgres_url,
            "AGENDA_CONFIG": str(write_sources(tmp_path / "sources.yaml", entries)),
            "SCHEDULER_INTERVAL": str(INTERVAL),
            "SCHEDULER_JITTER": "0",
            "SCHEDULER_TICK": str(TICK),
            "HARVEST_CONCURRENCY": str(SOURCES),
            "WEB_SECRET_KEY": "test-secret",
            "HARVEST_CACHE_DIR": str(tmp_path / "cache"),
        }
        upgrade(postgres_url)  # migrated once, so both processes can start together
        claims: dict[str, set[float]] = defaultdict(set)  # claim times seen, per source
        ends: dict[tuple[str, float], float] = {}  # (source, claim time) -> when it ended
        seen: list[list[tuple[int, str]]] = []  # the last look: (backend pid, application name)

        def holders() -> list[int]:
            """The scheduling process(es), and every claim made since the last look."""
            with db.connect() as connection:
                for source_id, at, ended in connection.execute(CLAIMS):
                    if at is not None:
                        claims[source_id].add(at.timestamp())
                        if ended is not None and ended >= at:
                            ends[source_id, at.timestamp()] = ended.timestamp()
                # this schema's lock only: other tests on the server hold their own
                found = scheduler_holders(connection)
            seen[:] = [found]
            return [int(name.split()[-1]) for _, name in found]

        ports = [_free_port(), _free_port()]
        for i, port in enumerate(ports):
            processes.append(_start(port, env, tmp_path / f"run{i}.log"))
        for port, child in zip(ports, processes, strict=True):
            _wait_served(port, child, between=holders)  # the first harvest's claims too

        before = time.monotonic() + PHASE
        while time.monotonic() < before:
            assert len(holders()) == 1, seen[-1]  # exactly one process schedules at a time
            time.sleep(0.1)
        (leader,) = holders()
        other = next(p for p in processes if p.pid != leader)
        os.kill(leader, signal.SIGKILL)
        killed, killed_at = time.monotonic(), time.time()
        while holders() != [other.pid]:
            assert time.monotonic() - killed < TAKEOVER_BOUND, "no takeover within the bound"
            time.sleep(0.05)
        takeover = time.monotonic() - killed
        after = time.monotonic() + PHASE
        while time.monotonic() < after:
            assert holders() == [other.pid], seen[-1]
            time.sleep(0.1)
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=60)
        holders()
        with db.connect() as connection:
            runs: dict[str, int] = {row[0]: row[1] for row in connection.execute(RUNS)}
    db.dispose()

    assert sorted(claims) == names
    for name in names:
        times = sorted(claims[name])
        pairs = list(pairwise(times))
        assert len(pairs) >= 3, (name, times)
        # never twice within an interval (but a harvest the killed process never finished
        # is taken over at once) ...
        gaps = [b - a for a, b in pairs if not a < killed_at < b]
        assert min(gaps) >= INTERVAL - 0.01, (name, gaps)
        # ... and no interval skipped: due again one interval after a claim (or when a
        # slower harvest ended), claimed before another interval passed (plus the
        # takeover and a loaded machine's slack: the suite shares two cores)
        late = [b - max(a + INTERVAL, ends.get((name, a), a)) for a, b in pairs]
        slack = SLACK + max(0.0, os.getloadavg()[0] - 2)
        assert max(late) <= INTERVAL + takeover + TICK + slack, (name, times, late)
        # every claim harvested once, but the one the killed process was in (if any)
        assert runs[name] in (len(times), len(times) - 1), (name, runs[name], len(times))
