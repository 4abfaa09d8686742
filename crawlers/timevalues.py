"""Machine-written date-time values (ISO 8601 / W3CDTF and their common deviations)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

_BASIC_OFFSET = re.compile(r"([+-]\d\d)(\d\d)$")
_FRACTION = re.compile(r"(\d\d:\d\d:\d\d)[.,]\d+")
# "2019-9-18T10:00" (no zero padding) and "20080228T173000" (basic format)
_LOOSE = re.compile(
    r"^(?P<y>\d{4})-?(?P<mo>\d{1,2})-?(?P<d>\d{1,2})"
    r"(?:[T ](?P<h>\d{1,2}):?(?P<mi>\d\d)(?::?(?P<s>\d\d))?)?(?P<tz>Z|[+-]\d\d:?\d\d)?$"
)


def parse_timevalue(value: object, tz: ZoneInfo) -> datetime | date | None:
    """Read an ISO-like date or date-time; naive times are local to ``tz``.

    Returns a ``date`` for a date alone, an aware ``datetime`` otherwise, and None when the
    value is not a date (the caller reports it).
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    text = text.replace("z", "Z")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(r"\1", text)
    text = _BASIC_OFFSET.sub(r"\1:\2", text) if "T" in text or " " in text else text
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        match = _LOOSE.match(text.replace(" ", "T", 1) if "T" not in text else text)
        if not match:
            return None
        try:
            day = date(int(match["y"]), int(match["mo"]), int(match["d"]))
            if match["h"] is None:
                return day
            parsed = datetime(
                day.year,
                day.month,
                day.day,
                int(match["h"]),
                int(match["mi"]),
                int(match["s"] or 0),
                tzinfo=_offset(match["tz"]) if match["tz"] else None,
            )
        except ValueError:
            return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz)
    return parsed


def _offset(text: str) -> timezone:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def inclusive_end(start: datetime | date, end: datetime | date | None) -> datetime | date | None:
    """Make a source's inclusive last day of an all-day event exclusive, as iCal has it."""
    if isinstance(start, datetime) or isinstance(end, datetime) or end is None:
        return end
    return end + timedelta(days=1) if end >= start else None
