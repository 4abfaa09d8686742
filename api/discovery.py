"""How crawlers and assistants find the calendar: /robots.txt, /sitemap.xml and /llms.txt.

The sitemap (protocol 0.9, sitemaps.org) lists the search and region pages and the page
of every live event, that is every event ``/api/events`` lists without filters (relevant,
not removed at its sources), each with ``lastmod`` (its last visible change). It is
written as it is read, so memory stays flat however many events there are; past the
protocol's 50,000 URLs a search engine ignores the rest, which the log says.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
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
log = logging.getLogger(__name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000  # per sitemap file, by the protocol
_CHUNK = 1000
# pages for people and their accounts, no use in a search index
_PRIVATE = ("/login", "/logout", "/moderation", "/submit/edit/", "/submit/similar", "/mcp")


def live_event_stamps(*, session: Session, regions: Regions) -> Iterator[tuple[str, datetime]]:
    """(id, last_modified) of every event ``/api/events`` lists unfiltered, soonest first.

    The ids come from the API's own search statement, so the sitemap and the API agree.
    """
    dialect = session.get_bind().dialect.name
    ids = search_statements(
        dialect=dialect,
        filters=EventFilters(),
        regions=regions,
        paginate=False,
    ).ids
    statement = (
        select(Event.id, Event.last_modified)
        .where(col(Event.id).in_(ids.order_by(None).scalar_subquery()))
        .order_by(col(Event.start_at), col(Event.id))
        .execution_options(yield_per=_CHUNK)
    )
    yield from session.exec(statement)  # type: ignore[misc]


def _url(loc: str, lastmod: str | None = None) -> str:
    stamp = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    return f"<url><loc>{escape(loc)}</loc>{stamp}</url>\n"


def _sitemap(engine: Engine, config: AppConfig, base: str) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{SITEMAP_NS}">\n'.encode()
    pages = [f"{base}/", f"{base}/en/", f"{base}/regio"]
    pages += [f"{base}/regio/{region.slug}" for region in config.regions]
    yield "".join(_url(page) for page in pages).encode()
    written = len(pages)
    chunk: list[str] = []
    with Session(engine) as session:
        for event_id, modified in live_event_stamps(session=session, regions=config.regions):
            stamp = modified.astimezone(LOCAL_TZ).replace(microsecond=0).isoformat()
            chunk.append(_url(event_page_url(event_id, base_url=base), stamp))
            if len(chunk) >= _CHUNK:
                yield "".join(chunk).encode()
                written += len(chunk)
                chunk = []
    written += len(chunk)
    yield ("".join(chunk) + "</urlset>\n").encode()
    if written > SITEMAP_MAX_URLS:
        log.warning(
            "the sitemap lists %d URLs, more than the protocol's %d", written, SITEMAP_MAX_URLS
        )


@router.get("/sitemap.xml")
def sitemap(request: Request) -> Response:
    """Every live event page (with lastmod), the search page and the region pages."""
    state = request.app.state
    return StreamingResponse(
        _sitemap(state.engine, state.config, public_base_url(request)),
        media_type="application/xml",
    )


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
(YYYY-MM-DD), `near` (a postcode or lat,lon) with `km`, `sort`, `page`, `per_page`.

## AI assistants (MCP)

- [MCP server]({base}/mcp): Model Context Protocol over streamable HTTP, read-only tools
  `search_events`, `get_event`, `list_regions`, `list_taxonomy` and `subscription_url`
  (`near` also takes a Dutch place name here). Locally: `agenda mcp` (stdio).

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

    settings = request.app.state.settings
    text = _LLMS.format(
        base=public_base_url(request),
        today=today_local().isoformat(),
        licence=settings.open_data_licence,
    )
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")
