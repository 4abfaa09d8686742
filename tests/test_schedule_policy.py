"""The scheduler's rules: jitter, capped exponential back-off reset on success, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from aggregator.schedule_policy import SchedulePolicy, after_run, backoff_for, first_due
from crawlers.fetch import parse_retry_after

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    policy = SchedulePolicy(backoff_max=timedelta(hours=5))
    waits = [backoff_for(n, interval=HOUR, policy=policy) for n in range(1, 7)]
    assert waits == [HOUR, 2 * HOUR, 4 * HOUR, 5 * HOUR, 5 * HOUR, 5 * HOUR]
    # a cap below the interval never makes a failing source come sooner than a healthy one
    assert backoff_for(3, interval=HOUR, policy=SchedulePolicy(backoff_max=timedelta(0))) == HOUR


def test_a_success_resets_the_backoff_and_counts_from_the_start() -> None:
    policy = SchedulePolicy(jitter=0)
    rng = random.Random(1)
    failed = after_run(
        outcome="failed", retry_after=None, failures_before=2, started=NOW,
        finished=NOW + timedelta(seconds=20), interval=HOUR, policy=policy, rng=rng,
    )  # fmt: skip
    assert (failed.failures, failed.backoff, failed.due) == (3, 4 * HOUR, NOW + 4 * HOUR)
    ok = after_run(
        outcome="held", retry_after=None, failures_before=3, started=NOW,
        finished=NOW + timedelta(seconds=20), interval=HOUR, policy=policy, rng=rng,
    )  # fmt: skip
    assert (ok.failures, ok.backoff, ok.due) == (0, None, NOW + HOUR)


def test_retry_after_holds_the_source_at_least_that_long() -> None:
    done = NOW + timedelta(seconds=2)
    run = after_run(
        outcome="failed", retry_after=7200, failures_before=0, started=NOW, finished=done,
        interval=HOUR, policy=SchedulePolicy(jitter=0), rng=random.Random(1),
    )  # fmt: skip
    assert run.retry_after_until == done + timedelta(seconds=7200)
    assert run.due == run.retry_after_until
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 01 Mar 2027 12:05:00 GMT", now=NOW.timestamp()) == 300.0
    assert parse_retry_after("Mon, 01 Mar 2027 11:00:00 GMT", now=NOW.timestamp()) == 0.0
    assert parse_retry_after("soon") is None


def test_jitter_spreads_sources_within_its_share_of_the_interval() -> None:
    policy = SchedulePolicy(jitter=0.1)
    rng = random.Random(7)
    dues = [
        first_due(interval=HOUR, last_attempt=None, now=NOW, policy=policy, rng=rng)
        for _ in range(200)
    ]
    offsets = [(due - NOW).total_seconds() for due in dues]
    assert min(offsets) >= 0 and max(offsets) <= 360
    assert len({round(o) for o in offsets}) > 150  # not one thundering start
    # harvested before the scheduler kept state: due an interval after that harvest
    last = NOW - timedelta(minutes=20)
    no_jitter = SchedulePolicy(jitter=0)
    assert first_due(interval=HOUR, last_attempt=last, now=NOW, policy=no_jitter, rng=rng) == (
        last + HOUR
    )
    # overdue by many intervals: due once, now (misfires coalesce)
    old = NOW - 30 * HOUR
    assert first_due(interval=HOUR, last_attempt=old, now=NOW, policy=no_jitter, rng=rng) == NOW
