"""The composition root: build settings, configuration, engine, fetcher, crawl options,
window and pipeline once, from the one Settings class, and hand them to the layers below.

Nothing under ``crawlers/``, ``aggregator/`` or ``feeds/`` reads settings: they take the
plain values and objects made here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from agenda.settings import Settings
from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from aggregator.geocoder_online import OnlineGeocoder
from aggregator.harvest_limits import HarvestLimits
from aggregator.pipeline import Pipeline, build_pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window


def load_settings(config: Path | None = None) -> Settings:
    """Settings from the environment; ``--config`` (a sources.yaml) wins over AGENDA_CONFIG."""
    settings = Settings()
    if config is not None:
        settings.agenda_config = config
    return settings


def load_app_config(settings: Settings) -> AppConfig:
    """Sources, regions and taxonomy from the configured files (raises ConfigError)."""
    return load_config(settings.agenda_config, settings.agenda_regions, settings.agenda_taxonomy)


def open_engine(settings: Settings) -> Engine:
    """The database engine, with the schema migrated to the newest revision first."""
    upgrade(settings.database_url)
    return make_engine(settings.database_url)


def make_fetcher(settings: Settings) -> Fetcher:
    """The shared fetcher with the HARVEST_* limits (a context manager: close it)."""
    return Fetcher(
        user_agent=settings.harvest_user_agent,
        timeout=settings.harvest_timeout,
        max_bytes=settings.harvest_max_bytes,
        max_redirects=settings.harvest_max_redirects,
        # approved feed proposals: loopback through the address guard only in tests
        allow_private=settings.submit_allow_private_feeds,
    )


def harvest_limits(settings: Settings) -> HarvestLimits:
    """The bounds on sources harvested at once (HARVEST_CONCURRENCY, HARVEST_PER_HOST).

    Make one per process and share it: ``agenda harvest`` and the scheduler of ``agenda
    run`` both harvest through ``aggregator.harvest.harvest_many`` within it.
    """
    return HarvestLimits(
        concurrency=settings.harvest_concurrency, per_host=settings.harvest_per_host
    )


def crawl_options(settings: Settings) -> CrawlOptions:
    """Politeness and limits of the Scrapy crawls (HARVEST_* and HARVEST_CRAWL_*)."""
    return CrawlOptions(
        user_agent=settings.harvest_user_agent,
        timeout=settings.harvest_timeout,
        max_bytes=settings.harvest_max_bytes,
        crawl_timeout=settings.harvest_crawl_timeout,
        delay=settings.harvest_crawl_delay,
        concurrency_per_domain=settings.harvest_crawl_concurrency,
        cache_dir=str(settings.harvest_cache_dir) if settings.harvest_cache_dir else None,
    )


def harvest_window(settings: Settings, now: datetime, horizon_days: int | None = None) -> Window:
    """The span a harvest keeps events of (``--horizon-days`` overrides the setting)."""
    return Window.around(
        now,
        past_days=settings.harvest_past_days,
        horizon_days=horizon_days if horizon_days is not None else settings.harvest_horizon_days,
        max_occurrences=settings.harvest_max_occurrences,
    )


def online_geocoder(settings: Settings) -> OnlineGeocoder | None:
    """The configured online geocoder, or None when ``GEOCODER_PROVIDER`` is unset (default)."""
    if not settings.geocoder_provider:
        return None
    return OnlineGeocoder(
        provider=settings.geocoder_provider,
        url=settings.geocoder_url,
        timeout=settings.geocoder_timeout,
        min_delay=settings.geocoder_min_delay,
        user_agent=settings.harvest_user_agent,
    )


def pipeline(settings: Settings, config: AppConfig) -> Pipeline:
    """The stages of ``PIPELINE_STAGES`` in order (raises UnknownStage for a bad name).

    Harvest, ``agenda parse``, ``agenda eval`` and published submissions all get this.
    """
    geocoder = online_geocoder(settings)
    return build_pipeline(
        config,
        names=settings.pipeline_stages,
        online_geocoder=geocoder,
        caches=(geocoder.memo,) if geocoder is not None else (),
    )
