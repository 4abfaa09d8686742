"""The scheduler's state in ``source_schedule``: rows, atomic claims, outcomes, requests.

Data functions take ``*, session`` and do not commit (the caller owns the transaction).
A claim is one ``UPDATE ... WHERE claimed_by IS NULL ... RETURNING`` over rows picked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so a source is claimed by one process at a time
however many try; SQLite has one writer and needs neither.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from aggregator.models import Source, SourceSchedule
from aggregator.schedule_policy import NextRun, SchedulePolicy, first_due


def ensure_rows(
    *,
    session: Session,
    intervals: dict[str, timedelta],
    now: datetime,
    policy: SchedulePolicy,
    rng: random.Random,
) -> list[str]:
    """Give every source in ``intervals`` (id -> interval) a schedule row; return new ids.

    The sources must exist in ``source`` (``aggregator.store.sync_sources``).
    """
    known = set(session.exec(select(SourceSchedule.source_id)).all())
    added = []
    for source_id, interval in intervals.items():
        if source_id in known:
            continue
        row = session.get(Source, source_id)
        last = row.last_attempt_at if row is not None else None
        due = first_due(interval=interval, last_attempt=last, now=now, policy=policy, rng=rng)
        session.add(SourceSchedule(source_id=source_id, next_due=due, last_attempt_at=last))
        added.append(source_id)
    session.flush()
    return added


def claim_due(
    *,
    session: Session,
    owner: str,
    now: datetime,
    limit: int,
    only: Iterable[str] | None = None,
) -> list[str]:
    """Claim for ``owner`` at most ``limit`` unclaimed sources due by ``now``, soonest first.

    ``only`` restricts the claim to these ids (and then ignores the due time). A claimed
    source's pending request (a ping) is taken with it.
    """
    if limit <= 0:
        return []
    pick = select(SourceSchedule.source_id).where(col(SourceSchedule.claimed_by).is_(None))
    if only is not None:
        pick = pick.where(col(SourceSchedule.source_id).in_(list(only)))
    else:
        pick = pick.where(col(SourceSchedule.next_due) <= now)
    pick = (
        pick.order_by(col(SourceSchedule.next_due)).limit(limit).with_for_update(skip_locked=True)
    )
    ids = list(session.exec(pick).all())
    if not ids:
        return []
    claimed = session.execute(
        update(SourceSchedule)
        .where(col(SourceSchedule.source_id).in_(ids), col(SourceSchedule.claimed_by).is_(None))
        .values(
            claimed_by=owner,
            claimed_at=now,
            last_attempt_at=now,
            requested_at=None,
            request_reason=None,
        )
        .returning(col(SourceSchedule.source_id))
    )
    return sorted(row[0] for row in claimed)


def release_others(*, session: Session, owner: str, now: datetime) -> list[str]:
    """Drop the claims of every process but ``owner``; those sources are due now.

    Called by a process that has just become the scheduler: the one before it is gone
    (its lock ended with its connection), so its harvests will never finish.
    """
    stale = session.exec(
        select(SourceSchedule).where(
            col(SourceSchedule.claimed_by).is_not(None), SourceSchedule.claimed_by != owner
        )
    ).all()
    for row in stale:
        row.claimed_by = None
        row.claimed_at = None
        row.next_due = min(row.next_due, now)
        session.add(row)
    return sorted(row.source_id for row in stale)


def release(*, session: Session, owner: str, source_id: str) -> None:
    """Drop ``owner``'s claim on a source without recording a run (it is not harvested)."""
    session.execute(
        update(SourceSchedule)
        .where(col(SourceSchedule.source_id) == source_id, col(SourceSchedule.claimed_by) == owner)
        .values(claimed_by=None, claimed_at=None)
    )


def record_run(
    *, session: Session, owner: str, source_id: str, next_run: NextRun, finished: datetime
) -> SourceSchedule | None:
    """Store the decision after ``owner``'s run of a source and end the claim.

    A request that came in while the source was being harvested (a ping after the run
    started) makes it due again at once, unless a Retry-After hold says otherwise.
    Returns the row, or None when the claim was no longer ``owner``'s (taken over).
    """
    row = session.get(SourceSchedule, source_id, with_for_update=True)
    if row is None or row.claimed_by != owner:
        return None
    due = next_run.due
    if row.requested_at is not None:
        due = max(finished, next_run.retry_after_until or finished)
    row.next_due = due
    row.last_finished_at = finished
    row.consecutive_failures = next_run.failures
    row.backoff_seconds = next_run.backoff.total_seconds() if next_run.backoff else None
    row.retry_after_until = next_run.retry_after_until
    row.claimed_by = None
    row.claimed_at = None
    session.add(row)
    source = session.get(Source, source_id)
    if source is not None:  # what `agenda sources` and /api/sources show as "next run"
        source.next_run_at = due
        session.add(source)
    return row


def request_harvest(
    *, session: Session, source_id: str, now: datetime, reason: str
) -> SourceSchedule | None:
    """Ask for a harvest of a source as soon as possible (a ping, a WebSub notification).

    A Retry-After hold still holds. A source being harvested runs again when this run
    ends (its change may have come after the run read the feed). None for an unknown id.
    """
    row = session.get(SourceSchedule, source_id, with_for_update=True)
    if row is None:
        return None
    row.requested_at = now
    row.request_reason = reason
    hold = row.retry_after_until
    soonest = max(now, hold) if hold is not None else now
    row.next_due = min(row.next_due, soonest)
    session.add(row)
    return row


def due_count(*, session: Session, now: datetime) -> int:
    """How many unclaimed sources are due by ``now`` (the scheduler's queue length)."""
    rows = session.exec(
        select(SourceSchedule.source_id).where(
            col(SourceSchedule.claimed_by).is_(None), col(SourceSchedule.next_due) <= now
        )
    ).all()
    return len(rows)
