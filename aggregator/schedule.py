"""Scheduler for `agenda run`: one interval job per source, one run at a time per source."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from aggregator.budget import DEFAULT_SECONDS
from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.harvest import HarvestOutcome, harvest_many
from aggregator.harvest_limits import HarvestLimits, write_lock
from aggregator.models import Source
from aggregator.pipeline import Pipeline
from aggregator.store import sync_sources
from aggregator.submissions import with_approved_feeds
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)
PROPOSALS_CHECK = timedelta(minutes=5)  # how often approved feed proposals are picked up


class HarvestScheduler:
    """Harvest every source at its configured interval in background threads."""

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
        limits: HarvestLimits | None = None,
    ) -> None:
        """Wire the scheduler: ``make_fetcher`` gives each run its own fetcher (runs of
        different sources overlap in threads), ``make_window`` the window around a run's now.
        Every run goes through ``harvest_many`` with the one shared ``limits`` (default
        ``HarvestLimits()``), as ``agenda harvest`` does.
        """
        self.limits = limits if limits is not None else HarvestLimits()
        self.engine = engine
        self.config = config
        self.pipeline = pipeline
        self.crawl_options = crawl_options
        self.make_fetcher = make_fetcher
        self.make_window = make_window
        self.process_budget = process_budget
        self._scheduler = BackgroundScheduler(
            timezone="UTC",
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": 3600,
            },
        )
        self._running = 0  # harvests in flight, for a bounded shutdown
        self._idle = threading.Condition()
        with session_scope(engine) as session:
            sync_sources(session=session, sources=config.sources)

    def harvest_one(self, source: SourceConfig) -> HarvestOutcome:
        """Harvest one source now (the job body)."""
        return self.harvest_sources([source])[0]

    def harvest_sources(self, sources: list[SourceConfig]) -> list[HarvestOutcome]:
        """Harvest these sources now, concurrently within the shared limits."""
        with self._idle:
            self._running += 1
        try:
            return self._harvest(sources)
        finally:
            with self._idle:
                self._running -= 1
                self._idle.notify_all()

    def _harvest(self, sources: list[SourceConfig]) -> list[HarvestOutcome]:
        now = datetime.now(UTC)
        intervals = {source.id: source.interval for source in sources}

        def done(outcome: HarvestOutcome) -> None:
            with write_lock(self.engine), session_scope(self.engine) as session:
                row = session.get(Source, outcome.source_id)
                if row is not None:
                    row.next_run_at = now + intervals[outcome.source_id]
                    session.add(row)
            log.info("harvested %s: %s %s", outcome.source_id, outcome.outcome, outcome.error or "")

        with self.make_fetcher() as fetcher:
            return harvest_many(
                sources,
                engine=self.engine,
                fetcher=fetcher,
                pipeline=self.pipeline,
                crawl_options=self.crawl_options,
                now=now,
                window=self.make_window(now),
                limits=self.limits,
                on_done=done,
                process_budget=self.process_budget,
            )

    def harvest_never_harvested(self) -> list[HarvestOutcome]:
        """Harvest, before serving, the sources that have never succeeded (a fresh database)."""
        with session_scope(self.engine) as session:
            fresh = [
                s
                for s in self.config.sources
                if (row := session.get(Source, s.id)) is None or row.last_success_at is None
            ]
        return self.harvest_sources(fresh)

    def start(self) -> None:
        """Schedule each source: first run when it is due, then every interval.

        Approved feed proposals join while the service runs: a light job looks for new
        ones every few minutes and schedules them like the configured sources.
        """
        self.refresh_sources()
        self._scheduler.add_job(
            self.refresh_sources,
            "interval",
            id="refresh-sources",
            seconds=PROPOSALS_CHECK.total_seconds(),
            replace_existing=True,
        )
        self._scheduler.start()

    def refresh_sources(self) -> list[str]:
        """Schedule every source without a job yet; return the ids that were added."""
        now = datetime.now(UTC)
        added = []
        with session_scope(self.engine) as session:
            self.config = with_approved_feeds(self.config, session=session)
            sync_sources(session=session, sources=self.config.sources)
            for source in self.config.sources:
                if self._scheduler.get_job(source.id) is not None:
                    continue
                row = session.get(Source, source.id)
                last = row.last_attempt_at if row else None
                first = max(now, last + source.interval) if last else now
                self._scheduler.add_job(
                    self.harvest_one,
                    "interval",
                    args=[source],
                    id=source.id,
                    seconds=source.interval.total_seconds(),
                    next_run_time=first + timedelta(seconds=1),
                    replace_existing=True,
                )
                added.append(source.id)
        return added

    def shutdown(self, grace: float | None = None) -> bool:
        """Stop scheduling; wait for running harvests, at most ``grace`` seconds if given.

        Returns whether every harvest finished. One that did not is left to the caller
        (``agenda run`` then exits; the next start closes its run as interrupted).
        """
        if not self._scheduler.running:
            return True
        if grace is None:
            self._scheduler.shutdown(wait=True)
            return True
        self._scheduler.shutdown(wait=False)
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=grace)
