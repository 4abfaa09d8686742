"""Crawl one source with Scrapy in the long-lived crawl worker; turn its items into a ParseResult.

Scrapy's Twisted reactor cannot be restarted within one process, and ``agenda run``
harvests again and again; so crawls run in a child process, started once and reused by
every crawl (:mod:`crawlers.crawl_worker`, :mod:`crawlers.crawl_child`), with a time limit
per crawl. The parent side (:func:`crawl_source`) decides what the items mean: a crawl
that yields no events is a failure of the source (its stored events stay), not "0
events, all fine".
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawlers import crawl_revalidate, selectors
from crawlers.crawl_worker import CrawlRun, CrawlWorker, WorkerFailed, shared_worker
from crawlers.fetch import FetchError, is_remote, local_path
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.registry import source_kind
from crawlers.source import SourceConfig

# after a 304 (revalidated, unchanged) the next request to the site waits this share of the delay
REVALIDATED_DELAY_SHARE = 0.25


class CrawlTimeout(FetchError):
    """The whole crawl (child process included) ran past ``CrawlOptions.crawl_timeout``."""


class CrawlProcessFailed(FeedError):
    """The crawl's child process died without producing any item."""


class StartPageFailed(FetchError):
    """The crawl's start page could not be fetched (HTTP error, timeout, robots.txt)."""


class NothingFound(FeedError):
    """The crawl ran but found no event (a layout change, or no schema.org markup)."""


# What a spider's ``fatal`` item says about the failure (see crawlers.spiders).
FATAL_FETCH = "fetch"  # the start page could not be fetched
FATAL_FEED = "feed"  # the start page was fetched but cannot be read


@dataclass(frozen=True, slots=True)
class CrawlOptions:
    """Politeness and limits of a crawl (the composition root fills them from HARVEST_*)."""

    user_agent: str
    timeout: float = 30.0  # per request
    crawl_timeout: float = 600.0  # the whole crawl, child process included
    delay: float = 1.0  # AutoThrottle start delay and minimum between requests to a site
    max_delay: float = 30.0
    concurrency_per_domain: int = 2
    retries: int = 2
    backoff: float = 1.0
    max_bytes: int = 20 * 1024 * 1024
    cache_dir: str | None = None
    # a detail page whose list entry is unchanged comes from the cache for this long
    detail_max_age: float = 24 * 3600.0
    # the crawl process to use; None: the process's shared one (crawl_worker.shared_worker)
    worker: CrawlWorker | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class CrawlStats:
    """What the crawl saw: pages, the start page's status, bytes received."""

    pages: int = 0
    cached: int = 0  # pages answered by the cache (unchanged, or revalidated with a 304)
    http_status: int | None = None
    bytes: int = 0
    matched: int = 0
    page_events: int = 0
    start_url: str = ""
    listed: list[dict[str, Any]] = field(default_factory=list)
    # every answer read from the site, for the next harvest's check (crawl_revalidate)
    answers: list[dict[str, Any]] = field(default_factory=list)


def start_url(source: SourceConfig) -> str:
    """The crawl's first URL: http(s) as given, a local path as file://."""
    location = source.resolved_url()
    if is_remote(location):
        return location
    return local_path(location).resolve().as_uri()


