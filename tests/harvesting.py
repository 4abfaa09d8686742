"""A harvest for tests: the default pipeline, a fetcher of its own, fixed "now"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from aggregator.budget import DEFAULT_SECONDS
from aggregator.config import AppConfig
from aggregator.harvest import HarvestOutcome, harvest
from aggregator.pipeline import Pipeline, build_pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from tests.conftest import SAMPLE_NOW

UA = "overstap-agenda-tests"


def harvest_once(
    engine: Engine,
    config: AppConfig,
    *,
    now: datetime = SAMPLE_NOW,
    pipeline: Pipeline | None = None,
    crawl_options: CrawlOptions | None = None,
    allow_private: bool = False,
    process_budget: float = DEFAULT_SECONDS,
) -> list[HarvestOutcome]:
    """Harvest every source of ``config`` once, in the default window around ``now``.

    ``allow_private`` lets approved feed proposals on loopback through the address guard
    (SUBMIT_ALLOW_PRIVATE_FEEDS).
    """
    with Fetcher(user_agent=UA, timeout=5, allow_private=allow_private) as fetcher:
        return harvest(
            engine=engine,
            config=config,
            fetcher=fetcher,
            pipeline=pipeline or build_pipeline(config),
            crawl_options=crawl_options or CrawlOptions(user_agent=UA),
            now=now,
            window=Window.around(now),
            process_budget=process_budget,
        )
