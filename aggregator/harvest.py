"""Harvest: fetch each source, read it, run the pipeline and store the result.

Every source is harvested in its own transaction and recorded as a HarvestRun. A source
that cannot be fetched or read fails alone and leaves what was stored before untouched.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.budget import DEFAULT_SECONDS, Budget
from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.draft import EventDraft
from aggregator.harvest_limits import HarvestLimits, host_key, write_lock
from aggregator.health import events_per_source
from aggregator.models import HarvestRun, Source
from aggregator.pipeline import Pipeline
from aggregator.removal_guard import Hold, check_listing
from aggregator.store import StoreCounts, store_drafts, sync_sources
from aggregator.submissions import with_approved_feeds
from aggregator.unchanged_records import RecordKey, RecordSkip, source_key, stored_input_hashes
from crawlers import deadline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher, FetchError, FetchResult, Validators
from crawlers.read import read_source, same_window_day
from crawlers.records import FeedError, Window
from crawlers.registry import source_kind
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
    retry_after: float | None = None  # seconds a 429/503 asked to wait (for the scheduler)


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
    with write_lock(engine), session_scope(engine) as session:
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
    skip: RecordSkip | None = None,
) -> tuple[StoreCounts, Hold | None]:
    """Store a read listing behind the removal guard; return the counts and any hold.

    A partial read (crawl or budget) never removes; a listing that shrank too much is held
    (stored without removals). Neither keeps its fingerprint: the next harvest reads the
    source again (and confirms a hold, or processes the rest). ``skip`` names the records
    that skipped the pipeline (listed, unchanged) and the input hashes of the others.
    """
    hold = None
    unchanged: list[RecordKey] = skip.unchanged if skip else []
    if not partial:
        keys = [(d.raw.uid, d.raw.recurrence_id or "") for d in drafts] + unchanged
        hold = check_listing(session=session, source_id=source.id, keys=keys, window=window)
    counts = store_drafts(
        session=session,
        source=source,
        drafts=drafts,
        now=now,
        window=window,
        created_in_run=created_in_run,
        remove_vanished=not partial and hold is None,
        unchanged=unchanged,
        input_hashes=skip.hashes if skip else None,
    )
    if hold is None and not partial:  # a part or a hold is read again next time
        state = session.get(Source, source.id)
        assert state is not None
        state.content_fingerprint = fingerprint
        session.add(state)
    return counts, hold


@dataclass(slots=True)
class _Started:
    """A run recorded as running, with what the source's last harvest left to compare."""

    run_id: int
    validators: Validators
    previous_fingerprint: str | None
    # the stored records' input hashes (aggregator.unchanged_records), read only when the
    # source gave something to process (a 304 or an unchanged body reads nothing more)
    input_hashes: Callable[[], dict[RecordKey, str]]


def _begin_run(
    *, engine: Engine, source: SourceConfig, pipeline: Pipeline, window: Window
) -> _Started:
    """Record the source's run as running (closing any left by a killed process)."""
    with write_lock(engine), session_scope(engine) as session:
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

    def hashes() -> dict[RecordKey, str]:
        if pipeline.key is None:
            return {}
        with Session(engine) as session:  # a read: no write lock, no transaction to commit
            return stored_input_hashes(session=session, source_id=source.id)

    return _Started(run_id, validators, previous_fingerprint, hashes)


@dataclass(slots=True)
class _Processed:
    """A source read and through the pipeline, waiting for its turn to be stored.

    ``drafts`` is None when there is nothing to store (unchanged, or failed: ``outcome``
    says which); until stored, the outcome of a read listing stays ``failed``.
    """

    outcome: HarvestOutcome
    fetched: FetchResult | None = None
    drafts: list[EventDraft] | None = None
    partial: bool = False
    fingerprint: str | None = None
    skip: RecordSkip | None = None


def _read_and_process(
    *,
    source: SourceConfig,
    started: _Started,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
    now: datetime,
    window: Window,
    process_budget: float,
) -> _Processed:
    """Fetch (or crawl), parse and run the pipeline, safe in any thread.

    No database write; one read of the stored records' input hashes when the source gave
    records to process.
    """
    outcome = HarvestOutcome(source.id, "failed")
    done = _Processed(outcome)
    budget = Budget(source.id, seconds=process_budget)
    try:
        with deadline.bounded(budget.deadline):
            read = read_source(
                source,
                fetcher=_fetcher_for(source, fetcher),
                now=now,
                window=window,
                crawl_options=None if source.guarded else crawl_options,
                validators=started.validators,
                previous_fingerprint=started.previous_fingerprint,
            )
            done.fetched = read.fetched
            if read.fetched is not None:
                read.fetched.body = b""  # parsed: only its validators are kept (a 20 MB body too)
            outcome.http_status, outcome.bytes = read.http_status, read.bytes
            if read.result is None:
                outcome.outcome = "unchanged"
                return done
            parsed = read.result
            for warning in parsed.warnings:
                log.info("%s", warning)
            skip = RecordSkip(started.input_hashes(), source_key(pipeline.key, source))
            records = skip.split(budget.records(parsed.events), listing=parsed.events)
            drafts = []
            for processed in pipeline.run(records, source):
                if processed.overrun:
                    budget.overrun(processed.draft.raw.uid, processed.overrun)
                elif processed.dropped:
                    outcome.skipped += 1
                else:
                    drafts.append(processed.draft)
            outcome.skipped += parsed.skipped
            outcome.problems = len(parsed.problems) + len(budget.problems)
            for problem in [*parsed.problems, *budget.problems]:
                log.warning("%s", problem)
            done.drafts, done.fingerprint, done.skip = drafts, read.fingerprint, skip
            done.partial = parsed.partial or budget.exhausted
    except (FetchError, FeedError) as exc:
        outcome.outcome = "failed"
        outcome.error = str(exc)
        if isinstance(exc, FetchError):
            outcome.http_status = exc.status
            outcome.retry_after = exc.retry_after
    except Exception as exc:  # a bug in one source's path must not stop the others
        log.exception("unexpected error harvesting %s", source.id)
        outcome.outcome = "failed"
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    return done


