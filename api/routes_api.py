"""JSON API: events, regions, sources, taxonomy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from aggregator.config import AppConfig
from aggregator.health import SourceStatus, known_sources, source_statuses
from aggregator.localtime import local_iso
from aggregator.query import EventFilters, StoreSnapshot
from api.api_models import RegionOut, SourceHealth, TaxonomyOut, error_responses
from api.deps import ConfigDep, SessionDep, SnapshotDep, public_base_url
from api.params import FiltersDep
from feeds.event_json import event_to_json
from feeds.event_model import EventDetail, EventList
from feeds.jsonld import event_jsonld
from feeds.registry import RenderContext, output_renderer

router = APIRouter(prefix="/api", tags=["api"])


_SEARCH_EXAMPLE = {
    "items": [
        {
            "id": "3f1c0b7e9a2d4c5b6a71",
            "title": "Informatieavond zij-instroom basisonderwijs",
            "description": "Hoe word je leraar in het basisonderwijs?",
            "start": "2027-03-12T19:00:00+01:00",
            "end": "2027-03-12T21:00:00+01:00",
            "all_day": False,
            "status": "confirmed",
            "removed": False,
            "removed_at": None,
            "attendance": "offline",
            "location": {
                "name": "Hogeschool van Arnhem en Nijmegen",
                "address": "Kapittelweg 33",
                "postcode": "6525 EN",
                "city": "Nijmegen",
                "municipality": "Nijmegen",
                "lat": 51.8226,
                "lon": 5.8681,
            },
            "region": "rijk-van-nijmegen",
            "url": "https://example.org/agenda/informatieavond",
            "registration_url": None,
            "organizer": {
                "name": "RAP Rijk van Nijmegen",
                "url": "https://example.org/rap",
                "email": None,
            },
            "activity_type": "voorlichting",
            "sectors": ["po"],
            "phases": ["orienteren"],
            "audiences": ["zij-instromers"],
            "language": "nl",
            "is_free": True,
            "sources": [
                {
                    "source": "rap-nijmegen",
                    "name": "RAP Nijmegen agenda",
                    "url": "https://example.org/agenda/informatieavond",
                    "uid": "informatieavond-2027@example.org",
                    "recurrence_id": None,
                    "title": "Informatieavond zij-instroom",
                    "harvested_at": "2027-03-01T06:00:00+01:00",
                    "last_success": "2027-03-01T06:00:00+01:00",
                }
            ],
            "first_seen": "2027-02-01T06:00:00+01:00",
            "last_modified": "2027-03-01T06:00:00+01:00",
            "sequence": 0,
            "distance_km": 3.4,
        }
    ],
    "total": 1,
    "page": 1,
    "per_page": 50,
}


@router.get(
    "/events",
    summary="Search events",
    response_model=EventList,
    responses={
        200: {"content": {"application/json": {"example": _SEARCH_EXAMPLE}}},
        **error_responses(400, 422),
    },
)
async def list_events(request: Request, filters: FiltersDep) -> Response:
    """Events matching the filters, one page at a time, with the total number of matches.

    Values OR within a filter (``sector=po&sector=vo`` or ``sector=po,vo``) and filters AND
    together. ``q`` searches title, description, place and organiser (every word as a
    prefix); ``near`` (a postcode, a place name or lat,lon) with ``km`` adds ``distance_km``
    to each item and the resolved place as ``near``. Order: ``sort=date``
    (default), ``relevance`` (default when ``q`` is given: title hits first, the soonest
    first within them) or ``distance``.
    Example: ``/api/events?q=pabo&sector=po&near=6511%20AB&km=30&sort=distance``.
    """
    state = request.app.state
    near = filters.near.as_json() if filters.near is not None else None
    context = RenderContext(
        base_url=public_base_url(request), with_distance=near is not None, near=near
    )
    return await run_in_threadpool(_search, state.engine, state.config, filters, context)


def _search(
    engine: Engine, config: AppConfig, filters: EventFilters, context: RenderContext
) -> Response:
    # the database work and the rendering in one threadpool call (one hop per request)
    renderer = output_renderer("events")
    with Session(engine) as session:
        page = StoreSnapshot(session).events(filters, config.regions)
    return Response(renderer.render(page, context), media_type=renderer.media_type)


@router.get(
    "/events/{event_id}/jsonld",
    summary="One event as schema.org JSON-LD",
    response_class=Response,
    responses={
        200: {
            "description": "a schema.org Event",
            "content": {"application/ld+json": {"schema": {"type": "object"}}},
        },
        **error_responses(404, 422, c404="no event with this id"),
    },
)
def read_event_jsonld(
    event_id: str, request: Request, snapshot: SnapshotDep, config: ConfigDep
) -> Response:
    """The schema.org Event of one event (what its page embeds)."""
    page = snapshot.event(event_id)
    if page is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    renderer = output_renderer("jsonld")
    context = RenderContext(
        base_url=public_base_url(request),
        region_label=region_label(config, page.items[0].region),
    )
    body = renderer.render(page, context)
    return Response(body, media_type=renderer.media_type)


@router.get(
    "/events/{event_id}",
    summary="One event",
    response_model=EventDetail,
    responses=error_responses(404, 422, c404="no event with this id"),
)
def read_event(
    event_id: str,
    request: Request,
    snapshot: SnapshotDep,
    config: ConfigDep,
    jsonld: bool = False,
) -> dict[str, Any]:
    """One event by its stable id (removed events too: ``removed`` and ``removed_at``).

    With ``jsonld=true`` the schema.org Event is included under ``jsonld``.
    """
    page = snapshot.event(event_id)
    if page is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    event = page.items[0]
    records = page.records.get(event.id, [])
    data = event_to_json(event, records, page.sources)
    if jsonld:
        data["jsonld"] = event_jsonld(
            event,
            records,
            page.sources,
            base_url=public_base_url(request),
            region_label=region_label(config, event.region),
        )
    return data


def region_label(config: AppConfig, slug: str | None) -> str | None:
    """The name of a region (for JSON-LD), or None for an unknown slug."""
    region = config.regions.by_slug.get(slug) if slug else None
    return region.name if region else None


@router.get("/regions", summary="Regions", response_model=list[RegionOut])
def list_regions(config: ConfigDep) -> list[dict[str, Any]]:
    """All regions with their member municipalities (CBS codes) and included regions."""
    return [
        {
            "slug": r.slug,
            "name": r.name,
            "code": r.code,
            "includes": r.includes,
            "municipalities": sorted(config.regions.members(r.slug)),
        }
        for r in config.regions
    ]


@router.get("/taxonomy", summary="Taxonomy", response_model=TaxonomyOut)
def read_taxonomy(config: ConfigDep) -> dict[str, Any]:
    """Activity types, sectors, phases and audiences with Dutch and English labels."""
    tax = config.taxonomy
    return {
        name: [{"slug": t.slug, "nl": t.nl, "en": t.en} for t in getattr(tax, name)]
        for name in ("activity_types", "sectors", "phases", "audiences")
    }


@router.get("/sources", summary="Sources and their health", response_model=list[SourceHealth])
def list_sources(session: SessionDep, config: ConfigDep) -> list[dict[str, Any]]:
    """Every source with its state, last success and failure, live events and trend."""
    statuses = source_statuses(
        session=session, sources=known_sources(session=session, config=config)
    )
    return [source_status_json(status) for status in statuses]


def source_status_json(status: SourceStatus) -> dict[str, Any]:
    """One source's health as /api/sources gives it (times in local ISO 8601)."""
    return {
        "id": status.id,
        "name": status.name,
        "kind": status.kind,
        "url": status.url,
        "region": status.region,
        "events": status.events,
        "state": status.state,
        "state_reason": status.state_reason,
        "consecutive_failures": status.consecutive_failures,
        "last_success": local_iso(status.last_success),
        "last_failure": local_iso(status.last_failure),
        "last_failure_reason": status.last_failure_reason,
        "last_error": status.last_error,
        "last_error_at": local_iso(status.last_error_at),
        "last_outcome": status.last_outcome,
        "trend": status.trend,
    }
