"""RRULEs made to mean what RFC 5545 says before recurring-ical-events and dateutil expand them.

dateutil (under recurring-ical-events) reads some rules differently from RFC 5545 and from
libical, Google Calendar and ical.js; subscribers see the difference, so the rule is rewritten
here into one dateutil reads right ("upstream style": each case is a regression test in
tests/test_ical_regressions.py and a candidate report for the library named):

* ``INTERVAL=0`` (RFC 5545 3.3.10: "a positive integer") makes dateutil loop forever: it is
  read as the default 1, with a warning. (python-dateutil)
* ``UNTIL`` without zone on a zoned DTSTART: RFC 5545 3.3.10 says UNTIL "MUST be specified in
  UTC" then; producers write the local time, and recurring-ical-events appends a ``Z``, which
  drops the last occurrence west of Greenwich (and adds one east of it when UNTIL falls
  between the local and the UTC time). It is read in DTSTART's zone; a DATE UNTIL on a
  DATE-TIME start includes that whole day. (recurring-ical-events)
* ``BYWEEKNO`` without BYDAY (or BYMONTHDAY, BYYEARDAY): RFC 5545 3.3.10 takes what the rule
  does not give from DTSTART, so the occurrence is on DTSTART's weekday of that week;
  dateutil gives all seven days. (python-dateutil)
* ``BYDAY=3MO,WE,FR`` (numbered and plain weekdays mixed) in a MONTHLY or YEARLY rule means
  the third Monday and every Wednesday and Friday; dateutil keeps only days that are both,
  so nothing. The rule is split in two (same start, union of both). (python-dateutil)
* A rule that can never occur ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30") makes dateutil step
  up to the year 9999 (25 s DAILY, minutes MINUTELY): it is dropped, DTSTART stays (see
  ``_never_occurs``). (python-dateutil)
* ``COUNT`` with a DTSTART that the rule does not produce: RFC 5545 3.8.5.3, "the DTSTART
  property value always counts as the first occurrence"; recurring-ical-events adds DTSTART
  on top of COUNT occurrences of the rule, one too many. COUNT is lowered by one.
  (recurring-ical-events)
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from itertools import islice
from math import gcd
from typing import Any

import icalendar
from dateutil.rrule import rrule, rruleset, rrulestr
from icalendar.prop import vRecur

from crawlers.ical_record import property_value

_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Errors dateutil raises for a rule it cannot read (the expansion then reports the series).
_RULE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)
# A split rule's COUNT is turned into an UNTIL by counting the union up to here at most.
_MAX_COUNTED = 10_000


def _rules(event: icalendar.Event) -> list[vRecur]:
    rules = event.get("RRULE")
    if rules is None:
        return []
    return list(rules) if isinstance(rules, list) else [rules]


def repair_rules(event: icalendar.Event) -> list[str]:
    """Rewrite the RRULEs of a VEVENT in place (INTERVAL, UNTIL, BYWEEKNO); say what changed.

    Only reads the rule and DTSTART, so it is safe before the runaway check.
    """
    start = property_value(event, "DTSTART")
    notes: list[str] = []
    for rule in _rules(event):
        notes.extend(_repair_interval(rule))
        notes.extend(_repair_until(rule, start))
        notes.extend(_repair_weekno(rule, start))
    return notes


def settle_rules(event: icalendar.Event) -> list[str]:
    """Rewrite what needs dateutil to decide (mixed BYDAY, COUNT); say what changed.

    Expands the rule from DTSTART, so it runs after the runaway check only.
    """
    rules = _rules(event)
    dtstart = property_value(event, "DTSTART")
    start = _as_datetime(dtstart)
    for rule in rules:
        if _never_occurs(rule, start):
            del event["RRULE"]
            return [f"RRULE {rule.to_ical().decode()} can never occur: only DTSTART is read"]
    if len(rules) != 1:
        return []  # several RRULEs (RFC 2445) are left as they are
    rule = rules[0]
    notes: list[str] = []
    try:
        split = _split_mixed_byday(rule, start, all_day=not isinstance(dtstart, datetime))
        if split is not None:
            event["RRULE"] = split
            notes.append(f"RRULE BYDAY={_byday(rule)} mixes numbered and plain weekdays; split")
            return notes
        counted = _count_from_dtstart(rule, start)
    except _RULE_ERRORS:
        return notes  # the expansion reports a rule dateutil cannot read
    if counted is not None:
        if counted == 0:
            del event["RRULE"]
        else:
            rule["COUNT"] = [counted]
        notes.append("RRULE COUNT includes DTSTART, which the rule does not produce (RFC 5545)")
    return notes


def _repair_interval(rule: vRecur) -> list[str]:
    values = rule.get("INTERVAL")
    if not values:
        return []
    try:
        interval = int(values[0])
    except (TypeError, ValueError):
        return []
    if interval >= 1:
        return []
    del rule["INTERVAL"]
    return [f"RRULE INTERVAL={interval} is not a positive integer; read as 1"]


def _repair_until(rule: vRecur, start: date) -> list[str]:
    values = rule.get("UNTIL")
    if not values or not isinstance(start, datetime) or start.tzinfo is None:
        return []
    until = values[0]
    if isinstance(until, datetime):
        if until.tzinfo is not None:
            return []
        local = until.replace(tzinfo=start.tzinfo)
    elif isinstance(until, date):
        local = datetime.combine(until, time(23, 59, 59), tzinfo=start.tzinfo)
    else:
        return []
    rule["UNTIL"] = [local.astimezone(UTC)]
    return [f"RRULE UNTIL {until.isoformat()} without zone read in DTSTART's zone"]


def _repair_weekno(rule: vRecur, start: date) -> list[str]:
    if not rule.get("BYWEEKNO") or any(
        rule.get(part) for part in ("BYDAY", "BYMONTHDAY", "BYYEARDAY")
    ):
        return []
    weekday = _WEEKDAYS[start.weekday()]
    rule["BYDAY"] = [weekday]
    return [f"RRULE BYWEEKNO without BYDAY: on DTSTART's weekday ({weekday})"]


def _byday(rule: vRecur) -> str:
    return ",".join(str(day) for day in rule.get("BYDAY", []))


def _split_mixed_byday(rule: vRecur, start: datetime, *, all_day: bool) -> list[vRecur] | None:
    """Two rules for a MONTHLY/YEARLY BYDAY that mixes "3MO" and "WE", else None."""
    frequency = str(rule.get("FREQ", [""])[0]).upper()
    days = [str(day).upper() for day in rule.get("BYDAY", [])]
    numbered = [day for day in days if day[:-2].lstrip("+-").isdigit()]
    plain = [day for day in days if day in _WEEKDAYS]
    if frequency not in {"MONTHLY", "YEARLY"} or not numbered or not plain:
        return None
    if rule.get("BYSETPOS") or len(numbered) + len(plain) != len(days):
        return None  # BYSETPOS picks from the union: not expressible as two rules
    parts = [_copy(rule, BYDAY=numbered), _copy(rule, BYDAY=plain)]
    count = rule.get("COUNT")
    if count and int(count[0]) > _MAX_COUNTED:
        return None
    if count:
        # COUNT counts the union (DTSTART first): end both rules at the COUNT-th start
        union = rruleset()
        union.rdate(start)
        for part in parts:
            del part["COUNT"]
            union.rrule(_dateutil(part, start))
        starts = list(islice(union, int(count[0])))
        last = starts[-1]
        until = last.date() if all_day else last.astimezone(UTC) if last.tzinfo else last
        for part in parts:
            part["UNTIL"] = [until]
    return parts


def _never_occurs(rule: vRecur, start: datetime) -> bool:
    """Whether no start of the rule can ever exist ("BYMONTH=2;BYMONTHDAY=30").

    dateutil steps period by period up to the year 9999 looking for one (25 s for a DAILY
    rule, minutes for MINUTELY), so such a rule would hang the reader. Two cheap proofs:
    INTERVAL never reaches the weekdays, months or hours the rule asks for; or no day at
    all satisfies its day filters, which a YEARLY rule with the same filters shows within
    one 400-year Gregorian cycle (the calendar repeats after it) counted from near 9999.
    A rule neither proof covers is left to dateutil (BYSETPOS, odd INTERVAL mixes).
    """
    try:
        frequency = str(rule["FREQ"][0]).upper()
        interval = int(rule.get("INTERVAL", [1])[0])
        if _interval_misses(rule, frequency, max(1, interval), start):
            return True
        return not any(_yearly_probe(rule, frequency, days, start) for days in _byday_sets(rule))
    except (*_RULE_ERRORS, AttributeError):
        return False  # the expansion reports a rule dateutil cannot read


def _interval_misses(rule: vRecur, frequency: str, interval: int, start: datetime) -> bool:
    """Whether INTERVAL steps never land on the weekday, month or hour the rule filters."""
    days = {str(day).upper()[-2:] for day in rule.get("BYDAY", [])}
    if frequency == "DAILY" and interval % 7 == 0 and days:
        return _WEEKDAYS[start.weekday()] not in days
    units = {
        "MONTHLY": ("BYMONTH", 12, start.month),
        "HOURLY": ("BYHOUR", 24, start.hour),
        "MINUTELY": ("BYMINUTE", 60, start.minute),
        "SECONDLY": ("BYSECOND", 60, start.second),
    }
    if frequency not in units:
        return False
    part, cycle, first = units[frequency]
    wanted = {int(value) for value in rule.get(part, [])}
    step = gcd(interval, cycle)
    return bool(wanted) and not any((value - first) % step == 0 for value in wanted)


def _byday_sets(rule: vRecur) -> list[list[str]]:
    """BYDAY as the probe reads it: numbered and plain weekdays apart (dateutil intersects)."""
    days = [str(day).upper() for day in rule.get("BYDAY", [])]
    numbered = [day for day in days if day not in _WEEKDAYS]
    plain = [day for day in days if day in _WEEKDAYS]
    return [group for group in (numbered, plain) if group] or [[]]


def _yearly_probe(rule: vRecur, frequency: str, days: list[str], start: datetime) -> bool:
    """Whether a YEARLY rule with the same day filters gives a day in one 400-year cycle."""
    parts = {
        key: list(rule[key])
        for key in ("BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "WKST")
        if rule.get(key)
    }
    if not parts and not days:
        return True
    if days:
        if frequency not in {"MONTHLY", "YEARLY"}:
            days = sorted({day[-2:] for day in days})  # dateutil ignores the number there
        elif frequency == "MONTHLY" and "BYMONTH" not in parts:
            parts["BYMONTH"] = list(range(1, 13))  # "3MO" of a month, not of the year
        parts["BYDAY"] = days
    probe = vRecur({"FREQ": ["YEARLY"], "COUNT": [1], **parts})
    shifted = start.replace(year=start.year + 400 * ((9599 - start.year) // 400), tzinfo=None)
    return next(iter(_dateutil(probe, shifted)), None) is not None


def _count_from_dtstart(rule: vRecur, start: datetime) -> int | None:
    """The COUNT to give dateutil when DTSTART is not the rule's own first start, else None."""
    count = rule.get("COUNT")
    if not count:
        return None
    first = next(iter(_dateutil(rule, start).replace(count=1)), None)
    if first == start:
        return None
    return max(0, int(count[0]) - 1)


def _copy(rule: vRecur, **parts: Any) -> vRecur:
    copied = vRecur({key: list(value) for key, value in rule.items()})
    copied.update(parts)
    return copied


def _dateutil(rule: vRecur, start: datetime) -> rrule:
    return rrulestr(rule.to_ical().decode(), dtstart=start)  # type: ignore[return-value]


def _as_datetime(value: date) -> datetime:
    """DTSTART as dateutil expands it (a DATE as its naive midnight)."""
    return value if isinstance(value, datetime) else datetime.combine(value, time())
