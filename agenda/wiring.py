"""The composition root: build settings, configuration, engine, fetcher, crawl options,
window and pipeline once, from the one Settings class, and hand them to the layers below.

Nothing under ``crawlers/``, ``aggregator/`` or ``feeds/`` reads settings: they take the
plain values and objects made here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from agenda.settings import Settings
from aggregator import websub
from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from aggregator.geocoder_online import OnlineGeocoder
from aggregator.harvest import HarvestOutcome
from aggregator.harvest_limits import HarvestLimits
from aggregator.mail import LogMailer, Mailer, SmtpMailer, SmtpSettings
from aggregator.notify import notify_source_health
from aggregator.pipeline import Pipeline, build_pipeline
from aggregator.schedule_policy import SchedulePolicy
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)


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
    """The bounds on sources harvested at once (HARVEST_CONCURRENCY, _CRAWLS, _PER_HOST).

    Make one per process and share it: ``agenda harvest`` and the scheduler of ``agenda
    run`` both harvest through ``aggregator.harvest.harvest_many`` within it.
    """
    return HarvestLimits(
        concurrency=settings.harvest_concurrency,
        per_host=settings.harvest_per_host,
        crawls=settings.harvest_crawls,
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


def mailer(settings: Settings) -> Mailer:
    """The SMTP mailer when ``SMTP_HOST`` is set, else one that only logs."""
    if not settings.smtp_host:
        return LogMailer()
    return SmtpMailer(
        SmtpSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_user,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
            sender=settings.mail_from,
        )
    )


def health_notifier(
    settings: Settings, config: AppConfig, engine: Engine
) -> Callable[[HarvestOutcome], None]:
    """What runs after each harvest run of a source: mail its owners when it starts failing,
    is held or recovers (``aggregator.notify``), through the configured mailer.

    A database error while deciding is logged: the harvest itself is already recorded.
    """
    mail = mailer(settings)

    def after_harvest(outcome: HarvestOutcome) -> None:
        try:
            notify_source_health(
                outcome,
                engine=engine,
                config=config,
                mailer=mail,
                site_url=settings.agenda_base_url,
            )
        except SQLAlchemyError:
            log.exception("source health mail for %s not decided", outcome.source_id)

    return after_harvest


def schedule_policy(settings: Settings) -> SchedulePolicy:
    """The scheduler's jitter, back-off cap and interval override (SCHEDULER_*)."""
    return SchedulePolicy(
        jitter=settings.scheduler_jitter,
        backoff_max=timedelta(seconds=settings.scheduler_backoff_max),
        interval=(
            timedelta(seconds=settings.scheduler_interval)
            if settings.scheduler_interval is not None
            else None
        ),
    )


def websub_upkeep(
    settings: Settings, engine: Engine
) -> Callable[[list[SourceConfig]], object] | None:
    """The scheduler's WebSub upkeep (subscribe feeds that advertise a hub), or None while
    ``WEBSUB_CALLBACK_URL`` is unset."""
    if not settings.websub_callback_url:
        return None
    callback = settings.websub_callback_url

    def upkeep(sources: list[SourceConfig]) -> object:
        with (
            httpx.Client(
                timeout=settings.harvest_timeout,
                headers={"User-Agent": settings.harvest_user_agent},
            ) as http,
            make_fetcher(settings) as fetcher,
        ):
            return websub.upkeep(
                engine=engine,
                subscriber=websub.Subscriber(callback_base=callback, http=http),
                sources=sources,
                fetcher=fetcher,
                now=datetime.now(UTC),
            )

    return upkeep
