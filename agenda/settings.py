"""Settings from the environment (one pydantic-settings class).

Only the composition root (``agenda.wiring``, ``agenda.cli``) reads them; the layers below
take the values they need as arguments. There is no global accessor on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from config import bundled

DEFAULT_SQLITE_FILE = "agenda.sqlite"


class Settings(BaseSettings):
    """Everything configurable by environment variable; keys are prefixed by component."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    database_url: str = Field(default=f"sqlite:///{DEFAULT_SQLITE_FILE}", alias="DATABASE_URL")
    agenda_config: Path = Field(default=bundled("sources.yaml"), alias="AGENDA_CONFIG")
    agenda_regions: Path = Field(default=bundled("regions.yaml"), alias="AGENDA_REGIONS")
    agenda_taxonomy: Path = Field(default=bundled("taxonomy.yaml"), alias="AGENDA_TAXONOMY")
    agenda_base_url: str | None = Field(default=None, alias="AGENDA_BASE_URL")
    # proxies whose X-Forwarded-For is believed (comma-separated addresses); none by default
    agenda_trusted_proxies: str = Field(default="", alias="AGENDA_TRUSTED_PROXIES")
    # "json": every log record one JSON object on stderr (agenda.logs)
    agenda_log_format: Literal["text", "json"] = Field(default="text", alias="AGENDA_LOG_FORMAT")

    harvest_timeout: float = Field(default=30.0, alias="HARVEST_TIMEOUT")
    harvest_max_bytes: int = Field(default=20 * 1024 * 1024, alias="HARVEST_MAX_BYTES")
    harvest_max_redirects: int = Field(default=5, alias="HARVEST_MAX_REDIRECTS")
    harvest_max_occurrences: int = Field(default=2000, alias="HARVEST_MAX_OCCURRENCES")
    harvest_past_days: int = Field(default=30, alias="HARVEST_PAST_DAYS")
    harvest_horizon_days: int = Field(default=365, alias="HARVEST_HORIZON_DAYS")
    # the record pipeline: stage names in order (aggregator.pipeline.STAGE_FACTORIES)
    pipeline_stages: str = Field(default="normalise,classify,geocode", alias="PIPELINE_STAGES")
    # optional online geocoder (off by default): "" | "pdok" | "nominatim"
    geocoder_provider: str = Field(default="", alias="GEOCODER_PROVIDER")
    geocoder_url: str | None = Field(default=None, alias="GEOCODER_URL")
    geocoder_timeout: float = Field(default=10.0, alias="GEOCODER_TIMEOUT")
    geocoder_min_delay: float = Field(default=1.0, alias="GEOCODER_MIN_DELAY")
    # Scrapy crawls (kinds jsonld, tribe, selectors): whole-crawl limit, politeness, HTTP cache
    # wall time the pipeline stages may spend on one source (aggregator.budget)
    harvest_process_budget: float = Field(default=120.0, gt=0, alias="HARVEST_PROCESS_BUDGET")
    # sources harvested at once (agenda harvest and agenda run alike), crawls, and per site
    harvest_concurrency: int = Field(default=8, ge=1, alias="HARVEST_CONCURRENCY")
    harvest_per_host: int = Field(default=1, ge=1, alias="HARVEST_PER_HOST")
    harvest_crawls: int = Field(default=16, ge=1, alias="HARVEST_CRAWLS")
    # `agenda run` on SIGTERM: how long an in-flight harvest may take to finish
    harvest_shutdown_grace: float = Field(default=60.0, ge=0, alias="HARVEST_SHUTDOWN_GRACE")
    harvest_crawl_timeout: float = Field(default=600.0, alias="HARVEST_CRAWL_TIMEOUT")
    harvest_crawl_delay: float = Field(default=1.0, alias="HARVEST_CRAWL_DELAY")
    harvest_crawl_concurrency: int = Field(default=2, alias="HARVEST_CRAWL_CONCURRENCY")
    harvest_cache_dir: Path | None = Field(
        default=Path(".agenda-cache/http"), alias="HARVEST_CACHE_DIR"
    )
    harvest_user_agent: str = Field(
        default="overstap-agenda/0.1 (+https://github.com/overstap-agenda; national calendar for"
        " overstappers)",
        alias="HARVEST_USER_AGENT",
    )

    # the scheduler of `agenda run` (aggregator.schedule): how often it looks for due
    # sources (and a standby process for the lock), the random share of the interval added
    # to each due time, the longest back-off of a failing source, and (tests, staging) one
    # interval in seconds for every source
    scheduler_tick: float = Field(default=1.0, gt=0, alias="SCHEDULER_TICK")
    scheduler_jitter: float = Field(default=0.1, ge=0, le=1, alias="SCHEDULER_JITTER")
    scheduler_backoff_max: float = Field(default=86400.0, gt=0, alias="SCHEDULER_BACKOFF_MAX")
    scheduler_interval: float | None = Field(default=None, gt=0, alias="SCHEDULER_INTERVAL")
    # pings (POST /api/sources/{id}/ping): at most one harvest per source per this many
    # seconds, and requests per client address per hour
    ping_debounce: float = Field(default=30.0, ge=0, alias="PING_DEBOUNCE")
    ping_rate_limit: int = Field(default=60, ge=1, alias="PING_RATE_LIMIT")
    # WebSub: the public base URL hubs call back (off when unset)
    websub_callback_url: str | None = Field(default=None, alias="WEBSUB_CALLBACK_URL")

    # Exports (iCal, feeds) answer If-None-Match without a database read while the store
    # version was read at most this many seconds ago: a write is then seen up to this late
    # (a 304 for content changed less than a second ago). 0 reads the version every time.
    export_version_max_age: float = Field(default=1.0, ge=0, alias="EXPORT_VERSION_MAX_AGE")

    # web pages, accounts and the submission form
    web_secret_key: str | None = Field(default=None, alias="WEB_SECRET_KEY")
    web_cookie_secure: bool = Field(default=False, alias="WEB_COOKIE_SECURE")
    web_tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png", alias="WEB_TILE_URL"
    )
    # empty: "© OpenStreetMap contributors" in the page's language (the default tiles')
    web_tile_attribution: str = Field(default="", alias="WEB_TILE_ATTRIBUTION")
    # the open-data downloads (/data/events.jsonl, /data/events.csv): the licence every
    # record carries (an SPDX id) and where it is written out
    open_data_licence: str = Field(default="CC-BY-4.0", alias="OPEN_DATA_LICENCE")
    open_data_licence_url: str = Field(
        default="https://creativecommons.org/licenses/by/4.0/", alias="OPEN_DATA_LICENCE_URL"
    )
    # outgoing mail (source-health and submission notifications); no host: mail is off and
    # what would have been sent is logged
    smtp_host: str = Field(default="", alias="SMTP_HOST")
    smtp_port: int = Field(default=25, gt=0, lt=65536, alias="SMTP_PORT")
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")
    smtp_user: str | None = Field(default=None, alias="SMTP_USER")
    smtp_password: str | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_timeout: float = Field(default=10.0, gt=0, alias="SMTP_TIMEOUT")
    mail_from: str = Field(default="agenda@localhost.localdomain", alias="MAIL_FROM")
    submit_rate_limit: int = Field(default=5, alias="SUBMIT_RATE_LIMIT")
    submit_rate_window_minutes: int = Field(default=60, alias="SUBMIT_RATE_WINDOW_MINUTES")
    # proposed feed URLs on private, loopback or link-local addresses are refused unless set
    submit_allow_private_feeds: bool = Field(default=False, alias="SUBMIT_ALLOW_PRIVATE_FEEDS")
