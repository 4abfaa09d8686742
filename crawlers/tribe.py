"""WordPress "The Events Calendar" REST API (/wp-json/tribe/events/v1/events) to RawEvent records.

One response page holds ``events`` and, when there are more, ``next_rest_url``. The
spider follows that link; the functions here read one page and are pure.
"""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawlers.formats import json_format, unsupported_format
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig

DEFAULT_TZ = "Europe/Amsterdam"
_FREE_WORDS = {"gratis", "free", "kosteloos", "0", "€0", "€ 0", "0,00", "€ 0,00"}


def load_page(body: bytes) -> dict[str, Any]:
    """Decode one REST response; raise FeedError for anything that is not a tribe events page."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # [[[[... nested too deep
        if body.lstrip()[:1] in (b"{", b"["):
            raise FeedError(f"The Events Calendar response is not valid JSON: {exc}") from exc
        raise FeedError(unsupported_format(body, expected="Events Calendar REST response")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        if isinstance(data, dict) and data.get("code") and data.get("message"):
            raise FeedError(f"The Events Calendar API said {data['code']}: {data['message']}")
        what = json_format(data) or "JSON without an 'events' list"
        raise FeedError(f"unsupported format: {what}, not an Events Calendar REST response")
    return data


def next_url(page: dict[str, Any]) -> str | None:
    """The next page of the listing, when there is one."""
    value = page.get("next_rest_url")
    return value if isinstance(value, str) and value else None


def _zone(name: Any, fallback: ZoneInfo) -> ZoneInfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


def _local(value: Any, utc_value: Any, tz: ZoneInfo) -> datetime | None:
    """Prefer the UTC copy (unambiguous around DST changes), shown in the event's zone."""
    for text, zone in ((utc_value, UTC), (value, tz)):
        if isinstance(text, str) and text.strip():
            try:
                parsed = datetime.fromisoformat(text.strip())
            except ValueError:
                continue
            return parsed.replace(tzinfo=zone).astimezone(tz)
    return None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = html.unescape(value).strip()
    return text or None


def event_to_record(event: dict[str, Any], source: SourceConfig) -> RawEvent:
    """Map one tribe event; raise ValueError when it has no usable title or start."""
    title = _text(event.get("title"))
    if not title:
        raise ValueError("event has no title")
    tz = _zone(event.get("timezone"), ZoneInfo(source.timezone or DEFAULT_TZ))
    start_dt = _local(event.get("start_date"), event.get("utc_start_date"), tz)
    end_dt = _local(event.get("end_date"), event.get("utc_end_date"), tz)
    if start_dt is None:
        raise ValueError(f"event {title!r} has no usable start_date")
    start: datetime | date = start_dt
    end: datetime | date | None = end_dt
    if event.get("all_day"):
        # all_day events run 00:00:00 to 23:59:59 local: make them dates, end exclusive
        local_start = _local(event.get("start_date"), None, tz) or start_dt
        local_end = _local(event.get("end_date"), None, tz) or local_start
        start = local_start.date()
        end = local_end.date() + timedelta(days=1)
    elif end_dt is not None and end_dt < start_dt:
        end = None
    event_id = str(event.get("id", ""))
    url = _text(event.get("url"))
    uid = event_id if event_id.isdigit() else (url or _text(event.get("global_id")) or title)
    venue: dict[str, Any] = event["venue"] if isinstance(event.get("venue"), dict) else {}
    organizers = event.get("organizer") or []
    first = organizers[0] if isinstance(organizers, list) and organizers else organizers
    organizer: dict[str, Any] = first if isinstance(first, dict) else {}
    cost = _text(event.get("cost"))
    lat, lon = venue.get("geo_lat"), venue.get("geo_lng")
    return RawEvent(
        source_id=source.id,
        uid=uid,
        title=title,
        start=start,
        end=end,
        description_html=event.get("description") or None,
        url=url,
        registration_url=_text(event.get("website")),
        location=_text(venue.get("venue")),
        address=_text(venue.get("address")),
        postcode=_text(venue.get("zip")),
        city=_text(venue.get("city")),
        lat=float(lat) if isinstance(lat, int | float) else None,
        lon=float(lon) if isinstance(lon, int | float) else None,
        organizer_name=_text(organizer.get("organizer")),
        organizer_url=_text(organizer.get("website")) or _text(organizer.get("url")),
        organizer_email=_text(organizer.get("email")),
        categories=[
            c["name"]
            for c in event.get("categories") or []
            if isinstance(c, dict) and c.get("name")
        ],
        is_free=True if cost and cost.lower() in _FREE_WORDS else (False if cost else None),
        price=cost if cost and cost.lower() not in _FREE_WORDS else None,
        last_modified=_local(event.get("modified"), event.get("modified_utc"), tz),
    )


def records_from_page(page: dict[str, Any], source: SourceConfig, result: ParseResult) -> None:
    """Add the records of one REST page to ``result``; bad events become problems."""
    for event in page["events"]:
        if not isinstance(event, dict):
            result.skipped += 1
            result.problems.append(ParseProblem(source.id, "event entry is not an object"))
            continue
        try:
            result.events.append(event_to_record(event, source))
        except ValueError as exc:
            result.skipped += 1
            result.problems.append(ParseProblem(source.id, str(exc), uid=str(event.get("id"))))


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Read one REST response page (the spider follows ``next_rest_url``)."""
    del now, window
    result = ParseResult()
    records_from_page(load_page(body), source, result)
    return result
