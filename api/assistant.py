"""The calendar for AI assistants: a read-only MCP server over the query of ``/api/events``.

Tools: ``search_events``, ``get_event``, ``list_regions``, ``list_taxonomy`` and
``subscription_url``. Filters go through ``api.params.build_filters`` and the search through
``aggregator.query.StoreSnapshot``, the very functions behind ``/api/events``, so an
assistant's answer and the API's agree. Answers are bounded: at most ``MAX_PER_PAGE`` events
a call, descriptions cut to ``SNIPPET_CHARS`` in lists and ``DESCRIPTION_CHARS`` in one
event. A bad argument is a tool error (``is_error``) that says what is wrong.

The same server runs over stdio (``agenda mcp``) and, mounted by ``mount_assistant``, over
streamable HTTP at ``/mcp`` in the web app (stateless, JSON answers: nothing is kept between
requests, so any worker can answer any call).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import FastAPI, HTTPException
from fastapi.responses import JSONResponse
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.config import AppConfig
from aggregator.localtime import local_iso, today_local
from aggregator.models import Event
from aggregator.query import EventFilters, EventPage, StoreSnapshot
from api.params import build_filters
from feeds.event_json import event_to_json
from feeds.jsonld import event_page_url

SERVER_NAME = "overstap-agenda"
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 10
SNIPPET_CHARS = 300
DESCRIPTION_CHARS = 3000
FALLBACK_BASE_URL = "http://127.0.0.1:8000"

INSTRUCTIONS = (
    "Overstap Agenda is the national calendar of orientation activities for people who "
    "consider a switch into education work in the Netherlands (overstappers, zij-instromers, "
    "herintreders, internationals): meeloopdagen, informatieavonden, webinars, open dagen, "
    "matching events. Use search_events to find activities (Dutch words work best in 'q'), "
    "get_event for the details of one, list_regions and list_taxonomy for the allowed filter "
    "values, and subscription_url to give the user a calendar (iCal) or feed address for a "
    "search. Always give the user the event's page_url or registration_url."
)

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
_SPACES = re.compile(r"\s+")

# The filter arguments, shared by search_events and subscription_url (names as in the API,
# but ``date_from``/``date_to`` for ``from``/``to`` and ``type`` lists as ``types``).
Query = Annotated[
    str | None,
    Field(
        description="Free text, every word matched as a prefix in title, description, place "
        "and organiser. Dutch works best, e.g. 'meeloopdag', 'zij-instroom pabo', "
        "'informatieavond techniek'.",
        max_length=200,
    ),
]
RegionSlugs = Annotated[
    list[str] | None,
    Field(description="Region slugs from list_regions, e.g. ['twente'] or ['groot-amsterdam']."),
]
SectorSlugs = Annotated[
    list[str] | None,
    Field(
        description="Sectors: po (basisonderwijs, primary), vo (voortgezet onderwijs, "
        "secondary), mbo (vocational), ho (higher), so (speciaal onderwijs), pro "
        "(praktijkonderwijs). E.g. ['vo'] for 'middelbare school'."
    ),
]
TypeSlugs = Annotated[
    list[str] | None,
    Field(
        description="Activity types from list_taxonomy, e.g. ['meeloopdag'] (meelopen, kijkje "
        "in de klas), ['voorlichting'] (informatieavond), ['webinar'], ['open-dag'], "
        "['matching'] (banenmarkt, speeddate)."
    ),
]
PhaseSlugs = Annotated[
    list[str] | None,
    Field(
        description="Klantreis phases: interesseren, orienteren, besluiten, matchen, "
        "voorbereiden, starten."
    ),
]
AudienceSlugs = Annotated[
    list[str] | None,
    Field(
        description="Audiences, e.g. ['zij-instromers'], ['herintreders'], ['internationals'], "
        "['oop'] (onderwijsondersteunend personeel), ['studenten']."
    ),
]
AttendanceModes = Annotated[
    list[str] | None,
    Field(description="offline, online or mixed; a mixed (hybrid) event counts as both."),
]
Languages = Annotated[list[str] | None, Field(description="nl or en, e.g. ['en'] for English.")]
FreeOnly = Annotated[
    bool | None, Field(description="true: only free events; false: only paid ones.")
]
FirstDay = Annotated[
    date | None,
    Field(
        description="First day (YYYY-MM-DD). Default: today, so past events are left out; "
        "'in maart 2027' is date_from 2027-03-01 with date_to 2027-03-31."
    ),
]
LastDay = Annotated[date | None, Field(description="Last day (YYYY-MM-DD), inclusive.")]
Near = Annotated[
    str | None,
    Field(
        description="Around a place: a Dutch place name ('Eindhoven', 'Den Bosch'), a postcode "
        "('5611' or '5611 AB') or 'lat,lon'. Adds distance_km to every result.",
        max_length=80,
    ),
]
Radius = Annotated[
    float | None, Field(description="Radius around 'near' in km (default 25).", gt=0, le=300)
]
PlusOnline = Annotated[
    bool, Field(description="With near: also online and hybrid events, wherever hosted.")
]


class _Reader:
    """The one seam to the read side: the API's filter building and query, on one engine."""

    def __init__(self, *, config: AppConfig, engine: Engine) -> None:
        self.config = config
        self.engine = engine

    def filters(self, **raw: Any) -> EventFilters:
        """The API's filters for these raw values (a bad value becomes a tool error)."""
        try:
            return build_filters(self.config, **raw)
        except HTTPException as exc:
            raise ToolError(str(exc.detail)) from exc

    def search(self, filters: EventFilters) -> EventPage:
        """One page of matching events, exactly as ``/api/events`` reads it."""
        with Session(self.engine) as session:
            return StoreSnapshot(session).events(filters, self.config.regions)

    def event(self, event_id: str) -> EventPage | None:
        """One event with its provenance, or None."""
        with Session(self.engine) as session:
            return StoreSnapshot(session).event(event_id)


