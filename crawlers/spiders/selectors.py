"""Declarative selector spider (kind ``selectors``): the source's CSS/XPath on each page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response, TextResponse

from crawlers import selectors
from crawlers.records import FeedError, ParseResult
from crawlers.spiders.base import SourceSpider, same_site


class SelectorSpider(SourceSpider):
    """Read events with configured selectors, following the configured pagination."""

    name = "selectors"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(job, **kwargs)
        self.spec: selectors.SelectorSpec | None = None
        self.spec_error: str | None = None
        try:
            self.spec = selectors.load_spec(self.source)
        except FeedError as exc:
            self.spec_error = str(exc)
        self.seen = {self.start_url}

    def parse_page(self, response: Response) -> Iterator[Any]:
        if self.spec is None:
            yield {
                "type": "fatal",
                "error": "feed",
                "url": response.url,
                "reason": self.spec_error,
                "status": None,
            }
            return
        if not isinstance(response, TextResponse):
            yield self.page_item(response, matched=0, events=0)
            yield self.problem_item(response.url, "not an HTML page")
            return
        result = ParseResult()
        found = selectors.records_from_page(
            response.text,
            page_url=response.url,
            spec=self.spec,
            source=self.source,
            result=result,
            reference=self.now.date(),
        )
        yield self.page_item(response, matched=found.matched, events=len(result.events))
        for record in result.events:
            yield self.event_item(record)
        for problem in result.problems:
            yield self.problem_item(response.url, problem.reason)
        url = found.next_url
        if url and url not in self.seen and same_site(url, self.site_url):
            self.seen.add(url)
            if self.may_request():
                yield self.page_request(url, callback=self.parse_page)
            else:
                yield self.problem_item(url, f"not fetched: over max_pages ({self.max_pages})")
