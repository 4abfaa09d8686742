"""Crawl costs: a full and an unchanged crawl of a schema.org site and a tribe site, start-up cost.

Serves on loopback a schema.org site (a list page with an ItemList of ``BENCH_CRAWL_DETAILS``
detail pages, default 20) and a The Events Calendar site (``BENCH_CRAWL_TRIBE_PAGES`` REST
pages of 50 events, default 3), every answer with an ETag and Last-Modified, the
schema.org site also with ``Cache-Control: no-cache``. Each is crawled with the politeness
delay of ``BENCH_CRAWL_DELAY`` (default 1 s, the HARVEST_CRAWL_DELAY default), then again
unchanged. Prints wall time and the requests the site saw (200s and 304s), the crawl
process's start-up cost (a cold crawl of a local page minus a warm one), and 4 sites
crawled side by side from 4 threads against one after another.
``python -m bench bench_crawl``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from crawlers.crawl import CrawlOptions, crawl_source
from crawlers.records import Window
from crawlers.source import SourceConfig

NOW = datetime(2027, 1, 5, tzinfo=UTC)
LAST_MODIFIED = "Mon, 04 Jan 2027 08:00:00 GMT"


def schemaorg_site(details: int) -> dict[str, bytes]:
    """Pages of a schema.org site: /agenda.html with an ItemList, /agenda/e<n>.html."""
    pages: dict[str, bytes] = {}
    elements = [
        {"@type": "ListItem", "position": n + 1, "url": f"agenda/e{n}.html"} for n in range(details)
    ]
    listing = {"@context": "https://schema.org", "@type": "ItemList", "itemListElement": elements}
    pages["/agenda.html"] = _html(listing)
    for n in range(details):
        start = NOW + timedelta(days=3 + n, hours=19)
        event = {
            "@context": "https://schema.org",
            "@type": "Event",
            "name": f"Informatieavond zij-instroom {n}",
            "startDate": start.isoformat(),
            "endDate": (start + timedelta(hours=2)).isoformat(),
            "location": {"@type": "Place", "name": "Stadhuis", "address": "Markt 1, Zwolle"},
            "description": "Kennismaken met werken in het onderwijs. " * 20,
        }
        pages[f"/agenda/e{n}.html"] = _html(event)
    return pages


def _html(data: dict[str, Any]) -> bytes:
    script = f'<script type="application/ld+json">{json.dumps(data)}</script>'
    return f"<html><head>{script}</head><body>{'<p>tekst</p>' * 200}</body></html>".encode()


def tribe_site(pages: int, per_page: int = 50) -> dict[int, bytes]:
    """The REST pages of a The Events Calendar site, ``per_page`` events each."""
    out: dict[int, bytes] = {}
    for page in range(1, pages + 1):
        events = []
        for n in range(per_page):
            start = NOW + timedelta(days=2 + n, hours=10 + page)
            events.append(
                {
                    "id": page * 1000 + n,
                    "title": f"Meeloopdag {page}-{n}",
                    "start_date": start.strftime("%Y-%m-%d %H:%M:%S"),
                    "end_date": (start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S"),
                    "timezone": "Europe/Amsterdam",
                    "url": f"https://school.example.nl/event/{page}-{n}/",
                    "description": "<p>Een dag meelopen.</p>" * 10,
                }
            )
        data: dict[str, Any] = {"events": events, "total": pages * per_page}
        if page < pages:
            data["next_rest_url"] = (
                f"https://school.example.nl/wp-json/tribe/events/v1/events/?page={page + 1}"
            )
        out[page] = json.dumps(data).encode()
    return out


class Site:
    """A loopback HTTP server answering conditional requests; counts what it served."""

    def __init__(self, details: int, tribe_pages: int) -> None:
        self.pages = schemaorg_site(details)
        self.tribe = tribe_site(tribe_pages)
        self.served: Counter[int] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.answer(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        """Serve one GET: 304 when the request's validator matches, else the body."""
        parts = urlsplit(handler.path)
        headers = {"Last-Modified": LAST_MODIFIED}
        if parts.path == "/robots.txt":
            body, kind = b"User-agent: *\nAllow: /\n", "text/plain"
        elif parts.path.startswith("/wp-json/"):
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            body, kind = self.tribe.get(page, b""), "application/json"
        elif parts.path in self.pages:
            body, kind = self.pages[parts.path], "text/html; charset=utf-8"
            headers["Cache-Control"] = "no-cache"
        else:
            body, kind = b"", ""
        if not body:
            handler.send_response(404)
            handler.end_headers()
            self.served[404] += 1
            return
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers["ETag"] = etag
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            self.served[304] += 1
            return
        handler.send_response(200)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)
        self.served[200] += 1

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def options(cache: Path, delay: float) -> CrawlOptions:
    """Crawl options as a harvest has them, with this politeness delay."""
    return CrawlOptions(
        user_agent="overstap-agenda-bench", delay=delay, retries=0, cache_dir=str(cache)
    )


