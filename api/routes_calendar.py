"""Subscriptions: /calendar.ics and /regions/{slug}.ics, and RSS/Atom/JSON feeds of events.

Every format takes the filters of /api/events. Each response has an ETag computed before
rendering (filters + the store's change marker), answers If-None-Match with 304, and is
gzipped when the client accepts it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from agenda.settings import Settings
from aggregator.config import AppConfig
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.query import EventFilters, change_marker, publish_version, query_events
from api.deps import public_base_url
from api.export_cache import (
    ExportCache,
    etag_matches,
    make_etag,
    not_modified,
    request_identity,
    serve_export,
)
from api.params import FiltersDep
from feeds.ical_export import render_ics
from feeds.syndication import (
    FeedInfo,
    FeedItem,
    render_atom,
    render_json_feed,
    render_rss,
)

router = APIRouter(tags=["calendar"])
ICS_TYPE = "text/calendar; charset=utf-8"
PAST_DAYS = 30  # past events stay this long in a calendar, so subscribers keep their history
REMOVED_GRACE = timedelta(days=30)  # removed events stay as CANCELLED this long
# Bump when a renderer's output changes, so that caches and clients see new ETags.
RENDER_VERSION = "2"
CALENDAR_NAME = "Overstap Agenda"
CALENDAR_DESCRIPTION = "Activiteiten voor overstappers naar het onderwijs"

FEED_FORMATS: dict[str, tuple[str, Callable[..., bytes]]] = {
    "rss": ("application/rss+xml; charset=utf-8", render_rss),
    "atom": ("application/atom+xml; charset=utf-8", render_atom),
    "json": ("application/feed+json; charset=utf-8", render_json_feed),
}


@dataclass(frozen=True, slots=True)
class Exporter:
    """What an export needs from the app: configuration, settings, cache and database."""

    config: AppConfig
    settings: Settings
    cache: ExportCache
    engine: Engine


async def exporter(request: Request) -> Exporter:
    """The app's exporter context (the export cache is made with the app).

    Async, and the routes below do their database work in one threadpool call: a
    revalidation (304) is dominated by per-request overhead, so every hop counts.
    """
    state = request.app.state
    return Exporter(state.config, state.settings, state.export_cache, state.engine)


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


def _filters_key(filters: EventFilters) -> list[tuple[str, object]]:
    return sorted(asdict(filters).items())


def export_key(filters: EventFilters, variant: tuple[object, ...]) -> str:
    """What an export's ETag depends on apart from the store: renderer, variant, filters."""
    return make_etag(RENDER_VERSION, variant, _filters_key(filters))


def recent_not_modified(
    request: Request, exporter: Exporter, filters: EventFilters, variant: tuple[object, ...]
) -> Response | None:
    """A 304 without a database read, when the store version was read moments ago
    (``EXPORT_VERSION_MAX_AGE``) and the client holds the ETag computed at that version.

    Runs on the event loop: no threadpool hop, no session. ``filters`` are the export's
    final filters (``calendar_filters`` applied).
    """
    if "if-none-match" not in request.headers:
        return None
    max_age = exporter.settings.export_version_max_age
    etag = exporter.cache.recent_etag(export_key(filters, variant), max_age)
    if etag is None or not etag_matches(request, etag):
        return None
    return not_modified(etag)


def export_etag(
    *,
    session: Session,
    config: AppConfig,
    cache: ExportCache,
    filters: EventFilters,
    variant: tuple[object, ...],
    identity: tuple[object, ...] | None = None,
) -> str:
    """The ETag of an export, validated before anything is rendered.

    At an unchanged store version the ETag computed last time is reused (one primary-key
    read); otherwise the change marker of the matching events is recomputed. The version
    is read first, so a write that lands meanwhile can only cause one more recomputation.
    ``identity`` (``request_identity``) lets ``api.revalidation`` answer the next poll of
    the same address before routing.
    """
    key = export_key(filters, variant)
    if identity is not None:
        cache.note_request(identity, key)
    read_at = time.monotonic()
    version = publish_version(session=session)
    cache.saw_version(version, read_at=read_at)
    etag = cache.validator(key, version)
    if etag is None:
        marker = change_marker(session=session, filters=filters, regions=config.regions)
        etag = make_etag(key, marker)
        cache.remember(key, version, etag)
    return etag


def _ics_not_modified(
    request: Request, exporter: Exporter, filters: EventFilters, name: str
) -> Response | None:
    variant = ("ics", name, public_base_url(request))
    return recent_not_modified(request, exporter, calendar_filters(filters, now=_today()), variant)


def _serve_ics(
    request: Request, exporter: Exporter, filters: EventFilters, name: str, description: str
) -> Response:
    with Session(exporter.engine) as session:
        return _serve_ics_in(
            request,
            session=session,
            config=exporter.config,
            settings=exporter.settings,
            cache=exporter.cache,
            filters=filters,
            name=name,
            description=description,
        )


