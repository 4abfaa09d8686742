"""The canonical event JSON of DESIGN.md, from a stored event and its source records."""

from __future__ import annotations

from typing import Any

from aggregator.localtime import local_iso
from aggregator.models import Event, Source, SourceRecord
from feeds.jsonld import organizer_email, organizer_web


def event_to_json(
    event: Event, records: list[SourceRecord], sources: dict[str, Source]
) -> dict[str, Any]:
    """Render one event in the canonical shape (unknown values are null or []).

    ``status`` is what the organiser says (confirmed, tentative, cancelled); ``removed``
    says that the event is no longer in any of its sources' calendars (since
    ``removed_at``), which subscribers see as a cancellation.
    """
    if event.all_day:
        start: str | None = event.start_date.isoformat() if event.start_date else None
        end = event.end_date.isoformat() if event.end_date else None
    else:
        start, end = local_iso(event.start_at), local_iso(event.end_at)
    location = None
    if any(
        (
            event.location_name,
            event.address,
            event.postcode,
            event.city,
            event.municipality,
            event.lat,
        )
    ):
        location = {
            "name": event.location_name,
            "address": event.address,
            "postcode": event.postcode,
            "city": event.city,
            "municipality": event.municipality,
            "lat": event.lat,
            "lon": event.lon,
        }
    organizer = None
    if event.organizer_name or event.organizer_url or event.organizer_email:
        organizer = {
            "name": event.organizer_name,
            "url": organizer_web(event),
            "email": organizer_email(event),
        }
    return {
        "id": event.id,
        "title": event.title,
        "description": event.description or "",
        "start": start,
        "end": end,
        "all_day": event.all_day,
        "status": event.status,
        "removed": event.removed_at is not None,
        "removed_at": local_iso(event.removed_at),
        "attendance": event.attendance,
        "location": location,
        "region": event.region,
        "url": event.url,
        "registration_url": event.registration_url,
        "organizer": organizer,
        "activity_type": event.activity_type,
        "sectors": list(event.sectors or []),
        "phases": list(event.phases or []),
        "audiences": list(event.audiences or []),
        "language": event.language,
        "is_free": event.is_free,
        "sources": [
            {
                "source": r.source_id,
                "name": sources[r.source_id].name if r.source_id in sources else None,
                "url": r.url,
                "uid": r.uid,
                "recurrence_id": r.recurrence_id or None,
                "title": r.title,
                "harvested_at": local_iso(r.harvested_at),
                "last_success": local_iso(sources[r.source_id].last_success_at)
                if r.source_id in sources
                else None,
            }
            for r in records
        ],
        "first_seen": local_iso(event.first_seen),
        "last_modified": local_iso(event.last_modified),
        "sequence": event.sequence,
    }
