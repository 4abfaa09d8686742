"""The iCal reader on small hand-written calendars: zones, ends, fields, tolerance, limits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crawlers.ical import parse
from crawlers.records import FeedError, ParseResult, Window
from crawlers.source import SourceConfig

AMS = ZoneInfo("Europe/Amsterdam")
WINDOW = Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))


def _source(**extra: object) -> SourceConfig:
    return SourceConfig.model_validate(
        {"id": "t", "name": "t", "kind": "ics", "url": "t.ics", "region": "landelijk", **extra}
    )


def _calendar(*events: str, header: str = "") -> str:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n{header}{body}END:VCALENDAR\n"


def _parse(text: str | bytes, window: Window = WINDOW, **source: object) -> ParseResult:
    body = text.encode() if isinstance(text, str) else text
    return parse(body, _source(**source), now=window.start, window=window)


def _one(text: str, **source: object):  # type: ignore[no-untyped-def]
    result = _parse(text, **source)
    assert len(result.events) == 1, result
    return result.events[0]


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("W. Europe Standard Time", "Europe/Berlin"),  # Windows name (icalendar maps it)
        ("Romance Standard Time", "Europe/Paris"),
        ('"Amsterdam, Belgrade, Berlin, Brussels, Budapest, Madrid, Paris"', "Europe/Amsterdam"),
        ('"(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna"', "Europe/Amsterdam"),
        ("/freeassociation.sourceforge.net/Europe/Amsterdam", "Europe/Amsterdam"),
    ],
)
@pytest.mark.filterwarnings("ignore::icalendar.error.GloballyUniqueTZIDGuessed")  # the vendor one
def test_tzid_without_vtimezone_is_resolved(tzid: str, zone: str) -> None:
    event = _one(_calendar(f"UID:a\nDTSTART;TZID={tzid}:20270310T193000\nSUMMARY:x"))
    expected = datetime(2027, 3, 10, 19, 30, tzinfo=ZoneInfo(zone))
    assert event.start == expected and event.start.utcoffset() == expected.utcoffset()


def test_unknown_tzid_falls_back_to_source_zone_with_a_warning() -> None:
    result = _parse(
        _calendar("UID:a\nDTSTART;TZID=FOO:20270710T100000\nDTEND;TZID=FOO:20270710T110000"),
        timezone="Europe/London",
    )
    assert result.events[0].start == datetime(2027, 7, 10, 10, tzinfo=ZoneInfo("Europe/London"))
    assert not result.problems
    assert any("FOO" in w.reason for w in result.warnings)


def test_floating_times_use_source_zone_then_x_wr_timezone_then_amsterdam() -> None:
    floating = "UID:a\nDTSTART:20270710T100000"
    assert _one(_calendar(floating)).start == datetime(2027, 7, 10, 10, tzinfo=AMS)
    x_wr = _calendar(floating, header="X-WR-TIMEZONE:America/New_York\n")
    new_york = ZoneInfo("America/New_York")
    assert _one(x_wr).start == datetime(2027, 7, 10, 10, tzinfo=new_york)
    assert _one(x_wr, timezone="Europe/Lisbon").start == datetime(
        2027, 7, 10, 10, tzinfo=ZoneInfo("Europe/Lisbon")
    )


def test_utc_value_stays_the_same_instant() -> None:
    event = _one(_calendar("UID:a\nDTSTART:20270710T100000Z"))
    assert event.start == datetime(2027, 7, 10, 10, tzinfo=UTC)


def test_vtimezone_in_the_file_defines_a_custom_tzid() -> None:
    vtimezone = (
        "BEGIN:VTIMEZONE\nTZID:Mijn zone\nBEGIN:STANDARD\nDTSTART:19700101T000000\n"
        "TZOFFSETFROM:+0300\nTZOFFSETTO:+0300\nEND:STANDARD\nEND:VTIMEZONE\n"
    )
    event = _one(_calendar("UID:a\nDTSTART;TZID=Mijn zone:20270710T100000", header=vtimezone))
    assert event.start.astimezone(UTC) == datetime(2027, 7, 10, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lines", "source", "end"),
    [
        # RFC 5545 3.6.1: a DATE start without DTEND lasts one day (end exclusive)
        ("DTSTART;VALUE=DATE:20270312", {}, date(2027, 3, 13)),
        ("DTSTART;VALUE=DATE:20270312\nDTEND;VALUE=DATE:20270315", {}, date(2027, 3, 15)),
        ("DTSTART;VALUE=DATE:20270312\nDURATION:P2D", {}, date(2027, 3, 14)),
        # a DATE-TIME start without DTEND is an instant ...
        ("DTSTART:20270312T190000Z", {}, None),
        # ... unless the source says how long its events last
        ("DTSTART:20270312T190000Z", {"default_duration": "2h"}, datetime(2027, 3, 12, 21, 0)),
        ("DTSTART:20270312T190000Z\nDURATION:PT90M", {}, datetime(2027, 3, 12, 20, 30)),
        ("DTSTART:20270312T190000Z\nDTEND:20270312T190000Z", {}, None),  # zero length
    ],
)
def test_end_of_an_event(lines: str, source: dict[str, object], end: date | None) -> None:
    event = _one(_calendar(f"UID:a\n{lines}"), **source)
    if isinstance(end, datetime):
        end = end.replace(tzinfo=UTC)
    assert event.end == end
    assert event.all_day == (not isinstance(event.start, datetime))


def test_fields_are_carried_onto_the_record() -> None:
    event = _one(
        _calendar(
            "UID:info-1@example.nl\nDTSTART;TZID=Europe/Amsterdam:20270312T190000\n"
            "DTEND;TZID=Europe/Amsterdam:20270312T210000\nSUMMARY:Informatieavond\n"
            "DESCRIPTION:Kom langs\\, neem koffie mee\nURL:https://example.nl/a\n"
            "LOCATION:Stationsplein 1\\, Zwolle\nGEO:52.505;6.091\n"
            'ORGANIZER;CN="RAP Zwolle":mailto:info@example.nl\nCATEGORIES:PO,VO\n'
            "CATEGORIES:Zij-instroom\nSTATUS:CANCELLED\nSEQUENCE:3\n"
            "LAST-MODIFIED:20270101T120000Z\nX-ALT-DESC;FMTTYPE=text/html:<p>Kom</p>\n"
            "X-SOMETHING-NEW;FOO=bar:ignored"
        )
    )
    assert event.uid == "info-1@example.nl" and event.recurrence_id is None
    assert event.title == "Informatieavond"
    assert event.description == "Kom langs, neem koffie mee"
    assert event.url == "https://example.nl/a"
    assert event.location == "Stationsplein 1, Zwolle"
    assert (event.lat, event.lon) == (52.505, 6.091)
    assert event.organizer_name == "RAP Zwolle"
    assert event.organizer_url == "mailto:info@example.nl"
    assert event.categories == ["PO", "VO", "Zij-instroom"]
    assert event.status == "cancelled" and event.sequence == 3
    assert event.last_modified == datetime(2027, 1, 1, 12, tzinfo=UTC)
    assert event.description_html == "<p>Kom</p>"
    assert event.end == datetime(2027, 3, 12, 21, tzinfo=AMS)


def test_series_with_rdate_exdate_and_overrides() -> None:
    result = _parse(
        _calendar(
            "UID:s\nDTSTART;TZID=Europe/Amsterdam:20270301T190000\nDURATION:PT2H\n"
            "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE;TZID=Europe/Amsterdam:20270308T190000\n"
            "RDATE;TZID=Europe/Amsterdam:20270402T100000\nSUMMARY:Reeks",
            # the third one moved a day later and cancelled: it stays, marked cancelled
            "UID:s\nRECURRENCE-ID;TZID=Europe/Amsterdam:20270315T190000\n"
            "DTSTART;TZID=Europe/Amsterdam:20270316T190000\nDURATION:PT2H\n"
            "STATUS:CANCELLED\nSUMMARY:Reeks (verzet)",
        )
    )
    got = [(e.start, e.recurrence_id, e.status) for e in result.events]
    assert got == [
        (datetime(2027, 3, 1, 19, tzinfo=AMS), "20270301T180000Z", None),
        (datetime(2027, 3, 16, 19, tzinfo=AMS), "20270315T180000Z", "cancelled"),
        (datetime(2027, 3, 22, 19, tzinfo=AMS), "20270322T180000Z", None),
        (datetime(2027, 4, 2, 10, tzinfo=AMS), "20270402T080000Z", None),
    ]
    assert all(e.end == e.start + timedelta(hours=2) for e in result.events)  # type: ignore[operator]


def test_occurrence_identity_does_not_depend_on_the_window() -> None:
    text = _calendar("UID:w\nDTSTART:20270104T090000Z\nRRULE:FREQ=WEEKLY")
    early = _parse(text, Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)))
    later = _parse(text, Window(datetime(2027, 2, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)))
    both = {e.key(): e.start for e in early.events} | {e.key(): e.start for e in later.events}
    for event in early.events + later.events:
        assert both[event.key()] == event.start


def test_duplicate_uid_keeps_newest_version_in_any_order() -> None:
    old = "UID:d\nDTSTART:20270310T090000Z\nSEQUENCE:1\nLAST-MODIFIED:20270101T000000Z\nSUMMARY:oud"
    new = (
        "UID:d\nDTSTART:20270311T090000Z\nSEQUENCE:1\nLAST-MODIFIED:20270102T000000Z\nSUMMARY:nieuw"
    )
    for events in ((old, new), (new, old)):
        result = _parse(_calendar(*events))
        assert [e.title for e in result.events] == ["nieuw"]


def test_one_broken_vevent_is_reported_with_its_line_and_the_rest_kept() -> None:
    text = _calendar(
        "UID:good-1\nDTSTART:20270310T090000Z",
        "UID:bad\nDTSTART:volgende week",
        "UID:good-2\nDTSTART:20270311T090000Z",
    )
    result = _parse(text)
    assert [e.uid for e in result.events] == ["good-1", "good-2"]
    [problem] = result.problems
    assert problem.line == 8 and problem.uid == "bad" and "DTSTART" in problem.reason


def test_tolerates_bom_cp1252_lf_blank_lines_and_unfolded_lines() -> None:
    text = _calendar(
        "UID:a\nDTSTART:20270310T090000Z\nSUMMARY:Café – voorlichting\n"
        "DESCRIPTION:Een lange regel die de producent niet vouwde\nmaar gewoon afbrak"
    ).replace("END:VEVENT\n", "END:VEVENT\n\n")
    body = b"\xef\xbb\xbf" + text.encode("cp1252").replace(b"\n", b"\r\n")
    event = _one_from_bytes(body)
    assert event.title == "Café – voorlichting"
    assert event.description == "Een lange regel die de producent niet vouwde\nmaar gewoon afbrak"
    utf8_with_cr = text.encode("utf-8").replace(b"\n", b"\r")
    assert _one_from_bytes(utf8_with_cr).title == "Café – voorlichting"


def _one_from_bytes(body: bytes):  # type: ignore[no-untyped-def]
    result = parse(body, _source(), now=WINDOW.start, window=WINDOW)
    assert len(result.events) == 1, result
    return result.events[0]


def test_not_a_calendar_is_one_clear_feed_error() -> None:
    with pytest.raises(FeedError, match="not an iCalendar file"):
        _parse("<!DOCTYPE html><html><body>Onderhoud</body></html>")


def test_series_past_the_occurrence_limit_is_refused_alone() -> None:
    text = _calendar(
        "UID:runaway\nDTSTART:20270101T000000Z\nRRULE:FREQ=HOURLY",
        "UID:single\nDTSTART:20270310T090000Z",
    )
    window = Window(WINDOW.start, WINDOW.end, max_occurrences=100)
    result = _parse(text, window)
    assert [e.uid for e in result.events] == ["single"]
    [problem] = result.problems
    assert problem.uid == "runaway" and problem.line == 4
    assert "more than 100 occurrences" in problem.reason


def test_events_without_uid_get_a_stable_identity() -> None:
    text = _calendar("DTSTART:20270310T090000Z\nSUMMARY:zonder uid")
    first, second = _one(text), _one(text)
    assert first.uid == second.uid and first.uid.startswith("no-uid-")


def test_rule_that_would_step_through_years_of_seconds_is_refused_up_front() -> None:
    text = _calendar(
        "UID:seconds\nDTSTART:20200101T000000Z\nRRULE:FREQ=SECONDLY",
        "UID:single\nDTSTART:20270310T090000Z",
    )
    result = _parse(text)  # would hang in dateutil without the up-front check
    assert [e.uid for e in result.events] == ["single"]
    [problem] = result.problems
    assert problem.uid == "seconds" and "RRULE would step through" in problem.reason


def test_exdate_with_display_name_tzid_removes_its_occurrence() -> None:
    zone = '"Amsterdam, Belgrade, Berlin, Brussels, Budapest, Madrid, Paris"'
    result = _parse(
        _calendar(
            f"UID:x\nDTSTART;TZID={zone}:20270310T190000\nRRULE:FREQ=DAILY;COUNT=3\n"
            f"EXDATE;TZID={zone}:20270311T190000"
        )
    )
    assert [e.start for e in result.events] == [
        datetime(2027, 3, 10, 19, tzinfo=AMS),
        datetime(2027, 3, 12, 19, tzinfo=AMS),
    ]


def test_unclosed_valarm_inside_a_vevent_is_closed_for_it() -> None:
    event = _one(
        _calendar("UID:a\nDTSTART:20270310T090000Z\nSUMMARY:x\nBEGIN:VALARM\nTRIGGER:-PT15M")
    )
    assert event.title == "x"


WINDOWS_VTIMEZONE = (
    "BEGIN:VTIMEZONE\nTZID:W. Europe Standard Time\nBEGIN:STANDARD\nDTSTART:16010101T030000\n"
    "TZOFFSETFROM:+0200\nTZOFFSETTO:+0100\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\n"
    "END:STANDARD\nBEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\n"
    "TZOFFSETTO:+0200\nRRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT\n"
    "END:VTIMEZONE\n"
)


def test_windows_tzid_with_its_vtimezone_uses_the_iana_zone() -> None:
    text = _calendar(
        "UID:a\nDTSTART;TZID=W. Europe Standard Time:20270710T100000", header=WINDOWS_VTIMEZONE
    )
    event = _one(text)
    assert event.start.tzinfo == ZoneInfo("Europe/Berlin")
    assert event.start == datetime(2027, 7, 10, 8, tzinfo=UTC)


def test_custom_vtimezone_times_become_fixed_offsets_on_the_record() -> None:
    vtimezone = WINDOWS_VTIMEZONE.replace("W. Europe Standard Time", "Kantoortijd")
    event = _one(_calendar("UID:a\nDTSTART;TZID=Kantoortijd:20270110T100000", header=vtimezone))
    assert event.start.utcoffset() == timedelta(hours=1)
    assert event.start == datetime(2027, 1, 10, 9, tzinfo=UTC)


def test_two_files_concatenated_with_their_boms_are_both_read() -> None:
    one = "\ufeff" + _calendar("UID:a\nDTSTART:20270310T090000Z")
    two = "\ufeff" + _calendar("UID:b\nDTSTART:20270311T090000Z")
    assert [e.uid for e in _parse((one + two).encode()).events] == ["a", "b"]


def test_properties_given_twice_use_the_first_with_a_warning() -> None:
    result = _parse(
        _calendar(
            "UID:a\nUID:b\nDTSTART:20270310T090000Z\nDTSTART:20270311T090000Z\n"
            "SUMMARY:eerste\nSUMMARY:tweede\nSEQUENCE:1\nSEQUENCE:2\nGEO:52.1;5.1\nGEO:1;2"
        )
    )
    [event] = result.events
    assert (event.uid, event.title, event.sequence) == ("a", "eerste", 1)
    assert event.start == datetime(2027, 3, 10, 9, tzinfo=UTC) and event.lat == 52.1
    assert any("more than once" in w.reason for w in result.warnings)


def test_next_vevent_inside_an_unclosed_valarm_ends_the_broken_one() -> None:
    # found by tests/test_ical_robustness.py: a nested VEVENT without DTSTART broke expansion
    text = _calendar(
        "UID:a\nDTSTART:20270310T090000Z\nRRULE:FREQ=DAILY;COUNT=2\nBEGIN:VALARM\n"
        "TRIGGER:-PT15M\nBEGIN:VEVENT\nEND:VEVENT",
        "UID:b\nDTSTART:20270311T090000Z",
    )
    result = _parse(text)
    assert [e.uid for e in result.events] == ["b"]
    # the broken one (4), the empty one (10), and the END:VEVENT left over (12)
    assert sorted(p.line for p in result.problems) == [4, 10, 12]


def test_custom_tzid_means_this_files_vtimezone_whatever_was_parsed_before() -> None:
    # icalendar caches VTIMEZONEs process-wide; the same custom TZID in another file must
    # not lend its definition (here +03:00 first, then +05:00)
    def calendar(offset: str) -> str:
        vtimezone = (
            "BEGIN:VTIMEZONE\nTZID:Lokaal\nBEGIN:STANDARD\nDTSTART:19700101T000000\n"
            f"TZOFFSETFROM:{offset}\nTZOFFSETTO:{offset}\nEND:STANDARD\nEND:VTIMEZONE\n"
        )
        return _calendar("UID:a\nDTSTART;TZID=Lokaal:20270710T100000", header=vtimezone)

    assert _one(calendar("+0300")).start.utcoffset() == timedelta(hours=3)
    assert _one(calendar("+0500")).start.utcoffset() == timedelta(hours=5)
