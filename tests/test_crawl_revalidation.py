"""A re-crawl costs what changed: list pages revalidated, unchanged detail pages from the cache.

A real loopback site (pytest-httpserver) whose pages carry ETags and ``Cache-Control:
no-cache``; the requests it logs are what the crawl cost. Before a crawl, a harvest asks
the site with its own fetcher whether the last crawl's answers changed
(``crawlers.crawl_revalidate``): an unchanged site needs no crawl and no crawl process.
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers import crawl_revalidate
from crawlers.crawl import CrawlOptions, crawl_source
from crawlers.crawl_worker import CrawlWorker
from crawlers.fetch import Fetcher
from crawlers.read import SourceRead, read_source
from crawlers.records import ParseResult, Window
from crawlers.source import SourceConfig
from crawlers.spiders.cache import prune
from tests.conftest import SAMPLE_NOW

UA = "overstap-agenda-tests"


class Site:
    """A schema.org list page and its detail pages, answering If-None-Match with 304."""

    def __init__(self, server: HTTPServer, details: int, sitemap: bool = False) -> None:
        self.server = server
        self.lastmods = {f"agenda/e{n}.html": "2027-01-01" for n in range(details)}
        robots = b"User-agent: *\nAllow: /\n"
        if sitemap:  # named by robots.txt, with a lastmod for every detail page
            robots += f"Sitemap: {server.url_for('/sitemap.xml')}\n".encode()
            server.expect_request("/sitemap.xml").respond_with_handler(self.sitemap)
        self.entries: dict[str, dict[str, Any]] = {
            f"agenda/e{n}.html": {"@type": "ListItem", "url": f"agenda/e{n}.html"}
            for n in range(details)
        }
        self.titles = {f"agenda/e{n}.html": f"Informatieavond {n}" for n in range(details)}
        server.expect_request("/robots.txt").respond_with_handler(
            lambda request: self.answer(request, robots, "text/plain")
        )
        server.expect_request("/agenda.html").respond_with_handler(self.listing)
        server.expect_request(re.compile(r"^/agenda/")).respond_with_handler(self.detail)

    def answer(self, request: Request, body: bytes, kind: str) -> Response:
        etag = f'"{zlib.crc32(body):x}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}  # "revalidate every time"
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers=headers)
        return Response(body, content_type=kind, headers=headers)

    def sitemap(self, request: Request) -> Response:
        urls = "".join(
            f"<url><loc>https://school.example.nl/{name}</loc><lastmod>{lastmod}</lastmod></url>"
            for name, lastmod in self.lastmods.items()
        )
        body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        return self.answer(request, body.encode(), "application/xml")

    def listing(self, request: Request) -> Response:
        elements = [{**entry, "position": n} for n, entry in enumerate(self.entries.values(), 1)]
        data = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": elements}
        html = f'<html><head><script type="application/ld+json">{json.dumps(data)}</script>'
        return self.answer(request, (html + "</head></html>").encode(), "text/html")

    def detail(self, request: Request) -> Response:
        name = request.path.lstrip("/")
        if name not in self.titles:
            return Response("weg", status=404)
        event = {
            "@context": "https://schema.org",
            "@type": "Event",
            "name": self.titles[name],
            "startDate": f"2027-02-0{1 + int(name[8:-5]) % 9}T19:00:00+01:00",
            "location": {"@type": "Place", "name": "Stadhuis", "address": "Markt 1, Zwolle"},
        }
        html = f'<html><head><script type="application/ld+json">{json.dumps(event)}</script>'
        return self.answer(request, (html + "</head></html>").encode(), "text/html")

    def requests(self) -> list[tuple[str, int]]:
        """The requests since the last call: (path, status answered)."""
        seen = [(r.path, response.status_code) for r, response in self.server.log]
        self.server.log.clear()
        return seen


@pytest.fixture
def site(httpserver: HTTPServer) -> Iterator[Site]:
    yield Site(httpserver, details=5)


def crawl(site: Site, tmp_path: Path, **changes: Any) -> ParseResult:
    options = CrawlOptions(
        **{"user_agent": UA, "delay": 0.0, "retries": 0, "cache_dir": str(tmp_path / "cache")}
        | changes
    )
    src = SourceConfig(
        id="site", name="Site", kind="jsonld", url=site.server.url_for("/agenda.html"), region="x"
    )
    result, _ = crawl_source(src, now=SAMPLE_NOW, window=Window.around(SAMPLE_NOW), options=options)
    return result


def titles(result: ParseResult) -> list[str]:
    return sorted(e.title for e in result.events)


def test_an_unchanged_site_costs_one_conditional_request(site: Site, tmp_path: Path) -> None:
    first = crawl(site, tmp_path)
    assert len(first.events) == 5 and not first.partial
    assert sorted(site.requests()) == sorted(
        [("/robots.txt", 200), ("/agenda.html", 200)]
        + [(f"/agenda/e{n}.html", 200) for n in range(5)]
    )
    again = crawl(site, tmp_path, delay=1.0)  # the politeness delay as in production
    # robots.txt is a day fresh, the list page says 304 although it was sent with
    # no-cache, and every detail page comes from the cache: one request, no wait
    assert site.requests() == [("/agenda.html", 304)]
    assert [e.to_dict() for e in again.events] == [e.to_dict() for e in first.events]
    assert not again.partial


def test_changed_and_new_entries_are_fetched_and_only_they(site: Site, tmp_path: Path) -> None:
    crawl(site, tmp_path)
    site.requests()
    site.entries["agenda/e1.html"]["name"] = "Informatieavond 1 (verplaatst)"
    site.titles["agenda/e1.html"] = "Informatieavond 1 (verplaatst)"
    site.entries["agenda/e7.html"] = {"@type": "ListItem", "url": "agenda/e7.html"}
    site.titles["agenda/e7.html"] = "Open dag 7"
    site.titles["agenda/e2.html"] = "Stil gewijzigd"  # its list entry says nothing new
    result = crawl(site, tmp_path)
    assert sorted(site.requests()) == [
        ("/agenda.html", 200),
        ("/agenda/e1.html", 200),
        ("/agenda/e7.html", 200),
    ]
    assert "Informatieavond 1 (verplaatst)" in titles(result) and "Open dag 7" in titles(result)
    assert "Informatieavond 2" in titles(result)  # within detail_max_age: the cached copy
    # past detail_max_age every detail page is revalidated: the silent change is seen
    revalidated = crawl(site, tmp_path, detail_max_age=0.0)
    assert "Stil gewijzigd" in titles(revalidated)
    statuses = dict(site.requests())
    assert statuses["/agenda/e2.html"] == 200 and statuses["/agenda/e0.html"] == 304


def test_a_page_that_failed_is_asked_for_again(site: Site, tmp_path: Path) -> None:
    missing = site.titles.pop("agenda/e3.html")
    first = crawl(site, tmp_path)
    assert first.partial and len(first.events) == 4  # a listed page not read: partial
    site.requests()
    site.titles["agenda/e3.html"] = missing
    again = crawl(site, tmp_path)
    assert ("/agenda/e3.html", 200) in site.requests()
    assert len(again.events) == 5


def test_without_a_cache_every_page_is_fetched(site: Site, tmp_path: Path) -> None:
    crawl(site, tmp_path, cache_dir=None)
    site.requests()
    crawl(site, tmp_path, cache_dir=None)
    assert len([path for path, status in site.requests() if status == 200]) == 7


def test_answers_no_crawl_asked_for_in_a_month_are_removed(site: Site, tmp_path: Path) -> None:
    crawl(site, tmp_path)
    folder = tmp_path / "cache" / "site"
    answers = sorted(folder.glob("*/*/*/pickled_meta"))
    assert len(answers) == 7  # robots.txt, the list page, 5 detail pages
    month_ago = time.time() - 31 * 24 * 3600
    for meta in answers[:2]:
        os.utime(meta, (month_ago, month_ago))
    assert prune(str(folder)) == 2
    assert sorted(folder.glob("*/*/*/pickled_meta")) == answers[2:]


def test_a_sitemap_lastmod_shows_a_change_the_list_does_not(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver, details=4, sitemap=True)
    first = crawl(site, tmp_path)
    assert len(first.events) == 4
    assert ("/sitemap.xml", 200) in site.requests()
    again = crawl(site, tmp_path, delay=1.0)
    # robots.txt a day fresh; the sitemap and the list revalidated; details from the cache
    assert site.requests() == [("/sitemap.xml", 304), ("/agenda.html", 304)]
    assert titles(again) == titles(first)
    site.titles["agenda/e2.html"] = "Stil gewijzigd"  # the list entry says nothing new,
    site.lastmods["agenda/e2.html"] = "2027-01-03"  # its lastmod does
    changed = crawl(site, tmp_path)
    assert site.requests() == [
        ("/sitemap.xml", 200),
        ("/agenda.html", 304),
        ("/agenda/e2.html", 200),
    ]
    assert "Stil gewijzigd" in titles(changed) and len(changed.events) == 4


def read(
    site: Site, tmp_path: Path, fingerprint: str | None, worker: CrawlWorker, **changes: Any
) -> SourceRead:
    """Read the site as a harvest does (crawlers.read), with the harvest's own fetcher."""
    options = CrawlOptions(
        **{
            "user_agent": UA,
            "delay": 0.0,
            "retries": 0,
            "cache_dir": str(tmp_path / "cache"),
            "worker": worker,
        }
        | changes
    )
    src = SourceConfig(
        id="site", name="Site", kind="jsonld", url=site.server.url_for("/agenda.html"), region="x"
    )
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        return read_source(
            src,
            fetcher=fetcher,
            now=SAMPLE_NOW,
            window=Window.around(SAMPLE_NOW),
            crawl_options=options,
            previous_fingerprint=fingerprint,
        )


