"""Run one source's Scrapy crawl in a child process and turn its items into a ParseResult.

Scrapy's Twisted reactor cannot be restarted within one process, and ``agenda run``
harvests again and again; so each crawl is ``python -m crawlers.crawl`` with a JSON job
on stdin, items written as JSON Lines to a file, and a time limit. The parent side
(:func:`crawl_source`) decides what the items mean: a crawl that yields no events is a
failure of the source (its stored events stay), not "0 events, all fine".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from crawlers import selectors
from crawlers.fetch import FetchError, is_remote, local_path
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.registry import source_kind
from crawlers.source import SourceConfig


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


@dataclass(slots=True)
class CrawlStats:
    """What the crawl saw: pages, the start page's status, bytes received."""

    pages: int = 0
    http_status: int | None = None
    bytes: int = 0
    matched: int = 0
    page_events: int = 0
    start_url: str = ""
    listed: list[dict[str, Any]] = field(default_factory=list)


def start_url(source: SourceConfig) -> str:
    """The crawl's first URL: http(s) as given, a local path as file://."""
    location = source.resolved_url()
    if is_remote(location):
        return location
    return local_path(location).resolve().as_uri()


def scrapy_settings(options: CrawlOptions, source_id: str, output: Path) -> dict[str, Any]:
    """Scrapy settings: robots.txt, AutoThrottle, retries with backoff, cache, limits."""
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
        "HTTPCACHE_ENABLED": options.cache_dir is not None,
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
        "HTTPCACHE_IGNORE_HTTP_CODES": [408, 429, 500, 502, 503, 504, 522, 524],
        "FEEDS": {output.as_uri(): {"format": "jsonlines", "encoding": "utf-8"}},
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # no listening port in a harvest child process
        "DEPTH_LIMIT": 10,
    }
    if options.cache_dir is not None:
        settings["HTTPCACHE_DIR"] = str(Path(options.cache_dir).resolve() / source_id)
    return settings


def crawl_source(
    source: SourceConfig, *, now: datetime, window: Window, options: CrawlOptions
) -> tuple[ParseResult, CrawlStats]:
    """Crawl a source in a child process; raise FetchError/FeedError when the source fails.

    The failures are typed: CrawlTimeout and StartPageFailed are FetchErrors,
    CrawlProcessFailed and NothingFound are FeedErrors.
    """
    if source_kind(source.kind).spider is None:
        raise FeedError(f"source kind {source.kind!r} is not crawled")
    url = start_url(source)
    if url.startswith("file:"):
        options = replace(options, delay=0.0)  # local files: no server to be polite to
    with tempfile.TemporaryDirectory(prefix="agenda-crawl-") as folder:
        output = Path(folder) / "items.jl"
        job = {
            "kind": source.kind,
            "source": source_to_json(source),
            "url": url,
            "now": now.isoformat(),
            "since": window.start.date().isoformat(),
            "settings": scrapy_settings(options, source.id, output),
            "parent": os.getpid(),
        }
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "crawlers.crawl"],
                input=json.dumps(job),
                capture_output=True,
                text=True,
                timeout=options.crawl_timeout,
                env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                check=False,
                preexec_fn=_kill_me_with_parent(),
            )
        except subprocess.TimeoutExpired as exc:
            raise CrawlTimeout(f"crawl timed out after {options.crawl_timeout:g} s") from exc
        items = _read_items(output)
        if completed.returncode != 0 and not items:
            tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
            raise CrawlProcessFailed(f"crawl process failed (exit {completed.returncode}): {tail}")
    return interpret(items, source, start=url)


def source_to_json(source: SourceConfig) -> dict[str, Any]:
    """A SourceConfig as JSON that ``SourceConfig.model_validate`` reads back."""
    data = source.model_dump(mode="json")
    data["interval"] = source.interval.total_seconds()
    if source.default_duration is not None:
        data["default_duration"] = source.default_duration.total_seconds()
    data["base_dir"] = str(source.base_dir) if source.base_dir else None
    return data


def _read_items(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


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
        elif kind == "page":
            reached.update(item.get("reached") or [item.get("url")])
            stats.pages += 1
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


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _kill_me_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook that asks the kernel to SIGKILL the child when its parent dies.

    A ``kill -9`` of the harvest gives its crawl no chance to be stopped otherwise. Linux
    only (``prctl(PR_SET_PDEATHSIG)``); None elsewhere. The library is loaded here, in the
    parent, so the hook between fork and exec only makes one system call.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def die_with_parent(parent: int | None) -> None:
    """In the child: stop at once if the harvest that started it is already gone."""
    if parent is not None and os.getppid() != parent:
        os._exit(1)


def main() -> None:
    """Child process: read the job from stdin, run the spider, write items to FEEDS."""
    import importlib

    from scrapy.crawler import CrawlerProcess

    job = json.loads(sys.stdin.read())
    die_with_parent(job.get("parent"))
    spider_path = source_kind(job["kind"]).spider
    assert spider_path is not None  # crawl_source only starts crawls of crawled kinds
    module, _, name = spider_path.rpartition(".")
    spider = getattr(importlib.import_module(module), name)
    process = CrawlerProcess(settings=job["settings"], install_root_handler=True)
    process.crawl(spider, job=job)
    process.start()


if __name__ == "__main__":
    main()