def scrapy_settings(options: CrawlOptions, source_id: str) -> dict[str, Any]:
    """Scrapy settings: robots.txt, AutoThrottle per site, retries with backoff, cache, limits.

    The HTTP cache keeps every answer and revalidates it on the next crawl (conditional
    requests even after ``Cache-Control: no-cache``); see :mod:`crawlers.spiders.cache`.
    After a 304 the next request to the site waits a share of the delay only
    (:class:`crawlers.spiders.middleware.RevalidatedDelay`).
    """
    settings: dict[str, Any] = {
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": True,
        "AUTOTHROTTLE_ENABLED": options.delay > 0,
        "AUTOTHROTTLE_START_DELAY": options.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(options.max_delay, options.delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_DELAY": options.delay,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": options.concurrency_per_domain,
        "DOWNLOAD_TIMEOUT": options.timeout,
        "DOWNLOAD_MAXSIZE": options.max_bytes,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": options.retries,
        "RETRY_BACKOFF_BASE": options.backoff,
        "DOWNLOADER_MIDDLEWARES": {"crawlers.spiders.middleware.BackoffMiddleware": 555},
        "EXTENSIONS": {"crawlers.spiders.middleware.RevalidatedDelay": 500},
        "REVALIDATED_DELAY_SHARE": REVALIDATED_DELAY_SHARE,
        "HTTPCACHE_ENABLED": options.cache_dir is not None,
        "HTTPCACHE_POLICY": "crawlers.spiders.cache.RevalidatePolicy",
        "HTTPCACHE_ALWAYS_STORE": True,
        "HTTPCACHE_IGNORE_HTTP_CODES": [408, 429, 500, 502, 503, 504, 522, 524],
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # no listening port in a harvest child process
        "DEPTH_LIMIT": 10,
    }
    if options.cache_dir is not None:
        settings["HTTPCACHE_DIR"] = str(Path(options.cache_dir).resolve() / source_id)
    return settings


def crawl_job(
    source: SourceConfig, *, now: datetime, window: Window, options: CrawlOptions
) -> dict[str, Any]:
    """The JSON job the crawl process runs for a source (its spider reads ``job``)."""
    url = start_url(source)
    if url.startswith("file:"):
        options = replace(options, delay=0.0)  # local files: no server to be polite to
    settings = scrapy_settings(options, source.id)
    state = None
    if options.cache_dir is not None:
        state = str(Path(settings["HTTPCACHE_DIR"]) / "list-entries.json")
    return {
        "kind": source.kind,
        "source": source_to_json(source),
        "url": url,
        "now": now.isoformat(),
        "since": window.start.date().isoformat(),
        "settings": settings,
        "host": urlsplit(url).netloc.lower() or None,  # crawls of one host: one at a time
        "delay": options.delay,
        "state": state,  # the list entries seen last time (crawlers.spiders.cache)
        "detail_max_age": options.detail_max_age,
    }


def _manifest(job: dict[str, Any]) -> Path | None:
    """The manifest of a remote crawl with an HTTP cache (a local file: always crawled)."""
    if not str(job["url"]).startswith(("http://", "https://")):
        return None
    return crawl_revalidate.manifest_path(job["settings"].get("HTTPCACHE_DIR"))


def crawl_unchanged(
    source: SourceConfig,
    *,
    now: datetime,
    window: Window,
    options: CrawlOptions,
    fetcher: crawl_revalidate.Fetches,
    fingerprint: str | None,
) -> bool:
    """Whether the site answers as at the crawl that gave ``fingerprint``: no crawl needed.

    Asked with ``fetcher``, without the crawl process (:mod:`crawlers.crawl_revalidate`).
    """
    job = crawl_job(source, now=now, window=window, options=options)
    return crawl_revalidate.unchanged(
        _manifest(job),
        key=crawl_revalidate.job_key(job),
        fingerprint=fingerprint,
        fetcher=fetcher,
        delay=options.delay,
        revalidated_share=REVALIDATED_DELAY_SHARE,
        detail_max_age=options.detail_max_age,
    )


def remember_crawl(
    source: SourceConfig,
    *,
    now: datetime,
    window: Window,
    options: CrawlOptions,
    result: ParseResult,
    stats: CrawlStats,
    fingerprint: str,
) -> None:
    """Keep a complete crawl's answers for the next :func:`crawl_unchanged` (a partial
    one: forget the last, the next harvest crawls)."""
    job = crawl_job(source, now=now, window=window, options=options)
    path = _manifest(job)
    if result.partial:
        crawl_revalidate.forget(path)
        return
    crawl_revalidate.save(
        path, key=crawl_revalidate.job_key(job), fingerprint=fingerprint, answers=stats.answers
    )


def warm_up(options: CrawlOptions) -> None:
    """Start the crawl process in the background, so that the first crawl need not wait.

    A harvest about to read crawled sources calls it first; returns at once.
    """
    (options.worker or shared_worker()).start_soon()


def crawl_source(
    source: SourceConfig, *, now: datetime, window: Window, options: CrawlOptions
) -> tuple[ParseResult, CrawlStats]:
    """Crawl a source in the crawl process; raise FetchError/FeedError when the source fails.

    The failures are typed: CrawlTimeout and StartPageFailed are FetchErrors,
    CrawlProcessFailed and NothingFound are FeedErrors. A crawl whose process died after
    it had found events is kept as a partial crawl (nothing is marked removed).
    """
    if source_kind(source.kind).spider is None:
        raise FeedError(f"source kind {source.kind!r} is not crawled")
    job = crawl_job(source, now=now, window=window, options=options)
    worker = options.worker or shared_worker()
    try:
        run = worker.crawl(job, timeout=options.crawl_timeout)
    except WorkerFailed as exc:
        raise CrawlProcessFailed(str(exc)) from exc
    if run.timed_out:
        raise CrawlTimeout(f"crawl timed out after {options.crawl_timeout:g} s")
    return _outcome(run, source, start=job["url"])


def _outcome(run: CrawlRun, source: SourceConfig, *, start: str) -> tuple[ParseResult, CrawlStats]:
    if run.error and not any(item.get("type") == "event" for item in run.items):
        fatal = [item for item in run.items if item.get("type") == "fatal"]
        if not fatal:
            raise CrawlProcessFailed(f"crawl process failed: {run.error}")
    result, stats = interpret(run.items, source, start=start)
    if run.error and not result.partial:
        result.partial = True
        result.warnings.append(
            ParseProblem(source.id, f"partial crawl: {run.error}; nothing is marked removed")
        )
    return result, stats


def source_to_json(source: SourceConfig) -> dict[str, Any]:
    """A SourceConfig as JSON that ``SourceConfig.model_validate`` reads back."""
    data = source.model_dump(mode="json")
    data["interval"] = source.interval.total_seconds()
    if source.default_duration is not None:
        data["default_duration"] = source.default_duration.total_seconds()
    data["base_dir"] = str(source.base_dir) if source.base_dir else None
    return data


def interpret(
    items: list[dict[str, Any]], source: SourceConfig, *, start: str
) -> tuple[ParseResult, CrawlStats]:
    """Turn crawl items into a ParseResult; raise when the crawl counts as a failure."""
    result = ParseResult()
    stats = CrawlStats(start_url=start)
    reached: set[str] = set()
    unreached: set[str] = set()
    for item in items:
        kind = item.get("type")
        if kind == "fatal":
            reason = str(item.get("reason"))
            if item.get("error") == FATAL_FETCH:
                raise StartPageFailed(reason, status=item.get("status"))
            raise FeedError(reason)
        if kind == "listed":
            stats.listed.append(item)
        elif kind == "fetched":
            stats.answers.append(item)
        elif kind == "page":
            stats.answers.append(item)
            reached.update(item.get("reached") or [item.get("url")])
            stats.pages += 1
            stats.cached += bool(item.get("cached"))
            stats.bytes += int(item.get("bytes") or 0)
            stats.matched += int(item.get("matched") or 0)
            stats.page_events += int(item.get("events") or 0)
            if item.get("start"):
                stats.http_status = item.get("status")
        elif kind == "event":
            result.events.append(raw_event_from_dict(item["event"]))
        elif kind == "problem":
            if item.get("unreached"):
                unreached.add(str(item["url"]))
            result.skipped += 1
            result.problems.append(ParseProblem(source.id, f"{item['url']}: {item['reason']}"))
    # pages arrive in whatever order the downloads finish (and cached ones first): one
    # order for the same site, so a crawl's records are stored the same way every time
    result.events.sort(key=lambda event: (event.uid, str(event.recurrence_id or "")))
    if not result.events and source.kind != "tribe":
        raise NothingFound(_empty_reason(source, stats, result))
    missing = unreached | ({str(x["url"]) for x in stats.listed} - reached)
    if missing:
        result.partial = True
        result.warnings.append(
            ParseProblem(
                source.id,
                f"partial crawl: {len(missing)} page(s) named by the site were not read"
                f" (first: {min(missing)}); nothing is marked removed",
            )
        )
    return result, stats


def _empty_reason(source: SourceConfig, stats: CrawlStats, result: ParseResult) -> str:
    if source.kind == "selectors":
        spec = selectors.load_spec(source)
        reason = selectors.layout_changed_reason(stats.start_url, spec, stats.matched)
    else:
        reason = (
            f"no schema.org events found on {stats.pages} page(s) from {stats.start_url}"
            " (no JSON-LD, microdata, RDFa or h-event Event)"
        )
    if result.problems:
        reason += f"; first problem: {result.problems[0].reason}"
    return reason


def _when(value: str | None) -> datetime | date | None:
    if value is None:
        return None
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def raw_event_from_dict(data: dict[str, Any]) -> RawEvent:
    """Rebuild a RawEvent from ``RawEvent.to_dict()`` output."""
    values = dict(data)
    for name in ("start", "end", "last_modified"):
        values[name] = _when(values.get(name))
    return RawEvent(**values)
