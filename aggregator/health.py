"""Source health: the one count of events per source and the one judgement of a source's
state, for `agenda sources`, `/api/sources`, `/bronnen`, the metrics and the owners' mail.

A source's **state** is read from its recorded harvest runs (newest first; runs cut off
by a stopped process, ``interrupted``, say nothing about the source and are passed over):

- ``pending``: never harvested yet;
- ``failing``: the last run failed (fetch or read error); the reason is the run's error;
- ``held``: the last run was held by the removal guard (``aggregator.removal_guard``): its
  listing lost most events and waits for the next harvest to confirm it;
- ``degraded``: the last run read the source, but the source looks unwell:

  - *shrunk*: it publishes fewer than ``SHRINK_FRACTION`` (half) of the median of its
    earlier runs' event counts in the trend (when that median is at least
    ``SHRINK_MIN_EVENTS``);
  - *many skipped*: more than ``SKIPPED_FRACTION`` of the records its last read gave were
    skipped, at least ``SKIPPED_MIN`` of them (``relevance: all`` sources only: a
    ``keywords`` source skips what is not about education work on purpose);
  - *slow*: its last run took longer than ``SLOW_SECONDS`` for its kind;
- ``healthy``: none of the above.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from aggregator.config import AppConfig
from aggregator.models import Event, HarvestRun, Source, SourceRecord
from crawlers.source import SourceConfig

PENDING, HEALTHY, DEGRADED, FAILING, HELD = "pending", "healthy", "degraded", "failing", "held"
STATES = (HEALTHY, DEGRADED, FAILING, HELD, PENDING)
PROBLEM_STATES = frozenset({FAILING, HELD})  # the owners are told (aggregator.notify)
TREND_RUNS = 30
SHRINK_FRACTION = 0.5
SHRINK_MIN_EVENTS = 2
SKIPPED_FRACTION = 0.25
SKIPPED_MIN = 5
# a feed is one download (HARVEST_TIMEOUT 30 s by default); a crawl reads many pages politely
SLOW_SECONDS = {"ics": 20.0, "rss": 20.0, "atom": 20.0, "jsonld": 300.0, "tribe": 300.0}
SLOW_SECONDS_DEFAULT = 300.0
READ_OUTCOMES = frozenset({"success", "held"})  # runs that read (and stored) a listing


@dataclass(slots=True)
class SourceHealth:
    """One line of the sources overview."""

    id: str
    kind: str
    region: str
    state: str
    events: int
    last_success: str | None
    last_error: str | None
    next_run: str | None


def _fmt(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


def events_per_source(*, session: Session, source_id: str | None = None) -> dict[str, int]:
    """Source id -> number of events the calendar publishes from it.

    An event counts for a source when one of the source's records of it is live (not
    marked removed) and the event itself is live and relevant: what the calendar lists
    (cancelled events included, they are shown as cancelled). An event that several
    sources announce counts once for each of them. Sources without events are absent.
    ``source_id`` counts that one source only.
    """
    query = (
        select(SourceRecord.source_id, func.count(func.distinct(SourceRecord.event_id)))
        .join(Event, col(Event.id) == SourceRecord.event_id)
        .where(
            col(SourceRecord.removed_at).is_(None),
            col(Event.removed_at).is_(None),
            col(Event.relevant).is_(True),
        )
        .group_by(SourceRecord.source_id)
    )
    if source_id is not None:
        query = query.where(SourceRecord.source_id == source_id)
    rows = session.exec(query).all()
    return {source_id: count for source_id, count in rows}


def source_health(*, engine: Engine, config: AppConfig) -> list[SourceHealth]:
    """Health of every configured source, from its stored state and live records."""
    with Session(engine) as session:
        statuses = {s.id: s for s in source_statuses(session=session, sources=config.sources)}
        rows = []
        for source in config.sources:
            state = session.get(Source, source.id)
            status = statuses[source.id]
            next_run = None
            if state and state.last_attempt_at:
                next_run = state.next_run_at or state.last_attempt_at + source.interval
            rows.append(
                SourceHealth(
                    id=source.id,
                    kind=source.kind,
                    region=source.region,
                    state=status.state,
                    events=status.events,
                    last_success=_fmt(state.last_success_at) if state else None,
                    last_error=state.last_error if state else None,
                    next_run=_fmt(next_run),
                )
            )
        return rows


@dataclass(frozen=True, slots=True)
class RunFacts:
    """What the health judgement needs of one finished harvest run."""

    outcome: str
    finished_at: datetime | None
    events: int | None = None
    seen: int = 0
    skipped: int = 0
    duration: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    """A source's state, why (a sentence in English, or None when healthy) and its runs'
    consecutive failures."""

    state: str
    reason: str | None
    consecutive_failures: int


def judge(runs: list[RunFacts], *, kind: str, relevance: str = "all", events_now: int) -> Judgement:
    """The state of a source from its finished runs, newest first (see the module doc)."""
    runs = [run for run in runs if run.outcome != "interrupted"]
    failures = 0
    for run in runs:
        if run.outcome != "failed":
            break
        failures += 1
    if not runs:
        return Judgement(PENDING, None, 0)
    last = runs[0]
    if last.outcome == "failed":
        return Judgement(FAILING, last.error or "the harvest failed", failures)
    if last.outcome == "held":
        return Judgement(HELD, last.error or "held by the removal guard", 0)
    reasons = _degradations(runs, kind=kind, relevance=relevance, events_now=events_now)
    if reasons:
        return Judgement(DEGRADED, "; ".join(reasons), 0)
    return Judgement(HEALTHY, None, 0)


def _degradations(runs: list[RunFacts], *, kind: str, relevance: str, events_now: int) -> list[str]:
    reasons = []
    earlier = [run.events for run in runs[1:TREND_RUNS] if run.events is not None]
    if earlier:
        usual = statistics.median(earlier)
        if usual >= SHRINK_MIN_EVENTS and events_now < SHRINK_FRACTION * usual:
            reasons.append(f"shrunk: {events_now} events, usually {usual:g}")
    read = next((run for run in runs if run.outcome in READ_OUTCOMES), None)
    if read is not None and relevance == "all":
        total = read.seen + read.skipped
        if read.skipped >= SKIPPED_MIN and read.skipped > SKIPPED_FRACTION * total:
            reasons.append(f"many skipped: {read.skipped} of {total} records")
    limit = SLOW_SECONDS.get(kind, SLOW_SECONDS_DEFAULT)
    duration = runs[0].duration
    if duration is not None and duration > limit:
        reasons.append(f"slow: the last harvest took {duration:.0f} s (more than {limit:g} s)")
    return reasons


@dataclass(slots=True)
class SourceStatus:
    """Everything the public health views show of one source."""

    id: str
    name: str
    kind: str
    url: str
    region: str
    events: int
    state: str
    state_reason: str | None
    consecutive_failures: int
    last_success: datetime | None
    last_failure: datetime | None
    last_failure_reason: str | None
    last_outcome: str | None
    last_error: str | None
    last_error_at: datetime | None
    trend: list[int] = field(default_factory=list)  # event counts of the last runs, oldest first


def _recent_runs(*, session: Session) -> dict[str, list[HarvestRun]]:
    """The last TREND_RUNS finished runs of every source, newest first (one query)."""
    number = (
        func.row_number()
        .over(partition_by=HarvestRun.source_id, order_by=col(HarvestRun.id).desc())
        .label("n")
    )
    ranked = (
        select(col(HarvestRun.id).label("run_id"), number)
        .where(col(HarvestRun.finished_at).is_not(None))
        .subquery()
    )
    rows = session.exec(
        select(HarvestRun)
        .join(ranked, ranked.c.run_id == HarvestRun.id)
        .where(ranked.c.n <= TREND_RUNS)
        .order_by(col(HarvestRun.source_id), col(HarvestRun.id).desc())
    ).all()
    runs: dict[str, list[HarvestRun]] = {}
    for run in rows:
        runs.setdefault(run.source_id, []).append(run)
    return runs


def _last_failures(*, session: Session) -> dict[str, HarvestRun]:
    """Each source's newest failed run."""
    newest = (
        select(func.max(HarvestRun.id))
        .where(HarvestRun.outcome == "failed")
        .group_by(HarvestRun.source_id)
    )
    rows = session.exec(select(HarvestRun).where(col(HarvestRun.id).in_(newest))).all()
    return {run.source_id: run for run in rows}


