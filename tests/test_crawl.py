"""Scrapy crawls in the crawl process against a real local HTTP server (pytest-httpserver).

The server serves the nl-sample pages, a robots.txt with one disallowed path, pagination,
a 404 detail page and a slow page; nothing is mocked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers.crawl import CrawlOptions, CrawlTimeout, crawl_source
from crawlers.fetch import FetchError
from crawlers.records import FeedError, ParseResult, Window
from crawlers.source import SourceConfig
from tests.conftest import AMS, SAMPLE_NOW

UA = "overstap-agenda-tests (+https://example.org/contact)"
SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "nl-sample"
OVERSTAP = SAMPLE / "html" / "overstappunt"


@pytest.fixture(scope="module")
def threaded_server() -> Iterator[HTTPServer]:
    """A threaded server, so that one slow page does not hold up the others."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(threaded_server: HTTPServer) -> Iterator[HTTPServer]:
    """The module's server, with no handlers and an empty log for each test."""
    threaded_server.clear()
    yield threaded_server
    threaded_server.clear()


def options(tmp_path: Path, **changes: Any) -> CrawlOptions:
    values: dict[str, Any] = {
        "user_agent": UA,
        "timeout": 2.0,
        "delay": 0.0,
        "retries": 0,
        "backoff": 0.0,
        "crawl_timeout": 60.0,
        "cache_dir": str(tmp_path / "cache"),
    }
    return CrawlOptions(**(values | changes))


def source(kind: str, url: str, **extra: Any) -> SourceConfig:
    return SourceConfig(
        id=f"test-{kind}", name="test", kind=kind, url=url, region="landelijk", **extra
    )


def crawl(src: SourceConfig, opts: CrawlOptions) -> ParseResult:
    result, _ = crawl_source(src, now=SAMPLE_NOW, window=Window.around(SAMPLE_NOW), options=opts)
    return result


def html(text: str) -> Response:
    return Response(text, content_type="text/html; charset=utf-8")


def serve_file(server: HTTPServer, path: str, file: Path, content_type: str) -> None:
    server.expect_request(path).respond_with_data(file.read_bytes(), content_type=content_type)


def item_list(*urls: str) -> str:
    elements = [{"@type": "ListItem", "position": n, "url": u} for n, u in enumerate(urls, 1)]
    data = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": elements}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


DETAILS = [
    "webinar-overstappen-ervaringen-zij-instromers",
    "informatieavond-zij-instroom-nijmegen",
    "open-avond-deeltijdpabo-doetinchem",
    "lunchwebinar-zij-instroom-mbo",
    "banenmarkt-onderwijs-twente",
]


def test_list_detail_pagination_robots_404_and_slow_page(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/robots.txt").respond_with_data(
        "User-agent: *\nDisallow: /agenda/geheim.html\n", content_type="text/plain"
    )
    listed = [f"agenda/{slug}.html" for slug in DETAILS[:3]]
    listed += ["agenda/geheim.html", "agenda/verdwenen.html", "agenda/traag.html"]
    page1 = (
        f"<html><head>{item_list(*listed)}"
        '<link rel="next" href="/agenda.html?page=2"></head><body>Agenda</body></html>'
    )
    page2 = (
        "<html><body><ul>"
        + "".join(f'<li><a href="agenda/{slug}.html">{slug}</a></li>' for slug in DETAILS[3:])
        + '<li><a href="/contact.html">Contact</a></li></ul></body></html>'
    )

    def agenda(request: Request) -> Response:
        return html(page2 if request.args.get("page") == "2" else page1)

    def slow(request: Request) -> Response:
        time.sleep(4)
        return html("<html></html>")

    site.expect_request("/agenda.html").respond_with_handler(agenda)
    site.expect_request("/agenda/traag.html").respond_with_handler(slow)
    site.expect_request("/agenda/verdwenen.html").respond_with_data("Niet gevonden", status=404)
    for slug in DETAILS:
        serve_file(site, f"/agenda/{slug}.html", OVERSTAP / "agenda" / f"{slug}.html", "text/html")

    # the slow page is cut off by the 1 s timeout (the "timed out" problem below), not
    # waited for: no wall-clock bound here, it would only measure the machine's load
    result = crawl(source("jsonld", site.url_for("/agenda.html")), options(tmp_path, timeout=1.0))
    urls = sorted(e.uid.rsplit("/", 1)[1] for e in result.events)
    assert urls == sorted(f"{slug}.html" for slug in DETAILS)
    reasons = " | ".join(p.reason for p in result.problems)
    assert result.skipped == 3, reasons
    assert "forbidden by robots.txt" in reasons and "geheim.html" in reasons
    assert "HTTP 404" in reasons and "verdwenen.html" in reasons
    assert "timed out" in reasons and "traag.html" in reasons
    paths = [request.path for request, _ in site.log]
    assert "/agenda/geheim.html" not in paths and "/contact.html" not in paths
    assert paths.count("/robots.txt") == 1
    assert all(request.headers.get("User-Agent") == UA for request, _ in site.log)