def _near_answer(filters: EventFilters) -> dict[str, Any] | None:
    """Where a ``near`` search was resolved to, so the assistant can say so."""
    point = filters.near
    if point is None:
        return None
    return {
        "label": point.label,
        "kind": point.kind,
        "place": point.place,
        "municipality": point.municipality,
        "lat": point.lat,
        "lon": point.lon,
        "km": filters.km,
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _snippet(text: str | None, limit: int) -> str:
    return _cut(_SPACES.sub(" ", text or "").strip(), limit)


def _place(event: Event) -> str | None:
    if event.attendance == "online":
        return "online"
    parts = [event.location_name, event.city]
    if event.location_name and event.city and event.city.lower() in event.location_name.lower():
        parts = [event.location_name]
    place = ", ".join(p for p in parts if p) or None
    if place and event.attendance == "mixed":
        place += " (and online)"
    return place


def _when(event: Event) -> tuple[str | None, str | None]:
    if event.all_day:
        return (
            event.start_date.isoformat() if event.start_date else None,
            event.end_date.isoformat() if event.end_date else None,
        )
    return local_iso(event.start_at), local_iso(event.end_at)


def event_summary(event: Event, *, base_url: str, distance: float | None) -> dict[str, Any]:
    """What a result list tells an assistant about one event."""
    start, end = _when(event)
    return {
        "id": event.id,
        "title": event.title,
        "start": start,
        "end": end,
        "all_day": event.all_day,
        "status": event.status,
        "place": _place(event),
        "attendance": event.attendance,
        "region": event.region,
        "distance_km": distance,
        "type": event.activity_type,
        "sectors": list(event.sectors or []),
        "audiences": list(event.audiences or []),
        "is_free": event.is_free,
        "url": event.url,
        "registration_url": event.registration_url,
        "page_url": event_page_url(event.id, base_url=base_url),
        "summary": _snippet(event.description, SNIPPET_CHARS),
    }


def _query_string(**raw: Any) -> str:
    """The API query string of raw filter values (lists as comma-separated values)."""
    names = {"date_from": "from", "date_to": "to", "type_": "type"}
    params: list[tuple[str, str]] = []
    for name, value in raw.items():
        if value is None or value == [] or value == "" or (name == "plus_online" and not value):
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"  # free=false: only paid events
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        params.append((names.get(name, name), str(value)))
    return urlencode(params)


BaseUrl = Callable[[Context | None], str]


def _base_url_from(configured: str | None) -> BaseUrl:
    """The public base URL: the configured one, else the Host the HTTP call came in on."""

    def base_url(ctx: Context | None) -> str:
        if configured:
            return configured.rstrip("/")
        headers = None
        if ctx is not None:
            try:
                headers = ctx.headers
            except ValueError:  # no request (a direct call in tests)
                headers = None
        host = headers.get("host") if headers else None
        if host:
            scheme = headers.get("x-forwarded-proto", "http") if headers else "http"
            return f"{scheme}://{host}"
        return FALLBACK_BASE_URL

    return base_url


@dataclass(frozen=True, slots=True)
class _Tools:
    """The tool functions, bound to one reader and one way to find the public address."""

    reader: _Reader
    base_url: BaseUrl

    def search_events(
        self,
        ctx: Context,
        q: Query = None,
        region: RegionSlugs = None,
        sector: SectorSlugs = None,
        types: TypeSlugs = None,
        phase: PhaseSlugs = None,
        audience: AudienceSlugs = None,
        attendance: AttendanceModes = None,
        lang: Languages = None,
        free: FreeOnly = None,
        date_from: FirstDay = None,
        date_to: LastDay = None,
        near: Near = None,
        km: Radius = None,
        plus_online: PlusOnline = False,
        sort: Annotated[
            Literal["date", "distance", "relevance"] | None,
            Field(description="date (default), relevance (default with q), distance (needs near)"),
        ] = None,
        page: Annotated[int, Field(ge=1, le=1000)] = 1,
        per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
    ) -> dict[str, Any]:
        """Search the national calendar of orientation activities for switching into education.

        Example questions and arguments: "welke meeloopdagen voor het voortgezet onderwijs
        zijn er in maart 2027 bij Eindhoven?" -> types=['meeloopdag'], sector=['vo'],
        near='Eindhoven', date_from='2027-03-01', date_to='2027-03-31'; "online
        informatieavonden voor zij-instromers" -> types=['voorlichting'],
        attendance=['online'], audience=['zij-instromers']. Values within one filter OR
        together, different filters AND. Returns at most per_page events (default 10,
        at most 50) with total and next_page; the same search as GET /api/events.
        """
        raw = {
            "q": q,
            "date_from": date_from or today_local(),
            "date_to": date_to,
            "region": region,
            "sector": sector,
            "type_": types,
            "phase": phase,
            "audience": audience,
            "attendance": attendance,
            "lang": lang,
            "free": free,
            "near": near,
            "km": km,
            "plus_online": plus_online,
            "sort": sort,
        }
        filters = self.reader.filters(**raw, page=page, per_page=per_page)
        found = self.reader.search(filters)
        base = self.base_url(ctx)
        pages = max(1, -(-found.total // per_page))
        return {
            "total": found.total,
            "page": page,
            "pages": pages,
            "next_page": page + 1 if page < pages else None,
            "near": _near_answer(filters),
            "events": [
                event_summary(e, base_url=base, distance=found.distances.get(e.id))
                for e in found.items
            ],
            "api_url": f"{base}/api/events?{_query_string(**raw, page=page, per_page=per_page)}",
        }

    def get_event(
        self,
        ctx: Context,
        event_id: Annotated[
            str, Field(description="The id from search_events.", min_length=1, max_length=100)
        ],
    ) -> dict[str, Any]:
        """One event with everything known: description, place, organiser, registration link,
        the sources it was harvested from, and links to its page and to an .ics file.

        Example: get_event(event_id='3f1c0b7e9a2d4c5b6a71').
        """
        found = self.reader.event(event_id)
        if found is None:
            raise ToolError(f"no event with id {event_id!r}; take an id from search_events")
        event = found.items[0]
        base = self.base_url(ctx)
        data = event_to_json(event, found.records.get(event.id, []), found.sources)
        data["description"] = _cut(data["description"], DESCRIPTION_CHARS)
        data["removed_at"] = local_iso(event.removed_at)
        data["page_url"] = event_page_url(event.id, base_url=base)
        data["ics_url"] = f"{base}/events/{event.id}.ics"
        return data

    def list_regions(self) -> dict[str, Any]:
        """The regions (onderwijsregio's, arbeidsmarktregio's) a search can filter on.

        Use a slug as search_events(region=[...]); 'landelijk' holds national and online
        activities. Example: 'Twente' -> 'twente', 'regio Amsterdam' -> 'groot-amsterdam'.
        """
        config = self.reader.config
        return {
            "regions": [
                {
                    "slug": r.slug,
                    "name": r.name,
                    "name_en": r.name_en,
                    "includes": r.includes,
                    "municipalities": len(config.regions.members(r.slug)),
                }
                for r in config.regions
            ]
        }

    def list_taxonomy(self) -> dict[str, Any]:
        """Allowed values of the filters: activity types, sectors, klantreis phases and
        audiences, each with its slug and Dutch and English label (e.g. 'meeloopdag' =
        'Meeloopdag' / 'Job shadowing day')."""
        taxonomy = self.reader.config.taxonomy
        return {
            name: [{"slug": t.slug, "nl": t.nl, "en": t.en} for t in getattr(taxonomy, name)]
            for name in ("activity_types", "sectors", "phases", "audiences")
        }

    def subscription_url(
        self,
        ctx: Context,
        q: Query = None,
        region: RegionSlugs = None,
        sector: SectorSlugs = None,
        types: TypeSlugs = None,
        phase: PhaseSlugs = None,
        audience: AudienceSlugs = None,
        attendance: AttendanceModes = None,
        lang: Languages = None,
        free: FreeOnly = None,
        near: Near = None,
        km: Radius = None,
        plus_online: PlusOnline = False,
    ) -> dict[str, Any]:
        """Addresses to subscribe to a search in a calendar app (iCal, webcal) or a feed
        reader (RSS, Atom, JSON Feed), plus the search page. A subscription keeps itself up to
        date, so it has no dates. Example: "zet alle meeloopdagen in Twente in mijn agenda"
        -> subscription_url(region=['twente'], types=['meeloopdag']); give the user the
        webcal address (Apple, Outlook) or the ics address (Google Calendar: 'Van URL').
        """
        raw = {
            "q": q,
            "region": region,
            "sector": sector,
            "type_": types,
            "phase": phase,
            "audience": audience,
            "attendance": attendance,
            "lang": lang,
            "free": free,
            "near": near,
            "km": km,
            "plus_online": plus_online,
        }
        self.reader.filters(**raw)  # the same checks as the API: a bad value is an error here
        query = _query_string(**raw)
        suffix = f"?{query}" if query else ""
        base = self.base_url(ctx)
        ics = f"{base}/calendar.ics{suffix}"
        return {
            "ics": ics,
            "webcal": re.sub(r"^https?://", "webcal://", ics),
            "rss": f"{base}/feeds/events.rss{suffix}",
            "atom": f"{base}/feeds/events.atom{suffix}",
            "json_feed": f"{base}/feeds/events.json{suffix}",
            "page": f"{base}/{suffix}",
        }


def build_assistant(*, config: AppConfig, engine: Engine, base_url: str | None = None) -> MCPServer:
    """The MCP server with its five read-only tools.

    ``base_url`` is the public address for links; without it, an HTTP call's own Host is
    used (and ``FALLBACK_BASE_URL`` over stdio).
    """
    tools = _Tools(reader=_Reader(config=config, engine=engine), base_url=_base_url_from(base_url))
    server = MCPServer(
        SERVER_NAME,
        title="Overstap Agenda",
        instructions=INSTRUCTIONS,
        version="0.1.0",
        # the web app owns logging; this only keeps the SDK's own set-up quiet
        log_level="WARNING",
    )
    for tool in (
        tools.search_events,
        tools.get_event,
        tools.list_regions,
        tools.list_taxonomy,
        tools.subscription_url,
    ):
        server.add_tool(
            tool, description=inspect.cleandoc(tool.__doc__ or ""), annotations=_READ_ONLY
        )
    return server


class _PostOnly:
    """Let only POSTs reach the stateless MCP endpoint; anything else is a 405 at once.

    Without this a GET (``curl``, a crawler) opens an event stream on which a stateless
    server never sends anything: the request would hang until the client gives up.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "POST":
            await self.app(scope, receive, send)
            return
        response = JSONResponse(
            {"detail": "this is an MCP endpoint (streamable HTTP): send JSON-RPC as POST"},
            status_code=405,
            headers={"Allow": "POST"},
        )
        await response(scope, receive, send)


def mount_assistant(app: FastAPI, *, path: str = "/mcp") -> None:
    """Serve the MCP server over streamable HTTP at ``path`` of the web app.

    Stateless with JSON answers: the tools only read, so no session is worth keeping.
    DNS-rebinding protection (a Host allow-list) is off: the server only reads the public
    calendar, and the site answers on whatever domain it is deployed.
    """
    server = build_assistant(
        config=app.state.config,
        engine=app.state.engine,
        base_url=app.state.publish.base_url,
    )
    http = server.streamable_http_app(
        streamable_http_path=path,
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    [route] = [r for r in http.routes if isinstance(r, Route) and r.path == path]
    endpoint = _PostOnly(route.endpoint)
    app.router.routes.append(Route(path, endpoint=endpoint, include_in_schema=False))
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with server.session_manager.run(), outer(application) as state:
            yield state

    app.router.lifespan_context = lifespan