def _consecutive_failures(*, session: Session, source_id: str) -> int:
    """Failed runs since the source's last run that did not fail (beyond the trend window)."""
    last_good = session.exec(
        select(func.max(HarvestRun.id)).where(
            HarvestRun.source_id == source_id,
            col(HarvestRun.outcome).not_in(("failed", "interrupted", "running")),
        )
    ).one()
    query = select(func.count()).where(
        HarvestRun.source_id == source_id, HarvestRun.outcome == "failed"
    )
    if last_good is not None:
        query = query.where(col(HarvestRun.id) > last_good)
    return int(session.exec(query).one())


def _facts(run: HarvestRun) -> RunFacts:
    return RunFacts(
        outcome=run.outcome,
        finished_at=run.finished_at,
        events=run.events,
        seen=run.records_seen,
        skipped=run.records_skipped,
        duration=run.duration_seconds,
        error=run.error,
    )


def known_sources(*, session: Session, config: AppConfig) -> list[SourceConfig | Source]:
    """Every source, by id: the configured ones (harvested or not yet), then those only the
    store knows (approved feed proposals, sources since taken out of sources.yaml)."""
    configured: dict[str, SourceConfig | Source] = {source.id: source for source in config.sources}
    for row in session.exec(select(Source)):
        configured.setdefault(row.id, row)
    return [configured[key] for key in sorted(configured)]


def source_statuses(
    *, session: Session, sources: Sequence[SourceConfig | Source]
) -> list[SourceStatus]:
    """The health of each of ``sources``, in that order (see ``known_sources``)."""
    counts = events_per_source(session=session)
    recent = _recent_runs(session=session)
    failures = _last_failures(session=session)
    result = []
    for source in sources:
        state = session.get(Source, source.id)
        runs = recent.get(source.id, [])
        events_now = counts.get(source.id, 0)
        verdict = judge(
            [_facts(run) for run in runs],
            kind=source.kind,
            relevance=getattr(source, "relevance", "all"),
            events_now=events_now,
        )
        consecutive = verdict.consecutive_failures
        if consecutive >= TREND_RUNS:
            consecutive = _consecutive_failures(session=session, source_id=source.id)
        failed = failures.get(source.id)
        result.append(
            SourceStatus(
                id=source.id,
                name=source.name,
                kind=source.kind,
                url=source.url,
                region=source.region,
                events=events_now,
                state=verdict.state,
                state_reason=verdict.reason,
                consecutive_failures=consecutive,
                last_success=state.last_success_at if state else None,
                last_failure=failed.finished_at if failed else None,
                last_failure_reason=failed.error if failed else None,
                last_outcome=runs[0].outcome if runs else None,
                last_error=state.last_error if state else None,
                last_error_at=state.last_error_at if state else None,
                trend=[run.events for run in reversed(runs) if run.events is not None],
            )
        )
    return result
