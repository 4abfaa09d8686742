"""Dates and times in Dutch and English prose (crawlers.textdates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawlers.textdates import find_when

AMS = ZoneInfo("Europe/Amsterdam")
PUBLISHED = date(2027, 1, 5)


def at(y: int, mo: int, d: int, h: int, mi: int, tz: ZoneInfo = AMS) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        (
            "dinsdag 9 maart 2027 van 19.30 tot 21.00 uur",
            at(2027, 3, 9, 19, 30),
            at(2027, 3, 9, 21, 0),
        ),
        (
            "wo 3 feb. 2027, 15:00-16:30 – online (Teams)",
            at(2027, 2, 3, 15, 0),
            at(2027, 2, 3, 16, 30),
        ),
        ("op 12-03-2027 om 14.00 uur", at(2027, 3, 12, 14, 0), None),
        (
            "Datum: 16-3-2027 | Tijd: 08.30 – 12.00 uur",
            at(2027, 3, 16, 8, 30),
            at(2027, 3, 16, 12, 0),
        ),
        ("13 april 2027, 9.00 - 15.00 uur", at(2027, 4, 13, 9, 0), at(2027, 4, 13, 15, 0)),
        (
            "Op donderdag 20 mei a.s. van 19:00 tot 21:30 in het Provinciehuis",
            at(2027, 5, 20, 19, 0),
            at(2027, 5, 20, 21, 30),
        ),
        ("Woensdag 14 april 2027, 19.30 uur", at(2027, 4, 14, 19, 30), None),
        (
            "Wednesday 24 February 2027, 19:00–20:30 (CET)",
            at(2027, 2, 24, 19, 0),
            at(2027, 2, 24, 20, 30),
        ),
        ("Dinsdag 19 januari 2027 | 19.30 uur | online", at(2027, 1, 19, 19, 30), None),
        ("di 9 mrt 2027 19.30 - 21.00 uur", at(2027, 3, 9, 19, 30), at(2027, 3, 9, 21, 0)),
        ("February 24, 2027 at 7:30", at(2027, 2, 24, 7, 30), None),
        ("2027-03-12 19:00", at(2027, 3, 12, 19, 0), None),
        ("Gemeenteraad 31 augustus 2015 19:30 uur", at(2015, 8, 31, 19, 30), None),
        (
            "zaterdag 6 maart 2027 van 22.00 tot 01.00 uur",
            at(2027, 3, 6, 22, 0),
            at(2027, 3, 7, 1, 0),
        ),
        (
            "Wednesday, February 24, 2027, 7:30 pm - 9:00 pm",
            at(2027, 2, 24, 19, 30),
            at(2027, 2, 24, 21, 0),
        ),
        ("vrijdag 12 maart 2027 om 19u30", at(2027, 3, 12, 19, 30), None),
        ("3 maart 2027 18:00 UTC", at(2027, 3, 3, 18, 0, ZoneInfo("UTC")), None),
        (
            "Van maandag 6 november 2017 om 20:00 tot en met donderdag 9 november 2017 om 22:00",
            at(2017, 11, 6, 20, 0),
            at(2017, 11, 9, 22, 0),
        ),
    ],
)
def test_dates_with_times(text: str, start: datetime, end: datetime | None) -> None:
    when = find_when(text, reference=PUBLISHED)
    assert when is not None
    assert when.start == start and when.start.utcoffset() == start.utcoffset()
    assert when.end == end


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        (
            "Donderdag 25 maart 2027 ontbijten alle groepen samen op school.",
            date(2027, 3, 25),
            None,
        ),
        ("Vrijdag 23 april 2027: Koningsspelen", date(2027, 4, 23), None),
        ("ma 1 maart 2027 tot en met vr 5 maart 2027", date(2027, 3, 1), date(2027, 3, 6)),
        ("13 t/m 15 april 2027", date(2027, 4, 13), date(2027, 4, 16)),
        ("Kamp 3-5 maart 2027", date(2027, 3, 3), date(2027, 3, 6)),
        ("Ouderavond groep 8 - 20 januari 2027", date(2027, 1, 20), None),
    ],
)
def test_dates_without_times_are_all_day(text: str, start: date, end: date | None) -> None:
    when = find_when(text, reference=PUBLISHED)
    assert when is not None and when.start == start and when.end == end


def test_summer_time_offset_follows_the_date() -> None:
    when = find_when("13 april 2027, 9.00 uur")
    assert when is not None and when.start.utcoffset() == timedelta(hours=2)


def test_year_less_date_is_the_next_matching_weekday_after_publication() -> None:
    when = find_when("donderdag 20 mei a.s.", reference=date(2027, 1, 5))
    assert when is not None and when.start == date(2027, 5, 20)
    # published late in the year, "donderdag 13 januari" is next year's (a Wednesday in 2027)
    later = find_when("donderdag 13 januari", reference=date(2027, 11, 1))
    assert later is not None and later.start == date(2028, 1, 13)


@pytest.mark.parametrize(
    "text",
    [
        "Available June 22, great place to live",  # no year, no weekday: never guessed
        "donderdag 20 mei",  # weekday but no reference date to count from
        "Kaarten à € 3,00 bij de administratie",
        "Voor groep 8 en 19 openbare basisscholen",
        "",
    ],
)
def test_no_findable_date_gives_none(text: str) -> None:
    reference = None if text == "donderdag 20 mei" else PUBLISHED
    assert find_when(text, reference=reference) is None


def test_wrong_weekday_without_year_is_rejected() -> None:
    # 20 May is a Thursday in 2027 and a Saturday in 2028: "maandag 20 mei" fits neither
    assert find_when("maandag 20 mei", reference=PUBLISHED) is None


def test_first_date_wins_and_tail_names_the_place() -> None:
    when = find_when(
        "13 april 2027, 9.00 - 15.00 uur, Praktijkschool De Bolder in IJsselmuiden.\n"
        "Aanmelden voor 1 april 2027."
    )
    assert when is not None and when.start == at(2027, 4, 13, 9, 0)
    assert when.tail == "Praktijkschool De Bolder in IJsselmuiden"


def test_time_on_a_later_line_is_not_the_event_time() -> None:
    when = find_when("Vrijdag 12 februari 2027 zijn de leerlingen vrij.\nOm 14.00 uur de uitslag")
    assert when is not None and when.start == date(2027, 2, 12)


_NL_MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]
_NL_DAYS = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]


@given(
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    start_minutes=st.integers(min_value=6 * 60, max_value=20 * 60).map(lambda m: m - m % 15),
    length=st.sampled_from([30, 60, 90, 120, 150]),
    style=st.sampled_from(["van {a} tot {b} uur", "{a} - {b} uur", "{a}–{b}", ", {a} tot {b}"]),
)
@settings(max_examples=60, deadline=None)
def test_written_dutch_dates_read_back(
    day: date, start_minutes: int, length: int, style: str
) -> None:
    begin = datetime.combine(day, datetime.min.time(), tzinfo=AMS) + timedelta(
        minutes=start_minutes
    )
    finish = begin + timedelta(minutes=length)
    text = f"{_NL_DAYS[day.weekday()]} {day.day} {_NL_MONTHS[day.month - 1]} {day.year} " + (
        style.format(a=begin.strftime("%H.%M"), b=finish.strftime("%H.%M"))
    )
    when = find_when(f"<p>{text}</p>")
    assert when is not None, text
    assert (when.start, when.end) == (begin, finish), text
