"""Read one source: fetch its document (or crawl its pages), then parse it into records.

:func:`read_source` is the one way every caller reads a source: the harvest, ``agenda
parse`` and the check of a proposed feed. It applies the kind table (one fetch and a
parser, or a Scrapy crawl), the HTTP validators, the not-modified and same-content
short cuts, and the truncation rule; it raises ``FetchError`` or ``FeedError``
(subclasses name the case) when the source fails.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crawlers import deadline
from crawlers.crawl import CrawlOptions, crawl_source, crawl_unchanged, remember_crawl
from crawlers.fetch import FetchResult, Validators
from crawlers.records import FeedError, ParseResult, Window
from crawlers.registry import source_kind
from crawlers.source import SourceConfig

# Lines that change on every export without the events changing (RFC 5545 DTSTAMP etc.).
_VOLATILE = re.compile(
    rb"^(DTSTAMP|LAST-SYNC|X-WR-RELCALID|X-PUBLISHED-TTL-STAMP)[;:][^\n]*\n?",
    re.MULTILINE | re.IGNORECASE,
)


class Fetches(Protocol):
    """What read_source needs of a fetcher (``crawlers.fetch.Fetcher`` is one)."""

    def fetch(self, location: str, validators: Validators | None = None) -> FetchResult:
        """Fetch a location, conditionally when validators are given."""
        ...


class TruncatedFeed(FeedError):
    """The document breaks off: storing the readable part would remove every later event."""


@dataclass(slots=True)
class SourceRead:
    """What reading one source gave.

    ``result`` is None when the source is unchanged: the server answered 304, or the
    fingerprint equals ``previous_fingerprint``. ``fetched`` is the fetch of a document
    kind (its validators are worth keeping), None for a crawl.
    """

    result: ParseResult | None
    fingerprint: str | None = None
    http_status: int | None = None
    bytes: int | None = None
    fetched: FetchResult | None = None

    @property
    def unchanged(self) -> bool:
        """Whether there is nothing new to process."""
        return self.result is None


def content_fingerprint(body: bytes) -> str:
    """Hash a body without its volatile lines, so a DTSTAMP-only change counts as unchanged."""
    normalised = body.replace(b"\r\n", b"\n")
    return hashlib.sha256(_VOLATILE.sub(b"", normalised)).hexdigest()


def window_day(window: Window) -> str:
    """The window's first day as YYYYMMDD, the prefix of a document's fingerprint."""
    return window.start.strftime("%Y%m%d")


def window_fingerprint(body: bytes, window: Window) -> str:
    """The fingerprint stored for a processed body: the window's first day plus the content hash.

    Recurring series are expanded inside the window, so the same bytes read on a later day
    can give other occurrences. The day is part of what is compared: an unchanged body is
    skipped only within the same window day, and on a new day the source is fetched without
    validators and read again. Fits the 64 characters of ``Source.content_fingerprint``.
    """
    return f"{window_day(window)}:{content_fingerprint(body)[:55]}"


def same_window_day(fingerprint: str | None, window: Window) -> bool:
    """Whether a stored fingerprint was taken on this window's day (validators still apply)."""
    return bool(fingerprint) and str(fingerprint).startswith(window_day(window) + ":")


def records_fingerprint(result: ParseResult) -> str:
    """The fingerprint of a crawl: a hash over the records it produced, in a stable order."""
    records = sorted(json.dumps(e.to_dict(), sort_keys=True, default=str) for e in result.events)
    return hashlib.sha256("\n".join(records).encode("utf-8")).hexdigest()


def read_source(
    source: SourceConfig,
    *,
    fetcher: Fetches,
    now: datetime,
    window: Window,
    crawl_options: CrawlOptions | None = None,
    validators: Validators | None = None,
    previous_fingerprint: str | None = None,
    fetched: FetchResult | None = None,
    allow_truncated: bool = False,
) -> SourceRead:
    """Fetch or crawl a source and parse it; raise FetchError or FeedError when it fails.

    Document kinds are fetched once with ``validators`` (``fetched``, when the caller
    already has the body, skips that fetch). Crawled kinds run a Scrapy crawl when
    ``crawl_options`` are given, unless the site answers as at the crawl that gave
    ``previous_fingerprint`` (``crawl.crawl_unchanged``: asked with ``fetcher``, no
    crawl); without them only their start page is parsed (the test
    read of a proposed feed). A truncated document raises TruncatedFeed unless
    ``allow_truncated`` (a preview may show what was readable; a harvest must not store it).
    """
    kind = source_kind(source.kind)
    if kind.crawled and crawl_options is not None:
        if crawl_unchanged(
            source,
            now=now,
            window=window,
            options=crawl_options,
            fetcher=fetcher,
            fingerprint=previous_fingerprint,
        ):
            return SourceRead(result=None, fingerprint=previous_fingerprint, http_status=304)
        result, stats = crawl_source(source, now=now, window=window, options=crawl_options)
        fingerprint = records_fingerprint(result)
        remember_crawl(
            source,
            now=now,
            window=window,
            options=crawl_options,
            result=result,
            stats=stats,
            fingerprint=fingerprint,
        )
        return SourceRead(
            result=None if fingerprint == previous_fingerprint else result,
            fingerprint=fingerprint,
            http_status=stats.http_status,
            bytes=stats.bytes,
        )
    if fetched is None:
        fetched = fetcher.fetch(source.resolved_url(), validators)
    read = SourceRead(result=None, http_status=fetched.status, bytes=fetched.size, fetched=fetched)
    if fetched.not_modified:
        return read
    read.fingerprint = window_fingerprint(fetched.body, window)
    if read.fingerprint == previous_fingerprint:
        return read
    deadline.start()  # the processing budget counts from here, not from the download
    result = kind.parser(fetched.body, source, now=now, window=window)
    if result.truncated and not allow_truncated:
        raise TruncatedFeed(
            f"response is truncated ({len(result.events)} events readable before the"
            " break); nothing stored"
        )
    read.result = result
    return read
