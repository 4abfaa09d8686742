"""The source model: one entry of sources.yaml, where a calendar lives and how to read it.

This is the crawlers' side of the contract: readers and spiders take a ``SourceConfig``;
the aggregator loads sources.yaml into it and checks it against regions and taxonomy.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SourceKind = Literal["ics", "rss", "atom", "jsonld", "tribe", "selectors"]
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_INTERVAL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_interval(value: str | int | float) -> timedelta:
    """Parse a harvest interval such as ``6h``, ``30m``, ``1d`` or a number of seconds."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _INTERVAL.match(value)
        if not match:
            raise ValueError(f"interval {value!r} is not like 30m, 6h or 1d")
        seconds = timedelta(**{_INTERVAL_UNITS[match[2]]: int(match[1])}).total_seconds()
    if seconds < 60:
        raise ValueError("interval must be at least one minute")
    return timedelta(seconds=seconds)


class SourceDefaults(BaseModel):
    """Values an event of this source gets when its own text says nothing."""

    model_config = ConfigDict(extra="forbid")

    sectors: list[str] = Field(default_factory=list)
    audiences: list[str] = Field(default_factory=list)
    phases: list[str] = Field(default_factory=list)
    activity_type: str | None = None
    language: Literal["nl", "en"] | None = None
    attendance: Literal["offline", "online", "mixed"] | None = None


class SourceConfig(BaseModel):
    """One entry of sources.yaml: where a calendar lives and how to read it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=SLUG_PATTERN)
    name: str
    kind: SourceKind
    url: str
    region: str
    interval: timedelta = timedelta(hours=6)
    defaults: SourceDefaults = Field(default_factory=SourceDefaults)
    relevance: Literal["all", "keywords"] = "all"
    organizer: str | None = None
    organizer_url: str | None = None
    # who is told by mail when the source starts failing or is held, and when it recovers
    # (aggregator.notify); each must be one e-mail address (checked by aggregator.config)
    contacts: list[str] = Field(default_factory=list)
    # kind-specific settings
    selectors: str | dict[str, Any] | None = None
    default_duration: timedelta | None = None
    timezone: str | None = None
    max_pages: int = Field(default=50, ge=1, le=1000)
    # the URL did not come from the operator (an approved feed proposal): fetch it only
    # through the address guard (crawlers.guarded), as one document, never crawled
    guarded: bool = False
    # where the file was loaded from, to resolve relative urls
    base_dir: Path | None = Field(default=None, exclude=True)

    @field_validator("interval", "default_duration", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> Any:
        if value is None or isinstance(value, timedelta):
            return value
        return parse_interval(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("url is empty")
        scheme = (
            value.split(":", 1)[0].lower() if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) else ""
        )
        if scheme and scheme not in {"http", "https", "webcal", "file"} and len(scheme) > 1:
            raise ValueError(f"url scheme {scheme!r} is not one of http, https, webcal, file")
        return value

    def resolved_url(self) -> str:
        """Return the url with relative paths made absolute against the sources file."""
        if re.match(r"^(https?|webcal|file)://", self.url, re.IGNORECASE):
            return self.url
        path = Path(self.url)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return str(path)
