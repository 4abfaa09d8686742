"""One occurrence of a VEVENT onto a RawEvent: times, text fields, status and provenance."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from crawlers.ical_zones import existing_time
from crawlers.records import RawEvent
from crawlers.source import SourceConfig

_STATUS = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
# Marks a VEVENT that had neither DTEND nor DURATION (internal, never leaves the reader).
NO_END = "X-OVERSTAP-NO-END"


def property_value(component: icalendar.Component, name: str) -> Any:
    """The Python value of a date, date-time or duration property (checked before)."""
    return component[name].dt  # type: ignore[union-attr]


def _portable(value: Any) -> Any:
    """A time in a VTIMEZONE-built zone as a fixed offset: same instant, same wall time.

    Such zones (custom TZIDs like Lotus Notes' "Eastern") recompute their rules on every
    offset lookup; records are compared and serialised many times downstream.
    """
    if isinstance(value, datetime) and (
        value.fold or not isinstance(value.tzinfo, ZoneInfo | timezone | None)
    ):
        # also the second 02:30 of the night clocks go back (fold=1): compared with a time
        # in the same zone, Python would ignore the fold and find them equal
        return value.replace(tzinfo=timezone(value.utcoffset()), fold=0)  # type: ignore[arg-type]
    return value


def recurrence_key(value: date) -> str:
    """The original start of an occurrence as identity text: UTC for times, else the date."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _end(start: date, occurrence_end: date, source: SourceConfig, *, has_end: bool) -> date | None:
    """RFC 5545 3.6.1: DTEND or DURATION give the end; else a DATE lasts one day, a
    DATE-TIME is an instant (unless the source sets ``default_duration``)."""
    if not isinstance(start, datetime):
        if has_end and not isinstance(occurrence_end, datetime) and occurrence_end > start:
            return occurrence_end
        return start + timedelta(days=1)
    # compared as instants: in one zone Python compares wall times and ignores ``fold``
    # (02:30 CET after the clocks went back would not be later than 02:30 CEST)
    if (
        has_end
        and isinstance(occurrence_end, datetime)
        and occurrence_end.astimezone(UTC) > start.astimezone(UTC)
    ):
        return occurrence_end
    if not has_end and source.default_duration:
        return start + source.default_duration
    return None


def _text(component: icalendar.Event, name: str) -> str | None:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    text = str(value).strip() if value is not None else ""
    return text or None


_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def _x_text(component: icalendar.Event, name: str) -> str | None:
    """An X- property as TEXT, its escapes decoded (RFC 5545 3.3.11): 3.8.8.2 makes TEXT the
    default type of X- properties, but icalendar hands them back undecoded (``\\n``)."""
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    raw = value.to_ical() if hasattr(value, "to_ical") else str(value)
    raw = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    text = _TEXT_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], raw)
    return text.strip() or None


def _categories(component: icalendar.Event) -> list[str]:
    value = component.get("CATEGORIES")
    if value is None:
        return []
    categories: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        for category in getattr(item, "cats", [item]):
            text = str(category).strip()
            if text and text not in categories:
                categories.append(text)
    return categories


def _geo(component: icalendar.Event) -> tuple[float | None, float | None]:
    geo = component.get("GEO")
    lat, lon = getattr(geo, "latitude", None), getattr(geo, "longitude", None)
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None, None
    return float(lat), float(lon)


def _organizer(component: icalendar.Event) -> tuple[str | None, str | None]:
    organizer = component.get("ORGANIZER")
    if isinstance(organizer, list):
        organizer = organizer[0] if organizer else None
    if organizer is None:
        return None, None
    name = str(organizer.params.get("CN") or "").strip().strip('"') or None
    address = str(organizer).strip()
    return name, address if ":" in address else None


def _existing_span(start: date, end: date, duration: timedelta | None) -> tuple[date, date]:
    """Start and end as they exist in their zone (a time in a DST gap moved forward).

    With ``duration`` (the exact length of a series' master), the end is that long after
    the start, also across a DST change: RFC 5545 gives every instance the master's exact
    duration, where recurring-ical-events adds it to the wall time (a 02:30-03:30
    occurrence on the night clocks go back would last two hours).
    """
    moved = existing_time(start)
    if duration is None or not isinstance(moved, datetime):
        return moved, existing_time(end)
    return moved, (moved.astimezone(UTC) + duration).astimezone(moved.tzinfo)


def to_record(
    component: icalendar.Event,
    start: date,
    occurrence_end: date,
    source: SourceConfig,
    *,
    is_series: bool,
    has_end: bool | None = None,
    original_start: date | None = None,
    duration: timedelta | None = None,
) -> RawEvent:
    """The record of one occurrence starting at ``start``.

    ``occurrence_end`` is the end recurring-ical-events computed (it always gives one);
    whether the source gave an end at all decides if it is used (see ``_end``; ``has_end``
    says so for an RDATE period). Only occurrences of a series carry a ``recurrence_id``:
    their original start (the component's RECURRENCE-ID unless ``original_start`` is given).
    ``duration`` is the exact length of an occurrence computed from its series' master.
    """
    if has_end is None:
        has_end = NO_END not in component
    start, occurrence_end = _existing_span(start, occurrence_end, duration)
    start = _portable(start)
    end = _portable(_end(start, occurrence_end, source, has_end=has_end))
    recurrence_id = None
    if original_start is not None:
        recurrence_id = recurrence_key(original_start)
    elif is_series and "RECURRENCE-ID" in component:
        recurrence_id = recurrence_key(property_value(component, "RECURRENCE-ID"))
    organizer_name, organizer_url = _organizer(component)
    lat, lon = _geo(component)
    last_modified = getattr(component.get("LAST-MODIFIED"), "dt", None)
    if isinstance(last_modified, datetime) and last_modified.tzinfo is None:
        last_modified = last_modified.replace(tzinfo=UTC)  # RFC 5545 3.8.7.3: always UTC
    try:
        sequence = int(str(component["SEQUENCE"])) if "SEQUENCE" in component else None
    except (TypeError, ValueError):
        sequence = None
    return RawEvent(
        source_id=source.id,
        uid=str(component["UID"]).strip(),
        recurrence_id=recurrence_id,
        title=_text(component, "SUMMARY") or "",
        start=start,
        end=end,
        description=_text(component, "DESCRIPTION"),
        description_html=_x_text(component, "X-ALT-DESC"),
        url=_text(component, "URL"),
        location=_text(component, "LOCATION"),
        lat=lat,
        lon=lon,
        organizer_name=organizer_name,
        organizer_url=organizer_url,
        categories=_categories(component),
        status=_STATUS.get((_text(component, "STATUS") or "").upper()),
        sequence=sequence,
        last_modified=last_modified if isinstance(last_modified, datetime) else None,
    )
