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
from DTSTART to the end of the window than the step budget allows (say FREQ=SECONDLY
from years ago; a COUNT bounds the periods when no BY part drops any): dateutil builds
those lists in full, so that is checked up front. Rules are first rewritten to mean what
RFC 5545 says (``crawlers.ical_rules``); the repairs of the text are in
``crawlers.ical_content``, time zones and DST gaps in ``crawlers.ical_zones``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.prop import vDDDLists, vDDDTypes

from crawlers.ical_content import (
    CalendarText,
    ComponentText,
    TextProblem,
    content_value,
    decode_text,
    split_calendars,
)
from crawlers.ical_record import NO_END, property_value, recurrence_key
from crawlers.ical_series import ParsedEvent, expand, read_single
from crawlers.ical_zones import DEFAULT_TZ, ZoneResolver, zone
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig

__all__ = ["DEFAULT_TZ", "decode_text", "parse"]

# Errors icalendar and recurring-ical-events raise for one bad component or series
# (OverflowError: a date or duration beyond what datetime holds, "DURATION:P99999999D").
_COMPONENT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)
# RFC 5545 3.6.1: properties that MUST NOT occur more than once in a VEVENT.
_SINGLE_VALUED = (
    "UID",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RECURRENCE-ID",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "URL",
    "GEO",
    "ORGANIZER",
    "STATUS",
    "SEQUENCE",
    "LAST-MODIFIED",
    "DTSTAMP",
    "CREATED",
)
# Date-valued properties whose naive values get a zone before expansion.
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE")


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Parse an iCalendar body into records; raise FeedError if it is not a usable calendar.

    Component by component: a VEVENT that is one event on its own (its UID in no other
    VEVENT, no recurrence properties) becomes its record as soon as it is parsed, and its
    parsed form and text are dropped; only the VEVENTs of series are held until the whole
    file is read. A 50,000-event feed is so never one object tree.
    """
    window = window or Window.around(now)
    text = decode_text(body)
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        snippet = text.lstrip()[:60].replace("\n", " ")
        raise FeedError(f"not an iCalendar file (no BEGIN:VCALENDAR); it starts with {snippet!r}")
    calendars, text_problems = split_calendars(text)
    del text  # the components hold their lines (each block's until it is parsed)
    result = _parse_calendars(calendars, text_problems, source, window, _lone_events(calendars))
    if result is None:  # a lone UID that parsed equal to another's: read without the short cut
        calendars, text_problems = split_calendars(decode_text(body))
        result = _parse_calendars(calendars, text_problems, source, window, set())
        assert result is not None
    result.events.sort(key=lambda e: (_sort_key(e.start), e.uid, e.recurrence_id or ""))
    return result


def _parse_calendars(
    calendars: list[CalendarText],
    text_problems: list[TextProblem],
    source: SourceConfig,
    window: Window,
    lone: set[int],
) -> ParseResult | None:
    """Records of the calendars; the blocks ``lone`` names (by id) are read on their own.

    None when a lone block's parsed UID is also another VEVENT's (the text look-up in
    :func:`_lone_events` could not tell): the caller reads the file again without ``lone``.
    """
    result = ParseResult()
    for problem in text_problems:
        (result.warnings if problem.repaired else result.problems).append(
            ParseProblem(source.id, problem.reason, line=problem.line)
        )
    result.truncated = any(not calendar.complete for calendar in calendars)
    found = 0
    components: list[ParsedEvent] = []
    singles = _Singles(source, window)
    for calendar in calendars:
        floating, x_wr = _floating_zone(calendar, source, result)
        components.extend(_read_components(calendar, source, floating, x_wr, result, lone, singles))
        found += sum(1 for c in calendar.components if c.name == "VEVENT")
    # one UID is one series across the whole file, also when a producer concatenated
    # several VCALENDARs (per-event downloads, a master and its override in two blocks)
    usable = _latest_versions(components)
    if singles.uids & {component.uid for component in usable}:
        return None
    expand(usable, source, window, result)
    result.events.extend(singles.events)
    result.problems.extend(singles.problems)
    if found and not usable and not singles.count:
        first = result.problems[0] if result.problems else None
        raise FeedError(
            f"none of the {found} VEVENT(s) can be read"
            + (f"; first problem: {first}" if first else "")
        )
    return result


# The properties that make a VEVENT part of a series (read from the text, before parsing).
_SERIES_PROPERTIES = frozenset({"RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "EXRULE"})


def _property_name(line: str) -> str:
    return line.split(":", 1)[0].split(";", 1)[0].strip().upper()


_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")


def _uid_key(line: str) -> str:
    """The UID of a ``UID`` content line as icalendar reads it (TEXT escapes undone, stripped)."""
    value = content_value(line)
    return _TEXT_ESCAPE.sub(lambda m: "\n" if m[1] in "nN" else m[1], value).strip()


def _lone_events(calendars: list[CalendarText]) -> set[int]:
    """The VEVENT blocks (by id) that are one event each: a UID line of their own that no
    other VEVENT of the file has, and no recurrence property (a look at the text only)."""
    uids: dict[str, list[int]] = {}
    for calendar in calendars:
        for block in calendar.components:
            if block.name != "VEVENT" or not block.complete:
                continue
            lines = block.lines[1:]
            names = [_property_name(line) for line in lines]
            uid_lines = [line for line, name in zip(lines, names, strict=True) if name == "UID"]
            key = _uid_key(uid_lines[0]) if len(uid_lines) == 1 else ""
            if not key or _SERIES_PROPERTIES.intersection(names) or block.nested():
                key = ""  # read with the rest (a series, a VALARM, no or two UIDs)
            uids.setdefault(key, []).append(id(block))
    return {ids[0] for key, ids in uids.items() if key and len(ids) == 1}


class _Singles:
    """The records of lone VEVENTs, read as each is parsed (see :func:`parse`)."""

    def __init__(self, source: SourceConfig, window: Window) -> None:
        self.source, self.window = source, window
        self.events: list[RawEvent] = []
        self.problems: list[ParseProblem] = []
        self.uids: set[str] = set()
        self.count = 0

    def read(self, component: ParsedEvent) -> None:
        """The record of one lone VEVENT (when inside the window), as expansion reads it."""
        self.count += 1
        self.uids.add(component.uid)
        found = ParseResult()
        read_single(component, self.source, self.window, found)
        self.events.extend(found.events)
        self.problems.extend(found.problems)


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
    calendar: CalendarText,
    source: SourceConfig,
    floating: tzinfo,
    x_wr: str | None,
    result: ParseResult,
    lone: set[int],
    singles: _Singles,
) -> list[ParsedEvent]:
    """Parse the VTIMEZONEs, then the VEVENTs of one calendar, each on its own.

    A lone VEVENT (``lone``, see :func:`_lone_events`) goes to ``singles`` as soon as it is
    prepared; the others are returned for expansion.
    """
    vtimezones: dict[str, Any] = {}
    for block in calendar.components:
        if block.complete and block.name == "VTIMEZONE":
            component = _component(block, source, result)
            tzid = str(component.get("TZID") or "") if component is not None else ""
            if tzid:
                vtimezones[tzid] = component
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
    prepared: list[ParsedEvent] = []
    for block in calendar.components:
        if not block.complete or block.name != "VEVENT":
            continue
        event = _component(block, source, result)
        block.lines = []  # parsed: its text is no longer needed (nor kept)
        if event is None:
            continue
        try:
            parsed = _prepare(event, block.line, resolver, source, result)
        except _Unusable as exc:
            result.problems.append(
                ParseProblem(source.id, str(exc), line=block.line, uid=_uid_or_none(event))
            )
            continue
        parsed.x_wr = x_wr
        if id(block) in lone:
            singles.read(parsed)
        else:
            prepared.append(parsed)
    for tzid in sorted(resolver.unknown):
        result.warnings.append(
            ParseProblem(
                source.id,
                f"unknown TZID {tzid!r} (no VTIMEZONE, not an IANA or Windows zone); "
                f"its times are read in {floating}",
                line=calendar.line,
            )
        )
    return prepared


def _component(block: ComponentText, source: SourceConfig, result: ParseResult) -> Any:
    """The parsed component, or None (reported) when it cannot be read.

    A VEVENT that fails only because of a nested component (a VALARM with
    ``TRIGGER:PT-2H``, as a Dutch rail operator's export writes it) is read without its
    nested components: the reader uses no alarms, and the event is what subscribers need.
    """
    try:
        return icalendar.Component.from_ical(block.ical())
    except _COMPONENT_ERRORS as exc:
        error = exc
    nested = block.nested()
    if block.name == "VEVENT" and nested:
        try:
            component = icalendar.Component.from_ical(block.without_nested())
        except _COMPONENT_ERRORS:
            pass
        else:
            result.warnings.append(
                ParseProblem(
                    source.id,
                    f"unreadable {', '.join(sorted(set(nested)))} dropped: {error}",
                    line=block.line,
                    uid=_uid_or_none(component),
                )
            )
            return component
    # a VTIMEZONE is no record: its TZID then resolves like one without definition
    (result.problems if block.name == "VEVENT" else result.warnings).append(
        ParseProblem(source.id, f"unreadable {block.name}: {error}", line=block.line)
    )
    return None


class _Unusable(Exception):
    """A VEVENT that cannot become an event (reason in the message)."""


def _uid_or_none(event: icalendar.Component) -> str | None:
    uid = event.get("UID")
    return str(uid).strip() or None if uid is not None else None


def _prepare(
    event: icalendar.Event,
    line: int,
    resolver: ZoneResolver,
    source: SourceConfig,
    result: ParseResult,
) -> ParsedEvent:
    """Check one VEVENT, drop its broken optional properties and give naive times a zone."""
    repeated = [name for name in _SINGLE_VALUED if isinstance(event.get(name), list)]
    for name in repeated:
        values: list[Any] = event[name]  # type: ignore[assignment]
        event[name] = next((v for v in values if not _is_broken(v)), values[0])
    if repeated:
        result.warnings.append(
            ParseProblem(
                source.id,
                f"{', '.join(repeated)} given more than once; the first is used",
                line=line,
                uid=_uid_or_none(event),
            )
        )
    broken = [name for name, value in event.items() if _is_broken(value)]
    if "DTSTART" not in event:
        raise _Unusable("VEVENT has no DTSTART")
    if "DTSTART" in broken:
        value = event["DTSTART"]
        params = "".join(f";{k}={v}" for k, v in getattr(value, "params", {}).items())
        raise _Unusable(f"DTSTART{params}:{value} is not a date or date-time")
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
    note = _coherent_end(event)
    if note:
        result.warnings.append(ParseProblem(source.id, note, line=line, uid=_uid_or_none(event)))
    if "DTEND" not in event and "DURATION" not in event:
        # expansion gives every occurrence an end; remember that the source gave none
        event[NO_END] = "TRUE"
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
    return ParsedEvent(event, line, uid)


def _coherent_end(event: icalendar.Event) -> str | None:
    """Make DTEND the same value type as DTSTART and not before it; say what was changed.

    RFC 5545 3.8.2.2: DTEND "MUST be specified as a date with local time if and only if"
    DTSTART is, and later than it. A DATE start with a DATE-TIME end lasts through the day
    the end falls on (an end at midnight excluded); a DATE-TIME start with a DATE end ends
    at that midnight in the start's zone. An end before the start is swapped with it, as
    recurring-ical-events does for series, so single events and series agree.
    """
    if "DTEND" not in event:
        return None
    start, end = property_value(event, "DTSTART"), property_value(event, "DTEND")
    note = None
    if isinstance(start, datetime) and not isinstance(end, datetime):
        end = datetime.combine(end, time(), tzinfo=start.tzinfo)
        note = "DTEND is a DATE and DTSTART a DATE-TIME: ends at that midnight"
    elif not isinstance(start, datetime) and isinstance(end, datetime):
        end = end.date() + timedelta(days=1) if end.time() != time() else end.date()
        note = "DTEND is a DATE-TIME and DTSTART a DATE: lasts through the day it ends"
    if _sort_key(end) < _sort_key(start):
        event["DTSTART"], end = vDDDTypes(end), start
        note = "DTEND is before DTSTART: swapped"
    if note:
        event["DTEND"] = vDDDTypes(end)
    return note


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
    return resolver.localise(value, tzid)


def _version_key(component: ParsedEvent) -> tuple[int, datetime, datetime]:
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


def _latest_versions(components: list[ParsedEvent]) -> list[ParsedEvent]:
    """Keep one version per (UID, RECURRENCE-ID): the newest; ties keep the first given."""
    best: dict[tuple[str, str], ParsedEvent] = {}
    for component in components:
        recurrence = component.event.get("RECURRENCE-ID")
        key = (component.uid, recurrence_key(recurrence.dt) if recurrence is not None else "")
        current = best.get(key)
        if current is None or _version_key(component) > _version_key(current):
            best[key] = component
    return list(best.values())