def test_an_unchanged_site_is_asked_before_a_crawl_and_needs_none(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver, details=4, sitemap=True)
    with CrawlWorker() as worker:
        first = read(site, tmp_path, None, worker)
        assert first.result is not None and len(first.result.events) == 4
        assert worker.starts == 1
        worker.close()  # a crawl would have to start the process again
        site.requests()
        again = read(site, tmp_path, first.fingerprint, worker, delay=0.2)
        # the harvest's fetcher revalidates what the crawl would: the sitemap and the
        # list (robots.txt and the detail pages the crawl would take from its cache)
        assert again.unchanged and again.fingerprint == first.fingerprint
        assert sorted(site.requests()) == [("/agenda.html", 304), ("/sitemap.xml", 304)]
        assert (worker.pid, worker.starts) == (None, 1)  # no crawl process started
        site.titles["agenda/e2.html"] = "Stil gewijzigd"
        site.lastmods["agenda/e2.html"] = "2027-01-03"  # the sitemap changed: crawl
        changed = read(site, tmp_path, first.fingerprint, worker)
        assert changed.result is not None and "Stil gewijzigd" in titles(changed.result)
        assert worker.starts == 2
        site.requests()
        # another stored fingerprint (a held listing, a partial crawl): crawled again
        other = read(site, tmp_path, "another", worker)
        assert other.result is not None and ("/sitemap.xml", 304) in site.requests()
        assert read(site, tmp_path, other.fingerprint, worker).unchanged


