"""iCal reader: bytes of an iCalendar file in, RawEvent records out (RFC 5545).

Recurring series (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) are expanded within the
harvest window with ``recurring-ical-events``; each occurrence becomes its own record
whose identity is the series UID plus the original occurrence start.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from aggregator.config import SourceConfig
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window

DEFAULT_TZ = "Europe/Amsterdam"
_STATUS = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}


def decode_text(body: bytes) -> str:
    """Decode calendar bytes: strip a BOM, try UTF-8, fall back to Windows-1252."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Parse an iCalendar body into records; raise FeedError if it is not a calendar."""
    window = window or Window.around(now)
    text = decode_text(body)
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        snippet = text.lstrip()[:60].replace("\n", " ")
        raise FeedError(f"not an iCalendar file (no BEGIN:VCALENDAR); it starts with {snippet!r}")
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, IndexError) as exc:
        raise FeedError(f"iCalendar file cannot be parsed: {exc}") from exc
    result = ParseResult()
    for calendar in calendars:
        _read_calendar(calendar, source, window, result)
    return result


def _read_calendar(
    calendar: icalendar.Calendar, source: SourceConfig, window: Window, result: ParseResult
) -> None:
    fallback_tz = (
        ZoneInfo(source.timezone or str(calendar.get("X-WR-TIMEZONE") or "") or DEFAULT_TZ)
        if _valid_zone(source.timezone or str(calendar.get("X-WR-TIMEZONE") or ""))
        else ZoneInfo(DEFAULT_TZ)
    )
    series_uids = {
        str(vevent.get("UID"))
        for vevent in calendar.walk("VEVENT")
        if "RRULE" in vevent or "RDATE" in vevent or "RECURRENCE-ID" in vevent
    }
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    try:
        occurrences: Iterable[icalendar.Event] = query.between(window.start, window.end)
    except Exception as exc:  # the library raises many types for one bad series
        raise FeedError(f"recurrence expansion failed: {exc}") from exc
    for component in occurrences:
        try:
            record = _to_record(component, source, fallback_tz, series_uids)
        except (ValueError, TypeError, KeyError) as exc:
            result.problems.append(
                ParseProblem(
                    source.id, f"unusable VEVENT: {exc}", uid=str(component.get("UID", ""))
                )
            )
            continue
        if record is not None:
            result.events.append(record)


def _valid_zone(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return True


def _when(value: Any, tz: ZoneInfo) -> datetime | date:
    """Return an aware datetime (floating times get the source zone) or a date."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return value
    raise ValueError(f"unsupported date value {value!r}")


def _to_record(
    vevent: icalendar.Event, source: SourceConfig, tz: ZoneInfo, series_uids: set[str]
) -> RawEvent | None:
    uid = str(vevent.get("UID") or "").strip()
    if "DTSTART" not in vevent:
        raise ValueError("no DTSTART")
    start = _when(vevent["DTSTART"].dt, tz)
    end: datetime | date | None = None
    if "DTEND" in vevent:
        end = _when(vevent["DTEND"].dt, tz)
    elif "DURATION" in vevent:
        end = start + vevent["DURATION"].dt
    elif not isinstance(start, datetime):
        end = start + timedelta(days=1)  # RFC 5545 3.6.1: a DATE start lasts one day
    elif source.default_duration:
        end = start + source.default_duration
    if isinstance(start, datetime) and isinstance(end, datetime) and end == start:
        end = None  # an instant, not a zero-length interval
    if not uid:
        uid = f"{start.isoformat()}|{vevent.get('SUMMARY', '')}"
    recurrence_id = None
    if uid in series_uids and "RECURRENCE-ID" in vevent:
        original = _when(vevent["RECURRENCE-ID"].dt, tz)
        recurrence_id = (
            original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            if isinstance(original, datetime)
            else original.strftime("%Y%m%d")
        )
    html = vevent.get("X-ALT-DESC")
    organizer = vevent.get("ORGANIZER")
    geo = vevent.get("GEO")
    last_modified = vevent.get("LAST-MODIFIED")
    categories: list[str] = []
    for cats in (
        vevent.get("CATEGORIES", [])
        if isinstance(vevent.get("CATEGORIES"), list)
        else [vevent.get("CATEGORIES")]
    ):
        if cats is not None:
            categories.extend(str(c) for c in getattr(cats, "cats", [cats]))
    return RawEvent(
        source_id=source.id,
        uid=uid,
        recurrence_id=recurrence_id,
        title=str(vevent.get("SUMMARY") or "").strip(),
        start=start,
        end=end,
        description=str(vevent.get("DESCRIPTION")) if vevent.get("DESCRIPTION") else None,
        description_html=str(html) if html else None,
        url=str(vevent.get("URL")) if vevent.get("URL") else None,
        location=str(vevent.get("LOCATION")) if vevent.get("LOCATION") else None,
        lat=float(geo.latitude) if geo is not None else None,
        lon=float(geo.longitude) if geo is not None else None,
        organizer_name=str(organizer.params.get("CN"))
        if organizer is not None and organizer.params.get("CN")
        else None,
        organizer_url=str(organizer) if organizer is not None else None,
        categories=categories,
        status=_STATUS.get(str(vevent.get("STATUS", "")).upper()),
        sequence=int(vevent.get("SEQUENCE", 0)) if "SEQUENCE" in vevent else None,
        last_modified=last_modified.dt if last_modified is not None else None,
    )
