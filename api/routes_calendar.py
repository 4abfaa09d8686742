"""iCal subscriptions: /calendar.ics with any filter, and /regions/{slug}.ics."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, Response

from aggregator.query import EventFilters, change_marker, query_events
from api.deps import ConfigDep, SessionDep, SettingsDep
from api.params import FiltersDep
from feeds.ical_export import render_ics

router = APIRouter(tags=["calendar"])
ICS_TYPE = "text/calendar; charset=utf-8"
PAST_DAYS = 30  # cancelled and past events stay this long, so subscribers see changes


def _calendar_filters(filters: EventFilters) -> EventFilters:
    if filters.date_from is None:
        today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
        filters = replace(filters, date_from=today - timedelta(days=PAST_DAYS))
    return filters


def _etag(filters: EventFilters, marker: tuple[int, object], variant: str) -> str:
    key = f"{sorted(asdict(filters).items())}|{marker}|{variant}"
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _serve_ics(
    request: Request,
    session,
    config,
    settings,
    filters: EventFilters,  # type: ignore[no-untyped-def]
    name: str,
    description: str,
) -> Response:
    filters = _calendar_filters(filters)
    marker = change_marker(session=session, filters=filters, regions=config.regions)
    etag = _etag(filters, marker, name)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    page = query_events(session=session, filters=filters, regions=config.regions, paginate=False)
    body = render_ics(
        page.items,
        page.records,
        page.sources,
        calendar_name=name,
        calendar_description=description,
        base_url=settings.agenda_base_url,
    )
    return Response(body, media_type=ICS_TYPE, headers=headers)


@router.get(
    "/calendar.ics",
    summary="iCal subscription with any filter",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def calendar_ics(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    filters: FiltersDep,
) -> Response:
    """All matching events as an iCalendar subscription (ETag; 304 when unchanged)."""
    return _serve_ics(
        request,
        session,
        config,
        settings,
        filters,
        "Overstap Agenda",
        "Activiteiten voor overstappers naar het onderwijs",
    )


@router.get(
    "/regions/{slug}.ics",
    summary="iCal subscription for one region",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}},
)
def region_ics(
    slug: str, request: Request, session: SessionDep, config: ConfigDep, settings: SettingsDep
) -> Response:
    """The events of one region as an iCalendar subscription."""
    if slug not in config.regions:
        raise HTTPException(404, f"unknown region {slug!r}")
    region = config.regions.by_slug[slug]
    filters = EventFilters(region=slug)
    return _serve_ics(
        request,
        session,
        config,
        settings,
        filters,
        f"Overstap Agenda – {region.name}",
        f"Activiteiten voor overstappers naar het onderwijs in {region.name}",
    )
