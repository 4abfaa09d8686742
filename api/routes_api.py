"""JSON API: events, regions, sources, taxonomy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from sqlmodel import col, func, select

from aggregator.models import Event, HarvestRun, Source, SourceRecord
from aggregator.query import get_event, query_events
from api.deps import ConfigDep, SessionDep
from api.params import FiltersDep
from feeds.event_json import event_to_json, local_iso

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/events", summary="Search events")
def list_events(session: SessionDep, config: ConfigDep, filters: FiltersDep) -> dict[str, Any]:
    """Events matching the filters, ordered by start, one page at a time."""
    page = query_events(session=session, filters=filters, regions=config.regions)
    return {
        "items": [event_to_json(e, page.records.get(e.id, []), page.sources) for e in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }


@router.get("/events/{event_id}", summary="One event")
def read_event(event_id: str, session: SessionDep) -> dict[str, Any]:
    """One event by its stable id (removed events too, marked with ``removed_at``)."""
    page = get_event(session=session, event_id=event_id)
    if page is None:
        raise HTTPException(404, f"no event with id {event_id!r}")
    event = page.items[0]
    data = event_to_json(event, page.records.get(event.id, []), page.sources)
    data["removed_at"] = local_iso(event.removed_at)
    return data


@router.get("/regions", summary="Regions")
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


@router.get("/taxonomy", summary="Taxonomy")
def read_taxonomy(config: ConfigDep) -> dict[str, Any]:
    """Activity types, sectors, phases and audiences with Dutch and English labels."""
    tax = config.taxonomy
    return {
        name: [{"slug": t.slug, "nl": t.nl, "en": t.en} for t in getattr(tax, name)]
        for name in ("activity_types", "sectors", "phases", "audiences")
    }


@router.get("/sources", summary="Sources and their health")
def list_sources(session: SessionDep) -> list[dict[str, Any]]:
    """Every source with its last success, last error and number of live events."""
    counts = dict(
        session.exec(
            select(SourceRecord.source_id, func.count(func.distinct(SourceRecord.event_id)))
            .join(Event, col(Event.id) == SourceRecord.event_id)
            .where(col(SourceRecord.removed_at).is_(None), col(Event.relevant).is_(True))
            .group_by(SourceRecord.source_id)
        ).all()
    )
    result = []
    for source in session.exec(select(Source).order_by(col(Source.id))):
        last_run = session.exec(
            select(HarvestRun)
            .where(HarvestRun.source_id == source.id)
            .order_by(col(HarvestRun.started_at).desc())
            .limit(1)
        ).first()
        result.append(
            {
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "url": source.url,
                "region": source.region,
                "events": counts.get(source.id, 0),
                "last_success": local_iso(source.last_success_at),
                "last_error": source.last_error,
                "last_error_at": local_iso(source.last_error_at),
                "last_outcome": last_run.outcome if last_run else None,
            }
        )
    return result
