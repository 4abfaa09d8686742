"""One query function for the JSON API, the pages and every feed (read only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from aggregator.config import Regions
from aggregator.models import Event, Source, SourceRecord
from aggregator.store import local_midnight


@dataclass(slots=True)
class EventFilters:
    """Filters shared by every output format (see DESIGN.md, HTTP API contract)."""

    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    page: int = 1
    per_page: int = 50
    include_cancelled: bool = True
    include_removed: bool = False


@dataclass(slots=True)
class EventPage:
    """One page of events with their provenance."""

    items: list[Event]
    total: int
    page: int
    per_page: int
    records: dict[str, list[SourceRecord]] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)


def _conditions(filters: EventFilters, regions: Regions) -> list:  # type: ignore[type-arg]
    conditions = [col(Event.relevant).is_(True)]
    if not filters.include_removed:
        conditions.append(col(Event.removed_at).is_(None))
    if not filters.include_cancelled:
        conditions.append(Event.status != "cancelled")
    if filters.date_from:
        start = local_midnight(filters.date_from)
        conditions.append(func.coalesce(Event.end_at, Event.start_at) >= start)
    if filters.date_to:
        conditions.append(Event.start_at < local_midnight(filters.date_to + timedelta(days=1)))
    if filters.region:
        members = regions.members(filters.region)
        region_match = [Event.region == filters.region]
        if members:
            region_match.append(col(Event.municipality_code).in_(sorted(members)))
        conditions.append(or_(*region_match))
    return conditions


def query_events(
    *, session: Session, filters: EventFilters, regions: Regions, paginate: bool = True
) -> EventPage:
    """Return the matching events (ordered by start) with their records.

    With ``paginate=False`` every match is returned (calendar exports and feeds).
    """
    conditions = _conditions(filters, regions)
    statement = select(Event).where(*conditions).order_by(col(Event.start_at), col(Event.id))
    if paginate:
        total = session.exec(select(func.count()).select_from(Event).where(*conditions)).one()
        statement = statement.offset((filters.page - 1) * filters.per_page).limit(filters.per_page)
        items = list(session.exec(statement))
    else:
        items = list(session.exec(statement))
        total = len(items)
    page = EventPage(items=items, total=int(total), page=filters.page, per_page=filters.per_page)
    attach_provenance(session=session, page=page)
    return page


def attach_provenance(*, session: Session, page: EventPage) -> None:
    """Load the live source records (and their sources) of the events on a page."""
    ids = [e.id for e in page.items]
    if not ids:
        return
    records = session.exec(
        select(SourceRecord)
        .where(col(SourceRecord.event_id).in_(ids), col(SourceRecord.removed_at).is_(None))
        .order_by(col(SourceRecord.first_seen), col(SourceRecord.id))
    )
    for record in records:
        page.records.setdefault(record.event_id, []).append(record)
    source_ids = {r.source_id for rs in page.records.values() for r in rs}
    if source_ids:
        for source in session.exec(select(Source).where(col(Source.id).in_(source_ids))):
            page.sources[source.id] = source


def get_event(*, session: Session, event_id: str) -> EventPage | None:
    """Return one event (removed ones included, so links keep working) with provenance."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    page = EventPage(items=[event], total=1, page=1, per_page=1)
    attach_provenance(session=session, page=page)
    return page


def change_marker(
    *, session: Session, filters: EventFilters, regions: Regions
) -> tuple[int, datetime | None]:
    """Count and newest last_modified of the matching events: a cheap validator for feeds.

    Removed events are counted too, so that a removal changes the marker.
    """
    conditions = _conditions(filters, regions)
    count, newest = session.exec(
        select(func.count(), func.max(Event.last_modified)).select_from(Event).where(*conditions)
    ).one()
    removed_newest = session.exec(select(func.max(Event.removed_at))).one()
    if removed_newest and (newest is None or removed_newest > newest):
        newest = removed_newest
    return int(count), newest
