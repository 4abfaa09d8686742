"""Generic schema.org Event spider (kind ``jsonld``): list pages, detail pages and pagination.

From a list page it follows the URLs of an ``ItemList`` and, when the page has neither
events nor an ItemList, the links that lie below it (``agenda.html`` -> ``agenda/<slug>``);
``rel=next`` and "next"/"volgende" links are further list pages. Every page's events
(JSON-LD, microdata, RDFa, h-event) are read with :mod:`crawlers.schemaorg`.

List pages are revalidated on every crawl; a detail page whose list entry says the same
as last time (the ItemList entry, or the text around the link) is taken from the HTTP
cache without asking the site, for ``detail_max_age`` seconds (:mod:`crawlers.spiders.cache`).
A site's sitemaps (named in its robots.txt) are read before the start page: a detail
page's ``lastmod`` is part of its entry, so a page whose lastmod moved is asked for
again even when its list entry says the same (:mod:`crawlers.spiders.sitemaps`).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawlers import schemaorg
from crawlers.records import ParseResult
from crawlers.spiders.base import SourceSpider, absolute, below, rebase, same_site
from crawlers.spiders.cache import (
    REUSE_MAX_AGE,
    ROBOTS_MAX_AGE,
    ListEntries,
    entry_fingerprint,
)
from crawlers.spiders.sitemaps import MAX_SITEMAPS, page_key, read_sitemap, sitemaps_of

_NEXT_TEXT = re.compile(r"^\s*(volgende|next)\b|^\s*[›»→]\s*$", re.IGNORECASE)


class SchemaOrgSpider(SourceSpider):
    """Read schema.org events from a list page and the detail pages it leads to."""

    name = "schemaorg"

    def __init__(self, job: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(job, **kwargs)
        self.seen: set[str] = {self.start_url}
        self.entries = ListEntries(job.get("state"))
        self.detail_max_age = float(job.get("detail_max_age") or 0.0)
        self.lastmods: dict[str, str] = {}  # page key -> lastmod, from the site's sitemaps
        self.sitemaps_asked = 0
        self.sitemaps_open = 0

    async def start(self) -> AsyncIterator[Any]:
        """The site's robots.txt first (its sitemaps), then the start page.

        Only with the HTTP cache (the lastmods spare requests for cached pages only); a
        local file: the page alone.
        """
        remote = urlsplit(self.start_url).scheme in ("http", "https")
        if not remote or not self.settings.getbool("HTTPCACHE_ENABLED"):
            yield self.start_request()
            return
        robots = urljoin(self.start_url, "/robots.txt")  # (the cache keeps it a day)
        yield scrapy.Request(
            robots, callback=self.parse_robots, errback=self.no_sitemap, dont_filter=True
        )

    def parse_robots(self, response: Response) -> Iterator[Any]:
        """Ask for the sitemaps robots.txt names on this site; without any, the start page."""
        found = [u for u in sitemaps_of(response.body, response.url) if same_site(u, response.url)]
        yield self.fetched_item(response, reuse=ROBOTS_MAX_AGE)
        yield from self._sitemap_requests(found)
        if not self.sitemaps_open:
            yield self.start_request()

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Keep a sitemap's lastmods (an index: ask for its parts); the last one: the start."""
        data = read_sitemap(response.body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
        yield self.fetched_item(response)
        self.lastmods.update(data.lastmods)
        yield from self._sitemap_requests([u for u in data.sitemaps if same_site(u, response.url)])
        yield from self.no_sitemap(None)

    def no_sitemap(self, failure: Failure | None) -> Iterator[Any]:
        """A sitemap (or robots.txt) that could not be read; the last one: the start page."""
        self.sitemaps_open = max(0, self.sitemaps_open - 1)
        if not self.sitemaps_open:
            yield self.start_request()

    def _sitemap_requests(self, urls: list[str]) -> Iterator[scrapy.Request]:
        for url in urls[: MAX_SITEMAPS - self.sitemaps_asked]:
            self.sitemaps_asked += 1
            self.sitemaps_open += 1
            yield scrapy.Request(
                url, callback=self.parse_sitemap, errback=self.no_sitemap, dont_filter=True
            )

    def closed(self, reason: str) -> None:
        """Keep the list entries whose detail pages were read, for the next crawl."""
        self.entries.save()
        super().closed(reason)

    def parse_page(self, response: Response) -> Iterator[Any]:
        yield from self.parse_list(response)

    def _events(self, response: Response) -> tuple[schemaorg.PageData, list[dict[str, Any]]]:
        page = schemaorg.extract_page(response.body, response.url)
        result = ParseResult()
        schemaorg.records_from_page(page, self.source, page_url=response.url, result=result)
        items = [self.event_item(record) for record in result.events]
        items += [self.problem_item(response.url, p.reason) for p in result.problems]
        return page, items

    def parse_list(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            yield self.page_item(response, events=0, role="list")
            yield self.problem_item(response.url, "not an HTML page")
            return
        page, items = self._events(response)
        yield self.page_item(response, events=len(page.events), role="list")
        yield from items
        canonical = response.css('link[rel="canonical"]::attr(href)').get()
        details = [
            (
                rebase(absolute(response, u), canonical=canonical, actual=response.url),
                page.list_entries.get(u, u),
            )
            for u in page.list_urls
        ]
        if not details and not page.events:
            details = [
                (url, text) for url, text in self._links(response) if below(url, response.url)
            ]
        for url, entry in details:
            yield self.listed_item(url.split("#", 1)[0])
            yield from self._follow(url, self.parse_detail, entry=entry_fingerprint(entry))
        for url in self._next_pages(response):
            yield from self._follow(url, self.parse_list)

    @staticmethod
    def _links(response: TextResponse) -> list[tuple[str, str]]:
        """Each link with the text of the list entry around it (its li, article or row)."""
        links = []
        for link in response.css("a[href]"):
            around = link.xpath("ancestor::*[self::li or self::article or self::tr][1]")
            block = around[0] if around else link
            text = " ".join(" ".join(block.css("::text").getall()).split())
            links.append((absolute(response, link.attrib["href"]), text))
        return links

    def parse_detail(self, response: Response) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            yield self.problem_item(response.url, "not an HTML page")
            return
        page, items = self._events(response)
        remembered = bool(page.events and response.meta.get("entry"))
        if remembered:  # the next crawl takes it from the cache while its entry stays
            self.entries.read(response.meta["entry_url"], response.meta["entry"])
        reuse = self.detail_max_age if remembered and self.detail_max_age > 0 else None
        yield self.page_item(response, events=len(page.events), role="detail", reuse=reuse)
        if not page.events:
            yield self.problem_item(response.url, schemaorg.no_events_reason(page))
        yield from items

    def _follow(self, url: str, callback: Any, entry: str | None = None) -> Iterator[Any]:
        url = url.split("#", 1)[0]
        if url in self.seen or not same_site(url, self.site_url):
            return
        self.seen.add(url)
        if not self.may_request():
            yield {
                **self.problem_item(url, f"not fetched: over max_pages ({self.max_pages})"),
                "unreached": True,
            }
            return
        meta: dict[str, Any] = {}
        lastmod = self.lastmods.get(page_key(url))
        if entry is not None and lastmod is not None:
            entry = entry_fingerprint(f"{entry} lastmod {lastmod}")
        if entry is not None:
            meta = {"entry": entry, "entry_url": url}
            if self.detail_max_age > 0 and self.entries.unchanged(url, entry):
                meta[REUSE_MAX_AGE] = self.detail_max_age
        yield self.page_request(url, callback=callback, **meta)

    @staticmethod
    def _next_pages(response: Response) -> list[str]:
        hrefs = response.css('link[rel="next"]::attr(href), a[rel~="next"]::attr(href)').getall()
        for link in response.css("a[href]"):
            text = " ".join(link.css("::text").getall())
            classes = link.attrib.get("class", "")
            if _NEXT_TEXT.search(text) or re.search(r"\bnext\b", classes):
                hrefs.append(link.attrib["href"])
        return [absolute(response, h) for h in hrefs]
