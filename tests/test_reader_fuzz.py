"""Every reader, fed damaged real files and hostile generated ones, ends in time and cleanly.

For each reader (iCal; RSS/Atom; schema.org JSON-LD pages; The Events Calendar REST pages;
CSS/XPath selectors) hypothesis damages the real producer files of tests/data and the bundled
samples (lines dropped, doubled, swapped, garbled, bytes flipped, the body cut off) and
builds hostile documents from the format's own constructs (runaway rules, absurd dates and
durations, deep nesting, huge numbers). Every example must end in a ParseResult or a
FeedError, nothing else, within a deadline per example and under a hard alarm that turns a
hang into a failure. Kept small: the module runs in well under 20 seconds.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import bundled
from crawlers import ical, schemaorg, selectors, syndication, tribe
from crawlers.records import FeedError, ParseResult, Window
from crawlers.source import SourceConfig

DATA = Path(__file__).parent / "data"
SAMPLE = bundled("samples/nl-sample")
NOW = datetime(2027, 1, 5, tzinfo=UTC)
WINDOW = Window(datetime(2000, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC), 500)
# hypothesis' deadline per example (ms), and the alarm that ends a hang (s): an example
# takes well under a second on an idle machine, a few seconds when the suite shares the
# two cores with other work; a hang (the runaway rule, the quadratic match) never ends
DEADLINE_MS = 10_000
HARD_LIMIT = 20
FUZZ = settings(
    max_examples=15,
    deadline=DEADLINE_MS,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


class Hung(Exception):
    """A reader ran past the hard limit of one example."""


@contextmanager
def hard_limit(seconds: int = HARD_LIMIT) -> Iterator[None]:
    """Raise Hung in the reader when it runs longer than ``seconds`` (SIGALRM, main thread)."""

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"reader still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _source(kind: str, **extra: Any) -> SourceConfig:
    return SourceConfig.model_validate(
        {"id": "fuzz", "name": "fuzz", "kind": kind, "url": "x", "region": "landelijk", **extra}
    )


SELECTORS_SPEC = {
    "item": "section#agenda article.agenda-item",
    "fields": {
        "title": "h3 a::text",
        "url": "h3 a::attr(href)",
        "date": "p.datum::text",
        "time": "p.tijd::text",
        "location": "p.locatie::text",
        "description": "div.intro",
    },
}
READERS: dict[str, tuple[Callable[..., ParseResult], SourceConfig]] = {
    "ics": (ical.parse, _source("ics")),
    "rss": (syndication.parse, _source("rss")),
    "jsonld": (schemaorg.parse, _source("jsonld", url="https://example.nl/agenda")),
    "tribe": (tribe.parse, _source("tribe", url="https://example.nl/wp-json/tribe/events/v1")),
    "selectors": (
        selectors.parse,
        _source("selectors", url="https://example.nl/agenda", selectors=SELECTORS_SPEC),
    ),
}
FILES: dict[str, list[Path]] = {
    "ics": sorted((DATA / "ics").glob("*.ics")) + sorted((SAMPLE / "ics").glob("*.ics")),
    "rss": sorted((DATA / "rss").glob("*"))
    + sorted((DATA / "atom").glob("*"))
    + sorted((SAMPLE / "rss").glob("*.xml")),
    "jsonld": sorted((DATA / "html").glob("*.html"))
    + sorted((SAMPLE / "html").glob("*.html"))
    + sorted((SAMPLE / "html" / "overstappunt" / "agenda").glob("*.html"))[:4],
    "tribe": [
        DATA / "json" / "the-events-calendar_rest_v1_events_additional_fields.json",
        *sorted((SAMPLE / "json").glob("*.json")),
    ],
    "selectors": [SAMPLE / "html" / "co-gelderse-vallei-agenda.html"],
}
# snippets each format's producers (or attackers) write, dropped in at random lines
GARBAGE: dict[str, list[bytes]] = {
    "ics": [
        b"X",
        b"DTSTART;;VALUE=DATE-TIME:20270101T100000",
        b"DTSTART:99991231T235959Z",
        b"DTSTART:00010101T000000",
        b"DTSTART;TZID=Nergens:20270101T100000",
        b"RRULE:FREQ=SECONDLY",
        b"RRULE:FREQ=DAILY;INTERVAL=0",
        b"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
        b"RRULE:FREQ=MINUTELY;COUNT=100000000",
        b"RRULE:FREQ=YEARLY;BYWEEKNO=60",
        b"DURATION:P99999999D",
        b"DURATION:PT-2H",
        b"EXDATE:",
        b"RDATE;VALUE=PERIOD:20270101T100000Z/20260101T100000Z",
        b"BEGIN:VALARM",
        b"TRIGGER:PT-2H",
        b"END:VEVENT",
        b"BEGIN:VEVENT",
        b"END:VCALENDAR",
        b"BEGIN:VCALENDAR",
        b"\xff\xfe\x00",
        b" folded continuation \xc3",
    ],
    "rss": [
        b"<item><title>x</title><ev:startdate>99999-01-01</ev:startdate></item>",
        b"<ev:startdate>2027-13-45T25:61</ev:startdate>",
        b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
        b"&b;&b;&b;",
        b"<gd:recurrence>DTSTART:20270101T100000Z\nRRULE:FREQ=SECONDLY</gd:recurrence>",
        b"<description>dinsdag 31 februari 2027 van 25.00 tot 99.99 uur</description>",
        b"</channel>",
        b"<![CDATA[",
        b"\xe9\xff",
    ],
    "jsonld": [
        b'<script type="application/ld+json">{"@type":"Event","startDate":"99999-99"}</script>',
        b'<script type="application/ld+json">' + b"[" * 5000 + b"]" * 5000 + b"</script>",
        b'<script type="application/ld+json">{"@type":"Event","@id":"#a","location":'
        b'{"@id":"#a"}}</script>',
        b'<script type="application/ld+json">{"@graph":[{"@type":["Event",{}],"name":[]}]}'
        b"</script>",
        b'<div itemscope itemtype="https://schema.org/Event"><meta itemprop="startDate" '
        b'content="2027-02-30T10:00"></div>',
        b"<script>",
        b"\xe9\xff",
    ],
    "tribe": [
        b'{"events": [{"id": 1, "start_date": "0000-00-00 00:00:00"}]}',
        b'"start_date": "99999-12-31 25:00:00",',
        b'"timezone": "Mars/Olympus",',
        b"[" * 5000,
        b'"cost_details": {"values": [1e999]},',
        b"null,",
    ],
    "selectors": [
        b'<article class="agenda-item"><h3><a href="javascript:alert(1)">x</a></h3>'
        b'<p class="datum">31 februari 2027</p><p class="tijd">25.00 - 99.99 uur</p></article>',
        b'<section id="agenda">' + b"<div>" * 3000,
        b'<p class="datum">' + b"9" * 5000 + b"</p>",
        b"\xe9\xff",
    ],
}


@st.composite
def damaged(draw: st.DrawFn, kind: str) -> bytes:
    """A real file of ``kind`` with a few lines dropped, doubled, swapped or garbled."""
    body = draw(st.sampled_from(FILES[kind])).read_bytes()
    lines = body.splitlines(keepends=True)
    for _ in range(draw(st.integers(0, 5))):
        if not lines:
            break
        where = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "double", "garbage", "swap", "flip"]))
        if action == "drop":
            del lines[where]
        elif action == "double":
            lines.insert(where, lines[where])
        elif action == "garbage":
            lines.insert(where, draw(st.sampled_from(GARBAGE[kind])) + b"\r\n")
        elif action == "flip" and lines[where]:
            line = bytearray(lines[where])
            line[draw(st.integers(0, len(line) - 1))] = draw(st.integers(0, 255))
            lines[where] = bytes(line)
        elif where + 1 < len(lines):
            lines[where], lines[where + 1] = lines[where + 1], lines[where]
    body = b"".join(lines)
    return body[: draw(st.integers(0, len(body)))] if draw(st.booleans()) else body


_YEARS = st.one_of(st.integers(1, 9999), st.integers(1995, 2035))
_WEEKDAY = st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU"])


@st.composite
def _rrule(draw: st.DrawFn) -> str:
    freq = draw(
        st.sampled_from(
            ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY", "SOMETIMES"]
        )
    )
    parts = [f"FREQ={freq}"]
    optional: dict[str, st.SearchStrategy[Any]] = {
        "INTERVAL": st.integers(-2, 400),
        "COUNT": st.one_of(st.integers(-1, 60), st.integers(0, 10**9)),
        "UNTIL": st.builds("{:04d}0101T000000Z".format, _YEARS),
        "BYMONTH": st.integers(0, 13),
        "BYMONTHDAY": st.integers(-32, 32),
        "BYYEARDAY": st.integers(-367, 367),
        "BYWEEKNO": st.integers(-54, 54),
        "BYSETPOS": st.integers(-5, 5),
        "BYHOUR": st.integers(0, 25),
        "BYMINUTE": st.integers(0, 61),
        "BYDAY": st.builds(lambda n, day: f"{n}{day}" if n else day, st.integers(-6, 6), _WEEKDAY),
    }
    for name in draw(st.lists(st.sampled_from(sorted(optional)), max_size=4, unique=True)):
        parts.append(f"{name}={draw(optional[name])}")
    return ";".join(parts)


@st.composite
def hostile_ical(draw: st.DrawFn) -> bytes:
    """A VCALENDAR made of absurd but well-formed-looking values."""
    year = draw(_YEARS)
    date = f"{year:04d}{draw(st.integers(0, 13)):02d}{draw(st.integers(0, 32)):02d}"
    start = draw(
        st.sampled_from(
            [
                f"DTSTART;VALUE=DATE:{date}",
                f"DTSTART:{date}T100000Z",
                f"DTSTART:{date}T023000",
                f"DTSTART;TZID=Europe/Amsterdam:{date}T023000",
                f"DTSTART;TZID=Nergens:{date}T1000",
            ]
        )
    )
    lines = ["BEGIN:VEVENT", "UID:hostile", "SUMMARY:x", start]
    if draw(st.booleans()):
        lines.append(f"RRULE:{draw(_rrule())}")
    end = draw(
        st.sampled_from(
            [
                "",
                f"DTEND:{date}T090000Z",
                f"DTEND;VALUE=DATE:{date}",
                "DURATION:P99999999D",
                f"DURATION:PT{draw(st.integers(-(10**12), 10**12))}S",
                "DURATION:P-1W",
            ]
        )
    )
    if end:
        lines.append(end)
    if draw(st.booleans()):
        lines.append(f"EXDATE:{date}T100000Z")
    if draw(st.booleans()):
        lines.append(f"RDATE;VALUE=PERIOD:{date}T100000Z/PT{draw(st.integers(-99, 10**9))}H")
    if draw(st.booleans()):
        lines.append(f"RECURRENCE-ID:{date}T100000Z")
    lines.append("END:VEVENT")
    events = lines * draw(st.integers(1, 3))
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", *events, "END:VCALENDAR", ""])
    return text.encode()


_TEXT = st.text(max_size=40)
_JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=10,
)
_DATE_TEXT = st.one_of(
    _TEXT,
    st.builds(
        "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:00".format,
        _YEARS,
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
    ),
)


@st.composite
def hostile_jsonld(draw: st.DrawFn) -> bytes:
    """An HTML page whose JSON-LD Event has random values in every field the reader reads."""
    event: dict[str, Any] = {"@context": "https://schema.org", "@type": "Event"}
    for name in (
        "name",
        "startDate",
        "endDate",
        "location",
        "offers",
        "organizer",
        "url",
        "eventStatus",
        "eventAttendanceMode",
        "description",
        "image",
    ):
        if draw(st.booleans()):
            event[name] = draw(_DATE_TEXT if name.endswith("Date") else _JSON_VALUE)
    script = json.dumps(event if draw(st.booleans()) else {"@graph": [event, event]})
    return (
        f'<html><body><script type="application/ld+json">{script}</script></body></html>'.encode()
    )


@st.composite
def hostile_tribe(draw: st.DrawFn) -> bytes:
    """A tribe REST page whose event has random values in the fields the reader reads."""
    event: dict[str, Any] = {"id": draw(_JSON_VALUE)}
    for name in (
        "title",
        "start_date",
        "end_date",
        "utc_start_date",
        "utc_end_date",
        "all_day",
        "timezone",
        "venue",
        "organizer",
        "cost",
        "url",
        "description",
        "categories",
    ):
        if draw(st.booleans()):
            event[name] = draw(_DATE_TEXT if "date" in name else _JSON_VALUE)
    page = {"events": [event], "next_rest_url": draw(_JSON_VALUE)}
    return json.dumps(page if draw(st.booleans()) else draw(_JSON_VALUE)).encode()


@st.composite
def hostile_rss(draw: st.DrawFn) -> bytes:
    """An RSS 2.0 feed with event-module dates and prose dates made of random text."""
    items = "".join(
        "<item><title>{t}</title><guid>{g}</guid><ev:startdate>{s}</ev:startdate>"
        "<ev:enddate>{e}</ev:enddate><description>{d}</description></item>".format(
            t=draw(_TEXT).replace("<", ""),
            g=draw(_TEXT).replace("<", ""),
            s=draw(_DATE_TEXT).replace("<", ""),
            e=draw(_DATE_TEXT).replace("<", ""),
            d=draw(_TEXT).replace("<", ""),
        )
        for _ in range(draw(st.integers(1, 3)))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        'xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>f</title>'
        f"{items}</channel></rss>"
    ).encode()


def _read(kind: str, body: bytes) -> None:
    parse, source = READERS[kind]
    try:
        with hard_limit():
            result = parse(body, source, now=NOW, window=WINDOW)
    except FeedError:
        return
    assert isinstance(result, ParseResult)
    for event in result.events:
        assert event.uid and event.source_id == "fuzz"
        if event.end is not None and type(event.end) is type(event.start):
            assert event.end >= event.start  # type: ignore[operator]


@pytest.mark.parametrize("kind", sorted(READERS))
def test_damaged_real_files_end_in_records_or_one_feed_error(kind: str) -> None:
    @FUZZ
    @given(body=damaged(kind))
    def check(body: bytes) -> None:
        _read(kind, body)

    check()


@pytest.mark.parametrize(
    ("kind", "strategy"),
    [
        ("ics", hostile_ical()),
        ("rss", hostile_rss()),
        ("jsonld", hostile_jsonld()),
        ("tribe", hostile_tribe()),
    ],
    ids=["ics", "rss", "jsonld", "tribe"],
)
def test_hostile_documents_end_in_records_or_one_feed_error(
    kind: str, strategy: st.SearchStrategy[bytes]
) -> None:
    @settings(FUZZ, max_examples=40)
    @given(body=strategy)
    def check(body: bytes) -> None:
        _read(kind, body)

    check()


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # no 30 February: dateutil stepped to 9999 (25 s)
        "FREQ=HOURLY;BYMONTH=4;BYMONTHDAY=31",  # 50 s
        "FREQ=DAILY;INTERVAL=7;BYDAY=TU",  # from a Monday, seven days on is a Monday again
        "FREQ=HOURLY;INTERVAL=2;BYHOUR=3",  # from 10:00, every two hours is never 03:00
        "FREQ=WEEKLY;INTERVAL=0",  # dateutil looped forever
    ],
)
def test_rule_that_never_occurs_or_never_moves_is_read_at_once(rule: str) -> None:
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:never\r\n"
        f"DTSTART:20270301T100000Z\r\nRRULE:{rule}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    _read("ics", body)


def test_deeply_nested_json_is_one_feed_error() -> None:
    with pytest.raises(FeedError, match="not valid JSON"):
        tribe.parse(b'{"events": ' + b"[" * 100_000, READERS["tribe"][1], now=NOW)


def test_hard_limit_turns_a_hang_into_a_failure() -> None:
    with pytest.raises(Hung), hard_limit(1):
        while True:
            pass