def _serve_ics_in(
    request: Request,
    *,
    session: Session,
    config: AppConfig,
    settings: Settings,
    cache: ExportCache,
    filters: EventFilters,
    name: str,
    description: str,
) -> Response:
    now = _today()
    filters = calendar_filters(filters, now=now)
    etag = export_etag(
        session=session,
        config=config,
        cache=cache,
        filters=filters,
        variant=("ics", name, public_base_url(request)),
        identity=request_identity(request.scope, now.date()),
    )

    def render() -> bytes:
        page = query_events(
            session=session, filters=filters, regions=config.regions, paginate=False
        )
        return render_ics(
            page.items,
            page.records,
            page.sources,
            calendar_name=name,
            calendar_description=description,
            base_url=public_base_url(request),
        )

    return serve_export(request, cache=cache, etag=etag, media_type=ICS_TYPE, render=render)


@router.get(
    "/calendar.ics",
    summary="iCal subscription with any filter",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "an RFC 5545 calendar"},
        304: {"description": "unchanged since the ETag given in If-None-Match"},
    },
)
async def calendar_ics(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    """All matching events as an iCalendar subscription (ETag; 304 when unchanged).

    Takes every filter of /api/events; without ``from`` the calendar starts 30 days back.
    Cancelled events, and events removed at their source in the last 30 days, are exported
    as STATUS:CANCELLED so that subscribed calendars drop them.
    """
    return _ics_not_modified(request, exporter, filters, CALENDAR_NAME) or (
        await run_in_threadpool(
            _serve_ics, request, exporter, filters, CALENDAR_NAME, CALENDAR_DESCRIPTION
        )
    )


@router.get(
    "/regions/{slug}.ics",
    summary="iCal subscription for one region",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "an RFC 5545 calendar"},
        304: {"description": "unchanged since the ETag given in If-None-Match"},
        404: {"description": "unknown region"},
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
    return _ics_not_modified(request, exporter, filters, name) or (
        await run_in_threadpool(
            _serve_ics,
            request,
            exporter,
            filters,
            name,
            f"{CALENDAR_DESCRIPTION} in {region.name}",
        )
    )


def _serve_feed(kind: str, request: Request, exporter: Exporter, filters: EventFilters) -> Response:
    with Session(exporter.engine) as session:
        return _serve_feed_in(
            kind,
            request,
            session=session,
            config=exporter.config,
            settings=exporter.settings,
            cache=exporter.cache,
            filters=filters,
        )


def _serve_feed_in(
    kind: str,
    request: Request,
    *,
    session: Session,
    config: AppConfig,
    settings: Settings,
    cache: ExportCache,
    filters: EventFilters,
) -> Response:
    media_type, renderer = FEED_FORMATS[kind]
    today = _today().date()
    if filters.date_from is None:
        filters = replace(filters, date_from=today)
    filters = replace(filters, include_removed=False, removed_since=None)
    base_url = public_base_url(request)
    feed_url = f"{base_url}{request.url.path}"
    if request.url.query:
        feed_url += f"?{request.url.query}"
    etag = export_etag(
        session=session,
        config=config,
        cache=cache,
        filters=filters,
        variant=(kind, feed_url),
        identity=request_identity(request.scope, today),
    )

    def render() -> bytes:
        page = query_events(session=session, filters=filters, regions=config.regions)
        newest = max((e.last_modified for e in page.items), default=None)
        info = FeedInfo(
            title=CALENDAR_NAME,
            description=CALENDAR_DESCRIPTION,
            home_url=f"{base_url}/",
            feed_url=feed_url,
            base_url=base_url,
            updated=newest or datetime(2026, 1, 1, tzinfo=UTC),
        )
        items = [FeedItem(e, page.records.get(e.id, []), page.sources) for e in page.items]
        return renderer(items, info=info)

    return serve_export(request, cache=cache, etag=etag, media_type=media_type, render=render)


_FEED_DOC = (
    "Upcoming events matching the filters of /api/events (from today unless 'from' is "
    "given; 'per_page' items, default 50). ETag; 304 when unchanged."
)


@router.get(
    "/feeds/events.rss",
    summary="RSS 2.0 feed of events",
    response_class=Response,
    responses={200: {"content": {"application/rss+xml": {}}}},
    description=_FEED_DOC,
)
async def feed_rss(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    return await run_in_threadpool(_serve_feed, "rss", request, exporter, filters)


@router.get(
    "/feeds/events.atom",
    summary="Atom feed of events",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
    description=_FEED_DOC,
)
async def feed_atom(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    return await run_in_threadpool(_serve_feed, "atom", request, exporter, filters)


@router.get(
    "/feeds/events.json",
    summary="JSON Feed 1.1 of events",
    response_class=Response,
    responses={200: {"content": {"application/feed+json": {}}}},
    description=_FEED_DOC,
)
async def feed_json(request: Request, exporter: ExporterDep, filters: FiltersDep) -> Response:
    return await run_in_threadpool(_serve_feed, "json", request, exporter, filters)


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
