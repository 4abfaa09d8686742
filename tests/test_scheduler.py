"""The scheduler against a real loopback server: state kept, back-off, Retry-After, claims.

Intervals are seconds (``SchedulePolicy.interval``, SCHEDULER_INTERVAL) so each test
takes a few seconds; the clock is the real one.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agenda import wiring
from agenda.settings import Settings
from aggregator import schedule_state
from aggregator.db import session_scope
from aggregator.harvest_limits import HarvestLimits
from aggregator.models import Source, SourceSchedule
from aggregator.schedule import HarvestScheduler
from aggregator.schedule_policy import SchedulePolicy
from aggregator.store import sync_sources
from tests.conftest import config_for, write_sources
from tests.faultserver import ics_feed
from tests.feedserver import Answer, FeedServer, feed_server

INTERVAL = timedelta(seconds=2)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with feed_server() as running:
        yield running


def _scheduler(
    engine: Engine, tmp_path: Path, server: FeedServer, names: list[str], **options: object
) -> HarvestScheduler:
    entries = [
        {
            "id": name,
            "name": name,
            "kind": "ics",
            "region": "twente",
            "url": server.url(f"/{name}.ics"),
        }
        for name in names
    ]
    config = config_for(write_sources(tmp_path / "sources.yaml", entries))
    settings = Settings(HARVEST_TIMEOUT=5)  # type: ignore[call-arg]
    return HarvestScheduler(
        engine=engine,
        config=config,
        pipeline=wiring.pipeline(settings, config),
        crawl_options=wiring.crawl_options(settings),
        make_fetcher=lambda: wiring.make_fetcher(settings),
        make_window=lambda now: wiring.harvest_window(settings, now),
        policy=SchedulePolicy(jitter=0, interval=INTERVAL, backoff_max=timedelta(seconds=30)),
        tick=0.05,
        **options,  # type: ignore[arg-type]
    )


def _settle(scheduler: HarvestScheduler, timeout: float = 20) -> None:
    """Wait until the scheduler's harvests in flight are done."""
    with scheduler._idle:
        assert scheduler._idle.wait_for(lambda: scheduler._running == 0, timeout=timeout)


def _row(engine: Engine, source_id: str) -> SourceSchedule:
    with Session(engine) as session:
        row = session.get(SourceSchedule, source_id)
        assert row is not None
        return row


def test_outcomes_set_the_next_run_and_survive_a_restart(
    engine: Engine, tmp_path: Path, server: FeedServer
) -> None:
    server.set("/ok.ics", Answer(ics_feed(2)))
    server.set("/busy.ics", Answer(b"slow down", status=429, headers={"Retry-After": "120"}))
    server.set("/broken.ics", Answer(b"oops", status=500))
    names = ["ok", "busy", "broken"]
    first = _scheduler(engine, tmp_path, server, names)
    first.refresh_sources()
    assert sorted(first.tick_once()) == sorted(names)
    _settle(first)
    first.shutdown()

    ok, busy, broken = (_row(engine, name) for name in names)
    assert ok.consecutive_failures == 0 and ok.backoff_seconds is None
    assert ok.last_attempt_at is not None and ok.last_finished_at is not None
    # counted from the run's start (a harvest slower than the interval: due when it ends)
    assert ok.next_due == max(ok.last_attempt_at + INTERVAL, ok.last_finished_at)
    assert busy.retry_after_until is not None and busy.last_finished_at is not None
    assert busy.retry_after_until == busy.last_finished_at + timedelta(seconds=120)
    assert busy.next_due == busy.retry_after_until
    assert (broken.consecutive_failures, broken.backoff_seconds) == (1, 2.0)
    with Session(engine) as session:
        error = session.get(Source, "busy").last_error  # type: ignore[union-attr]
    assert error is not None and "429" in error and "Retry-After: 120 s" in error

    # a restart harvests nothing before its time
    hits = len(server.hits)
    second = _scheduler(engine, tmp_path, server, names)
    second.refresh_sources()
    assert second.tick_once() == []
    time.sleep(max(0.0, (ok.next_due - datetime.now(UTC)).total_seconds()) + 0.1)
    assert sorted(second.tick_once()) == ["broken", "ok"]  # busy is still held
    _settle(second)
    assert len(server.hits) == hits + 2
    broken = _row(engine, "broken")
    assert (broken.consecutive_failures, broken.backoff_seconds) == (2, 4.0)  # doubled

    # it recovers: a ping-like request runs it now, and the success resets the back-off
    server.set("/broken.ics", Answer(ics_feed(1)))
    with session_scope(engine) as session:
        schedule_state.request_harvest(
            session=session, source_id="broken", now=datetime.now(UTC), reason="ping"
        )
    assert second.tick_once() == ["broken"]
    _settle(second)
    second.shutdown()
    broken = _row(engine, "broken")
    assert (broken.consecutive_failures, broken.backoff_seconds) == (0, None)


def test_concurrency_is_bounded_and_a_dead_processes_claims_are_taken_over(
    engine: Engine, tmp_path: Path, server: FeedServer
) -> None:
    names = [f"s{i}" for i in range(5)]
    for name in names:
        server.set(f"/{name}.ics", Answer(ics_feed(1), delay=0.3))
    # one loopback site: allow it two at once, so the scheduler's own bound is what counts
    limits = HarvestLimits(concurrency=8, per_host=2)
    scheduler = _scheduler(engine, tmp_path, server, names, concurrency=2, limits=limits)
    scheduler.refresh_sources()
    # a process that died while harvesting s0 left its claim (and its run "running")
    with session_scope(engine) as session:
        assert schedule_state.claim_due(
            session=session, owner="dead", now=datetime.now(UTC), limit=1, only=["s0"]
        ) == ["s0"]
    started: list[str] = []
    deadline = time.monotonic() + 10
    while len(started) < 5 and time.monotonic() < deadline:
        started += scheduler.tick_once()
        time.sleep(0.05)
    _settle(scheduler)
    scheduler.shutdown()
    assert sorted(started) == names
    assert server.most_in_flight == 2
    with Session(engine) as session:
        assert all(session.get(SourceSchedule, n).claimed_by is None for n in names)  # type: ignore[union-attr]


@pytest.mark.both_backends
def test_a_source_is_claimed_by_one_process_however_many_ask(
    engine: Engine, tmp_path: Path
) -> None:
    entries = [
        {"id": f"s{i}", "name": f"s{i}", "kind": "ics", "region": "twente", "url": f"s{i}.ics"}
        for i in range(20)
    ]
    config = config_for(write_sources(tmp_path / "sources.yaml", entries))
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        sync_sources(session=session, sources=config.sources)
        schedule_state.ensure_rows(
            session=session,
            intervals={s.id: INTERVAL for s in config.sources},
            now=now,
            policy=SchedulePolicy(jitter=0),
            rng=random.Random(1),
        )
    claims: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def claim(owner: str) -> None:
        barrier.wait()
        got: list[str] = []
        for _ in range(10):
            with session_scope(engine) as session:
                got += schedule_state.claim_due(session=session, owner=owner, now=now, limit=3)
        claims[owner] = got

    threads = [threading.Thread(target=claim, args=(f"p{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [source_id for got in claims.values() for source_id in got]
    assert sorted(every) == sorted(s.id for s in config.sources)  # each once, none twice
