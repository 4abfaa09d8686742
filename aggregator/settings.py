"""Process-wide settings from the environment (one pydantic-settings class)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

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
    agenda_base_url: str = Field(default="http://localhost:8000", alias="AGENDA_BASE_URL")

    harvest_timeout: float = Field(default=30.0, alias="HARVEST_TIMEOUT")
    harvest_max_bytes: int = Field(default=20 * 1024 * 1024, alias="HARVEST_MAX_BYTES")
    harvest_max_redirects: int = Field(default=5, alias="HARVEST_MAX_REDIRECTS")
    harvest_max_occurrences: int = Field(default=2000, alias="HARVEST_MAX_OCCURRENCES")
    harvest_past_days: int = Field(default=30, alias="HARVEST_PAST_DAYS")
    harvest_horizon_days: int = Field(default=365, alias="HARVEST_HORIZON_DAYS")
    # Scrapy crawls (kinds jsonld, tribe, selectors): whole-crawl limit, politeness, HTTP cache
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings read from the environment (cached; tests pass their own)."""
    return Settings()