def test_past_the_detail_age_or_after_a_partial_crawl_the_site_is_crawled(
    site: Site, tmp_path: Path
) -> None:
    with CrawlWorker() as worker:
        first = read(site, tmp_path, None, worker)
        assert read(site, tmp_path, first.fingerprint, worker).unchanged
        site.titles["agenda/e2.html"] = "Stil gewijzigd"  # its list entry says nothing new
        assert read(site, tmp_path, first.fingerprint, worker).unchanged  # as a crawl would
        # a detail page counts as cached only while it is young enough: then it is asked
        stale = read(site, tmp_path, first.fingerprint, worker, detail_max_age=0.0)
        assert stale.result is not None and "Stil gewijzigd" in titles(stale.result)
        missing = site.titles.pop("agenda/e3.html")
        partial = read(site, tmp_path, stale.fingerprint, worker, detail_max_age=0.0)
        assert partial.result is not None and partial.result.partial
        site.titles["agenda/e3.html"] = missing
        site.requests()
        again = read(site, tmp_path, partial.fingerprint, worker)  # the manifest is gone
        assert again.result is not None and ("/agenda/e3.html", 200) in site.requests()


def test_the_check_spaces_its_requests_as_a_crawl_does(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    site = Site(httpserver, details=2, sitemap=True)
    with CrawlWorker() as worker:
        first = read(site, tmp_path, None, worker)
    waits: list[float] = []
    manifest = crawl_revalidate.manifest_path(str(tmp_path / "cache" / "site"))
    assert manifest is not None and manifest.is_file()
    key = json.loads(manifest.read_text())["key"]
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        check = {"key": key, "fetcher": fetcher, "delay": 2.0, "revalidated_share": 0.25}
        same = crawl_revalidate.unchanged(
            manifest,
            fingerprint=first.fingerprint,
            detail_max_age=3600,
            sleep=waits.append,
            **check,
        )
        assert same and waits == [0.5]  # two 304s: a quarter of the delay between them
        waits.clear()
        site.titles["agenda/e1.html"] = "Stil gewijzigd"  # asked when no longer young
        changed = crawl_revalidate.unchanged(
            manifest, fingerprint=first.fingerprint, detail_max_age=0, sleep=waits.append, **check
        )
    # the sitemap and the list answer 304, then the detail pages in the crawl's order
    # until the changed one (the check stops at the first change)
    assert not changed and waits in ([0.5, 0.5], [0.5, 0.5, 0.5])
