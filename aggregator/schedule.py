"""Scheduler for `agenda run`: each source at its interval, on one machine or several.

One scheduling thread per process looks, every ``tick`` seconds, for sources that are
due and claims them (:mod:`aggregator.schedule_state`), at most as many as there are
free harvest slots; a bounded pool harvests them. Only the process holding the
leadership (:mod:`aggregator.leadership`: a PostgreSQL advisory lock, or the sole
SQLite process) claims, and a claim is atomic, so a source is harvested once per
interval and never twice at once, whatever the number of processes. The due times,
failures, back-off and Retry-After holds are stored, so a restart or a takeover carries
on where the schedule was; a source overdue by many intervals runs once (misfires
coalesce). Pings and WebSub notifications make a source due now
(``schedule_state.request_harvest``), which the next tick picks up.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from aggregator import schedule_state
from aggregator.budget import DEFAULT_SECONDS
from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.harvest import HarvestOutcome, harvest_many
from aggregator.harvest_limits import HarvestLimits, write_lock
from aggregator.leadership import Leadership, leadership_for, lock_source_rows
from aggregator.models import Source, SourceSchedule
from aggregator.pipeline import Pipeline
from aggregator.queue_gauge import set_scheduler_queue_length
from aggregator.schedule_policy import SchedulePolicy, after_run
from aggregator.store import sync_sources
from aggregator.submissions import with_approved_feeds
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)
PROPOSALS_CHECK = timedelta(minutes=5)  # how often approved feed proposals are picked up
DEFAULT_TICK = 1.0
DEFAULT_CONCURRENCY = 8

HarvestRunner = Callable[[SourceConfig], HarvestOutcome]


class HarvestScheduler:
    """Harvest every source at its interval in a bounded pool, coordinated through the database."""

    def __init__(
        self,
        *,
        engine: Engine,
        config: AppConfig,
        pipeline: Pipeline,
        crawl_options: CrawlOptions,
        make_fetcher: Callable[[], Fetcher],
        make_window: Callable[[datetime], Window],
        process_budget: float = DEFAULT_SECONDS,
        policy: SchedulePolicy | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        tick: float = DEFAULT_TICK,
        leadership: Leadership | None = None,
        runner: HarvestRunner | None = None,
        rng: random.Random | None = None,
        upkeep: Callable[[list[SourceConfig]], object] | None = None,
        on_outcome: Callable[[HarvestOutcome], None] | None = None,
        limits: HarvestLimits | None = None,
    ) -> None:
        """Wire the scheduler: ``make_fetcher`` gives each run its own fetcher (runs of
        different sources overlap in threads), ``make_window`` the window around a run's now.

        ``concurrency`` bounds the harvests at once (HARVEST_CONCURRENCY); ``runner``
        harvests one source (default: ``harvest_source`` with a fresh fetcher; the
        concurrent harvest's batch function can stand in here); ``leadership`` decides
        whether this process schedules (default: by the database, ``leadership_for``);
        ``upkeep`` is called with the sources, in a thread of its own, when this process
        starts scheduling and at each refresh (WebSub subscriptions: ``aggregator.websub``);
        ``on_outcome`` with each run's outcome (the owners' health mail); ``limits`` are
        the per-site limits shared with every harvest of this process (``harvest_many``).
        """
        self.engine = engine
        self.config = config
        self.pipeline = pipeline
        self.crawl_options = crawl_options
        self.make_fetcher = make_fetcher
        self.make_window = make_window
        self.process_budget = process_budget
        self.policy = policy or SchedulePolicy()
        self.concurrency = max(1, concurrency)
        self.tick = tick
        self.leadership = leadership if leadership is not None else leadership_for(engine)
        self.runner = runner or self._harvest_source
        self.rng = rng or random.Random()
        self.upkeep = upkeep
        self.on_outcome = on_outcome
        self.limits = limits if limits is not None else HarvestLimits(concurrency=concurrency)
        self._upkeep_thread: threading.Thread | None = None
        self.owner = f"{uuid.uuid4().hex[:12]}"  # this process's name on its claims
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="harvest")
        self._sources: dict[str, SourceConfig] = {}
        self._leading = False
        self._refreshed_at: datetime | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running = 0  # harvests in flight, for the free slots and a bounded shutdown
        self._idle = threading.Condition()
        with session_scope(engine) as session:
            lock_source_rows(session)
            sync_sources(session=session, sources=config.sources)

    # -- one source --------------------------------------------------------------------

    def _harvest_source(self, source: SourceConfig) -> HarvestOutcome:
        """The default runner: one source through ``harvest_many`` (the one harvest path of
        ``agenda harvest`` too) within the shared limits, with its own fetcher."""
        now = datetime.now(UTC)
        with self.make_fetcher() as fetcher:
            (outcome,) = harvest_many(
                [source],
                engine=self.engine,
                fetcher=fetcher,
                pipeline=self.pipeline,
                crawl_options=self.crawl_options,
                now=now,
                window=self.make_window(now),
                limits=self.limits,
                process_budget=self.process_budget,
            )
            return outcome

    def _run_claimed(self, source: SourceConfig, started: datetime) -> HarvestOutcome:
        """Harvest a source this process claimed at ``started`` and store what comes next."""
        outcome: HarvestOutcome | None = None
        try:
            outcome = self.runner(source)
            return outcome
        finally:
            self._record(source, started, outcome)
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
            if outcome is not None:
                self._after(outcome)

    def _after(self, outcome: HarvestOutcome) -> None:
        """Hand a run's outcome to ``on_outcome``; its failure never stops the scheduler."""
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(outcome)
        except Exception:
            log.exception("after-harvest hook failed for %s", outcome.source_id)

    def _record(
        self, source: SourceConfig, started: datetime, outcome: HarvestOutcome | None
    ) -> None:
        finished = datetime.now(UTC)
        interval = self.policy.interval_of(source.interval)
        with write_lock(self.engine), session_scope(self.engine) as session:
            if outcome is None:  # interrupted (SIGTERM) or a bug: due again now
                schedule_state.release(session=session, owner=self.owner, source_id=source.id)
                return
            row = session.get(SourceSchedule, source.id)
            failures = row.consecutive_failures if row is not None else 0
            next_run = after_run(
                outcome=outcome.outcome,
                retry_after=outcome.retry_after,
                failures_before=failures,
                started=started,
                finished=finished,
                interval=interval,
                policy=self.policy,
                rng=self.rng,
            )
            schedule_state.record_run(
                session=session,
                owner=self.owner,
                source_id=source.id,
                next_run=next_run,
                finished=finished,
            )
        log.info(
            "harvested %s: %s %s; next %s",
            source.id,
            outcome.outcome,
            outcome.error or "",
            next_run.due.isoformat(timespec="seconds"),
        )

    def harvest_one(self, source: SourceConfig) -> HarvestOutcome:
        """Harvest one source now, outside the schedule's claims (tests, a first harvest)."""
        outcome = self.runner(source)
        self._after(outcome)
        return outcome

    # -- the schedule ------------------------------------------------------------------

    def refresh_sources(self) -> list[str]:
        """Take in new sources (approved feed proposals too); return the ids added.

        Every source gets a schedule row the first time it is seen (in any process).
        """
        now = datetime.now(UTC)
        with session_scope(self.engine) as session:
            lock_source_rows(session)
            self.config = with_approved_feeds(self.config, session=session)
            sync_sources(session=session, sources=self.config.sources)
            schedule_state.ensure_rows(
                session=session,
                intervals={s.id: self.policy.interval_of(s.interval) for s in self.config.sources},
                now=now,
                policy=self.policy,
                rng=self.rng,
            )
        added = [s.id for s in self.config.sources if s.id not in self._sources]
        self._sources = {s.id: s for s in self.config.sources}
        self._refreshed_at = now
        return added

    def _lead(self, now: datetime) -> bool:
        """Whether this process schedules now; on taking over, free the old holder's claims."""
        leading = self.leadership.hold()
        if leading and not self._leading:
            with session_scope(self.engine) as session:
                freed = schedule_state.release_others(session=session, owner=self.owner, now=now)
            log.info("this process schedules now (%s)", self.owner)
            self._refreshed_at = None  # refresh (and upkeep) at once
            if freed:
                log.info("took over unfinished harvests: %s", ", ".join(freed))
        elif self._leading and not leading:
            log.warning("this process no longer schedules")
        self._leading = leading
        return leading

    def tick_once(self) -> list[str]:
        """One scheduling pass: claim due sources for the free slots and start them.

        Returns the ids started (none when another process schedules).
        """
        now = datetime.now(UTC)
        if not self._lead(now):
            return []
        if self._refreshed_at is None or now - self._refreshed_at >= PROPOSALS_CHECK:
            self.refresh_sources()
            self._start_upkeep()
        with self._idle:
            free = self.concurrency - self._running
        started = self._start(self._claim(now=now, limit=free), now) if free > 0 else []
        set_scheduler_queue_length(self.queue_length())
        return started

    def _start_upkeep(self) -> None:
        """Run ``upkeep`` in the background unless it is still running from the last time."""
        if self.upkeep is None or (self._upkeep_thread and self._upkeep_thread.is_alive()):
            return
        upkeep, sources = self.upkeep, list(self._sources.values())

        def run() -> None:
            try:
                upkeep(sources)
            except Exception:  # a hub or feed problem must not stop anything else
                log.exception("scheduler upkeep failed")

        self._upkeep_thread = threading.Thread(target=run, name="upkeep", daemon=True)
        self._upkeep_thread.start()

    def _claim(self, *, now: datetime, limit: int, only: list[str] | None = None) -> list[str]:
        with session_scope(self.engine) as session:
            claimed = schedule_state.claim_due(
                session=session, owner=self.owner, now=now, limit=limit, only=only
            )
            unknown = [source_id for source_id in claimed if source_id not in self._sources]
            for source_id in unknown:  # in the table, no longer configured: leave it be
                schedule_state.release(session=session, owner=self.owner, source_id=source_id)
        return [source_id for source_id in claimed if source_id in self._sources]

    def _start(self, source_ids: list[str], claimed_at: datetime) -> list[str]:
        for source_id in source_ids:
            with self._idle:
                self._running += 1
            self._pool.submit(self._run_claimed, self._sources[source_id], claimed_at)
        return source_ids

    def harvest_never_harvested(self) -> list[HarvestOutcome]:
        """Harvest, before serving, the sources that never succeeded (a fresh database).

        Only the scheduling process does this, through claims like every run.
        """
        self.refresh_sources()
        now = datetime.now(UTC)
        if not self._lead(now):
            return []
        with session_scope(self.engine) as session:
            fresh = [
                s.id
                for s in self.config.sources
                if (row := session.get(Source, s.id)) is None or row.last_success_at is None
            ]
        if not fresh:
            return []
        claimed = self._claim(now=now, limit=len(fresh), only=fresh)
        futures = []
        for source_id in claimed:
            with self._idle:
                self._running += 1
            futures.append(self._pool.submit(self._run_claimed, self._sources[source_id], now))
        return [future.result() for future in futures]

    def queue_length(self) -> int:
        """Sources due and not yet started (for metrics)."""
        with session_scope(self.engine) as session:
            return schedule_state.due_count(session=session, now=datetime.now(UTC))

    def start(self) -> None:
        """Start the scheduling thread (it polls for leadership when another process leads)."""
        if not self._sources:
            self.refresh_sources()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick_once()
            except Exception:  # a database hiccup must not end scheduling: retry next tick
                log.exception("scheduling pass failed")
            self._stop.wait(self.tick)

    def shutdown(self, grace: float | None = None) -> bool:
        """Stop scheduling; wait for running harvests, at most ``grace`` seconds if given.

        Returns whether every harvest finished. One that did not is left to the caller
        (``agenda run`` then exits; the next start closes its run as interrupted).
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.tick * 2, 5.0))
        with self._idle:
            finished = self._idle.wait_for(lambda: self._running == 0, timeout=grace)
        self._pool.shutdown(wait=finished, cancel_futures=True)
        self.leadership.release()
        return finished
