"""Generated source sites for bench_harvest: iCal, RSS, schema.org list+detail, tribe JSON.

:func:`build_sites` writes each site's files into a folder of its own (deterministic for
a seed, events from :mod:`bench.synthetic`); :func:`change_site` rewrites a site as its
next version. ``python -m bench.harvest_sites FOLDER`` serves every site of FOLDER on a
loopback port of its own (one site = one host for the per-host limit), prints the ports
as one JSON line and serves until its stdin closes. Even-numbered sites send ETag and
Last-Modified and answer conditional requests with 304; odd ones send no validators. A
line ``validators all|none|site`` on its stdin makes every site send them, none, or each
as it was built (the default); the server answers ``ok``. A list+detail site has a
sitemap.xml (each detail page with its lastmod) named by its robots.txt.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape

from bench.synthetic import generate
from config import bundled

AMS = "Europe/Amsterdam"
MIX = (("ics", 0.6), ("rss", 0.2), ("jsonld", 0.1), ("tribe", 0.1))
EVENTS = {"ics": 80, "rss": 30, "jsonld": 12, "tribe": 60}  # per source
TRIBE_PER_PAGE = 50
TRIBE_PATH = "/wp-json/tribe/events/v1/events/"
FIRST_VERSION = datetime(2026, 12, 1, tzinfo=UTC)  # the lastmod of an event never changed
START_PATH = {"ics": "/agenda.ics", "rss": "/agenda.rss", "jsonld": "/agenda.html", "tribe": "/"}


@dataclass(slots=True)
class SiteSpec:
    """One generated source: its kind, whether it sends validators, its events."""

    number: int
    kind: str
    validators: bool
    events: list[dict[str, Any]]
    version: int = 1

    @property
    def name(self) -> str:
        """The site's folder name and source id."""
        return f"site-{self.number:03d}-{self.kind}"


def kinds_for(count: int) -> list[str]:
    """``count`` source kinds in the bench's mix (60/20/10/10 %), spread through the list."""
    sizes = {kind: max(1, round(share * count)) if count >= 4 else 0 for kind, share in MIX}
    if count < 4:  # tiny (the quick mode): the first kinds, one each
        sizes = {kind: int(i < count) for i, (kind, _) in enumerate(MIX)}
    sizes["ics"] += count - sum(sizes.values())
    ordered = [(n / size, kind) for kind, size in sizes.items() for n in range(size)]
    return [kind for _, kind in sorted(ordered)]


def build_sites(
    count: int, folder: Path, *, today: date, per_source: dict[str, int] | None = None
) -> list[SiteSpec]:
    """Generate ``count`` sites under ``folder`` (one sub-folder each) and return them."""
    from aggregator.config import load_config

    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    sizes = per_source or EVENTS
    kinds = kinds_for(count)
    pool = generate(sum(sizes[k] for k in kinds), regions=config.regions, today=today)
    specs = []
    for number, kind in enumerate(kinds):
        events = [next(pool) for _ in range(sizes[kind])]
        specs.append(SiteSpec(number, kind, number % 2 == 0, [e for e, _ in events]))
    for spec in specs:
        write_site(spec, folder / spec.name)
    return specs


def change_site(spec: SiteSpec, folder: Path) -> None:
    """The site's next version: three events retitled, one moved by an hour."""
    spec.version += 1
    changed_at = FIRST_VERSION + timedelta(days=spec.version)
    for event in spec.events[:3]:
        event["title"] += f" (gewijzigd {spec.version})"
        event["modified"] = changed_at
    moved = spec.events[-1]
    moved["start_at"] += timedelta(hours=1)
    moved["end_at"] += timedelta(hours=1)
    moved["modified"] = changed_at
    write_site(spec, folder / spec.name)


