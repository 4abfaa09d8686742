"""Subscriptions: /calendar.ics and /regions/{slug}.ics, and RSS/Atom/JSON feeds of events.

Every format takes the filters of /api/events (``api.params``). A route only says which
events (the filters and the window of its format) and which registered renderer
(``feeds.registry``) with what context; validation, ETag, 304, caching and gzip are
``api.export_cache.Exports``, on one store snapshot per request.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from aggregator.config import AppConfig
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.query import EventFilters, StoreSnapshot
from api.api_models import error_responses
from api.deps import public_base_url
from api.export_cache import Exports, export_key
from api.params import FiltersDep
from feeds.registry import (
    CALENDAR_DESCRIPTION,
    CALENDAR_NAME,
    OutputRenderer,
    RenderContext,
    output_renderer,
)

router = APIRouter(tags=["calendar"])
PAST_DAYS = 30  # past events stay this long in a calendar, so subscribers keep their history
REMOVED_GRACE = timedelta(days=30)  # removed events stay as CANCELLED this long
# the feed routes' renderers (registered in feeds.registry) by the feed's file extension
FEED_RENDERERS = {"rss": "rss", "atom": "atom", "json": "jsonfeed"}


@dataclass(frozen=True, slots=True)
class Exporter:
    """What an export needs from the app: its configuration and its export serving."""

    config: AppConfig
    exports: Exports


async def exporter(request: Request) -> Exporter:
    """The app's exporter context (made with the app).

    Async, and the routes below do their database work in one threadpool call: a
    revalidation (304) is dominated by per-request overhead, so every hop counts.
    """
    state = request.app.state
    return Exporter(state.config, state.exports)


ExporterDep = Annotated[Exporter, Depends(exporter)]


def _today() -> datetime:
    return datetime.now(LOCAL_TZ)


def calendar_filters(filters: EventFilters, *, now: datetime) -> EventFilters:
    """A subscription's window: from 30 days back (unless 'from' is given), with removed
    events kept as cancelled for a grace period.

    Both bounds move once a day (at local midnight), so that within a day an export only
    changes when the store does.
    """
    today = now.astimezone(LOCAL_TZ).date()
    if filters.date_from is None:
        filters = replace(filters, date_from=today - timedelta(days=PAST_DAYS))
    return replace(filters, removed_since=local_midnight(today - REMOVED_GRACE))


def feed_filters(filters: EventFilters, *, now: datetime) -> EventFilters:
    """A feed's window: upcoming events (from today unless 'from' is given), no removed."""
    if filters.date_from is None:
        filters = replace(filters, date_from=now.astimezone(LOCAL_TZ).date())
    return replace(filters, include_removed=False, removed_since=None)


async def _export(
    request: Request,
    exporter: Exporter,
    *,
    renderer: OutputRenderer,
    filters: EventFilters,
    context: RenderContext,
    paginate: bool,
) -> Response:
    """One export: a 304 on the event loop when the version read moments ago still holds,
    else validation on one store snapshot in one threadpool call, then the renderer."""
    exports, regions = exporter.exports, exporter.config.regions
    variant = (renderer.name, context.title, context.self_url or context.base_url)
    key = export_key(filters, variant)
    recent = exports.recent_not_modified(request, key)
    if recent is not None:
        return recent

    def render(snapshot: StoreSnapshot) -> bytes:
        if renderer.render_from_store is not None and not paginate:
            return renderer.render_from_store(snapshot, filters, regions, context, exports.vevents)
        return renderer.render(snapshot.events(filters, regions, paginate=paginate), context)

    return await run_in_threadpool(
        exports.serve,
        request,
        key=key,
        filters=filters,
        media_type=renderer.media_type,
        render=render,
        day=_today().date(),
    )


async def _ics(
    request: Request, exporter: Exporter, filters: EventFilters, name: str, description: str
) -> Response:
    context = RenderContext(base_url=public_base_url(request), title=name, description=description)
    return await _export(
        request,
        exporter,
        renderer=output_renderer("ics"),
        filters=calendar_filters(filters, now=_today()),
        context=context,
        paginate=False,
    )


