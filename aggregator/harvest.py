"""Harvest: fetch each source, read it, run the pipeline and store the result.

Every source is harvested in its own transaction and recorded as a HarvestRun. A source
that cannot be fetched or read fails alone and leaves what was stored before untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.budget import DEFAULT_SECONDS, Budget
from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.draft import EventDraft
from aggregator.health import events_per_source
from aggregator.models import HarvestRun, Source
from aggregator.pipeline import Pipeline
from aggregator.removal_guard import Hold, check_listing
from aggregator.store import StoreCounts, store_drafts, sync_sources
from aggregator.submissions import with_approved_feeds
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher, FetchError, FetchResult, Validators
from crawlers.read import read_source, same_window_day
from crawlers.records import FeedError, Window
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)


@dataclass(slots=True)
class HarvestOutcome:
    """The result of harvesting one source, for progress lines and the summary table."""

    source_id: str
    outcome: str  # success | unchanged | held (removal guard) | failed | interrupted
    seen: int = 0
    new: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    problems: int = 0
    error: str | None = None
    http_status: int | None = None
    bytes: int | None = None


def _finish_run(
    engine: Engine,
    run_id: int,
    outcome: HarvestOutcome,
    *,
    now: datetime,
    fetched: FetchResult | None = None,
) -> None:
    """Record the run's end and the source's health in a transaction of its own.

    Health timestamps use the wall clock; ``now`` (which --now may fix) only dates events.
    """
    del now
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        run = session.get(HarvestRun, run_id)
        source = session.get(Source, outcome.source_id)
        assert run is not None and source is not None
        run.finished_at = datetime.now(UTC)
        run.duration_seconds = (run.finished_at - run.started_at).total_seconds()
        run.outcome = outcome.outcome
        run.http_status = outcome.http_status
        run.bytes = outcome.bytes
        run.records_seen, run.records_new = outcome.seen, outcome.new
        run.records_updated, run.records_removed = outcome.updated, outcome.removed
        run.records_skipped = outcome.skipped
        run.error = outcome.error
        session.flush()  # the run's own changes count in its event total
        run.events = events_per_source(session=session, source_id=outcome.source_id).get(
            outcome.source_id, 0
        )
        source.last_attempt_at = now
        if outcome.outcome in ("failed", "interrupted"):
            source.last_error = outcome.error
            source.last_error_at = now
        elif outcome.outcome == "held":  # read, but needs attention (removal guard)
            source.last_success_at = now
            source.last_error = outcome.error
            source.last_error_at = now
        else:
            source.last_success_at = now
            source.last_error = None
        if fetched is not None and outcome.outcome in ("success", "unchanged"):
            source.etag = fetched.etag or source.etag
            source.http_last_modified = fetched.last_modified or source.http_last_modified
        session.add(run)
        session.add(source)


INTERRUPTED = "interrupted: the harvest stopped before this run finished"


def close_interrupted_runs(*, session: Session, source_id: str) -> int:
    """Close the source's runs still marked running as ``interrupted``; return how many.

    A source is harvested one run at a time, so when its next run starts, an earlier run
    still "running" belongs to a process that was killed (``kill -9``, a crash, a power
    cut) and will never finish it.
    """
    stale = session.exec(
        select(HarvestRun).where(HarvestRun.source_id == source_id, HarvestRun.outcome == "running")
    ).all()
    for run in stale:
        run.outcome = "interrupted"
        run.error = INTERRUPTED
        run.finished_at = datetime.now(UTC)
        session.add(run)
    return len(stale)


def _fetcher_for(source: SourceConfig, fetcher: Fetcher) -> Fetcher:
    """The shared fetcher, or its address-guarded sibling for a URL the operator did not write."""
    return fetcher.guarded_fetcher() if source.guarded else fetcher


def _store_listing(
    *,
    session: Session,
    source: SourceConfig,
    drafts: list[EventDraft],
    partial: bool,
    fingerprint: str | None,
    now: datetime,
    window: Window,
    created_in_run: set[str] | None,
) -> tuple[StoreCounts, Hold | None]:
    """Store a read listing behind the removal guard; return the counts and any hold.

    A partial read (crawl or budget) never removes; a listing that shrank too much is held
    (stored without removals). Neither keeps its fingerprint: the next harvest reads the
    source again (and confirms a hold, or processes the rest).
    """
    hold = None
    if not partial:
        keys = [(d.raw.uid, d.raw.recurrence_id or "") for d in drafts]
        hold = check_listing(session=session, source_id=source.id, keys=keys, window=window)
    counts = store_drafts(
        session=session,
        source=source,
        drafts=drafts,
        now=now,
        window=window,
        created_in_run=created_in_run,
        remove_vanished=not partial and hold is None,
    )
    if hold is None and not partial:  # a part or a hold is read again next time
        state = session.get(Source, source.id)
        assert state is not None
        state.content_fingerprint = fingerprint
        session.add(state)
    return counts, hold


def harvest_source(
    *,
    engine: Engine,
    source: SourceConfig,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
    now: datetime,
    window: Window,
    created_in_run: set[str] | None = None,
    process_budget: float = DEFAULT_SECONDS,
) -> HarvestOutcome:
    """Harvest one source end to end; never raises for a bad source, reports it instead.

    The stages run within the source's processing budget (``aggregator.budget``): fields
    are cut to size, and when ``process_budget`` seconds are spent the rest is left out.

    ``crawlers.read.read_source`` fetches (or crawls) and parses; the pipeline's caches
    are loaded before its run and saved with the stored records.
    A guarded source (an approved feed proposal) is fetched through the address guard,
    one document, never crawled.
    """
    with session_scope(engine) as session:
        close_interrupted_runs(session=session, source_id=source.id)
        run = HarvestRun(source_id=source.id, started_at=datetime.now(UTC))
        session.add(run)
        session.flush()
        run_id = run.id
        state = session.get(Source, source.id)
        previous_fingerprint = state.content_fingerprint if state else None
        # validators only when the last body was read on this window day (see
        # crawlers.read.window_fingerprint)
        validators = (
            Validators(state.etag, state.http_last_modified)
            if state and same_window_day(previous_fingerprint, window)
            else Validators()
        )
        pipeline.load_caches(session=session)
    assert run_id is not None
    outcome = HarvestOutcome(source.id, "failed")
    fetched: FetchResult | None = None
    try:
        read = read_source(
            source,
            fetcher=_fetcher_for(source, fetcher),
            now=now,
            window=window,
            crawl_options=None if source.guarded else crawl_options,
            validators=validators,
            previous_fingerprint=previous_fingerprint,
        )
        fetched = read.fetched
        outcome.http_status, outcome.bytes = read.http_status, read.bytes
        if read.result is None:
            outcome.outcome = "unchanged"
            return outcome
        parsed = read.result
        for warning in parsed.warnings:
            log.info("%s", warning)
        budget = Budget(source.id, seconds=process_budget)
        drafts = []
        for processed in pipeline.run(budget.records(parsed.events), source):
            if processed.dropped:
                outcome.skipped += 1
            else:
                drafts.append(processed.draft)
        outcome.skipped += parsed.skipped
        outcome.problems = len(parsed.problems) + len(budget.problems)
        for problem in [*parsed.problems, *budget.problems]:
            log.warning("%s", problem)
        with session_scope(engine) as session:
            counts, hold = _store_listing(
                session=session,
                source=source,
                drafts=drafts,
                partial=parsed.partial or budget.exhausted,
                fingerprint=read.fingerprint,
                now=now,
                window=window,
                created_in_run=created_in_run,
            )
            pipeline.save_caches(session=session)
        outcome.outcome = "success" if hold is None else "held"
        outcome.error = None if hold is None else hold.reason()
        outcome.seen, outcome.new = counts.seen, counts.new
        outcome.updated, outcome.removed = counts.updated, counts.removed
    except (FetchError, FeedError) as exc:
        outcome.outcome = "failed"
        outcome.error = str(exc)
        if isinstance(exc, FetchError):
            outcome.http_status = exc.status
    except Exception as exc:  # a bug in one source's path must not stop the others
        log.exception("unexpected error harvesting %s", source.id)
        outcome.outcome = "failed"
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    except BaseException:  # SIGTERM (SystemExit) or Ctrl-C: record it, then stop
        outcome.outcome = "interrupted"
        outcome.error = INTERRUPTED
        raise
    finally:
        _finish_run(engine, run_id, outcome, now=now, fetched=fetched)
    return outcome


def harvest(
    *,
    engine: Engine,
    config: AppConfig,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
    now: datetime,
    window: Window,
    source_ids: list[str] | None = None,
    on_done: Callable[[HarvestOutcome], None] | None = None,
    process_budget: float = DEFAULT_SECONDS,
) -> list[HarvestOutcome]:
    """Harvest the named sources (default: all) one after another.

    Feed URLs that regions proposed through the form and a moderator approved are
    harvested with the configured sources.
    """
    with session_scope(engine) as session:
        config = with_approved_feeds(config, session=session)
        sync_sources(session=session, sources=config.sources)
    selected = [s for s in config.sources if not source_ids or s.id in source_ids]
    outcomes = []
    created_in_run: set[str] = set()  # events not yet published: no SEQUENCE bumps
    for source in selected:
        result = harvest_source(
            engine=engine,
            source=source,
            fetcher=fetcher,
            pipeline=pipeline,
            crawl_options=crawl_options,
            now=now,
            window=window,
            created_in_run=created_in_run,
            process_budget=process_budget,
        )
        outcomes.append(result)
        if on_done:
            on_done(result)
    return outcomes