def write_site(spec: SiteSpec, folder: Path) -> None:
    """Write a site's files (what its URLs answer); a file that stays the same is left alone."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "site.json", json.dumps({"validators": spec.validators}).encode())
    if spec.kind == "ics":
        _write(folder / "agenda.ics", render_ics(spec))
    elif spec.kind == "rss":
        _write(folder / "agenda.rss", render_rss(spec))
    elif spec.kind == "jsonld":
        (folder / "agenda").mkdir(exist_ok=True)
        _write(folder / "agenda.html", render_list_page(spec))
        _write(folder / "sitemap.xml", render_sitemap(spec))
        for number, event in enumerate(spec.events):
            _write(folder / "agenda" / f"e-{number}.html", render_detail_page(event))
    else:
        for page, body in enumerate(render_tribe_pages(spec), start=1):
            _write(folder / f"tribe-page-{page}.json", body)


def _write(path: Path, body: bytes) -> None:
    """Write ``body`` unless the file holds it already (its Last-Modified stays)."""
    if not path.is_file() or path.read_bytes() != body:
        path.write_bytes(body)


def _place(event: dict[str, Any]) -> str:
    parts = [event["location_name"], event["address"], event["postcode"], event["city"]]
    return ", ".join(p for p in parts if p) or "Online"


def _uid(spec: SiteSpec, event: dict[str, Any]) -> str:
    return f"{event['id']}@{spec.name}.example.nl"


def render_ics(spec: SiteSpec) -> bytes:
    """An iCal feed; every tenth event a weekly series of four."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//bench//{spec.name}//NL"]
    for number, event in enumerate(spec.events):
        place = _place(event).replace(",", "\\,")
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_uid(spec, event)}",
            "DTSTAMP:20270104T080000Z",
            f"DTSTART:{event['start_at']:%Y%m%dT%H%M%SZ}",
            f"DTEND:{event['end_at']:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{event['title']}",
            f"DESCRIPTION:{event['description']}",
            f"LOCATION:{place}",
            f"URL:{event['url']}",
        ]
        if number % 10 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=4")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def render_rss(spec: SiteSpec) -> bytes:
    """An RSS 2.0 feed with the RSS event module (ev:startdate and friends)."""
    items = "".join(
        "<item>"
        f"<title>{xml_escape(e['title'])}</title><link>{xml_escape(e['url'])}</link>"
        f"<guid>{xml_escape(_uid(spec, e))}</guid>"
        f"<description>{xml_escape(e['description'])}</description>"
        f"<ev:startdate>{e['start_at'].isoformat()}</ev:startdate>"
        f"<ev:enddate>{e['end_at'].isoformat()}</ev:enddate>"
        f"<ev:location>{xml_escape(_place(e))}</ev:location>"
        "</item>"
        for e in spec.events
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel>'
        f"<title>{spec.name}</title><link>https://{spec.name}.example.nl/</link>"
        f"<description>Agenda</description>{items}</channel></rss>"
    ).encode()


def _page(title: str, data: dict[str, Any], body: str = "") -> bytes:
    script = json.dumps(data, ensure_ascii=False, default=str)
    return (
        f'<!DOCTYPE html><html lang="nl"><head><meta charset="utf-8"><title>{escape(title)}'
        f'</title><script type="application/ld+json">{script}</script></head>'
        f"<body>{body}</body></html>"
    ).encode()


def render_list_page(spec: SiteSpec) -> bytes:
    """A schema.org list page: an ItemList of the detail pages (relative URLs)."""
    urls = [f"/agenda/e-{n}.html" for n in range(len(spec.events))]
    links = "".join(
        f'<li><a href="{u}">{escape(e["title"])}</a></li>'
        for u, e in zip(urls, spec.events, strict=True)
    )
    data = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "itemListElement": [
            {"@type": "ListItem", "position": n + 1, "url": u} for n, u in enumerate(urls)
        ],
    }
    return _page(f"Agenda {spec.name}", data, f"<ul>{links}</ul>")


