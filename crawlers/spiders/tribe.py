"""The Events Calendar REST spider (kind ``tribe``): follows ``next_rest_url`` page by page.

A source url may be the site ("https://school.example.nl/") or the endpoint itself. A
saved copy (``….page1.json`` on disk) continues with ``….page2.json`` next to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scrapy.http import Response

from crawlers import tribe
from crawlers.records import FeedError, ParseResult
from crawlers.spiders.base import SourceSpider, rehost

ENDPOINT = "/wp-json/tribe/events/v1/events"
_SAVED_PAGE = re.compile(r"\.page(\d+)\.json$")


def endpoint_url(url: str, since: str | None = None) -> str:
    """The REST listing for a source url: the url itself, or the site's endpoint.

    The endpoint lists upcoming events by default; ``since`` (the harvest window's first
    day) asks for the recent past too, so that those events are not taken for removed.
    """
    parts = urlsplit(url)
    if (
        parts.scheme in {"http", "https"}
        and "/wp-json/" not in parts.path
        and "rest_route" not in (parts.query)
    ):
        query = "per_page=50" + (f"&start_date={since}" if since else "")
        return url.rstrip("/") + ENDPOINT + "/?" + query
    return url


def next_page_url(current: str, next_rest_url: str) -> str:
    """Where the next page is for the current address (saved copies and proxies included)."""
    if current.startswith("file:"):
        saved = _SAVED_PAGE.search(current)
        if not saved:
            return next_rest_url
        number = parse_qs(urlsplit(next_rest_url).query).get("page", [str(int(saved[1]) + 1)])[0]
        return current[: saved.start()] + f".page{int(number)}.json"
    return rehost(next_rest_url, actual=current)


class TribeSpider(SourceSpider):
    """Read every page of a The Events Calendar REST listing."""

    name = "tribe"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(job, **kwargs)
        self.start_url = endpoint_url(self.start_url, job.get("since"))
        self.seen = {self.start_url}

    def parse_page(self, response: Response) -> Iterator[Any]:
        try:
            data = tribe.load_page(response.body)
        except FeedError as exc:
            yield self.page_item(response, events=0)
            if response.meta.get("start"):
                yield {
                    "type": "fatal",
                    "error": "feed",
                    "url": response.url,
                    "reason": str(exc),
                    "status": None,
                }
            else:
                yield self.problem_item(response.url, str(exc))
            return
        result = ParseResult()
        tribe.records_from_page(data, self.source, result)
        yield self.page_item(response, events=len(data["events"]))
        for record in result.events:
            yield self.event_item(record)
        for problem in result.problems:
            yield self.problem_item(response.url, problem.reason)
        following = tribe.next_url(data)
        if following:
            url = next_page_url(response.url, following)
            if url in self.seen:
                return
            self.seen.add(url)
            if self.may_request():
                yield self.page_request(url, callback=self.parse_page)
            else:
                yield self.problem_item(url, f"not fetched: over max_pages ({self.max_pages})")
