"""schema.org Event JSON-LD for one canonical event (a pure renderer; pages embed it).

Follows schema.org/Event and Google's event structured-data guidelines: eventStatus,
eventAttendanceMode, a Place or VirtualLocation, offers for free events. Provenance
travels along: every source as ``isBasedOn`` with its URL and last successful harvest.
"""

from __future__ import annotations

import json
from typing import Any

from aggregator.localtime import local_iso
from aggregator.models import Event, Source, SourceRecord

_STATUS = {
    "confirmed": "https://schema.org/EventScheduled",
    "tentative": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
}
_ATTENDANCE = {
    "offline": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "mixed": "https://schema.org/MixedEventAttendanceMode",
}


def event_page_url(event_id: str, *, base_url: str) -> str:
    """The public page of an event on this site."""
    return f"{base_url.rstrip('/')}/events/{event_id}"


def _place(event: Event) -> dict[str, Any] | None:
    if not any((event.location_name, event.address, event.postcode, event.city, event.lat)):
        return None
    place: dict[str, Any] = {"@type": "Place"}
    if event.location_name:
        place["name"] = event.location_name
    address = {
        key: value
        for key, value in (
            ("streetAddress", event.address),
            ("postalCode", event.postcode),
            ("addressLocality", event.city),
        )
        if value
    }
    if address:
        place["address"] = {"@type": "PostalAddress", **address, "addressCountry": "NL"}
    if event.lat is not None and event.lon is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": event.lat, "longitude": event.lon}
    return place


def event_jsonld(
    event: Event, records: list[SourceRecord], sources: dict[str, Source], *, base_url: str
) -> dict[str, Any]:
    """One event as a schema.org Event object (with ``@context``)."""
    page = event_page_url(event.id, base_url=base_url)
    if event.all_day:
        start = event.start_date.isoformat() if event.start_date else local_iso(event.start_at)
        end = event.end_date.isoformat() if event.end_date else None
    else:
        start, end = local_iso(event.start_at), local_iso(event.end_at)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page,
        "url": page,
        "name": event.title,
        "startDate": start,
        "eventStatus": _STATUS.get(event.status, "https://schema.org/EventScheduled"),
        "eventAttendanceMode": _ATTENDANCE.get(
            event.attendance, "https://schema.org/OfflineEventAttendanceMode"
        ),
    }
    if end:
        data["endDate"] = end
    if event.description:
        data["description"] = event.description
    if event.language:
        data["inLanguage"] = event.language
    locations: list[dict[str, Any]] = []
    place = _place(event)
    if place and event.attendance != "online":
        locations.append(place)
    if event.attendance in ("online", "mixed"):
        locations.append({"@type": "VirtualLocation", "url": event.url or page})
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    if event.organizer_name or event.organizer_url:
        data["organizer"] = {
            "@type": "Organization",
            **({"name": event.organizer_name} if event.organizer_name else {}),
            **({"url": event.organizer_url} if event.organizer_url else {}),
        }
    if event.is_free is not None:
        data["isAccessibleForFree"] = event.is_free
    if event.is_free:
        data["offers"] = {
            "@type": "Offer",
            "price": "0",
            "priceCurrency": "EUR",
            "url": event.registration_url or event.url or page,
            "availability": "https://schema.org/InStock",
        }
    if event.activity_type or event.sectors:
        data["keywords"] = ", ".join([*filter(None, [event.activity_type]), *event.sectors])
    if event.url:
        data["sameAs"] = event.url
    based_on = []
    for record in records:
        source = sources.get(record.source_id)
        item: dict[str, Any] = {"@type": "CreativeWork", "identifier": record.source_id}
        if source:
            item["name"] = source.name
            if source.last_success_at:
                item["dateModified"] = local_iso(source.last_success_at)
        if record.url:
            item["url"] = record.url
        elif source and source.url.startswith(("http://", "https://")):
            item["url"] = source.url
        based_on.append(item)
    if based_on:
        data["isBasedOn"] = based_on
    data["dateModified"] = local_iso(event.last_modified)
    return data


def jsonld_script(data: dict[str, Any]) -> str:
    """The JSON-LD as the body of a ``<script type="application/ld+json">`` element.

    ``<``, ``>`` and ``&`` are escaped so that no event text can close the script element.
    """
    text = json.dumps(data, ensure_ascii=False, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
