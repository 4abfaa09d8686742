"""Occurrences of the VEVENTs of one calendar inside the harvest window.

A UID with one component and no recurrence properties is one event and is read directly;
the components of a series (RRULE, RDATE, EXDATE, RECURRENCE-ID) are expanded by
recurring-ical-events, one series at a time and each bounded (see ``crawlers.ical``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events
from recurring_ical_events import CalendarQuery
from recurring_ical_events.util import time_span_contains_event

from crawlers import deadline
from crawlers.ical_record import NO_END, property_value, recurrence_key, to_record
from crawlers.ical_rules import repair_rules, settle_rules
from crawlers.records import ParseProblem, ParseResult, Window
from crawlers.source import SourceConfig

# Errors recurring-ical-events and dateutil raise for one bad series.
SERIES_ERRORS = (*CalendarQuery.suppressed_errors, ValueError, TypeError, OverflowError)
# ... and what a malformed component makes it raise on the way (a missing DTSTART, say)
_QUERY_ERRORS = (*SERIES_ERRORS, KeyError, AttributeError, IndexError)
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
# BY parts that drop periods: with one of them, COUNT does not bound the periods stepped
_FILTERS = ("BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYSETPOS")


@dataclass(slots=True)
class ParsedEvent:
    """A parsed VEVENT with the line where it began."""

    event: icalendar.Event
    line: int
    uid: str
    # the X-WR-TIMEZONE of its VCALENDAR (when valid), handed to recurring-ical-events
    x_wr: str | None = None


def expand(
    components: list[ParsedEvent], source: SourceConfig, window: Window, result: ParseResult
) -> None:
    """Turn the components of a file into records for the occurrences in the window.

    A UID with one component and no recurrence properties is one event and is read directly
    (most of a feed); everything else goes through recurring-ical-events.
    """
    by_uid: dict[str, list[ParsedEvent]] = defaultdict(list)
    for component in components:
        _note(component, repair_rules(component.event), source, result)
        by_uid[component.uid].append(component)
    series_components: dict[str | None, list[ParsedEvent]] = defaultdict(list)
    for group in by_uid.values():
        if len(group) == 1 and not any(name in group[0].event for name in _RECURRENCE):
            read_single(group[0], source, window, result)
        else:
            series_components[group[0].x_wr].extend(group)
    for x_wr, group in series_components.items():
        _expand_series(group, x_wr, source, window, result)


def _note(component: ParsedEvent, notes: list[str], source: SourceConfig, r: ParseResult) -> None:
    for note in notes:
        r.warnings.append(ParseProblem(source.id, note, component.line, component.uid))


def read_single(
    component: ParsedEvent, source: SourceConfig, window: Window, result: ParseResult
) -> None:
    """One non-recurring VEVENT: a record when it overlaps the window (problems to ``result``)."""
    event = component.event
    start: Any = property_value(event, "DTSTART")
    try:
        end: Any = start if isinstance(start, datetime) else start + timedelta(days=1)
        if "DTEND" in event:
            end = property_value(event, "DTEND")
        elif "DURATION" in event:
            end = start + property_value(event, "DURATION")
        if type(end) is not type(start) or end < start:
            end = start if isinstance(start, datetime) else start + timedelta(days=1)
        inside = time_span_contains_event(window.start, window.end, start, end)
    except SERIES_ERRORS as exc:
        result.problems.append(
            ParseProblem(source.id, f"unusable start or end: {exc}", component.line, component.uid)
        )
        return
    if inside:
        result.events.append(to_record(event, start, end, source, is_series=False))


def _expand_series(
    components: list[ParsedEvent],
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
    for component in components:
        if "RRULE" in component.event:
            _note(component, settle_rules(component.event), source, result)
    first_line: dict[str, int] = {}
    recurring: set[str] = set()
    for component in components:
        first_line[component.uid] = min(
            first_line.get(component.uid, component.line), component.line
        )
        if any(name in component.event for name in ("RRULE", "RDATE", "RECURRENCE-ID")):
            recurring.add(component.uid)
    by_uid: dict[str, list[ParsedEvent]] = defaultdict(list)
    for component in components:
        by_uid[component.uid].append(component)
    all_series = _series_of(components, x_wr)
    expanded = {str(series.uid) for series in all_series}
    for uid in sorted(set(first_line) - expanded):
        result.problems.append(
            ParseProblem(source.id, "unusable recurrence rules", line=first_line[uid], uid=uid)
        )
    limit = window.max_occurrences
    clock = deadline.current()
    for done, series in enumerate(all_series):
        uid = str(series.uid)
        if clock is not None and clock.expired():
            result.partial = True
            result.problems.append(
                ParseProblem(
                    source.id,
                    f"the processing budget of {clock.seconds:g} s is spent"
                    f" (HARVEST_PROCESS_BUDGET): {len(all_series) - done} series left"
                    " unexpanded; nothing is marked removed",
                )
            )
            return
        started = time.monotonic()
        stopped: str | None = None
        try:
            occurrences = []
            for occurrence in _bounded(series.between(window.start, window.end), limit + 1):
                occurrences.append(occurrence)
                stopped = deadline.overrun(started)
                if stopped:
                    break
        except _QUERY_ERRORS as exc:
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
        periods = {
            recurrence_key(start)
            for c in by_uid[uid]
            if "RECURRENCE-ID" not in c.event
            for start, end in _rdates(c.event)
            if end is not None
        }
        modified = {
            recurrence_key(property_value(c.event, "RECURRENCE-ID"))
            for c in by_uid[uid]
            if "RECURRENCE-ID" in c.event
        }
        exact = _exact_duration(by_uid[uid])
        emitted: set[str] = set()
        records = []
        for occurrence in [] if stopped else occurrences:
            component = occurrence.as_component(False)
            key = recurrence_key(occurrence.start)
            emitted.add(key)
            original = component.get("RECURRENCE-ID")
            from_master = original is not None and recurrence_key(original.dt) not in modified
            records.append(
                to_record(
                    component,
                    occurrence.start,
                    occurrence.end,
                    source,
                    is_series=uid in recurring,
                    has_end=True if key in periods else None,
                    duration=exact if from_master and key not in periods else None,
                )
            )
            stopped = deadline.overrun(started)
            if stopped:
                break
        if stopped:  # the series is a problem of its own; the rest of the file is read
            result.partial = True
            result.problems.append(
                ParseProblem(
                    source.id,
                    f"series expansion {stopped}; its occurrences are left out and nothing"
                    " is marked removed",
                    line=first_line.get(uid),
                    uid=uid,
                )
            )
            continue
        result.events.extend(records)
        if all("RECURRENCE-ID" in c.event for c in by_uid[uid]):
            _orphan_rdates(by_uid[uid], emitted, source, window, result)


def _exact_duration(components: list[ParsedEvent]) -> timedelta | None:
    """The exact length of the series' master (DTEND - DTSTART as instants), if it has one.

    None for a DATE master, a DURATION in days or weeks (nominal: RFC 5545 3.3.6 counts
    those in local days) and series with RANGE=THISANDFUTURE overrides (their own length).
    """
    masters = [c.event for c in components if "RECURRENCE-ID" not in c.event]
    if len(masters) != 1 or any(
        "RANGE" in getattr(c.event.get("RECURRENCE-ID"), "params", {}) for c in components
    ):
        return None
    master = masters[0]
    start = property_value(master, "DTSTART")
    if not isinstance(start, datetime) or NO_END in master:
        return None
    if "DTEND" in master:
        end = property_value(master, "DTEND")
        if not isinstance(end, datetime):
            return None
        return end.astimezone(UTC) - start.astimezone(UTC)
    duration = property_value(master, "DURATION")
    return duration if isinstance(duration, timedelta) and not duration.days else None


def _rdates(event: icalendar.Event) -> list[tuple[Any, Any]]:
    """The RDATEs of a component as (start, end or duration or None)."""
    values = event.get("RDATE")
    found: list[tuple[Any, Any]] = []
    for value in values if isinstance(values, list) else [values] if values else []:
        for item in getattr(value, "dts", []):
            if isinstance(item.dt, tuple):
                found.append(item.dt)
            else:
                found.append((item.dt, None))
    return found


def _orphan_rdates(
    components: list[ParsedEvent],
    emitted: set[str],
    source: SourceConfig,
    window: Window,
    result: ParseResult,
) -> None:
    """The RDATEs of overrides whose master is not in the file (Lotus Notes, khal).

    recurring-ical-events reads RDATE only on a master; such an override (RECURRENCE-ID
    plus RDATE, often PERIODs) stands for all of its dates, each an occurrence identified
    by its own start, with the override's duration unless the RDATE is a PERIOD.
    """
    for component in components:
        event = component.event
        start = property_value(event, "DTSTART")
        duration = None
        if NO_END not in event:
            try:
                duration = _component_end(event, start) - start
            except SERIES_ERRORS:
                continue
        for rdate, until in _rdates(event):
            key = recurrence_key(rdate)
            if key in emitted or type(rdate) is not type(start):
                continue
            emitted.add(key)
            try:
                if isinstance(until, timedelta):
                    end, has_end = rdate + until, True
                elif until is not None:
                    end, has_end = until, True
                else:
                    end, has_end = rdate + (duration or timedelta(0)), duration is not None
                if not time_span_contains_event(window.start, window.end, rdate, end):
                    continue
            except SERIES_ERRORS:
                continue
            result.events.append(
                to_record(
                    event,
                    rdate,
                    end,
                    source,
                    is_series=True,
                    has_end=has_end,
                    original_start=rdate,
                )
            )


def _component_end(event: icalendar.Event, start: date) -> date:
    if "DTEND" in event:
        return property_value(event, "DTEND")
    return start + property_value(event, "DURATION")


def _series_of(components: list[ParsedEvent], x_wr: str | None) -> list[Any]:
    """The series of recurring-ical-events for these components.

    The library skips a bad series itself for the errors it knows; for anything else that
    breaks the query as a whole, it is built again per UID so that only that UID is lost.
    """
    try:
        return list(_query(components, x_wr).series)
    except _QUERY_ERRORS:
        found: list[Any] = []
        by_uid: dict[str, list[ParsedEvent]] = defaultdict(list)
        for component in components:
            by_uid[component.uid].append(component)
        for group in by_uid.values():
            try:
                found.extend(_query(group, x_wr).series)
            except _QUERY_ERRORS:
                continue  # reported by the caller as unusable recurrence rules
        return found


def _query(components: list[ParsedEvent], x_wr: str | None) -> CalendarQuery:
    calendar = icalendar.Calendar()
    if x_wr:
        calendar["X-WR-TIMEZONE"] = x_wr
    for component in components:
        calendar.add_component(component.event)
    return recurring_ical_events.of(calendar, skip_bad_series=True)


def _rule_steps(event: icalendar.Event, window_end: datetime) -> int:
    """How many periods dateutil steps through for the RRULEs up to the window's end (rough).

    Periods from DTSTART to UNTIL or the window end (or to the COUNT-th occurrence when no
    BY part drops periods), times what BYHOUR, BYMINUTE and BYSECOND multiply each period
    into. INTERVAL is at least 1 here (``repair_rules``).
    """
    rules = event.get("RRULE")
    if rules is None:
        return 0
    start = _as_utc(property_value(event, "DTSTART"))
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
        periods = max(0, int((end - start).total_seconds() // period) + 1)
        count = _count(rule)
        if count is not None and not any(rule.get(part) for part in _FILTERS):
            # every period gives an occurrence (BYDAY skips at most six days in seven):
            # dateutil stops after COUNT of them
            periods = min(periods, count * (7 if rule.get("BYDAY") else 1))
        steps += periods * fan_out
    return steps


def _count(rule: Any) -> int | None:
    try:
        return int(rule["COUNT"][0]) if rule.get("COUNT") else None
    except (TypeError, ValueError, IndexError):
        return None


def _as_utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _bounded(items: Iterator[Any], limit: int) -> Iterator[Any]:
    for count, item in enumerate(items, start=1):
        yield item
        if count >= limit:
            return