def source(ident: str, kind: str, url: str) -> SourceConfig:
    """A source of this kind at this URL."""
    return SourceConfig(id=ident, name=ident, kind=kind, url=url, region="landelijk")


def timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call, and its result."""
    started = time.perf_counter()
    value = run()
    return time.perf_counter() - started, value


def crawl(src: SourceConfig, opts: CrawlOptions) -> int:
    """Crawl once; the number of events found."""
    result, _ = crawl_source(src, now=NOW, window=Window.around(NOW), options=opts)
    return len(result.events)


@contextmanager
def site(details: int, tribe_pages: int) -> Iterator[Site]:
    """A running site, closed afterwards."""
    served = Site(details, tribe_pages)
    try:
        yield served
    finally:
        served.close()


def full_and_unchanged(label: str, kind: str, path: str, delay: float) -> None:
    """Print a full crawl and an unchanged re-crawl of one site."""
    details = int(os.environ.get("BENCH_CRAWL_DETAILS", "20"))
    tribe_pages = int(os.environ.get("BENCH_CRAWL_TRIBE_PAGES", "3"))
    with site(details, tribe_pages) as served, tempfile.TemporaryDirectory() as cache:
        src = source(f"bench-{kind}", kind, served.url + path)
        opts = options(Path(cache), delay)
        for run in ("full", "unchanged"):
            time.sleep(delay)  # the next crawl of a host waits its delay: not what is measured
            served.served.clear()
            seconds, events = timed(lambda: crawl(src, opts))
            print(
                f"{label:<34} {run:<10} {seconds:7.2f} s  {events:4d} events  "
                f"200: {served.served[200]:3d}  304: {served.served[304]:3d}"
            )


def startup(delay: float) -> None:
    """Print the start-up cost a crawl pays when no crawl process is running yet."""
    import importlib.util

    page = Path(__file__).resolve().parents[1] / "config/samples/nl-sample/html"
    src = source("bench-local", "jsonld", str(page / "utrechtse-lerarenacademie-agenda.html"))
    with tempfile.TemporaryDirectory() as cache:
        opts = options(Path(cache), delay)
        if importlib.util.find_spec("crawlers.crawl_worker") is not None:
            from crawlers.crawl_worker import CrawlWorker

            with CrawlWorker() as worker:
                opts = CrawlOptions(**{**_fields(opts), "worker": worker})
                cold, _ = timed(lambda: crawl(src, opts))
                warm = min(timed(lambda: crawl(src, opts))[0] for _ in range(3))
        else:  # a process per crawl: every crawl is cold
            cold, _ = timed(lambda: crawl(src, opts))
            warm = cold
    print(f"{'crawl of one local page':<34} cold {cold:6.2f} s  warm {warm:6.2f} s")
    print(f"{'start-up cost per crawl source':<34} {cold - warm:6.2f} s saved by reuse")


def _fields(opts: CrawlOptions) -> dict[str, Any]:
    return {name: getattr(opts, name) for name in opts.__dataclass_fields__}


def side_by_side(delay: float, sites: int = 4) -> None:
    """Print ``sites`` schema.org sites crawled from as many threads, against one by one."""
    servers = [Site(5, 1) for _ in range(sites)]
    try:
        with tempfile.TemporaryDirectory() as cache:
            srcs = [
                source(f"bench-{n}", "jsonld", s.url + "/agenda.html")
                for n, s in enumerate(servers)
            ]
            one_by_one, _ = timed(
                lambda: [crawl(s, options(Path(cache) / "a", delay)) for s in srcs]
            )
            with ThreadPoolExecutor(sites) as pool:
                together, _ = timed(
                    lambda: list(
                        pool.map(lambda s: crawl(s, options(Path(cache) / "b", delay)), srcs)
                    )
                )
    finally:
        for served in servers:
            served.close()
    print(
        f"{sites} sites x 6 pages, full crawl      one by one {one_by_one:6.2f} s  "
        f"{sites} threads {together:6.2f} s"
    )


def main() -> None:
    """Run the crawl benchmark and print its table."""
    delay = float(os.environ.get("BENCH_CRAWL_DELAY", "1.0"))
    print(f"politeness delay {delay:g} s")
    startup(delay)
    full_and_unchanged("schema.org list + detail pages", "jsonld", "/agenda.html", delay)
    full_and_unchanged("The Events Calendar REST", "tribe", "/", delay)
    side_by_side(delay)


if __name__ == "__main__":
    main()
