"""Two `agenda run` processes on one PostgreSQL: one schedules, each source once per interval.

20 sources on a loopback server, a 4-second interval (SCHEDULER_INTERVAL): both processes
run for a few intervals, then the scheduling one is killed with SIGKILL and the other
must take over within the bound, without a source harvested twice in an interval or
skipped for longer than the takeover.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from aggregator.db import upgrade
from tests.conftest import write_sources
from tests.faultserver import ics_feed
from tests.feedserver import Answer, feed_server

pytestmark = pytest.mark.postgres

SOURCES = 20
INTERVAL = 4.0
TICK = 0.2
TAKEOVER_BOUND = 3.0  # seconds from SIGKILL to the other process holding the lock
# A run's record opens a moment after its claim (more on a loaded machine): gaps between
# records vary by that much. Two claims of one due source would be moments apart.
SLACK = 2.0
HOLDERS = text(
    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'agenda-scheduler%'"
)
RUNS = text(
    "SELECT source_id, started_at, finished_at FROM harvestrun"
    " WHERE outcome IN ('success', 'unchanged')"
    " ORDER BY started_at"
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


def _wait_served(port: int, child: subprocess.Popen[bytes], within: float = 180) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert child.poll() is None, "agenda run ended early"
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
        ports = [_free_port(), _free_port()]
        for i, port in enumerate(ports):
            processes.append(_start(port, env, tmp_path / f"run{i}.log"))
        for port, child in zip(ports, processes, strict=True):
            _wait_served(port, child)

        def holders() -> list[int]:
            with db.connect() as connection:
                return [int(name.split()[-1]) for (name,) in connection.execute(HOLDERS)]

        before = time.monotonic() + 2 * INTERVAL
        while time.monotonic() < before:
            assert len(holders()) == 1  # exactly one process schedules at a time
            time.sleep(0.3)
        (leader,) = holders()
        other = next(p for p in processes if p.pid != leader)
        os.kill(leader, signal.SIGKILL)
        killed = time.monotonic()
        while holders() != [other.pid]:
            assert time.monotonic() - killed < TAKEOVER_BOUND, "no takeover within the bound"
            time.sleep(0.05)
        takeover = time.monotonic() - killed
        time.sleep(2 * INTERVAL)
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=30)
        with db.connect() as connection:
            runs = list(connection.execute(RUNS))
    db.dispose()

    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for source_id, started, finished in runs:
        spans[source_id].append((started.timestamp(), finished.timestamp()))
    assert sorted(spans) == names
    for name in names:
        pairs = list(zip(spans[name], spans[name][1:], strict=False))
        assert len(pairs) >= 3, (name, spans[name])
        # never twice within an interval ...
        gaps = [b[0] - a[0] for a, b in pairs]
        assert min(gaps) >= INTERVAL - SLACK, (name, gaps)
        # ... and due again one interval after a start (or when a slower run ended), late
        # by at most a tick and the takeover (and the slack)
        late = [b[0] - max(a[0] + INTERVAL, a[1]) for a, b in pairs]
        assert max(late) <= takeover + TICK + SLACK, (name, late, takeover)