@router.get(
    "/calendar.ics",
    summary="iCal subscription with any filter",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "an RFC 5545 calendar",
        },
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        **error_responses(400, 422),
    },
)
async def calendar_ics(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    """All matching events as an iCalendar subscription (ETag; 304 when unchanged).

    Takes every filter of /api/events; without ``from`` the calendar starts 30 days back.
    Cancelled events, and events removed at their source in the last 30 days, are exported
    as STATUS:CANCELLED so that subscribed calendars drop them.
    """
    return await _ics(request, exporter, filters, CALENDAR_NAME, CALENDAR_DESCRIPTION)


@router.get(
    "/regions/{slug}.ics",
    summary="iCal subscription for one region",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "an RFC 5545 calendar",
        },
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        **error_responses(400, 404, 422, c404="unknown region"),
    },
)
async def region_ics(
    slug: str, request: Request, exporter: ExporterDep, filters: FiltersDep
) -> Response:
    """The events of one region as an iCalendar subscription (other filters narrow it)."""
    if slug not in exporter.config.regions:
        raise HTTPException(404, f"unknown region {slug!r}; see /api/regions")
    region = exporter.config.regions.by_slug[slug]
    filters = replace(filters, region=slug)
    name = f"{CALENDAR_NAME} – {region.name}"
    return await _ics(request, exporter, filters, name, f"{CALENDAR_DESCRIPTION} in {region.name}")


async def _feed(kind: str, request: Request, exporter: Exporter, filters: EventFilters) -> Response:
    base_url = public_base_url(request)
    feed_url = f"{base_url}{request.url.path}"
    if request.url.query:
        feed_url += f"?{request.url.query}"
    return await _export(
        request,
        exporter,
        renderer=output_renderer(FEED_RENDERERS[kind]),
        filters=feed_filters(filters, now=_today()),
        context=RenderContext(base_url=base_url, self_url=feed_url),
        paginate=True,
    )


_FEED_DOC = (
    "Upcoming events matching the filters of /api/events (from today unless 'from' is "
    "given; 'per_page' items, default 50). ETag; 304 when unchanged."
)


@router.get(
    "/feeds/events.rss",
    summary="RSS 2.0 feed of events",
    response_class=Response,
    responses={
        200: {
            "content": {"application/rss+xml": {"schema": {"type": "string"}}},
            "description": "the feed",
        },
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        **error_responses(400, 422),
    },
    description=_FEED_DOC,
)
async def feed_rss(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    """The RSS 2.0 feed of the events matching the filters."""
    return await _feed("rss", request, exporter, filters)


@router.get(
    "/feeds/events.atom",
    summary="Atom feed of events",
    response_class=Response,
    responses={
        200: {
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
            "description": "the feed",
        },
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        **error_responses(400, 422),
    },
    description=_FEED_DOC,
)
async def feed_atom(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    """The Atom feed of the events matching the filters."""
    return await _feed("atom", request, exporter, filters)


@router.get(
    "/feeds/events.json",
    summary="JSON Feed 1.1 of events",
    response_class=Response,
    responses={
        200: {
            "content": {"application/feed+json": {"schema": {"type": "object"}}},
            "description": "the feed",
        },
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        **error_responses(400, 422),
    },
    description=_FEED_DOC,
)
async def feed_json(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    """The JSON Feed of the events matching the filters."""
    return await _feed("json", request, exporter, filters)


# Calendar apps and link checkers also ask with HEAD (headers and ETag, no body; uvicorn
# drops the body). The same endpoints answer it, outside the OpenAPI document, where a
# second method on one operation would duplicate its id.
for _path, _endpoint in (
    ("/calendar.ics", calendar_ics),
    ("/regions/{slug}.ics", region_ics),
    ("/feeds/events.rss", feed_rss),
    ("/feeds/events.atom", feed_atom),
    ("/feeds/events.json", feed_json),
):
    router.add_api_route(
        _path, _endpoint, methods=["HEAD"], response_class=Response, include_in_schema=False
    )
