"""Series in a result list: the occurrences of one recurring activity (same title, place,
weekday and time) become one entry, "elke dinsdag · 24 keer, eerstvolgende ...", with
every date one click away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from aggregator.localtime import LOCAL_TZ
from aggregator.models import Event
from api.i18n import long_date, t

_DAYS_NL = ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(slots=True)
class Entry:
    """One line of a result list: an event, or the occurrences of a series (soonest first
    in the list's order; ``events[0]`` is the one shown)."""

    events: list[Event]

    @property
    def first(self) -> Event:
        """The occurrence the entry shows."""
        return self.events[0]

    @property
    def is_series(self) -> bool:
        """More than one occurrence."""
        return len(self.events) > 1


def series_key(event: Event) -> tuple[object, ...]:
    """What the occurrences of one series share: title, place, way of attending, weekday
    and local start time."""
    start = event.start_at.astimezone(LOCAL_TZ)
    place = (event.location_name or event.city or "").casefold().strip()
    clock = "all-day" if event.all_day else f"{start:%H:%M}"
    return (event.title.casefold().strip(), place, event.attendance, start.weekday(), clock)


def collapse(events: list[Event]) -> list[Entry]:
    """The events as entries, each series at the place of its first occurrence."""
    entries: dict[tuple[object, ...], Entry] = {}
    for event in events:
        key = series_key(event)
        if key in entries:
            entries[key].events.append(event)
        else:
            entries[key] = Entry([event])
    return list(entries.values())


def _local_day(event: Event) -> date:
    if event.all_day and event.start_date:
        return event.start_date
    return event.start_at.astimezone(LOCAL_TZ).date()


def series_label(entry: Entry, lang: str) -> str:
    """'elke dinsdag · 24 keer, eerstvolgende dinsdag 12 januari 2027' (weekly series), else
    '5 keer, eerstvolgende ...'. Weekly: a week apart, a skipped week (a holiday) allowed."""
    ordered = sorted(entry.events, key=lambda e: e.start_at)
    days = [_local_day(e) for e in ordered]
    gaps = {b - a for a, b in pairwise(days)}
    count = t("series_count", lang, n=len(ordered))
    upcoming = t(
        "series_next", lang, when=long_date(ordered[0].start_at.astimezone(LOCAL_TZ), lang)
    )
    week = timedelta(days=7)
    if gaps and min(gaps) == week and all(gap % week == timedelta(0) for gap in gaps):
        weekday = ordered[0].start_at.astimezone(LOCAL_TZ).weekday()
        every = t("series_weekly", lang, day=(_DAYS_EN if lang == "en" else _DAYS_NL)[weekday])
        return f"{every} · {count}, {upcoming}"
    return f"{count}, {upcoming}"
