"""When a source is due next: interval with jitter, back-off for failures, Retry-After.

Pure functions of the last outcome, the clock and a random source; the scheduler
(:mod:`aggregator.schedule`) stores what they decide in ``source_schedule``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_JITTER = 0.1
DEFAULT_BACKOFF_MAX = timedelta(hours=24)
FAILED = frozenset({"failed"})  # held, unchanged and success all reset the back-off


@dataclass(frozen=True, slots=True)
class SchedulePolicy:
    """The scheduler's rules.

    ``jitter``: a random share of the interval (0 to ``jitter`` x interval) added to each
    due time, so sources configured together do not start together. ``backoff_max``: the
    longest wait after repeated failures (never shorter than the source's own interval).
    ``interval``: when set, every source's interval (tests and staging use seconds).
    """

    jitter: float = DEFAULT_JITTER
    backoff_max: timedelta = DEFAULT_BACKOFF_MAX
    interval: timedelta | None = None

    def interval_of(self, configured: timedelta) -> timedelta:
        """The interval the scheduler uses for a source configured with ``configured``."""
        return self.interval if self.interval is not None else configured


@dataclass(frozen=True, slots=True)
class NextRun:
    """What the scheduler stores after a run: due time, failures, back-off, hold."""

    due: datetime
    failures: int
    backoff: timedelta | None
    retry_after_until: datetime | None


def _jitter(interval: timedelta, policy: SchedulePolicy, rng: random.Random) -> timedelta:
    return interval * (rng.random() * policy.jitter) if policy.jitter > 0 else timedelta(0)


def first_due(
    *,
    interval: timedelta,
    last_attempt: datetime | None,
    now: datetime,
    policy: SchedulePolicy,
    rng: random.Random,
) -> datetime:
    """The first due time of a source the scheduler has no state for yet.

    A source harvested before (a database from before the scheduler kept state) is due
    an interval after that harvest; an overdue or new one now. Both get the jitter, so a
    restart after a long stop does not start every source at the same moment.
    """
    base = now if last_attempt is None else max(now, last_attempt + interval)
    return base + _jitter(interval, policy, rng)


def backoff_for(failures: int, *, interval: timedelta, policy: SchedulePolicy) -> timedelta:
    """The wait after ``failures`` failures in a row: the interval, doubled each time, capped.

    1 failure waits one interval, 2 two, 3 four ... up to ``policy.backoff_max`` (or the
    interval itself when that is longer).
    """
    cap = max(policy.backoff_max, interval)
    if failures <= 1:
        return min(interval, cap)
    # 2**n overflows nothing: the cap is reached long before the exponent grows large
    factor = 2 ** min(failures - 1, 40)
    return min(interval * factor, cap)


def after_run(
    *,
    outcome: str,
    retry_after: float | None,
    failures_before: int,
    started: datetime,
    finished: datetime,
    interval: timedelta,
    policy: SchedulePolicy,
    rng: random.Random,
) -> NextRun:
    """The next due time after a run that started at ``started`` and ended ``outcome``.

    Counted from the start, so the interval does not drift by the harvest's duration; never
    before ``finished``. A failure backs off (``backoff_for``); any other outcome resets it.
    A ``retry_after`` (seconds, from a 429 or 503) holds the source at least that long.
    """
    if outcome in FAILED:
        failures = failures_before + 1
        backoff: timedelta | None = backoff_for(failures, interval=interval, policy=policy)
        assert backoff is not None
        due = started + backoff
    else:
        failures, backoff = 0, None
        due = started + interval
    due = max(due, finished) + _jitter(interval, policy, rng)
    hold = None
    if retry_after is not None:
        hold = finished + timedelta(seconds=retry_after)
        due = max(due, hold)
    return NextRun(due=due, failures=failures, backoff=backoff, retry_after_until=hold)
