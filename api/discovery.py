"""How crawlers and assistants find the calendar: /robots.txt, /sitemap.xml and /llms.txt.

The sitemap (protocol 0.9, sitemaps.org) lists the search and region pages and the page
of every live event, that is every event ``/api/events`` lists without filters (relevant,
not removed at its sources), each with ``lastmod`` (its last visible change). It is
written as it is read, so memory stays flat however many events there are. Past the
protocol's 50,000 URLs a file, ``/sitemap.xml`` becomes a sitemap index of
``/sitemaps/pages.xml`` and ``/sitemaps/events-N.xml`` parts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from aggregator.config import AppConfig, Regions
from aggregator.localtime import LOCAL_TZ
from aggregator.models import Event
from aggregator.query import EventFilters, search_statements
from api.deps import public_base_url
from feeds.jsonld import event_page_url

router = APIRouter(include_in_schema=False)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000  # per sitemap file, by the protocol
_CHUNK = 1000
# pages for people and their accounts, no use in a search index
_PRIVATE = ("/login", "/logout", "/moderation", "/submit/edit/", "/submit/similar", "/mcp")


def _live_ids(session: Session, regions: Regions) -> Any:
    # the API's own search statement: the sitemap lists what /api/events lists
    return search_statements(
        dialect=session.get_bind().dialect.name,
        filters=EventFilters(),
        regions=regions,
        paginate=False,
    )


def count_live_events(*, session: Session, regions: Regions) -> int:
    """How many events ``/api/events`` lists without filters."""
    return int(session.execute(_live_ids(session, regions).count).scalar_one())


def live_event_stamps(
    *, session: Session, regions: Regions, offset: int = 0, limit: int | None = None
) -> Iterator[tuple[str, datetime]]:
    """(id, last_modified) of every event ``/api/events`` lists unfiltered, soonest first
    (or of the ``limit`` from ``offset`` on), read in chunks."""
    ids = _live_ids(session, regions).ids.order_by(None).scalar_subquery()
    statement = (
        select(Event.id, Event.last_modified)
        .where(col(Event.id).in_(ids))
        .order_by(col(Event.start_at), col(Event.id))
        .offset(offset)
        .limit(limit)
        .execution_options(yield_per=_CHUNK)
    )
    yield from session.exec(statement)  # type: ignore[misc]


def _url(loc: str, lastmod: str | None = None) -> str:
    stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(loc)}</loc>{stamp}</url>\n"


def _pages(config: AppConfig, base: str) -> list[str]:
    pages = [f"{base}/", f"{base}/en/", f"{base}/regio"]
    return pages + [f"{base}/regio/{region.slug}" for region in config.regions]


def _urlset(
    engine: Engine,
    config: AppConfig,
    base: str,
    *,
    pages: bool,
    offset: int = 0,
    limit: int | None = None,
) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'.encode()
    if pages:
        yield "".join(_url(page) for page in _pages(config, base)).encode()
    if limit != 0:
        chunk: list[str] = []
        with Session(engine) as session:
            stamps = live_event_stamps(
                session=session, regions=config.regions, offset=offset, limit=limit
            )
            for event_id, modified in stamps:
                stamp = modified.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()
                chunk.append(_url(event_page_url(event_id, base_url=base), stamp))
                if len(chunk) >= _CHUNK:
                    yield "".join(chunk).encode()
                    chunk = []
        yield "".join(chunk).encode()
    yield b"</urlset>\n"


def _xml(body: Iterator[bytes] | bytes) -> Response:
    if isinstance(body, bytes):
        return Response(body, media_type="application/xml")
    return StreamingResponse(body, media_type="application/xml")


def _max_urls(request: Request) -> int:
    return int(getattr(request.app.state, "sitemap_max_urls", SITEMAP_MAX_URLS))


@router.get("/sitemap.xml")
def sitemap(request: Request) -> Response:
    """Every live event page (with lastmod), the search page and the region pages: one
    sitemap, or past the protocol's 50,000 URLs an index of sitemaps of 50,000 each."""
    state, base, most = request.app.state, public_base_url(request), _max_urls(request)
    with Session(state.engine) as session:
        events = count_live_events(session=session, regions=state.config.regions)
    if len(_pages(state.config, base)) + events <= most:
        return _xml(_urlset(state.engine, state.config, base, pages=True))
    parts = [f"{base}/sitemaps/pages.xml"]
    parts += [f"{base}/sitemaps/events-{n}.xml" for n in range(1, -(-events // most) + 1)]
    entries = "".join(f"<sitemap><loc>{escape(loc)}</loc></sitemap>\n" for loc in parts)
    return _xml(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{SITEMAP_NS}">\n'
        f"{entries}</sitemapindex>\n".encode()
    )


@router.get("/sitemaps/pages.xml")
def sitemap_pages(request: Request) -> Response:
    """The search and region pages (a part of the sitemap index)."""
    state = request.app.state
    return _xml(_urlset(state.engine, state.config, public_base_url(request), pages=True, limit=0))


@router.get("/sitemaps/events-{part}.xml")
def sitemap_events(part: int, request: Request) -> Response:
    """The ``part``-th 50,000 live event pages, soonest first (a part of the sitemap index)."""
    state, most = request.app.state, _max_urls(request)
    with Session(state.engine) as session:
        events = count_live_events(session=session, regions=state.config.regions)
    if not 1 <= part <= max(1, -(-events // most)):
        raise HTTPException(404, f"no sitemap part {part}")
    body = _urlset(
        state.engine,
        state.config,
        public_base_url(request),
        pages=False,
        offset=(part - 1) * most,
        limit=most,
    )
    return _xml(body)


@router.get("/robots.txt")
def robots(request: Request) -> PlainTextResponse:
    """Crawl everything public; skip accounts and moderation; the sitemap's address."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in _PRIVATE), "Allow: /", ""]
    lines.append(f"Sitemap: {public_base_url(request)}/sitemap.xml")
    return PlainTextResponse("\n".join(lines) + "\n")


_LLMS = """\
# Overstap Agenda

> The national calendar of orientation activities for people who consider a switch into
> education work in the Netherlands (overstappers: zij-instromers, herintreders,
> internationals): meeloopdagen, informatieavonden, webinars, open dagen and matching
> events from every onderwijsregio, teacher-training college and national desk, harvested
> from their own calendars, classified, deduplicated, with links to register.

All data is read-only and public; no key is needed. Dates are Europe/Amsterdam. Filters are
the same for every format: `q` (Dutch full text), `region`, `sector` (po, vo, mbo, ho, so,
pro), `type` (e.g. meeloopdag, voorlichting, webinar, open-dag, matching), `phase`,
`audience`, `attendance` (offline, online, mixed), `lang`, `free`, `from`/`to`
(YYYY-MM-DD), `near` (a place, a postcode or lat,lon) with `km`, `sort`, `page`,
`per_page`.

## AI assistants (MCP)

- [MCP server]({base}/mcp): Model Context Protocol over streamable HTTP, read-only tools
  `search_events`, `get_event`, `list_regions`, `list_taxonomy` and `subscription_url`.
  Locally: `agenda mcp` (stdio).

## API

- [Search events]({base}/api/events?from={today}&type=meeloopdag&sector=vo): JSON,
  `{{"items", "total", "page", "per_page"}}`, one canonical event shape
- [One event]({base}/api/events/{{id}}): with its sources; `?jsonld=true` adds schema.org
- [Regions]({base}/api/regions), [taxonomy]({base}/api/taxonomy), [sources]({base}/api/sources)
- [OpenAPI]({base}/openapi.json) and [its documentation]({base}/docs)

## Feeds and subscriptions

- [iCal subscription]({base}/calendar.ics?region=twente): any filter; also
  `/regions/{{slug}}.ics`
- [RSS]({base}/feeds/events.rss), [Atom]({base}/feeds/events.atom),
  [JSON Feed]({base}/feeds/events.json): the same filters

## Open data

- [All events as JSON Lines]({base}/data/events.jsonl) and [as CSV]({base}/data/events.csv):
  every field, the sources' provenance and the licence ({licence}) on every record

## Pages

- [Search]({base}/) (Dutch; English under [/en/]({base}/en/)), an event at
  `/events/{{id}}` with schema.org Event markup, [regions]({base}/regio)
- [Sitemap]({base}/sitemap.xml)
"""


@router.get("/llms.txt")
def llms_txt(request: Request) -> PlainTextResponse:
    """What the site offers to language models and their tools (llmstxt.org format)."""
    from aggregator.localtime import today_local

    text = _LLMS.format(
        base=public_base_url(request),
        today=today_local().isoformat(),
        licence=request.app.state.publish.open_data_licence,
    )
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
