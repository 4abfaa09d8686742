"""Time zones of iCal values: TZID with or without VTIMEZONE, Windows names, floating times.

icalendar already resolves IANA names, Windows names ("W. Europe Standard Time") and
vendor-prefixed TZIDs while parsing. What it leaves naive is resolved here, in this order:

1. an IANA name, or a Windows name through icalendar's own Windows-to-IANA table;
2. a VTIMEZONE with that TZID in the same file (RFC 5545 3.2.19: the TZID names one);
3. an Outlook display-name list such as "Amsterdam, Belgrade, Berlin, ..." or
   "(UTC+01:00) Amsterdam, Berlin, Bern": the first city that is an IANA zone's city;
4. otherwise the source's zone, with a warning.

IANA zones are preferred to a file's VTIMEZONE for the same TZID (as icalendar does): they
are right for past rule changes, and fast, while a VTIMEZONE starting in 1601 makes every
offset lookup step through four centuries of rules.

Floating times (no TZID, no "Z") are read in the source's configured ``timezone``, else the
calendar's X-WR-TIMEZONE, else Europe/Amsterdam.

A local time that does not exist (in the spring DST gap, 02:30 on the last Sunday of March
in Amsterdam) is read, as RFC 5545 3.3.5 says, "using the UTC offset before the gap": it is
moved forward by the length of the gap (02:30 becomes 03:30 CEST), as libical and Google
Calendar do, and an occurrence keeps its duration (see :func:`existing_time`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

DEFAULT_TZ = "Europe/Amsterdam"
_CITY_SPLIT = re.compile(r"[,;/]|\s-\s")
_OFFSET_PREFIX = re.compile(r"^\s*\((?:UTC|GMT)[^)]*\)\s*", re.IGNORECASE)


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone of that name, or None when there is no such zone."""
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, str]:
    """Map a lower-case city ("amsterdam", "new york") to its IANA zone."""
    cities: dict[str, str] = {}
    for name in sorted(available_timezones()):
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        # prefer the canonical area (Europe/..., America/...) over legacy links (US/...)
        cities.setdefault(city, name)
    return cities


def zone_from_display_name(tzid: str) -> ZoneInfo | None:
    """Resolve an Outlook display-name TZID ("Amsterdam, Belgrade, Berlin, ...") by its cities."""
    text = _OFFSET_PREFIX.sub("", tzid.replace("\\,", ","))
    cities = _zones_by_city()
    for part in _CITY_SPLIT.split(text):
        name = cities.get(part.strip().lower())
        if name:
            return ZoneInfo(name)
    return None


class ZoneResolver:
    """Resolve the zone of naive values in one calendar; remember what it had to guess."""

    def __init__(self, *, defined_zone: Callable[[str], tzinfo | None], floating: tzinfo) -> None:
        self.defined_zone = defined_zone
        self.floating = floating
        self.unknown: set[str] = set()
        self._cache: dict[str, tzinfo] = {}

    def for_tzid(self, tzid: str) -> tzinfo:
        """The zone a TZID stands for; an unknown TZID gets the floating zone (noted)."""
        found = self._cache.get(tzid)
        if found is None:
            found = (
                zone(tzid)
                or zone(WINDOWS_TO_OLSON.get(tzid.strip()))
                or self.defined_zone(tzid)
                or zone_from_display_name(tzid)
                or self._unknown(tzid)
            )
            self._cache[tzid] = found
        return found

    def _unknown(self, tzid: str) -> tzinfo:
        self.unknown.add(tzid)
        return self.floating

    def localise(self, value: date, tzid: str | None) -> date:
        """Give a naive datetime its zone; resolve a VTIMEZONE-built one again (IANA first).

        Dates, UTC values and values already in an IANA zone pass unchanged.
        """
        if not isinstance(value, datetime):
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=self.for_tzid(tzid) if tzid else self.floating)
        if tzid and not isinstance(value.tzinfo, ZoneInfo | timezone):
            # icalendar keeps every VTIMEZONE it ever parsed in one process-wide cache, so
            # a custom TZID may carry another file's definition: resolve it for this file.
            return value.replace(tzinfo=self.for_tzid(tzid))
        return value


def existing_time(value: date) -> date:
    """The time as it exists in its zone: a time in a DST gap moved forward by the gap.

    RFC 5545 3.3.5: a nonexistent local time "is interpreted using the UTC offset before
    the gap in local times" (TZID=America/New_York:20070311T023000 is 03:30 EDT). Python's
    zones disagree on such times (zoneinfo uses the offset before the gap, icalendar's
    VTIMEZONE zones the one after, which moves 02:30 back to 01:30), so the offset before
    is taken from the zone itself: the one in force twelve hours earlier. Dates, UTC and
    existing times pass unchanged.
    """
    if not isinstance(value, datetime) or value.tzinfo is None:
        return value
    zone_ = value.tzinfo
    if isinstance(zone_, timezone):
        return value
    utc = value.astimezone(UTC)
    if utc.astimezone(zone_).replace(tzinfo=None) == value.replace(tzinfo=None):
        return value  # it exists (for zoneinfo also in the overlap: fold decides)
    naive = value.replace(tzinfo=None)
    before = (naive - timedelta(hours=12)).replace(tzinfo=zone_).utcoffset()
    if before is None:
        return value
    return (naive - before).replace(tzinfo=UTC).astimezone(zone_)
