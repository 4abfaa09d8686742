"""What every spider here shares: the source, the start request, page and problem items."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawlers.crawl_revalidate import body_hash
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from crawlers.spiders import cache


class SourceSpider(scrapy.Spider):
    """A spider for one source; ``job`` is the JSON job the crawl process was given."""

    name = "source"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.source = SourceConfig.model_validate(job["source"])
        self.start_url: str = job["url"]
        self.site_url: str = self.start_url  # where the start page really is, after redirects
        self.now = datetime.fromisoformat(job["now"])
        self.max_pages = self.source.max_pages
        self.pages_requested = 0

    def closed(self, reason: str) -> None:
        """At the end of the crawl: drop cached answers no crawl has asked for in a month."""
        if self.settings.getbool("HTTPCACHE_ENABLED"):
            cache.prune(self.settings.get("HTTPCACHE_DIR"))

    async def start(self) -> AsyncIterator[Any]:
        yield self.start_request()

    def start_request(self) -> scrapy.Request:
        """The request for the start page (its failure fails the crawl)."""
        return self.page_request(self.start_url, callback=self.parse_start, start=True)

    def page_request(
        self, url: str, *, callback: Any, start: bool = False, **meta: Any
    ) -> scrapy.Request:
        """A request that reports its own failure as a problem (or fatal, for the start)."""
        self.pages_requested += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            meta={"start": start, **meta},
            dont_filter=start,
        )

    def may_request(self) -> bool:
        """Whether the page budget (``max_pages`` of the source) allows one more request."""
        return self.pages_requested < self.max_pages

    def parse_start(self, response: Response) -> Iterator[Any]:
        self.site_url = response.url
        yield from self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[Any]:
        raise NotImplementedError

    def page_item(self, response: Response, **counts: Any) -> dict[str, Any]:
        """What a page gave; ``bytes`` counts what came over the network (none from the cache)."""
        cached = "cached" in response.flags  # from the cache, or revalidated there (304)
        return {
            "type": "page",
            "url": response.url,
            "status": response.status,
            "bytes": 0 if cached else len(response.body),
            "cached": cached,
            "start": bool(response.meta.get("start")),
            # every URL this answer stands for: the one asked for and the redirects it took
            "reached": [*response.meta.get("redirect_urls", []), response.url],
            **answer_facts(response),
            **counts,
        }

    @staticmethod
    def fetched_item(response: Response, reuse: float | None = None) -> dict[str, Any]:
        """An answer that is no page of events (a sitemap, robots.txt), for the manifest
        of :mod:`crawlers.crawl_revalidate`; ``reuse``: seconds the next crawl takes it
        from its cache without asking."""
        return {"type": "fetched", "url": response.url, "reuse": reuse, **answer_facts(response)}

    @staticmethod
    def listed_item(url: str) -> dict[str, Any]:
        """A page a list names: the crawl is complete only when each one was read."""
        return {"type": "listed", "url": url}

    @staticmethod
    def event_item(record: RawEvent) -> dict[str, Any]:
        return {"type": "event", "event": record.to_dict()}

    @staticmethod
    def problem_item(url: str, reason: str) -> dict[str, Any]:
        return {"type": "problem", "url": url, "reason": reason}

    def failed(self, failure: Failure) -> Iterator[dict[str, Any]]:
        """Errback: a failed start page fails the crawl; another page is one skipped page."""
        request = failure.request  # type: ignore[attr-defined]
        status = None
        if failure.check(HttpError):
            status = failure.value.response.status
            reason = f"HTTP {status} from {request.url}"
        else:
            reason = _failure_reason(failure, request.url)
        if request.meta.get("start"):
            yield {
                "type": "fatal",
                "error": "fetch",
                "url": request.url,
                "reason": reason,
                "status": status,
            }
        else:
            yield {**self.problem_item(request.url, reason), "unreached": True}


def answer_facts(response: Response) -> dict[str, Any]:
    """What the next harvest needs to ask whether an answer changed: status, validators,
    the copy's Date and a hash of the body (:mod:`crawlers.crawl_revalidate`)."""

    def header(name: bytes) -> str | None:
        value = response.headers.get(name)
        return value.decode("latin-1") if value else None

    return {
        "status": response.status,
        "etag": header(b"ETag"),
        "last_modified": header(b"Last-Modified"),
        "date": header(b"Date"),
        "sha": body_hash(response.body),
    }


def _failure_reason(failure: Failure, url: str) -> str:
    name = type(failure.value).__name__
    text = str(failure.value)
    if name == "IgnoreRequest" and "robots" in text.lower():
        return f"forbidden by robots.txt: {url}"
    if name == "IgnoreRequest":
        return f"request ignored: {url} ({text})"
    if "Timeout" in name or "timed out" in text.lower():
        return f"timed out fetching {url}"
    if isinstance(failure.value, FileNotFoundError | OSError) and url.startswith("file:"):
        return f"file not found: {url}"
    return f"cannot fetch {url}: {name}: {text}".strip()


def rebase(url: str, *, canonical: str | None, actual: str) -> str:
    """Map a link given for the site's canonical address onto the address being crawled.

    A page saved to disk (file://) or served behind a proxy still links to its public
    site; ``canonical`` is that page's public address, ``actual`` where it was fetched.
    """
    if not canonical:
        return url
    canonical_dir = canonical.rsplit("/", 1)[0] + "/"
    if url.startswith(canonical_dir):
        actual_dir = actual.rsplit("/", 1)[0] + "/"
        return actual_dir + url[len(canonical_dir) :]
    return url


def rehost(url: str, *, actual: str) -> str:
    """Put another host's link onto the host being crawled (same path and query)."""
    target, here = urlsplit(url), urlsplit(actual)
    if (target.scheme, target.netloc) == (here.scheme, here.netloc) or here.scheme == "file":
        return url
    return urlunsplit((here.scheme, here.netloc, target.path, target.query, ""))


def same_site(url: str, start: str) -> bool:
    """Whether a link stays on the crawled site (for file:// sources: in the start's folder)."""
    target, origin = urlsplit(url), urlsplit(start)
    if origin.scheme == "file":
        folder = str(PurePosixPath(origin.path).parent)
        return target.scheme == "file" and target.path.startswith(folder + "/")
    return (target.scheme, target.netloc) == (origin.scheme, origin.netloc)


def below(url: str, list_url: str) -> bool:
    """Whether ``url`` lies under a list page: /agenda.html or /agenda/ -> /agenda/<slug>."""
    stem = re.sub(r"\.[a-z0-9]+$", "", urlsplit(list_url).path.rstrip("/"), flags=re.IGNORECASE)
    path = urlsplit(url).path
    return bool(stem) and path.startswith(stem + "/") and path.rstrip("/") != stem


def absolute(response: Response, href: str) -> str:
    return urljoin(response.url, href.strip())
