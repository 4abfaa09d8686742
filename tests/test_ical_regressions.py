"""One regression test per reading defect of issue 12 (and the reader faults of issue 16).

Each ``test_<slug>`` reads ``tests/data/ics/<slug>.ics`` (origin and producer style in
tests/data/MANIFEST.tsv). Expectations were worked out by hand from RFC 5545 and the file,
given in the comment of each test, and every file is also read with its components in
reversed order (RFC 5545 imposes no ordering) and must give the same records.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawlers.ical import parse
from crawlers.records import ParseResult, RawEvent, Window
from crawlers.source import SourceConfig
from tests.test_ical_corpus import _reversed_components
from tests.validators.ical_checks import JS_DIR, ical_js_problem

ICS = Path(__file__).parent / "data" / "ics"
AMS = ZoneInfo("Europe/Amsterdam")
NEW_YORK = ZoneInfo("America/New_York")
SOURCE = SourceConfig(id="reg", name="reg", kind="ics", url="x.ics", region="landelijk")
WINDOW_2027 = Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
# every fixture file of this module (tests/test_ical_corpus.py checks each has a MANIFEST line)
FILES = (
    "double_semicolon_dtstart",
    "stray_line_after_dtstart",
    "valarm_invalid_trigger_rail",
    "multiple_vcalendars_same_uid",
    "rdate_period_without_dtend",
    "dtend_before_dtstart",
    "date_start_datetime_end",
    "rrule_interval_zero",
    "rrule_minutely_count",
    "dst_gap_weekly_amsterdam",
    "dst_overlap_weekly_amsterdam",
    "until_floating_zoned_dtstart",
    "count_dtstart_not_in_rule",
    "monthly_byday_numbered_and_plain",
    "byweekno_without_byday",
    "lotus_notes_orphan_override_rdates",
    "huge_duration",
)


def _read(slug: str, window: Window = WINDOW_2027) -> ParseResult:
    """Parse the fixture, check that reversed order gives the same records, return it."""
    body = (ICS / f"{slug}.ics").read_bytes()
    result = parse(body, SOURCE, now=window.start, window=window)
    again = parse(_reversed_components(body), SOURCE, now=window.start, window=window)
    assert _summary(again) == _summary(result)
    assert len({e.key() for e in result.events}) == len(result.events)  # one id each
    return result


def _summary(result: ParseResult) -> list[tuple[str, str, str, str]]:
    return sorted((e.uid, e.recurrence_id or "", _utc(e.start), _utc(e.end)) for e in result.events)


def _utc(value: date | None) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")
    return value.isoformat() if value is not None else "-"


def _spans(events: list[RawEvent]) -> list[tuple[str, str]]:
    return sorted((_utc(e.start), _utc(e.end)) for e in events)


def _of(result: ParseResult, uid: str) -> list[RawEvent]:
    return [e for e in result.events if e.uid == uid]


def test_double_semicolon_dtstart() -> None:
    # "DTSTART;;VALUE=DATE-TIME:20270310T193000": the empty parameter is dropped; floating
    # 19:30-21:00 under X-WR-TIMEZONE Europe/Amsterdam (CET) is 18:30Z-20:00Z.
    result = _read("double_semicolon_dtstart")
    assert _spans(result.events) == [
        ("2027-03-10T18:30Z", "2027-03-10T20:00Z"),
        ("2027-03-17T18:30Z", "2027-03-17T20:00Z"),
    ]
    assert not result.problems
    assert sorted(w.line for w in result.warnings) == [10, 11]


def test_stray_line_after_dtstart() -> None:
    # The line "X" (line 6) right after DTSTART is no wrapped value of DTSTART: it is
    # reported and ignored; the event keeps 2014-04-01 00:00Z-01:00Z.
    window = Window(datetime(2014, 3, 1, tzinfo=UTC), datetime(2014, 5, 1, tzinfo=UTC))
    result = _read("stray_line_after_dtstart", window)
    assert _spans(result.events) == [("2014-04-01T00:00Z", "2014-04-01T01:00Z")]
    [problem] = result.problems
    assert problem.line == 6 and "'X'" in problem.reason


def test_valarm_invalid_trigger_rail() -> None:
    # TRIGGER:PT-2H (sign after the P) is no RFC 5545 duration: that VALARM goes, the trip
    # (17:42Z-18:44Z) stays; the return trip with a valid alarm is read as before.
    result = _read("valarm_invalid_trigger_rail")
    assert _spans(result.events) == [
        ("2027-03-10T17:42Z", "2027-03-10T18:44Z"),
        ("2027-03-10T21:03Z", "2027-03-10T22:07Z"),
    ]
    assert not result.problems
    [warning] = result.warnings
    assert "VALARM" in warning.reason and warning.uid and warning.uid.startswith("reisadvies-")


def test_multiple_vcalendars_same_uid() -> None:
    # event1: WEEKLY;COUNT=3 from 1 Mar 09:00Z in one VCALENDAR, its 8 Mar occurrence moved
    # to 11:00Z in the next; event2 twice, SEQUENCE 2 wins. One series, one record per id.
    result = _read("multiple_vcalendars_same_uid")
    assert _summary(result) == [
        ("event1@example.com", "20270301T090000Z", "2027-03-01T09:00Z", "2027-03-01T10:00Z"),
        ("event1@example.com", "20270308T090000Z", "2027-03-08T11:00Z", "2027-03-08T12:00Z"),
        ("event1@example.com", "20270315T090000Z", "2027-03-15T09:00Z", "2027-03-15T10:00Z"),
        ("event2@example.com", "", "2027-03-02T09:00Z", "-"),
    ]
    assert [e.title for e in _of(result, "event2@example.com")] == ["Event 2 (updated)"]


def test_rdate_period_without_dtend() -> None:
    # No DTEND/DURATION: DTSTART 1 Mar 10:00 CET is an instant; the RDATE PERIODs give
    # 5 Mar 10:00-12:00 and 12 Mar 10:00 for PT3H (13:00), both CET (-1h in UTC).
    result = _read("rdate_period_without_dtend")
    assert _spans(result.events) == [
        ("2027-03-01T09:00Z", "-"),
        ("2027-03-05T09:00Z", "2027-03-05T11:00Z"),
        ("2027-03-12T09:00Z", "2027-03-12T12:00Z"),
    ]


def test_dtend_before_dtstart() -> None:
    # DTEND 18:30Z before DTSTART 20:00Z: swapped, for the single event as for the series
    # (recurring-ical-events swaps them), so both read 18:30Z-20:00Z.
    result = _read("dtend_before_dtstart")
    assert _spans(result.events) == [
        ("2027-03-10T18:30Z", "2027-03-10T20:00Z"),
        ("2027-03-11T18:30Z", "2027-03-11T20:00Z"),
        ("2027-03-18T18:30Z", "2027-03-18T20:00Z"),
    ]
    assert len([w for w in result.warnings if "swapped" in w.reason]) == 2


def test_date_start_datetime_end() -> None:
    # DATE 20 Feb to DATE-TIME 28 Feb 23:59Z: all-day through 28 Feb, exclusive end 1 Mar.
    # DATE-TIME 6 Mar 09:00Z to DATE 7 Mar: ends at midnight 7 Mar (UTC, the start's zone).
    # The all-day series with a DATE-TIME end at midnight stays all-day, one day each.
    result = _read("date_start_datetime_end")
    assert _spans(result.events) == [
        ("2027-02-20", "2027-03-01"),
        ("2027-03-06T09:00Z", "2027-03-07T00:00Z"),
        ("2027-03-15", "2027-03-16"),
        ("2027-03-22", "2027-03-23"),
    ]


def test_rrule_interval_zero() -> None:
    # INTERVAL=0 is no positive integer (RFC 5545 3.3.10): read as 1, weekly from Tue
    # 2 Mar 16:00 CET until 23 Mar 15:00Z: 2, 9, 16, 23 Mar. Without the repair dateutil
    # never returns.
    result = _read("rrule_interval_zero")
    assert [_utc(e.start) for e in result.events] == [
        "2027-03-02T15:00Z",
        "2027-03-09T15:00Z",
        "2027-03-16T15:00Z",
        "2027-03-23T15:00Z",
    ]
    assert any("INTERVAL=0" in w.reason for w in result.warnings)


def test_rrule_minutely_count() -> None:
    # MINUTELY;COUNT=4 stops after four minutes: not a runaway rule, however long the window.
    window = Window(datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))
    result = _read("rrule_minutely_count", window)
    assert [_utc(e.start) for e in result.events] == [
        "2020-01-10T10:00Z",
        "2020-01-10T10:01Z",
        "2020-01-10T10:02Z",
        "2020-01-10T10:03Z",
    ]
    assert not result.problems


def test_dst_gap_weekly_amsterdam() -> None:
    # WEEKLY 02:30-03:30 from 14 Mar: 14 and 21 Mar in CET (01:30Z-02:30Z); 28 Mar 02:30
    # does not exist (clocks go 02:00 -> 03:00): RFC 5545 3.3.5 reads it with the offset
    # before the gap, 03:30 CEST (01:30Z), and the occurrence keeps its hour (04:30 CEST).
    # The same for the Outlook VTIMEZONE and the IANA zone.
    result = _read("dst_gap_weekly_amsterdam")
    expected = [
        ("2027-03-14T01:30Z", "2027-03-14T02:30Z"),
        ("2027-03-21T01:30Z", "2027-03-21T02:30Z"),
        ("2027-03-28T01:30Z", "2027-03-28T02:30Z"),
    ]
    uids = sorted({e.uid for e in result.events})
    assert len(uids) == 2
    for uid in uids:
        events = _of(result, uid)
        assert _spans(events) == expected
        moved = max(events, key=lambda e: e.start)
        assert moved.start.astimezone(AMS).hour == 3  # type: ignore[union-attr]


def test_dst_overlap_weekly_amsterdam() -> None:
    # WEEKLY 02:30-03:30 from 17 Oct: 17 and 24 Oct in CEST (00:30Z-01:30Z). On 31 Oct
    # 02:30 happens twice; RFC 5545 3.3.5 takes the first (CEST, 00:30Z), and an instance
    # lasts the master's exact hour: until 02:30 CET (01:30Z), not 03:30 CET (two hours,
    # which adding the hour to the wall time gives).
    result = _read("dst_overlap_weekly_amsterdam")
    expected = [
        ("2027-10-17T00:30Z", "2027-10-17T01:30Z"),
        ("2027-10-24T00:30Z", "2027-10-24T01:30Z"),
        ("2027-10-31T00:30Z", "2027-10-31T01:30Z"),
    ]
    uids = sorted({e.uid for e in result.events})
    assert len(uids) == 2
    for uid in uids:
        assert _spans(_of(result, uid)) == expected


def test_until_floating_zoned_dtstart() -> None:
    # UNTIL without Z on a zoned DTSTART is read in DTSTART's zone. New York: DAILY 10:00
    # EST until 3 Mar 10:00 local: 1, 2, 3 Mar (15:00Z). Amsterdam: DAILY 10:00 CET until
    # 3 Mar 09:30 local: 1 and 2 Mar only (09:00Z).
    result = _read("until_floating_zoned_dtstart")
    new_york = _of(result, "until-new-york@exchange.example")
    assert [e.start for e in new_york] == [
        datetime(2027, 3, d, 10, tzinfo=NEW_YORK) for d in (1, 2, 3)
    ]
    amsterdam = _of(result, "until-amsterdam@exchange.example")
    assert [e.start for e in amsterdam] == [datetime(2027, 3, d, 10, tzinfo=AMS) for d in (1, 2)]


def test_count_dtstart_not_in_rule() -> None:
    # DTSTART Tue 2 Mar, WEEKLY;BYDAY=MO;COUNT=3: "the DTSTART property value always
    # counts as the first occurrence" (RFC 5545 3.8.5.3): Tue 2, Mon 8, Mon 15 Mar.
    result = _read("count_dtstart_not_in_rule")
    assert [e.start for e in result.events] == [
        datetime(2027, 3, 2, 19, tzinfo=AMS),
        datetime(2027, 3, 8, 19, tzinfo=AMS),
        datetime(2027, 3, 15, 19, tzinfo=AMS),
    ]


def test_monthly_byday_numbered_and_plain() -> None:
    # BYDAY=3MO,WE,FR monthly: the third Monday and every Wednesday and Friday. March 2027
    # starts on a Monday: 15 (3rd Mon), 17, 19, 24, 26, 31 until 31 Mar; with COUNT=4
    # from 15 Mar: 15, 17, 19, 24.
    result = _read("monthly_byday_numbered_and_plain")
    until = _of(result, "monthly-mixed-until@google.com")
    assert [e.start.day for e in until] == [15, 17, 19, 24, 26, 31]
    counted = _of(result, "monthly-mixed-count@google.com")
    assert [e.start.day for e in counted] == [15, 17, 19, 24]


def test_byweekno_without_byday() -> None:
    # YEARLY;BYWEEKNO=20;COUNT=3 from Mon 17 May 2027: DTSTART's weekday in ISO week 20,
    # one day a year: 17 May 2027, 15 May 2028, 14 May 2029.
    window = Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
    result = _read("byweekno_without_byday", window)
    assert [e.start for e in result.events] == [
        date(2027, 5, 17),
        date(2028, 5, 15),
        date(2029, 5, 14),
    ]


def test_lotus_notes_orphan_override_rdates() -> None:
    # An override (RECURRENCE-ID 13:00Z) without its master, moved to 10:00 "Eastern" (EDT,
    # -4: 14:00Z), with RDATE PERIODs 26, 27 Apr 10:00-11:00 and 28 Apr 10:00-12:00: the
    # 26th is the override itself; 27 and 28 Apr are occurrences of their own.
    window = Window(datetime(2005, 4, 1, tzinfo=UTC), datetime(2005, 5, 1, tzinfo=UTC))
    result = _read("lotus_notes_orphan_override_rdates", window)
    assert [(e.recurrence_id, _utc(e.start), _utc(e.end)) for e in result.events] == [
        ("20050426T130000Z", "2005-04-26T14:00Z", "2005-04-26T15:00Z"),
        ("20050427T140000Z", "2005-04-27T14:00Z", "2005-04-27T15:00Z"),
        ("20050428T140000Z", "2005-04-28T14:00Z", "2005-04-28T16:00Z"),
    ]


def test_huge_duration() -> None:
    # DURATION:P99999999D ends after the year 9999: a problem for that event (and that
    # series), the rest of the file is read.
    result = _read("huge_duration")
    assert [e.uid for e in result.events] == ["normal@overstappunt.example"]
    assert sorted(p.uid or "" for p in result.problems) == [
        "huge-duration-series@overstappunt.example",
        "huge-duration@overstappunt.example",
    ]


@pytest.mark.parametrize(
    ("slug", "window"),
    [
        ("monthly_byday_numbered_and_plain", WINDOW_2027),
        ("until_floating_zoned_dtstart", WINDOW_2027),
        (
            "rrule_minutely_count",
            Window(datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)),
        ),
    ],
)
def test_mozilla_ical_js_expands_the_same_occurrences(slug: str, window: Window) -> None:
    """Mozilla's ical.js (Thunderbird) as an independent expansion of the same files.

    ical.js has no IANA zones: a TZID without VTIMEZONE is floating there, so wall times are
    compared. Where ical.js itself differs from RFC 5545 it is not used as a check: a DST gap
    in a VTIMEZONE (it takes the offset after the gap), COUNT with a DTSTART outside the rule
    (it leaves DTSTART out), BYWEEKNO without BYDAY (nothing), RDATE periods (it throws).
    """
    problem = ical_js_problem()
    if problem:
        pytest.skip(problem)
    completed = subprocess.run(
        [
            "node",
            str(JS_DIR / "expand_ics.mjs"),
            str(ICS / f"{slug}.ics"),
            window.start.isoformat(),
            window.end.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    expected = {
        uid: [occurrence["start"] for occurrence in occurrences]
        for uid, occurrences in json.loads(completed.stdout).items()
    }
    ours: dict[str, list[str]] = {}
    for event in _read(slug, window).events:
        wall = event.start.replace(tzinfo=None) if isinstance(event.start, datetime) else None
        ours.setdefault(event.uid, []).append(f"{wall:%Y-%m-%dT%H:%M}Z" if wall else "")
    assert ours == expected
