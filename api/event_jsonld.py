"""schema.org Event JSON-LD for the event page.

A stand-in until the publishing branch's ``feeds/jsonld.py`` is merged: the integrator can
swap ``event_jsonld`` for that renderer (same input: one stored event and its base URL).
"""

from __future__ import annotations

from typing import Any

from aggregator.models import Event
from feeds.event_json import local_iso

_STATUS = {
    "cancelled": "https://schema.org/EventCancelled",
    "tentative": "https://schema.org/EventScheduled",
    "confirmed": "https://schema.org/EventScheduled",
}
_ATTENDANCE = {
    "offline": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "mixed": "https://schema.org/MixedEventAttendanceMode",
}


def event_jsonld(event: Event, *, base_url: str) -> dict[str, Any]:
    """One event as a schema.org ``Event`` object (unknown values are left out)."""
    page = f"{base_url.rstrip('/')}/events/{event.id}"
    if event.all_day and event.start_date:
        start: str | None = event.start_date.isoformat()
        end = event.end_date.isoformat() if event.end_date else None
    else:
        start, end = local_iso(event.start_at), local_iso(event.end_at)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page,
        "name": event.title,
        "startDate": start,
        "eventStatus": _STATUS.get(event.status, _STATUS["confirmed"]),
        "eventAttendanceMode": _ATTENDANCE.get(event.attendance, _ATTENDANCE["offline"]),
        "url": event.url or page,
    }
    if end:
        data["endDate"] = end
    if event.description:
        data["description"] = event.description
    if event.language:
        data["inLanguage"] = event.language
    if event.is_free is not None:
        data["isAccessibleForFree"] = event.is_free
    locations: list[dict[str, Any]] = []
    if event.attendance in ("online", "mixed"):
        locations.append({"@type": "VirtualLocation", "url": event.url or page})
    if event.attendance != "online" and (event.location_name or event.city or event.address):
        place: dict[str, Any] = {"@type": "Place", "name": event.location_name or event.city}
        address = {
            "@type": "PostalAddress",
            "streetAddress": event.address,
            "postalCode": event.postcode,
            "addressLocality": event.city,
            "addressCountry": "NL",
        }
        place["address"] = {k: v for k, v in address.items() if v}
        if event.lat is not None and event.lon is not None:
            place["geo"] = {
                "@type": "GeoCoordinates",
                "latitude": event.lat,
                "longitude": event.lon,
            }
        locations.append(place)
    if locations:
        data["location"] = locations[0] if len(locations) == 1 else locations
    if event.organizer_name:
        organizer = {"@type": "Organization", "name": event.organizer_name}
        if event.organizer_url:
            organizer["url"] = event.organizer_url
        data["organizer"] = organizer
    if event.registration_url:
        data["offers"] = {
            "@type": "Offer",
            "url": event.registration_url,
            **({"price": 0, "priceCurrency": "EUR"} if event.is_free else {}),
        }
    return data
