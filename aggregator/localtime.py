"""Local time of the calendar: every event is shown and every day is counted in Europe/Amsterdam."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")


def local_midnight(day: date) -> datetime:
    """The start of a calendar day in Europe/Amsterdam, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_iso(value: datetime | None) -> str | None:
    """ISO 8601 in Europe/Amsterdam with offset, or None."""
    return value.astimezone(LOCAL_TZ).isoformat() if value else None


def today_local(now: datetime | None = None) -> date:
    """Today (or the day of ``now``) in the Netherlands."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()