def _store_and_finish(
    *,
    engine: Engine,
    source: SourceConfig,
    started: _Started,
    done: _Processed,
    pipeline: Pipeline,
    now: datetime,
    window: Window,
    created_in_run: set[str] | None,
) -> HarvestOutcome:
    """Store what was read (behind the removal guard) and record the run's end."""
    outcome = done.outcome
    try:
        if done.drafts is not None:
            with write_lock(engine), session_scope(engine) as session:
                counts, hold = _store_listing(
                    session=session,
                    source=source,
                    drafts=done.drafts,
                    partial=done.partial,
                    fingerprint=done.fingerprint,
                    now=now,
                    window=window,
                    created_in_run=created_in_run,
                    skip=done.skip,
                )
                pipeline.save_caches(session=session)
            outcome.outcome = "success" if hold is None else "held"
            outcome.error = None if hold is None else hold.reason()
            outcome.seen, outcome.new = counts.seen, counts.new
            outcome.updated, outcome.removed = counts.updated, counts.removed
    except Exception as exc:  # a bug in one source's path must not stop the others
        log.exception("unexpected error storing %s", source.id)
        outcome.outcome = "failed"
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    except BaseException:  # SIGTERM (SystemExit) or Ctrl-C: record it, then stop
        _interrupted(engine, started, outcome, now=now)
        raise
    _finish_run(engine, started.run_id, outcome, now=now, fetched=done.fetched)
    return outcome