def render_detail_page(event: dict[str, Any]) -> bytes:
    """A detail page with one schema.org Event in JSON-LD."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event["title"],
        "description": event["description"],
        "startDate": event["start_at"].isoformat(),
        "endDate": event["end_at"].isoformat(),
        "url": event["url"],
    }
    if event["city"]:
        data["location"] = {
            "@type": "Place",
            "name": event["location_name"],
            "address": {
                "@type": "PostalAddress",
                "streetAddress": event["address"],
                "postalCode": event["postcode"],
                "addressLocality": event["city"],
            },
        }
    else:
        data["eventAttendanceMode"] = "https://schema.org/OnlineEventAttendanceMode"
        data["location"] = {"@type": "VirtualLocation", "url": event["url"]}
    return _page(event["title"], data, f"<h1>{escape(event['title'])}</h1>")


def render_sitemap(spec: SiteSpec) -> bytes:
    """A sitemap of the detail pages, each with the lastmod of its event."""
    entries = "".join(
        f"<url><loc>https://{spec.name}.example.nl/agenda/e-{number}.html</loc>"
        f"<lastmod>{event.get('modified', FIRST_VERSION):%Y-%m-%dT%H:%M:%S+00:00}</lastmod></url>"
        for number, event in enumerate(spec.events)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


def render_tribe_pages(spec: SiteSpec) -> list[bytes]:
    """The Events Calendar REST pages (``next_rest_url`` on all but the last)."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(AMS)
    events = []
    for number, e in enumerate(spec.events):
        start, end = e["start_at"].astimezone(zone), e["end_at"].astimezone(zone)
        modified = e.get("modified", FIRST_VERSION)
        events.append(
            {
                "id": 1000 + number,
                "url": e["url"],
                "title": e["title"],
                "description": f"<p>{escape(e['description'])}</p>",
                "all_day": False,
                "start_date": f"{start:%Y-%m-%d %H:%M:%S}",
                "end_date": f"{end:%Y-%m-%d %H:%M:%S}",
                "utc_start_date": f"{e['start_at']:%Y-%m-%d %H:%M:%S}",
                "utc_end_date": f"{e['end_at']:%Y-%m-%d %H:%M:%S}",
                "timezone": AMS,
                "modified": f"{modified:%Y-%m-%d %H:%M:%S}",
                "modified_utc": f"{modified:%Y-%m-%d %H:%M:%S}",
                "venue": {
                    "venue": e["location_name"],
                    "address": e["address"],
                    "zip": e["postcode"],
                    "city": e["city"],
                }
                if e["city"]
                else [],
            }
        )
    pages = [events[i : i + TRIBE_PER_PAGE] for i in range(0, len(events), TRIBE_PER_PAGE)]
    bodies = []
    for number, page in enumerate(pages, start=1):
        data: dict[str, Any] = {"events": page, "total": len(events), "total_pages": len(pages)}
        if number < len(pages):
            data["next_rest_url"] = (
                f"https://{spec.name}.example.nl{TRIBE_PATH}?page={number + 1}"
                f"&per_page={TRIBE_PER_PAGE}"
            )
        bodies.append(json.dumps(data).encode())
    return bodies


def site_file(folder: Path, target: str) -> Path | None:
    """The file a request target answers with, None for a 404."""
    parts = urlsplit(target)
    if parts.path.rstrip("/") == TRIBE_PATH.rstrip("/"):
        page = parse_qs(parts.query).get("page", ["1"])[0]
        return folder / f"tribe-page-{int(page) if page.isdigit() else 0}.json"
    if parts.path in ("", "/") or ".." in parts.path:
        return None
    return folder / parts.path.lstrip("/")


VALIDATORS = {"mode": "site"}  # all | none | site: who sends validators (see the module)


def serve_site(folder: Path) -> ThreadingHTTPServer:
    """A loopback server (on a free port) answering with the files of one site."""
    own_validators = json.loads((folder / "site.json").read_text())["validators"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = site_file(folder, self.path)
            if self.path == "/robots.txt" and (folder / "sitemap.xml").is_file():
                port = self.server.server_address[1]
                body = f"User-agent: *\nSitemap: http://127.0.0.1:{port}/sitemap.xml\n".encode()
                path = None  # (no validators: a crawl keeps it for a day)
            elif path is None or not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            else:
                body = path.read_bytes()
            headers = {}
            mode = VALIDATORS["mode"]
            if path is not None and (mode == "all" or (mode == "site" and own_validators)):
                modified = path.stat().st_mtime
                headers["ETag"] = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
                headers["Last-Modified"] = formatdate(modified, usegmt=True)
                if self._not_modified(headers["ETag"], modified):
                    self.send_response(304)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    return
            self.send_response(200)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _not_modified(self, etag: str, modified: float) -> bool:
            match = self.headers.get("If-None-Match")
            if match is not None:
                return match == etag
            since = self.headers.get("If-Modified-Since")
            try:
                return since is not None and parsedate_to_datetime(since).timestamp() >= int(
                    modified
                )
            except (TypeError, ValueError):
                return False

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


def main(folder: Path) -> None:
    """Serve every site under ``folder``; print {name: port} as JSON; stop when stdin closes.

    Meanwhile each ``validators MODE`` line on stdin switches the sites' validators.
    """
    servers = {site.name: serve_site(site) for site in sorted(folder.iterdir()) if site.is_dir()}
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({name: s.server_address[1] for name, s in servers.items()}), flush=True)
    for line in sys.stdin:
        command, _, mode = line.partition(" ")
        if command == "validators" and mode.strip() in ("all", "none", "site"):
            VALIDATORS["mode"] = mode.strip()
            print("ok", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
