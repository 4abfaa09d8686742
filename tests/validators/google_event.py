"""Google's Event rich-result rules (developers.google.com/search/docs/appearance/
structured-data/event), as a checker of one schema.org Event in JSON-LD.

Required: ``name``, ``startDate`` (ISO 8601 with a zone when it has a time) and
``location``: a Place with a PostalAddress, or a VirtualLocation with a url (both for a
mixed event). Recommended: ``description``, ``endDate``, ``eventAttendanceMode``,
``eventStatus`` (a schema.org EventStatusType), ``image``, ``offers`` (with ``price``,
``priceCurrency``, ``availability``, ``url``, ``validFrom``), ``organizer`` (with ``name``
and ``url``) and ``performer`` (with ``name``). Google ignores properties schema.org does
not define for Event; they are reported as errors here because they are mistakes.
"""

from __future__ import annotations

import re
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_STATUSES = {
    f"https://schema.org/{s}"
    for s in ("EventScheduled", "EventCancelled", "EventMovedOnline", "EventPostponed",
              "EventRescheduled")
}  # fmt: skip
_MODES = {f"https://schema.org/{m}EventAttendanceMode" for m in ("Offline", "Online", "Mixed")}
# schema.org properties of Event (and of Thing, which it inherits)
_EVENT_PROPERTIES = {
    "@context", "@type", "@id", "about", "actor", "aggregateRating", "attendee",
    "audience", "composer", "contributor", "director", "doorTime", "duration", "endDate",
    "eventAttendanceMode", "eventSchedule", "eventStatus", "funder", "funding", "inLanguage",
    "isAccessibleForFree", "keywords", "location", "maximumAttendeeCapacity",
    "maximumPhysicalAttendeeCapacity", "maximumVirtualAttendeeCapacity", "offers",
    "organizer", "performer", "previousStartDate", "recordedIn", "remainingAttendeeCapacity",
    "review", "sponsor", "startDate", "subEvent", "superEvent", "translator", "typicalAgeRange",
    "workFeatured", "workPerformed", "additionalType", "alternateName", "description",
    "disambiguatingDescription", "identifier", "image", "mainEntityOfPage", "name",
    "potentialAction", "sameAs", "subjectOf", "url",
}  # fmt: skip


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _date_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not (_DATE.match(value) or _DATETIME.match(value)):
        return f"not an ISO 8601 date or date-time with zone: {value!r}"
    return None


def check_event(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of one Event: errors for required or invalid, warnings for
    missing recommended properties (named as Google's Rich Results Test names them)."""
    errors: list[str] = []
    warnings: list[str] = []
    if data.get("@type") != "Event":
        errors.append(f"@type is {data.get('@type')!r}, not Event")
    for name in sorted(set(data) - _EVENT_PROPERTIES):
        errors.append(f"{name}: not a property of schema.org Event")
    if not data.get("name"):
        errors.append("name: missing (required)")
    if "startDate" not in data:
        errors.append("startDate: missing (required)")
    elif problem := _date_problem(data["startDate"]):
        errors.append(f"startDate: {problem}")
    if "endDate" not in data:
        warnings.append("endDate: missing (recommended)")
    elif problem := _date_problem(data["endDate"]):
        errors.append(f"endDate: {problem}")
    elif data["endDate"] < data.get("startDate", ""):
        errors.append("endDate: before startDate")
    errors += _location_errors(data)
    for name in ("description", "image", "offers", "organizer", "performer"):
        if not data.get(name):
            warnings.append(f"{name}: missing (recommended)")
    status = data.get("eventStatus")
    if status is None:
        warnings.append("eventStatus: missing (recommended)")
    elif status not in _STATUSES:
        errors.append(f"eventStatus: {status!r} is not an EventStatusType")
    mode = data.get("eventAttendanceMode")
    if mode is None:
        warnings.append("eventAttendanceMode: missing (recommended)")
    elif mode not in _MODES:
        errors.append(f"eventAttendanceMode: {mode!r} is not an EventAttendanceModeEnumeration")
    for image in _as_list(data.get("image") or []):
        if not _is_url(image if isinstance(image, str) else image.get("url")):
            errors.append(f"image: not an absolute URL: {image!r}")
    for offer in _as_list(data.get("offers") or []):
        for name in ("price", "priceCurrency", "availability", "url", "validFrom"):
            if offer.get(name) in (None, ""):
                warnings.append(f"offers.{name}: missing (recommended)")
        if offer.get("url") and not _is_url(offer["url"]):
            errors.append(f"offers.url: not an absolute URL: {offer['url']!r}")
    for role in ("organizer", "performer"):
        for party in _as_list(data.get(role) or []):
            if not party.get("name"):
                warnings.append(f"{role}.name: missing (recommended)")
            if role == "organizer" and not party.get("url"):
                warnings.append("organizer.url: missing (recommended)")
            if party.get("url") and not _is_url(party["url"]):
                errors.append(f"{role}.url: not a web address: {party['url']!r}")
    return errors, warnings


def _location_errors(data: dict[str, Any]) -> list[str]:
    locations = _as_list(data.get("location") or [])
    if not locations:
        return ["location: missing (required: a Place with an address or a VirtualLocation)"]
    errors = []
    kinds = set()
    for location in locations:
        kind = location.get("@type")
        kinds.add(kind)
        if kind == "Place":
            address = location.get("address")
            if not address:
                errors.append("location.address: missing (required for a Place)")
            elif isinstance(address, dict) and not any(
                address.get(name)
                for name in ("streetAddress", "addressLocality", "addressRegion", "postalCode")
            ):
                errors.append("location.address: no street, locality, region or postcode")
        elif kind == "VirtualLocation":
            if not _is_url(location.get("url")):
                errors.append("location.url: missing or not a URL (required for VirtualLocation)")
        else:
            errors.append(f"location: @type {kind!r} is neither Place nor VirtualLocation")
    mode = data.get("eventAttendanceMode", "")
    if mode.endswith("OnlineEventAttendanceMode") and "VirtualLocation" not in kinds:
        errors.append("location: an online event needs a VirtualLocation")
    if mode.endswith("MixedEventAttendanceMode") and kinds != {"Place", "VirtualLocation"}:
        errors.append("location: a mixed event needs a Place and a VirtualLocation")
    return errors
