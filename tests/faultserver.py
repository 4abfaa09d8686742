"""A misbehaving source on loopback, in the spirit of Scrapy's test mock server.

A real HTTP server (``http.server`` in a thread) with one endpoint per fault a feed
producer or an attacker can show us. Bodies are built here from a few lines of code, so
what each endpoint sends can be read in one place:

- ``/feed.ics``, ``/feed.rss``: a good feed of ``n`` events (``?n=20``), the baseline.
- ``/bomb.ics``, ``/bomb.html``: ``Content-Encoding: gzip, gzip``, 1.8 kB on the wire,
  1 GiB decoded (an iCal feed and a page to crawl).
- ``/truncated.rss``: a good RSS feed cut in the middle of an item (``?n=``).
- ``/javascript.rss``: a feed whose links are ``javascript:`` URLs.
- ``/markup.ics``: an event whose texts carry rich console markup (``[/x]``, ``[bold``).
- ``/markup-error``: a 503 whose reason phrase carries that markup (it reaches every
  message about the source).
- ``/redirect?to=URL``: a 302 to any address (another local port, say).
- ``/slow``: a body trickled one byte every 0.2 s (a time limit must stop it).
- ``/heavy-series.ics``: the good iCal feed (``?n=``) and ``?series=2`` hourly series of
  1,990 occurrences each (under the occurrence limit, but each takes longer to expand
  than its share of a small processing budget).
- ``/flaky.ics``: the good iCal feed while ``server.broken`` is false, a 503 while it is
  true (a source that starts failing, then recovers).

``/feed.*`` honour ``?n=`` so a test can shrink a listing between harvests.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIRST_DAY = date(2027, 2, 1)
# gzip_bomb() takes seconds to build, so its output is kept as a data file
BOMB = Path(__file__).parent / "data" / "bombs" / "zeros-1gib.gz.gz"


def ics_feed(n: int, *, title: str = "Informatieavond zij-instroom {i}") -> bytes:
    """An iCal feed of ``n`` single events, one a day from 1 February 2027."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//faultserver//NL"]
    for i in range(n):
        day = (FIRST_DAY + timedelta(days=i)).strftime("%Y%m%d")
        lines += [
            "BEGIN:VEVENT",
            f"UID:event-{i}@faultserver",
            "DTSTAMP:20270101T000000Z",
            f"DTSTART;TZID=Europe/Amsterdam:{day}T190000",
            f"DTEND;TZID=Europe/Amsterdam:{day}T210000",
            f"SUMMARY:{title.format(i=i)}",
            "LOCATION:Stationsplein 1\\, Zwolle",
            f"URL:https://agenda.example.nl/event/{i}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


HEAVY_OCCURRENCES = 1990


def heavy_series(n: int, series: int) -> bytes:
    """``ics_feed(n)`` and ``series`` hourly series of ``HEAVY_OCCURRENCES`` each."""
    lines = []
    for s in range(series):
        lines += [
            "BEGIN:VEVENT",
            f"UID:heavy-{s}@faultserver",
            "DTSTAMP:20270101T000000Z",
            "DTSTART;TZID=Europe/Amsterdam:20270110T080000",
            "DTEND;TZID=Europe/Amsterdam:20270110T083000",
            f"RRULE:FREQ=HOURLY;COUNT={HEAVY_OCCURRENCES}",
            f"SUMMARY:Spreekuur zij-instroom {s}",
            "END:VEVENT",
        ]
    tail = ("\r\n".join([*lines, "END:VCALENDAR"]) + "\r\n").encode()
    return ics_feed(n).replace(b"END:VCALENDAR\r\n", tail)


_MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli"]


def rss_feed(n: int, *, link: str = "https://agenda.example.nl/event/{i}") -> bytes:
    """An RSS 2.0 feed of ``n`` items whose descriptions name their day (from 1 February 2027)."""
    items = []
    for i in range(n):
        day = FIRST_DAY + timedelta(days=i)
        when = f"{day.day} {_MONTHS[day.month - 1]} {day.year} van 19.00 tot 21.00 uur"
        items.append(
            "<item>"
            f"<title>Informatieavond zij-instroom {i}</title>"
            f"<link>{link.format(i=i)}</link>"
            f"<description><![CDATA[<p>{when}, Stationsplein 1, 8011 CW Zwolle</p>"
            "<p>Kom kennismaken met werken in het onderwijs.</p>]]></description>"
            f'<guid isPermaLink="false">event-{i}@faultserver</guid>'
            "<pubDate>Tue, 05 Jan 2027 08:00:00 +0100</pubDate>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        "<title>Fault server agenda</title><link>https://agenda.example.nl/</link>"
        "<description>Activiteiten</description>" + "".join(items) + "</channel></rss>"
    ).encode()


def truncated(body: bytes) -> bytes:
    """The first half of a body, cut wherever the middle falls (a dropped connection)."""
    return body[: len(body) // 2]


def _gzip_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


def gzip_bomb(decoded: int = 1 << 30) -> bytes:
    """``decoded`` zero bytes gzipped twice (``Content-Encoding: gzip, gzip``): ~2 kB.

    This made ``tests/data/bombs/zeros-1gib.gz.gz`` (the ``/bomb.ics`` body).
    """
    block = bytes(1 << 20)
    zeros = (block for _ in range(decoded // len(block)))
    return b"".join(_gzip_stream(_gzip_stream(zeros)))


MARKUP_TITLE = "Open dag [/x] [bold]lerarenopleiding[/bold] [link=x]"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the tests read ``server.hits`` instead."""

    def do_GET(self) -> None:
        """Answer one fault endpoint."""
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        self.server.hits.append(parts.path)  # type: ignore[attr-defined]
        self.server.hosts.append(self.headers.get("Host", ""))  # type: ignore[attr-defined]
        route = ROUTES.get(parts.path)
        if route is None:
            self._send(404, b"not found", "text/plain")
            return
        route(self, query)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _n(query: dict[str, str], default: int = 20) -> int:
    return int(query.get("n", default))


def _feed_ics(handler: _Handler, query: dict[str, str]) -> None:
    handler._send(200, ics_feed(_n(query)), "text/calendar")


def _feed_rss(handler: _Handler, query: dict[str, str]) -> None:
    handler._send(200, rss_feed(_n(query)), "application/rss+xml")


def _bomb(handler: _Handler, query: dict[str, str]) -> None:
    kind = "text/html" if handler.path.startswith("/bomb.html") else "text/calendar"
    handler._send(200, BOMB.read_bytes(), kind, {"Content-Encoding": "gzip, gzip"})


def _truncated_rss(handler: _Handler, query: dict[str, str]) -> None:
    handler._send(200, truncated(rss_feed(_n(query))), "application/rss+xml")


def _javascript_rss(handler: _Handler, query: dict[str, str]) -> None:
    body = rss_feed(_n(query, 3), link="javascript:alert(document.domain)//{i}")
    handler._send(200, body, "application/rss+xml")


def _markup_ics(handler: _Handler, query: dict[str, str]) -> None:
    handler._send(200, ics_feed(_n(query, 2), title=MARKUP_TITLE + " {i}"), "text/calendar")


def _markup_error(handler: _Handler, query: dict[str, str]) -> None:
    handler.send_response(503, MARKUP_TITLE)
    handler.send_header("Content-Length", "0")
    handler.end_headers()


def _redirect(handler: _Handler, query: dict[str, str]) -> None:
    handler._send(302, b"", "text/plain", {"Location": query["to"]})


def _slow(handler: _Handler, query: dict[str, str]) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/calendar")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    try:
        for _ in range(1000):
            handler.wfile.write(b" ")
            handler.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass  # the client gave up, as it should


def _heavy_series(handler: _Handler, query: dict[str, str]) -> None:
    body = heavy_series(_n(query), int(query.get("series", 2)))
    handler._send(200, body, "text/calendar")


def _flaky_ics(handler: _Handler, query: dict[str, str]) -> None:
    if handler.server.broken:  # type: ignore[attr-defined]
        handler._send(503, b"maintenance", "text/plain")
    else:
        _feed_ics(handler, query)


ROUTES: dict[str, Callable[[_Handler, dict[str, str]], None]] = {
    "/feed.ics": _feed_ics,
    "/feed.rss": _feed_rss,
    "/bomb.ics": _bomb,
    "/bomb.html": _bomb,
    "/truncated.rss": _truncated_rss,
    "/javascript.rss": _javascript_rss,
    "/markup.ics": _markup_ics,
    "/markup-error": _markup_error,
    "/redirect": _redirect,
    "/slow": _slow,
    "/flaky.ics": _flaky_ics,
    "/heavy-series.ics": _heavy_series,
}


class FaultServer(ThreadingHTTPServer):
    """The running server: ``url(path)`` builds addresses; ``hits`` and ``hosts`` list the
    requested paths and their Host headers; ``broken`` breaks ``/flaky.ics``."""

    daemon_threads = True

    def __init__(self, address: str = "127.0.0.1") -> None:
        super().__init__((address, 0), _Handler)
        self.address = address
        self.hits: list[str] = []
        self.hosts: list[str] = []
        self.broken = False  # /flaky.ics answers 503 while set

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server_address[1])

    def url(self, path: str, host: str | None = None) -> str:
        """The http:// URL of ``path`` on this server (``host`` instead of its address)."""
        return f"http://{host or self.address}:{self.port}{path}"


@contextmanager
def running(address: str = "127.0.0.1") -> Iterator[FaultServer]:
    """Start the fault server in a thread for the duration of the block."""
    server = FaultServer(address)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
