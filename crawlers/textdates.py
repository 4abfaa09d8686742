"""Event dates and times written in Dutch or English prose, as RSS items and HTML cards give them.

Examples it reads: "dinsdag 9 maart 2027 van 19.30 tot 21.00 uur", "wo 3 feb. 2027, 15:00-16:30",
"op 12-03-2027 om 14.00 uur", "Datum: 16-3-2027 | Tijd: 08.30 – 12.00 uur",
"donderdag 20 mei a.s." and "Wednesday 24 February 2027, 19:00–20:30 (CET)".

Explicit patterns find where a date is written; ``dateparser`` (languages nl and en) turns
the found words into a date. A date without a year is only accepted when a weekday or
"a.s." pins it down, and then it is the next such day on or after the reference date
(the item's publication date): a bare "June 22" in an advert is not an event date.
Nothing is guessed: text without a findable date gives ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import dateparser

DEFAULT_TZ = ZoneInfo("Europe/Amsterdam")

_WEEKDAYS = {
    0: ("maandag", "ma", "monday", "mon"),
    1: ("dinsdag", "di", "tuesday", "tue", "tues"),
    2: ("woensdag", "wo", "wednesday", "wed"),
    3: ("donderdag", "do", "thursday", "thu", "thur", "thurs"),
    4: ("vrijdag", "vr", "friday", "fri"),
    5: ("zaterdag", "za", "saturday", "sat"),
    6: ("zondag", "zo", "sunday", "sun"),
}
_WEEKDAY_OF = {name: number for number, names in _WEEKDAYS.items() for name in names}
_MONTH_WORDS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december|"
    "january|february|march|may|june|july|august|october|"
    "jan|feb|mrt|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dec"
)
_WEEKDAY_RE = (
    r"(?:(?P<weekday>" + "|".join(sorted(_WEEKDAY_OF, key=len, reverse=True)) + r")\.?,?\s+)?"
)
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_PATTERNS = [
    # 9 maart 2027, wo 3 feb. 2027, donderdag 20 mei, 24th February 2027
    re.compile(
        rf"\b{_WEEKDAY_RE}(?P<day>[0-3]?\d)(?:st|nd|rd|th|e)?\s+(?P<month>{_MONTH_WORDS})"
        rf"(?![a-z])\.?(?:,?\s+{_YEAR}\b)?",
        re.IGNORECASE,
    ),
    # February 24, 2027 / Wednesday, February 24 2027
    re.compile(
        rf"\b{_WEEKDAY_RE}(?P<month>{_MONTH_WORDS})(?![a-z])\.?\s+(?P<day>[0-3]?\d)"
        rf"(?:st|nd|rd|th)?(?![\d.:])(?:,?\s+{_YEAR}\b)?",
        re.IGNORECASE,
    ),
    # 12-03-2027, 16-3-2027, 16/3/2027, 16.3.2027 (day first, as in the Netherlands)
    re.compile(
        rf"\b{_WEEKDAY_RE}(?P<day>[0-3]?\d)([-/.])(?P<month>[01]?\d)\3{_YEAR}\b", re.IGNORECASE
    ),
    # 2027-03-12 (ISO 8601)
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
]
_UPCOMING = re.compile(r"\s*(?:a\.\s?s\.|aanstaande|eerstvolgende)", re.IGNORECASE)

# 19.30, 19:30, 19u30 (Flemish), 7:30 pm
_CLOCK = r"(?:[01]?\d|2[0-3])[.:u][0-5]\d(?:\s*[ap]\.?m\b\.?)?"
_TIME_RANGE = re.compile(
    rf"(?<![\d€$.,])(?P<start>{_CLOCK})\s*(?:uur|u\.?|h|hrs?)?\s*"
    rf"(?:-|–|—|tot|to|until|till|t/m)\s*(?P<end>{_CLOCK})(?![\d])",
    re.IGNORECASE,
)
_TIME_SINGLE = re.compile(
    rf"(?<![\d€$.,])(?P<start>{_CLOCK})(?![\d])(?!\s*(?:%|euro))", re.IGNORECASE
)
_UTC_MARK = re.compile(r"\s*\(?\s*(?:uur\s*)?\(?(?:UTC|GMT|Z)\b", re.IGNORECASE)
# what may sit between a date and its time: "," "|" "van" "om" "from" "at" "Tijd:" ...
_DATE_TIME_GAP = 40
_DAY_RANGE_BEFORE = re.compile(
    # "13 t/m 15", "3-5" (an unspaced dash: "groep 8 - 20 januari" is no range)
    r"\b(?P<day>[0-3]?\d)(?:\s*(?:t/m|tot en met)\s*|[-–])$",
    re.IGNORECASE,
)
_DATE_RANGE_SEP = re.compile(r"^\s*(?:tot en met|t/m|tot|until|to|-|–|—)\s*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TextWhen:
    """Start and end found in prose; ``end`` is None when the text gives no end time.

    Dates without a time give all-day ``date`` values (end exclusive, as in iCal).
    ``span`` is where the matched words are in the plain text, ``tail`` the words right
    after them up to the end of the sentence (often the place: "…, 19.30 uur in Drachten").
    """

    start: datetime | date
    end: datetime | date | None
    matched: str
    span: tuple[int, int]
    tail: str = ""


@lru_cache(maxsize=1)
def _parser() -> dateparser.DateDataParser:
    return dateparser.DateDataParser(
        languages=["nl", "en"],
        settings={"DATE_ORDER": "DMY", "REQUIRE_PARTS": ["day", "month", "year"]},
    )


def _resolve_day(words: str) -> date | None:
    """Let dateparser read "9 mrt 2027", "3 feb. 2027" or "24 February 2027"."""
    data = _parser().get_date_data(words)
    return data.date_obj.date() if data and data.date_obj else None


@dataclass(slots=True)
class _DateHit:
    day: date
    start: int
    end: int


def _date_from_match(match: re.Match[str], text: str, reference: date | None) -> _DateHit | None:
    parts = match.groupdict()
    weekday = _WEEKDAY_OF.get((parts.get("weekday") or "").lower().rstrip("."))
    day_number, month, year = int(parts["day"]), parts["month"], parts.get("year")
    end = match.end()
    if month.isdigit():
        words = f"{day_number}-{int(month)}-{year}"
    else:
        words = f"{day_number} {month.rstrip('.')} {year or 2000}"
    found = _resolve_day(words)
    if found is None:
        return None
    if year:
        return _DateHit(found, match.start(), end)
    upcoming = _UPCOMING.match(text, end)
    if upcoming:
        end = upcoming.end()
    if reference is None or (weekday is None and not upcoming):
        return None  # a bare "22 June" is not pinned to a year: never guess
    for candidate_year in (reference.year, reference.year + 1):
        try:
            candidate = found.replace(year=candidate_year)
        except ValueError:  # 29 February
            continue
        if candidate >= reference and (weekday is None or candidate.weekday() == weekday):
            return _DateHit(candidate, match.start(), end)
    return None


def _find_date(text: str, reference: date | None, pos: int = 0) -> _DateHit | None:
    """The first date written in the text from ``pos`` on."""
    best: _DateHit | None = None
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text, pos):
            if best is not None and match.start() >= best.start:
                break
            hit = _date_from_match(match, text, reference)
            if hit is not None:
                best = hit
                break
    return best


def _clock(value: str) -> time:
    match = re.match(r"(\d+)[.:u](\d\d)\s*(?:([ap])\.?m)?", value, re.IGNORECASE)
    assert match is not None  # value matched _CLOCK
    hours, minutes, half = int(match[1]), int(match[2]), (match[3] or "").lower()
    if half == "p" and hours < 12:
        hours += 12
    elif half == "a" and hours == 12:
        hours = 0
    return time(hours, minutes)


def _find_times(segment: str) -> tuple[re.Match[str] | None, bool]:
    """The first time range or single time in a segment; (match, is_range)."""
    ranged = _TIME_RANGE.search(segment)
    single = _TIME_SINGLE.search(segment)
    if ranged and (single is None or ranged.start() <= single.start()):
        return ranged, True
    return single, False


_TAIL = re.compile(
    r"\s*(?:uur\b|u\b)?\s*(?:\((?:CET|CEST|MET|MEZ|lokale tijd|local time)\)\s*)?"
    r"(?:[,|–—-]\s*|\s+(?:in|bij|at|op)\s+(?:het\s+|de\s+)?)(?P<tail>[^\n.]{2,120})"
)


def find_when(
    text: str,
    *,
    reference: date | datetime | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> TextWhen | None:
    """Find the first event date (with times when given) in plain text, or None.

    ``reference`` is the date that relative or year-less dates count from (an item's
    publication date); without it a date must carry its year.
    """
    if isinstance(reference, datetime):
        reference = reference.astimezone(tz).date() if reference.tzinfo else reference.date()
    hit = _find_date(text, reference)
    if hit is None:
        return None
    following = _find_date(text, reference, hit.end)
    limit = min(len(text), hit.end + _DATE_TIME_GAP + 40)
    if following is not None:
        limit = min(limit, following.start)
    segment = text[hit.end : limit]
    # the times must follow the date closely, in the same line
    newline = segment.find("\n", 0)
    match, is_range = _find_times(segment)
    if match is not None and (match.start() > _DATE_TIME_GAP or 0 <= newline < match.start()):
        # "Datum: 16-3-2027 | Tijd: 08.30" stays on a line; a time further on is something else
        match = None
    end_pos = hit.end
    zone: ZoneInfo = tz
    start: datetime | date = hit.day
    end: datetime | date | None = None
    if match is not None:
        end_pos = hit.end + match.end()
        if _UTC_MARK.match(text, end_pos):
            zone = ZoneInfo("UTC")
        start = datetime.combine(hit.day, _clock(match["start"]), tzinfo=zone)
        if is_range:
            end = datetime.combine(hit.day, _clock(match["end"]), tzinfo=zone)
            if end <= start:  # "22.00 - 01.00 uur" ends after midnight
                end += timedelta(days=1)
    end_pos, end = _multi_day_end(text, reference, end_pos, start, end, zone, following)
    first_day = _DAY_RANGE_BEFORE.search(text, 0, hit.start)
    if first_day is not None and int(first_day["day"]) < hit.day.day:
        # "13 t/m 15 april 2027": the found date is the last day of the range
        opening = hit.day.replace(day=int(first_day["day"]))
        if isinstance(start, datetime):
            start, end = (
                datetime.combine(opening, start.timetz()),
                (datetime.combine(hit.day, end.timetz()) if isinstance(end, datetime) else None),
            )
        else:
            start, end = opening, hit.day + timedelta(days=1)
        hit = _DateHit(hit.day, first_day.start(), hit.end)
    tail_match = _TAIL.match(text, end_pos)
    tail = tail_match["tail"].strip(" ,;:|") if tail_match else ""
    return TextWhen(start, end, text[hit.start : end_pos], (hit.start, end_pos), tail)


def _multi_day_end(
    text: str,
    reference: date | None,
    pos: int,
    start: datetime | date,
    end: datetime | date | None,
    zone: ZoneInfo,
    following: _DateHit | None,
) -> tuple[int, datetime | date | None]:
    """Read "… tot en met donderdag 9 november 2017 om 22:00" after a start date and time."""
    if end is not None or following is None:
        return pos, end
    gap = text[pos : following.start]
    gap = re.sub(r"(?i)^\s*(?:uur|u)\b", "", gap)
    if not _DATE_RANGE_SEP.fullmatch(gap + " ") and not _DATE_RANGE_SEP.match(gap):
        return pos, end
    if _DATE_RANGE_SEP.sub("", gap, count=1).strip(" ,"):
        return pos, end
    last_day = following.day
    new_pos = following.end
    if isinstance(start, datetime):
        segment = text[following.end : following.end + _DATE_TIME_GAP]
        match, _ = _find_times(segment)
        if match is not None and "\n" not in segment[: match.start()]:
            new_pos = following.end + match.end()
            return new_pos, datetime.combine(last_day, _clock(match["start"]), tzinfo=zone)
        return new_pos, None
    if last_day <= start:
        return pos, end
    return new_pos, last_day + timedelta(days=1)