def test_overstappunt_list_page_links_are_mapped_onto_the_crawled_site(
    site: HTTPServer, tmp_path: Path
) -> None:
    # the list's ItemList and canonical name the public site: links follow to this server
    serve_file(site, "/overstappunt/agenda.html", OVERSTAP / "agenda.html", "text/html")
    for page in (OVERSTAP / "agenda").glob("*.html"):
        serve_file(site, f"/overstappunt/agenda/{page.name}", page, "text/html")
    result = crawl(source("jsonld", site.url_for("/overstappunt/agenda.html")), options(tmp_path))
    assert len(result.events) == 23 and result.skipped == 0
    utc = next(e for e in result.events if "working-in-dutch-education" in e.uid)
    assert utc.start == datetime(2027, 3, 10, 19, 0, tzinfo=AMS)


def test_http_cache_revalidates_with_conditional_requests(site: HTTPServer, tmp_path: Path) -> None:
    body = (SAMPLE / "html" / "onderwijsregio-rijk-van-nijmegen-agenda.html").read_bytes()

    def page(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(body, content_type="text/html", headers={"ETag": '"v1"'})

    site.expect_request("/agenda").respond_with_handler(page)
    src = source("jsonld", site.url_for("/agenda"))
    first = crawl(src, options(tmp_path))
    second = crawl(src, options(tmp_path))
    assert len(first.events) == len(second.events) == 13
    pages = [(request, response) for request, response in site.log if request.path == "/agenda"]
    assert [response.status_code for _, response in pages] == [200, 304]
    assert pages[1][0].headers.get("If-None-Match") == '"v1"'


def test_tribe_rest_pages_follow_next_rest_url(site: HTTPServer, tmp_path: Path) -> None:
    pages = {
        str(n): (SAMPLE / "json" / f"ijsseldelta-tribe-events.page{n}.json").read_bytes()
        for n in (1, 2)
    }

    def endpoint(request: Request) -> Response:
        return Response(pages[request.args.get("page", "1")], content_type="application/json")

    site.expect_request("/wp-json/tribe/events/v1/events/").respond_with_handler(endpoint)
    result = crawl(source("tribe", site.url_for("/")), options(tmp_path))
    assert len(result.events) == 17
    requests = [r for r, _ in site.log if "wp-json" in r.path]
    assert [r.args.get("page") for r in requests] == [None, "2"]
    assert requests[0].args.get("start_date") == "2026-12-06"  # window start: 30 days back
    assert {e.uid for e in result.events} >= {"4790", "4849"}


def test_selector_pages_follow_pagination(site: HTTPServer, tmp_path: Path) -> None:
    first = (SAMPLE / "html" / "co-gelderse-vallei-agenda.html").read_text(encoding="utf-8")
    first = first.replace("</section>", '</section><a class="volgende" href="?pagina=2">›</a>')
    second = (
        '<section id="agenda"><article class="agenda-item"><h3 class="agenda-item__titel">'
        '<a href="/agenda/zomerschool">Zomerschool zij-instromers</a></h3>'
        '<p class="agenda-item__datum">wo 7 jul 2027</p>'
        '<p class="agenda-item__tijd">10.00 - 15.00 uur</p></article></section>'
    )

    def agenda(request: Request) -> Response:
        return html(second if request.args.get("pagina") == "2" else first)

    site.expect_request("/agenda").respond_with_handler(agenda)
    spec = {
        "item": "section#agenda article.agenda-item",
        "fields": {
            "title": "h3 a::text",
            "url": "h3 a::attr(href)",
            "date": "p.agenda-item__datum::text",
            "time": "p.agenda-item__tijd::text",
            "location": "p.agenda-item__locatie::text",
        },
        "pagination": "a.volgende::attr(href)",
    }
    result = crawl(source("selectors", site.url_for("/agenda"), selectors=spec), options(tmp_path))
    assert len(result.events) == 12
    summer = next(e for e in result.events if e.title == "Zomerschool zij-instromers")
    assert summer.start == datetime(2027, 7, 7, 10, 0, tzinfo=AMS)
    assert summer.url == site.url_for("/agenda/zomerschool")


def test_selectors_finding_nothing_fail_the_crawl(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/agenda").respond_with_data(
        '<main><div class="events"><div class="event"><h2>Open dag</h2></div></div></main>',
        content_type="text/html",
    )
    src = source(
        "selectors",
        site.url_for("/agenda"),
        selectors={
            "item": "section#agenda article.agenda-item",
            "fields": {"title": "h3 a::text", "date": "p.datum::text"},
        },
    )
    with pytest.raises(FeedError, match=r"matched nothing on .*\(has the page layout changed\?\)"):
        crawl(src, options(tmp_path))


def test_page_without_events_fails_the_jsonld_crawl(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/agenda").respond_with_data(
        "<html><body><h1>Agenda</h1><p>Binnenkort meer.</p></body></html>", content_type="text/html"
    )
    with pytest.raises(FeedError, match=r"no schema\.org events found on 1 page"):
        crawl(source("jsonld", site.url_for("/agenda")), options(tmp_path))


def test_missing_start_page_fails_with_http_status(site: HTTPServer, tmp_path: Path) -> None:
    site.expect_request("/agenda").respond_with_data("weg", status=404)
    with pytest.raises(FetchError, match="HTTP 404") as raised:
        crawl(source("jsonld", site.url_for("/agenda")), options(tmp_path))
    assert raised.value.status == 404


def test_server_errors_are_retried_with_backoff(site: HTTPServer, tmp_path: Path) -> None:
    body = (SAMPLE / "html" / "utrechtse-lerarenacademie-agenda.html").read_bytes()
    calls: list[float] = []

    def flaky(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) < 3:
            return Response("busy", status=503)
        return Response(body, content_type="text/html")

    site.expect_request("/agenda").respond_with_handler(flaky)
    result = crawl(
        source("jsonld", site.url_for("/agenda")), options(tmp_path, retries=2, backoff=0.25)
    )
    assert len(result.events) == 10 and len(calls) == 3
    assert calls[1] - calls[0] >= 0.22 and calls[2] - calls[1] >= 0.47  # 0.25 s, then 0.5 s


def test_whole_crawl_time_limit(site: HTTPServer, tmp_path: Path) -> None:
    def slow(request: Request) -> Response:
        time.sleep(4)
        return html("<html></html>")

    site.expect_request("/agenda").respond_with_handler(slow)
    started = time.monotonic()
    with pytest.raises(CrawlTimeout, match=r"crawl timed out after 1\.5 s"):
        crawl(
            source("jsonld", site.url_for("/agenda")),
            options(tmp_path, timeout=30.0, crawl_timeout=1.5),
        )
    assert time.monotonic() - started < 4  # the limit, not the slow answer
    # the crawl process goes on serving crawls (the cancelled one stops by itself)
    local = source("jsonld", str(SAMPLE / "html" / "utrechtse-lerarenacademie-agenda.html"))
    assert len(crawl(local, options(tmp_path)).events) == 10


def test_local_files_are_crawled_through_file_urls(tmp_path: Path) -> None:
    result = crawl(
        source("tribe", "json/ijsseldelta-tribe-events.page1.json", base_dir=SAMPLE),
        options(tmp_path),
    )
    assert len(result.events) == 17  # ….page1.json continues with ….page2.json
    listed = crawl(
        source("jsonld", "html/overstappunt/agenda.html", base_dir=SAMPLE), options(tmp_path)
    )
    assert len(listed.events) == 23


def test_links_are_followed_on_the_site_a_redirect_leads_to(
    site: HTTPServer, tmp_path: Path
) -> None:
    moved = HTTPServer(host="127.0.0.1")
    moved.start()
    try:
        site.expect_request("/agenda").respond_with_data(
            "", status=301, headers={"Location": moved.url_for("/agenda.html")}
        )
        moved.expect_request("/agenda.html").respond_with_data(
            f"<html><head>{item_list('agenda/banenmarkt-onderwijs-twente.html')}</head></html>",
            content_type="text/html",
        )
        serve_file(
            moved,
            "/agenda/banenmarkt-onderwijs-twente.html",
            OVERSTAP / "agenda" / "banenmarkt-onderwijs-twente.html",
            "text/html",
        )
        result = crawl(source("jsonld", site.url_for("/agenda")), options(tmp_path))
        assert [e.title for e in result.events] == ["Banenmarkt Onderwijs Twente (Hengelo)"]
    finally:
        moved.clear()
        moved.stop()