def _interrupted(
    engine: Engine, started: _Started, outcome: HarvestOutcome, *, now: datetime
) -> None:
    """Record a run the harvest stopped in (SIGTERM, Ctrl-C) as interrupted."""
    outcome.outcome = "interrupted"
    outcome.error = INTERRUPTED
    _finish_run(engine, started.run_id, outcome, now=now)


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
    one document, never crawled. This is :func:`harvest_many` of one source, with
    limits of its own.
    """
    (outcome,) = harvest_many(
        [source],
        engine=engine,
        fetcher=fetcher,
        pipeline=pipeline,
        crawl_options=crawl_options,
        now=now,
        window=window,
        limits=HarvestLimits(concurrency=1),
        process_budget=process_budget,
        created_in_run=created_in_run,
    )
    return outcome


def harvest_many(
    sources: Sequence[SourceConfig],
    *,
    engine: Engine,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
    now: datetime,
    window: Window,
    limits: HarvestLimits,
    on_done: Callable[[HarvestOutcome], None] | None = None,
    process_budget: float = DEFAULT_SECONDS,
    created_in_run: set[str] | None = None,
) -> list[HarvestOutcome]:
    """Harvest ``sources`` concurrently within ``limits``; store them one at a time, in order.

    Reading a source (fetch or crawl, parse, pipeline stages) runs in worker threads, at
    most ``limits.concurrency`` at once and ``limits.per_host`` per site (the limits are
    shared with every other caller holding the same object). Storing runs in this thread,
    in the order of ``sources``, each source in its own transaction under the engine's
    write lock: dedup joins, event ids, SEQUENCE numbers and history are exactly those of
    harvesting the sources one after another. ``created_in_run`` (default: a fresh set)
    collects the events created in this harvest (no SEQUENCE bumps for them).
    Returns the outcomes in the order of ``sources``; ``on_done`` is called with each as
    it is stored. SIGTERM or Ctrl-C records every begun run as interrupted, then re-raises.
    Crawled sources take the crawl slots of ``limits`` and start at once, whatever their
    place in the order (they wait on the politeness delays of their sites, not on the
    CPU); the crawl process is started by the first of them that needs a crawl (an
    unchanged site needs none: ``crawlers.crawl.crawl_unchanged``).
    """
    created = created_in_run if created_in_run is not None else set()
    batch = _Batch(sources, limits)

    def read(index: int, started: _Started) -> _Processed:
        return _read_and_process(
            source=sources[index],
            started=started,
            fetcher=fetcher,
            pipeline=pipeline,
            crawl_options=crawl_options,
            now=now,
            window=window,
            process_budget=process_budget,
        )

    batch.start(
        lambda index: _begin_run(
            engine=engine, source=sources[index], pipeline=pipeline, window=window
        ),
        read,
    )
    outcomes = []
    try:
        for index, source in enumerate(sources):
            started, done = batch.next_read(index)
            outcome = _store_and_finish(
                engine=engine,
                source=source,
                started=started,
                done=done,
                pipeline=pipeline,
                now=now,
                window=window,
                created_in_run=created,
            )
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    except BaseException:
        for index, started in batch.stop():
            _interrupted(engine, started, HarvestOutcome(sources[index].id, "interrupted"), now=now)
        raise
    batch.join()
    return outcomes


class _Batch:
    """The worker threads of one :func:`harvest_many` call and the reads they hand over."""

    def __init__(self, sources: Sequence[SourceConfig], limits: HarvestLimits) -> None:
        self.limits = limits
        self.hosts = [host_key(source) for source in sources]
        self.crawled = [_is_crawled(source) for source in sources]
        self.waiting = list(range(len(sources)))
        # read ahead of the store at most this far: what waits to be stored stays bounded,
        # yet a slow crawl in front (stored first) does not leave the other workers idle;
        # a crawl may run further ahead (its result is bounded by its max_pages)
        self.lookahead = 8 * limits.concurrency
        self.cursor = 0  # the index stored next
        self.begun: dict[int, _Started] = {}  # runs recorded as running, not yet stored
        self.results: dict[int, tuple[_Started, _Processed] | BaseException] = {}
        self.ready = threading.Condition()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(
        self,
        begin: Callable[[int], _Started],
        read: Callable[[int, _Started], _Processed],
    ) -> None:
        """Start the workers (daemon threads: a stopped harvest does not wait for them)."""

        def work() -> None:
            while True:
                index = self.limits.take_first(
                    self.waiting,
                    self.hosts.__getitem__,
                    eligible=lambda i: self.crawled[i] or i < self.cursor + self.lookahead,
                    stop=self.stopping.is_set,
                    crawled=self.crawled.__getitem__,
                )
                if index is None:
                    return
                result: tuple[_Started, _Processed] | BaseException
                try:
                    started = begin(index)
                    with self.ready:
                        self.begun[index] = started
                    result = (started, read(index, started))
                except BaseException as exc:  # handed to the storing thread, raised there
                    result = exc
                finally:
                    self.limits.release(self.hosts[index], crawl=self.crawled[index])
                with self.ready:
                    self.results[index] = result
                    self.ready.notify_all()

        crawls = sum(self.crawled)
        count = min(self.limits.concurrency, len(self.waiting) - crawls)
        count += min(self.limits.crawls, crawls)
        self.threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def next_read(self, index: int) -> tuple[_Started, _Processed]:
        """Wait for source ``index`` to be read (re-raising what its worker raised)."""
        with self.ready:
            while index not in self.results:
                self.ready.wait(timeout=0.5)  # a timeout: signals get their turn
            result = self.results.pop(index)
            self.begun.pop(index, None)
        self.cursor = index + 1
        self.limits.wake()  # the lookahead moved on
        if isinstance(result, BaseException):
            raise result
        return result

    def stop(self) -> list[tuple[int, _Started]]:
        """Start no more sources; return the runs begun and not stored."""
        self.stopping.set()
        self.limits.wake()
        with self.ready:
            return sorted(self.begun.items())

    def join(self) -> None:
        """Wait for the (finished) workers to exit."""
        for thread in self.threads:
            thread.join()


def _is_crawled(source: SourceConfig) -> bool:
    """Whether harvesting the source runs a crawl (a guarded source is one fetch, never crawled)."""
    try:
        return source_kind(source.kind).crawled and not source.guarded
    except FeedError:  # an unknown kind: its read fails and says why
        return False


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
    limits: HarvestLimits | None = None,
) -> list[HarvestOutcome]:
    """Harvest the named sources (default: all) through :func:`harvest_many`.

    ``limits`` defaults to ``HarvestLimits()`` (the HARVEST_CONCURRENCY and
    HARVEST_PER_HOST defaults). Feed URLs that regions proposed through the form and a
    moderator approved are harvested with the configured sources.
    """
    with write_lock(engine), session_scope(engine) as session:
        config = with_approved_feeds(config, session=session)
        sync_sources(session=session, sources=config.sources)
    selected = [s for s in config.sources if not source_ids or s.id in source_ids]
    return harvest_many(
        selected,
        engine=engine,
        fetcher=fetcher,
        pipeline=pipeline,
        crawl_options=crawl_options,
        now=now,
        window=window,
        limits=limits if limits is not None else HarvestLimits(),
        on_done=on_done,
        process_budget=process_budget,
    )
