"""iCal reader: bytes of an iCalendar file in, RawEvent records out (RFC 5545).

Vocabulary as in recurring-ical-events: a *component* is one VEVENT in the file; the
components sharing a UID form a *series* (the master with RRULE/RDATE/EXDATE plus its
RECURRENCE-ID overrides); each start of a series inside the harvest window is an
*occurrence* and becomes one RawEvent whose identity is the UID plus the original start
of that occurrence (``recurrence_id``). Overrides without a master still appear.

Tolerance (STYLE.md: tolerate bad items, fail on a bad feed): every top-level component is
parsed on its own, so one broken VEVENT or VTIMEZONE becomes a ParseProblem with its line
and reason and the others go on. Only a body that holds no VCALENDAR, or whose VEVENTs are
all unreadable, raises FeedError.

Limits: a series with more than ``window.max_occurrences`` occurrences inside the window is
refused as a whole and reported as one ParseProblem (the rest of the feed goes on). Before
expanding, an RRULE is also refused when dateutil would have to step through more periods
from DTSTART to the end of the window than ``_MAX_RULE_STEPS`` allows (say FREQ=SECONDLY
from years ago): dateutil builds those lists in full, so that is checked up front.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from icalendar.prop import vDDDLists, vDDDTypes
from recurring_ical_events import CalendarQuery
from recurring_ical_events.util import time_span_contains_event

from aggregator.config import SourceConfig
from crawlers.ical_content import CalendarText, ComponentText, decode_text, split_calendars
from crawlers.ical_zones import DEFAULT_TZ, ZoneResolver, zone
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window

__all__ = ["DEFAULT_TZ", "decode_text", "parse"]

_STATUS = {"CONFIRMED": "confirmed", "TENTATIVE": "tentative", "CANCELLED": "cancelled"}
# Errors icalendar and recurring-ical-events raise for one bad component or series.
_COMPONENT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError)
_SERIES_ERRORS = (*CalendarQuery.suppressed_errors, ValueError, TypeError, OverflowError)
# Marks a VEVENT that had neither DTEND nor DURATION (internal, never leaves the reader).
_NO_END = "X-OVERSTAP-NO-END"
# Date-valued properties whose naive values get a zone before expansion.
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")
# Seconds of one period of each RRULE FREQ (months and years at their longest).
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
# A component with any of these is (part of) a series.
_RECURRENCE = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


@dataclass(slots=True)
class _Component:
    """A parsed VEVENT with the line where it began."""

    event: icalendar.Event
    line: int
    uid: str


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Parse an iCalendar body into records; raise FeedError if it is not a usable calendar."""
    window = window or Window.around(now)
    text = decode_text(body)
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        snippet = text.lstrip()[:60].replace("\n", " ")
        raise FeedError(f"not an iCalendar file (no BEGIN:VCALENDAR); it starts with {snippet!r}")
    calendars, text_problems = split_calendars(text)
    result = ParseResult()
    for problem in text_problems:
        result.problems.append(ParseProblem(source.id, problem.reason, line=problem.line))
    result.truncated = any(not calendar.complete for calendar in calendars)
    usable = found = 0
    for calendar in calendars:
        floating, x_wr = _floating_zone(calendar, source, result)
        components = _read_components(calendar, source, floating, result)
        found += sum(1 for c in calendar.components if c.name == "VEVENT")
        usable += len(components)
        _expand(components, x_wr, source, window, result)
    if found and not usable:
        first = result.problems[0] if result.problems else None
        raise FeedError(
            f"none of the {found} VEVENT(s) can be read"
            + (f"; first problem: {first}" if first else "")
        )
    result.events.sort(key=lambda e: (_sort_key(e.start), e.uid, e.recurrence_id or ""))
    return result


