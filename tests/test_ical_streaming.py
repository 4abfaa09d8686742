"""The iCal reader reads lone VEVENTs one at a time: the records equal those of one tree."""

from __future__ import annotations

from datetime import UTC, datetime

from crawlers import ical
from crawlers.ical_content import decode_text, split_calendars
from crawlers.records import ParseResult, Window
from crawlers.source import SourceConfig

WINDOW = Window(datetime(2027, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
SOURCE = SourceConfig(id="t", name="t", kind="ics", url="t.ics", region="landelijk")

ZONE = """BEGIN:VTIMEZONE
TZID:Custom/Amsterdam
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
"""


def _event(uid: str, day: int, *extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTART;TZID=Custom/Amsterdam:202702{day:02d}T190000",
        f"DTEND;TZID=Custom/Amsterdam:202702{day:02d}T210000",
        f"SUMMARY:Informatieavond {uid}",
        *extra,
        "END:VEVENT",
    ]
    return "\n".join(lines) + "\n"


# lone events, a series with an override, one UID in two versions, an escaped UID that
# equals another once read, a VALARM, an event without UID, one without DTSTART, and the
# zone defined after the events of the first VCALENDAR, a second VCALENDAR for an override
FEED = (
    "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n"
    + _event("lone-1", 1)
    + _event("lone-2", 2, "LOCATION:Stationsplein 1\\, Zwolle")
    + _event("series", 3, "RRULE:FREQ=WEEKLY;COUNT=4")
    + _event("twice", 4, "SEQUENCE:1")
    + _event("twice", 5, "SEQUENCE:2")
    + _event("a\\,b", 6)
    + _event("a,b", 7)
    + _event("alarm", 8, "BEGIN:VALARM", "TRIGGER:-PT1H", "ACTION:DISPLAY", "END:VALARM")
    + "BEGIN:VEVENT\nDTSTART:20270209T100000Z\nSUMMARY:Zonder UID\nEND:VEVENT\n"
    + "BEGIN:VEVENT\nUID:no-start\nSUMMARY:Zonder begin\nEND:VEVENT\n"
    + ZONE
    + "END:VCALENDAR\n"
    + "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n"
    + _event("series", 17, "RECURRENCE-ID;TZID=Europe/Amsterdam:20270217T190000")
    + _event("lone-3", 20)
    + "END:VCALENDAR\n"
)


def _as_tree(body: bytes) -> ParseResult:
    """The same file read without the lone-event short cut (every VEVENT held at once)."""
    calendars, problems = split_calendars(decode_text(body))
    result = ical._parse_calendars(calendars, problems, SOURCE, WINDOW, set())
    assert result is not None
    result.events.sort(key=lambda e: (ical._sort_key(e.start), e.uid, e.recurrence_id or ""))
    return result


def test_lone_events_are_read_alone_and_give_what_one_tree_gives() -> None:
    body = FEED.encode()
    calendars, _ = split_calendars(decode_text(body))
    lone_blocks = ical._lone_events(calendars)
    assert len(lone_blocks) == 4  # lone-1, lone-2, lone-3, no-start; the rest is held
    streamed = ical.parse(body, SOURCE, now=WINDOW.start, window=WINDOW)
    tree = _as_tree(body)
    assert [e.to_dict() for e in streamed.events] == [e.to_dict() for e in tree.events]
    assert sorted(map(str, streamed.problems)) == sorted(map(str, tree.problems))
    assert sorted(map(str, streamed.warnings)) == sorted(map(str, tree.warnings))
    uids = [(e.uid, e.recurrence_id) for e in streamed.events]
    assert ("lone-3", None) in uids and ("twice", None) in uids
    assert [e.title for e in streamed.events if e.uid == "twice"] == ["Informatieavond twice"]
    assert sum(1 for uid, _ in uids if uid == "series") == 4
    assert sum(1 for uid, _ in uids if uid == "a,b") == 1  # one UID, the later DTSTART kept


def test_a_feed_of_lone_events_only_reads_every_one() -> None:
    body = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//t//t//EN\n"
        + "".join(_event(f"e-{n}", 1 + n % 27) for n in range(200))
        + ZONE
        + "END:VCALENDAR\n"
    ).encode()
    streamed = ical.parse(body, SOURCE, now=WINDOW.start, window=WINDOW)
    assert len(streamed.events) == 200
    assert [e.to_dict() for e in streamed.events] == [e.to_dict() for e in _as_tree(body).events]
    assert streamed.events[0].start.utcoffset().total_seconds() == 3600  # the VTIMEZONE after
