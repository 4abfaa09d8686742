"""schema.org Event JSON-LD for one canonical event (a pure renderer; pages embed it).

Follows schema.org/Event and Google's Event rich-result rules: ``name``, ``startDate`` and
always a ``location`` (a Place with a PostalAddress, a VirtualLocation for an online event,
both for a mixed one); ``endDate`` *inclusive* for all-day events (schema.org dates name the
last day, iCal's DTEND the day after); ``eventStatus`` EventCancelled for a cancelled event
and for one removed at its source; ``image`` (the site's default image when the event has
none); ``offers`` for free events; ``organizer`` with ``url`` a web address and ``email``
for a mail address; the organiser also as ``performer`` (at these sessions the organising
body presents). Only Event properties: provenance is in the page and the API, not here.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Protocol

from aggregator.localtime import local_iso
from aggregator.models import Event, Source, SourceRecord
from feeds.location import place_lines

DEFAULT_IMAGE_PATH = "/static/event-default.png"  # 1200x675, shipped in api/static
_CANCELLED = "https://schema.org/EventCancelled"
_SCHEDULED = "https://schema.org/EventScheduled"
_ATTENDANCE = {
    "offline": "https://schema.org/OfflineEventAttendanceMode",
    "online": "https://schema.org/OnlineEventAttendanceMode",
    "mixed": "https://schema.org/MixedEventAttendanceMode",
}


def event_page_url(event_id: str, *, base_url: str) -> str:
    """The public page of an event on this site."""
    return f"{base_url.rstrip('/')}/events/{event_id}"


class Organiser(Protocol):
    """How to reach an event's organiser, as the event table has it (an event or a row)."""

    @property
    def organizer_url(self) -> str | None: ...
    @property
    def organizer_email(self) -> str | None: ...


def organizer_email(event: Organiser) -> str | None:
    """The organiser's e-mail address (a ``mailto:`` of the source ends up here)."""
    return event.organizer_email or None


def organizer_web(event: Organiser) -> str | None:
    """The organiser's web address (http or https), else None."""
    url = (event.organizer_url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def event_status(event: Event) -> str:
    """The schema.org EventStatusType: cancelled, or removed at its source, is cancelled."""
    if event.status == "cancelled" or event.removed_at is not None:
        return _CANCELLED
    return _SCHEDULED


def inclusive_end(event: Event) -> str | None:
    """The end as schema.org and feeds name it: for all-day events the last day itself
    (iCal's DTEND is exclusive: a one-day event on 20 March ends 21 March there)."""
    if event.all_day and event.start_date:
        if event.end_date is None or event.end_date <= event.start_date:
            return event.start_date.isoformat()
        return (event.end_date - timedelta(days=1)).isoformat()
    return local_iso(event.end_at)


def event_start(event: Event) -> str:
    """The start: a date for all-day events, else a local date-time with offset."""
    if event.all_day and event.start_date:
        return event.start_date.isoformat()
    return local_iso(event.start_at) or ""


def _place(event: Event) -> dict[str, Any] | None:
    if not any(
        (event.location_name, event.address, event.postcode, event.city, event.municipality)
    ):
        return None
    place: dict[str, Any] = {"@type": "Place"}
    lines = place_lines(event)
    place["name"] = event.location_name or (lines[0] if lines else event.municipality)
    address = {
        key: value
        for key, value in (
            ("streetAddress", event.address),
            ("postalCode", event.postcode),
            ("addressLocality", event.city or event.municipality),
        )
        if value
    }
    if not address:
        # only a venue text: it is the address as the source wrote it
        address = {"streetAddress": ", ".join(lines)}
    place["address"] = {"@type": "PostalAddress", **address, "addressCountry": "NL"}
    if event.lat is not None and event.lon is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": event.lat, "longitude": event.lon}
    return place


def _region_place(region_label: str | None) -> dict[str, Any]:
    """The region as the place of an event whose own place is unknown (Google requires one)."""
    address: dict[str, Any] = {"@type": "PostalAddress", "addressCountry": "NL"}
    if region_label:
        address["addressRegion"] = region_label
    return {"@type": "Place", "name": region_label or "Nederland", "address": address}


def _organization(event: Event) -> dict[str, Any] | None:
    web, email = organizer_web(event), organizer_email(event)
    if not (event.organizer_name or web or email):
        return None
    party: dict[str, Any] = {"@type": "Organization"}
    if event.organizer_name:
        party["name"] = event.organizer_name
    if web:
        party["url"] = web
    if email:
        party["email"] = email
    return party


def event_jsonld(
    event: Event,
    records: list[SourceRecord],
    sources: dict[str, Source],
    *,
    base_url: str,
    region_label: str | None = None,
) -> dict[str, Any]:
    """One event as a schema.org Event object (with ``@context``).

    ``records`` and ``sources`` give the event's own page at its source (``sameAs``) when
    the event has no URL of its own. ``region_label`` (the name of the event's region) is
    the place of an event on location whose place its source does not name.
    """
    page = event_page_url(event.id, base_url=base_url)
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page,
        "url": page,
        "name": event.title,
        "startDate": event_start(event),
        "eventStatus": event_status(event),
        "eventAttendanceMode": _ATTENDANCE.get(event.attendance, _ATTENDANCE["offline"]),
        "image": [f"{base_url.rstrip('/')}{DEFAULT_IMAGE_PATH}"],
    }
    if end := inclusive_end(event):
        data["endDate"] = end
    if event.description:
        data["description"] = event.description
    if event.language:
        data["inLanguage"] = event.language
    online_url = event.url or event.registration_url or page
    locations: list[dict[str, Any]] = []
    place = _place(event)
    if event.attendance != "online":
        locations.append(place or _region_place(region_label))
    if event.attendance in ("online", "mixed"):
        locations.append({"@type": "VirtualLocation", "url": online_url})
    data["location"] = locations[0] if len(locations) == 1 else locations
    if organization := _organization(event):
        data["organizer"] = organization
        data["performer"] = organization
    if event.is_free is not None:
        data["isAccessibleForFree"] = event.is_free
    if event.is_free:
        data["offers"] = {
            "@type": "Offer",
            "price": 0,
            "priceCurrency": "EUR",
            "url": event.registration_url or event.url or page,
            "availability": "https://schema.org/SoldOut"
            if data["eventStatus"] == _CANCELLED
            else "https://schema.org/InStock",
            "validFrom": local_iso(event.first_seen),
        }
    if event.activity_type or event.sectors:
        data["keywords"] = ", ".join([*filter(None, [event.activity_type]), *event.sectors])
    same_as = [event.url] if event.url else [r.url for r in records if r.url][:1]
    if same_as and same_as[0] != page:
        data["sameAs"] = same_as[0]
    return data


def jsonld_script(data: dict[str, Any]) -> str:
    """The JSON-LD as the body of a ``<script type="application/ld+json">`` element.

    ``<``, ``>`` and ``&`` are escaped so that no event text can close the script element.
    """
    text = json.dumps(data, ensure_ascii=False, indent=None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