def _sort_key(value: date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _calendar_property(calendar: CalendarText, name: str) -> str | None:
    """The value of a calendar-level property (the first, if a producer repeats it)."""
    prefix = name.upper()
    for line in calendar.properties:
        head, _, value = line.partition(":")
        if head.split(";", 1)[0].upper() == prefix:
            return value.strip()
    return None


def _floating_zone(
    calendar: CalendarText, source: SourceConfig, result: ParseResult
) -> tuple[tzinfo, str | None]:
    """The zone of floating times, and the X-WR-TIMEZONE to hand to expansion (if valid)."""
    x_wr = _calendar_property(calendar, "X-WR-TIMEZONE")
    x_wr_zone = zone(x_wr)
    if x_wr and x_wr_zone is None:
        result.warnings.append(
            ParseProblem(
                source.id, f"X-WR-TIMEZONE {x_wr!r} is not a known zone; ignored", calendar.line
            )
        )
    configured = zone(source.timezone)
    return configured or x_wr_zone or zone(DEFAULT_TZ), x_wr if x_wr_zone else None  # type: ignore[return-value]


def _read_components(
    calendar: CalendarText, source: SourceConfig, floating: tzinfo, result: ParseResult
) -> list[_Component]:
    """Parse the VTIMEZONEs and VEVENTs of one calendar, each on its own."""
    vtimezones: dict[str, Any] = {}
    events: list[tuple[ComponentText, Any]] = []
    for block in calendar.components:
        if not block.complete or block.name not in {"VEVENT", "VTIMEZONE"}:
            continue
        try:
            component = icalendar.Component.from_ical(block.ical())
        except _COMPONENT_ERRORS as exc:
            # a VTIMEZONE is no record: its TZID then resolves like one without definition
            (result.problems if block.name == "VEVENT" else result.warnings).append(
                ParseProblem(source.id, f"unreadable {block.name}: {exc}", line=block.line)
            )
            continue
        if block.name == "VTIMEZONE":
            tzid = str(component.get("TZID") or "")
            if tzid:
                vtimezones[tzid] = component
        else:
            events.append((block, component))
    definitions: dict[str, tzinfo | None] = {}

    def defined_zone(tzid: str) -> tzinfo | None:
        """The zone of a VTIMEZONE in this file, built only when a TZID needs it."""
        if tzid not in definitions and tzid in vtimezones:
            try:
                definitions[tzid] = vtimezones[tzid].to_tz(lookup_tzid=False)
            except _COMPONENT_ERRORS as exc:
                result.warnings.append(
                    ParseProblem(source.id, f"VTIMEZONE {tzid!r} unusable: {exc}")
                )
                definitions[tzid] = None
        return definitions.get(tzid)

    resolver = ZoneResolver(defined_zone=defined_zone, floating=floating)
    prepared: list[_Component] = []
    for block, event in events:
        try:
            prepared.append(_prepare(event, block.line, resolver, source, result))
        except _Unusable as exc:
            result.problems.append(
                ParseProblem(source.id, str(exc), line=block.line, uid=_uid_or_none(event))
            )
    for tzid in sorted(resolver.unknown):
        result.warnings.append(
            ParseProblem(
                source.id,
                f"unknown TZID {tzid!r} (no VTIMEZONE, not an IANA or Windows zone); "
                f"its times are read in {floating}",
                line=calendar.line,
            )
        )
    return _latest_versions(prepared)


class _Unusable(Exception):
    """A VEVENT that cannot become an event (reason in the message)."""


def _uid_or_none(event: icalendar.Event) -> str | None:
    uid = event.get("UID")
    return str(uid).strip() or None if uid is not None else None


def _prepare(
    event: icalendar.Event,
    line: int,
    resolver: ZoneResolver,
    source: SourceConfig,
    result: ParseResult,
) -> _Component:
    """Check one VEVENT, drop its broken optional properties and give naive times a zone."""
    broken = [name for name, value in event.items() if _is_broken(value)]
    if "DTSTART" not in event:
        raise _Unusable("VEVENT has no DTSTART")
    if "DTSTART" in broken:
        raise _Unusable(f"DTSTART {str(event['DTSTART'])!r} is not a date or date-time")
    dropped = [name for name in broken if name != "DTSTART"]
    for name in dropped:
        value = event[name]
        if isinstance(value, list):
            kept = [v for v in value if not _is_broken(v)]
            if kept:
                event[name] = kept if len(kept) > 1 else kept[0]
                continue
        del event[name]
    if dropped:
        result.warnings.append(
            ParseProblem(
                source.id,
                f"malformed {', '.join(sorted(set(dropped)))} ignored",
                line=line,
                uid=_uid_or_none(event),
            )
        )
    for name in _DATE_PROPERTIES:
        if name in event:
            event[name] = _localised(event[name], resolver)
    if "DTEND" not in event and "DURATION" not in event:
        # expansion gives every occurrence an end; remember that the source gave none
        event[_NO_END] = "TRUE"
    uid = _uid_or_none(event)
    if uid is None:
        # RFC 5545 requires UID; without one, derive a stable identity from the content.
        digest = hashlib.sha256(
            "\x1f".join(
                str(event.get(n, "")) for n in ("DTSTART", "SUMMARY", "DESCRIPTION", "LOCATION")
            ).encode()
        ).hexdigest()[:20]
        uid = f"no-uid-{digest}"
        event["UID"] = uid
    return _Component(event, line, uid)


def _dt(component: icalendar.Component, name: str) -> Any:
    """The Python value of a date, date-time or duration property (checked before)."""
    return component[name].dt  # type: ignore[union-attr]


def _is_broken(value: Any) -> bool:
    if isinstance(value, list):
        return any(_is_broken(v) for v in value)
    return type(value).__name__ == "vBroken"


def _localised(value: Any, resolver: ZoneResolver) -> Any:
    """The same property with naive date-times given their zone (lists and periods too)."""
    if isinstance(value, list):
        return [_localised(v, resolver) for v in value]
    tzid = value.params.get("TZID") if hasattr(value, "params") else None
    if isinstance(value, vDDDLists):
        values = [_localised_value(v.dt, tzid, resolver) for v in value.dts]
        if all(v is orig.dt for v, orig in zip(values, value.dts, strict=True)):
            return value
        localised = vDDDLists(values)
        for key, param in value.params.items():
            if key != "TZID":
                localised.params[key] = param
        return localised
    if isinstance(value, vDDDTypes):
        new = _localised_value(value.dt, tzid, resolver)
        if new is value.dt:
            return value
        localised_value = vDDDTypes(new)
        if "RANGE" in value.params:
            localised_value.params["RANGE"] = value.params["RANGE"]
        return localised_value
    return value


def _localised_value(value: Any, tzid: str | None, resolver: ZoneResolver) -> Any:
    if isinstance(value, tuple):  # a PERIOD: (start, end) or (start, duration)
        start, end = value
        new_start = resolver.localise(start, tzid)
        new_end = resolver.localise(end, tzid) if isinstance(end, date) else end
        return value if new_start is start and new_end is end else (new_start, new_end)
    if isinstance(value, datetime) and value.tzinfo is None:
        return resolver.localise(value, tzid)
    return value


def _version_key(component: _Component) -> tuple[int, datetime, datetime]:
    """RFC 5545 3.8.7.4: a higher SEQUENCE is newer; then LAST-MODIFIED, then DTSTAMP."""
    event = component.event
    try:
        sequence = int(event.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    return sequence, _stamp(event.get("LAST-MODIFIED")), _stamp(event.get("DTSTAMP"))


def _stamp(prop: Any) -> datetime:
    value = getattr(prop, "dt", None) if prop is not None else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.min.replace(tzinfo=UTC)


def _latest_versions(components: list[_Component]) -> list[_Component]:
    """Keep one version per (UID, RECURRENCE-ID): the newest; ties keep the first given."""
    best: dict[tuple[str, str], _Component] = {}
    for component in components:
        recurrence = component.event.get("RECURRENCE-ID")
        key = (component.uid, _recurrence_key(recurrence.dt) if recurrence is not None else "")
        current = best.get(key)
        if current is None or _version_key(component) > _version_key(current):
            best[key] = component
    return list(best.values())


def _recurrence_key(value: date) -> str:
    """The original start of an occurrence as identity text: UTC for times, else the date."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _expand(
    components: list[_Component],
    x_wr: str | None,
    source: SourceConfig,
    window: Window,
    result: ParseResult,
) -> None:
    """Turn the components of one calendar into records for the occurrences in the window.

    A UID with one component and no recurrence properties is one event and is read directly
    (most of a feed); everything else goes through recurring-ical-events.
    """
    by_uid: dict[str, list[_Component]] = defaultdict(list)
    for component in components:
        by_uid[component.uid].append(component)
    series_components: list[_Component] = []
    for group in by_uid.values():
        if len(group) == 1 and not any(name in group[0].event for name in _RECURRENCE):
            _read_single(group[0], source, window, result)
        else:
            series_components.extend(group)
    if series_components:
        _expand_series(series_components, x_wr, source, window, result)


def _read_single(
    component: _Component, source: SourceConfig, window: Window, result: ParseResult
) -> None:
    """One non-recurring VEVENT: a record when it overlaps the window."""
    event = component.event
    start: Any = _dt(event, "DTSTART")
    end: Any = start if isinstance(start, datetime) else start + timedelta(days=1)
    if "DTEND" in event:
        end = _dt(event, "DTEND")
    elif "DURATION" in event:
        end = start + _dt(event, "DURATION")
    try:
        if type(end) is not type(start) or end < start:
            end = start if isinstance(start, datetime) else start + timedelta(days=1)
        inside = time_span_contains_event(window.start, window.end, start, end)
    except _SERIES_ERRORS as exc:
        result.problems.append(
            ParseProblem(source.id, f"unusable start or end: {exc}", component.line, component.uid)
        )
        return
    if inside:
        result.events.append(_to_record(event, start, end, source, is_series=False))


def _expand_series(
    components: list[_Component],
    x_wr: str | None,
    source: SourceConfig,
    window: Window,
    result: ParseResult,
) -> None:
    """Expand series (RRULE, RDATE, EXDATE, RECURRENCE-ID) within the window, each bounded."""
    budget = max(100_000, 50 * window.max_occurrences)
    runaway = {c.uid for c in components if _rule_steps(c.event, window.end) > budget}
    for uid in sorted(runaway):
        line = min(c.line for c in components if c.uid == uid)
        result.problems.append(
            ParseProblem(
                source.id,
                f"RRULE would step through more than {budget} periods before the end of the "
                "harvest window (HARVEST_MAX_OCCURRENCES); refused",
                line=line,
                uid=uid,
            )
        )
    components = [c for c in components if c.uid not in runaway]
    calendar = icalendar.Calendar()
    if x_wr:
        calendar["X-WR-TIMEZONE"] = x_wr
    first_line: dict[str, int] = {}
    recurring: set[str] = set()
    for component in components:
        calendar.add_component(component.event)
        first_line[component.uid] = min(
            first_line.get(component.uid, component.line), component.line
        )
        if any(name in component.event for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            recurring.add(component.uid)
    query = recurring_ical_events.of(calendar, skip_bad_series=True)
    expanded = {str(series.uid) for series in query.series}
    for uid in sorted(set(first_line) - expanded):
        result.problems.append(
            ParseProblem(source.id, "unusable recurrence rules", line=first_line[uid], uid=uid)
        )
    limit = window.max_occurrences
    for series in query.series:
        uid = str(series.uid)
        try:
            occurrences = list(_bounded(series.between(window.start, window.end), limit + 1))
        except _SERIES_ERRORS as exc:
            result.problems.append(
                ParseProblem(
                    source.id,
                    f"series cannot be expanded: {exc}",
                    line=first_line.get(uid),
                    uid=uid,
                )
            )
            continue
        if len(occurrences) > limit:
            result.problems.append(
                ParseProblem(
                    source.id,
                    f"series has more than {limit} occurrences in the harvest window "
                    "(HARVEST_MAX_OCCURRENCES); refused",
                    line=first_line.get(uid),
                    uid=uid,
                )
            )
            continue
        for occurrence in occurrences:
            component = occurrence.as_component(False)
            result.events.append(
                _to_record(
                    component,
                    occurrence.start,
                    occurrence.end,
                    source,
                    is_series=uid in recurring,
                )
            )


def _rule_steps(event: icalendar.Event, window_end: datetime) -> int:
    """How many periods dateutil steps through for the RRULEs up to the window's end (rough).

    Periods from DTSTART to UNTIL or the window end, times what BYHOUR, BYMINUTE and
    BYSECOND multiply each period into.
    """
    rules = event.get("RRULE")
    if rules is None:
        return 0
    start = _as_utc(_dt(event, "DTSTART"))
    steps = 0
    for rule in rules if isinstance(rules, list) else [rules]:
        try:
            period = _PERIOD[str(rule.get("FREQ", ["DAILY"])[0]).upper()]
            period *= max(1, int(rule.get("INTERVAL", [1])[0]))
            end = _as_utc(window_end)
            if rule.get("UNTIL"):
                end = min(end, _as_utc(rule["UNTIL"][0]))
        except (KeyError, TypeError, ValueError, IndexError):
            continue  # a malformed rule is for the expansion to report
        fan_out = 1
        for part in ("BYHOUR", "BYMINUTE", "BYSECOND"):
            fan_out *= max(1, len(rule.get(part, [])))
        steps += max(0, int((end - start).total_seconds() // period) + 1) * fan_out
    return steps


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _bounded(items: Iterator[Any], limit: int) -> Iterator[Any]:
    for count, item in enumerate(items, start=1):
        yield item
        if count >= limit:
            return


def _end(
    component: icalendar.Event, start: date, occurrence_end: date, source: SourceConfig
) -> date | None:
    """RFC 5545 3.6.1: DTEND or DURATION give the end; else a DATE lasts one day, a
    DATE-TIME is an instant (unless the source sets ``default_duration``)."""
    has_end = _NO_END not in component
    if not isinstance(start, datetime):
        if has_end and not isinstance(occurrence_end, datetime) and occurrence_end > start:
            return occurrence_end
        return start + timedelta(days=1)
    if has_end and isinstance(occurrence_end, datetime) and occurrence_end > start:
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


def _to_record(
    component: icalendar.Event,
    start: date,
    occurrence_end: date,
    source: SourceConfig,
    *,
    is_series: bool,
) -> RawEvent:
    end = _end(component, start, occurrence_end, source)
    recurrence_id = None
    if is_series and "RECURRENCE-ID" in component:
        recurrence_id = _recurrence_key(_dt(component, "RECURRENCE-ID"))
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
        description_html=_text(component, "X-ALT-DESC"),
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
