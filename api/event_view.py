"""What the event page adds around an event's facts: its state (cancelled, removed, past),
meta and Open Graph texts, a route link, the way back to the search it came from, and
"more like this"."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aggregator.localtime import LOCAL_TZ, today_local
from aggregator.models import Event
from aggregator.query import StoreSnapshot
from api.params import build_filters
from api.search_form import PARAM_NAMES
from feeds.location import location_text

DESCRIPTION_CHARS = 160
_SEARCH_PARAMS = {*PARAM_NAMES, "page"}


def event_state(event: Event, now: datetime) -> str:
    """'removed', 'cancelled', 'past' or 'upcoming': what the page may still offer."""
    if event.removed_at is not None:
        return "removed"
    if event.status == "cancelled":
        return "cancelled"
    end = event.end_at or event.start_at
    if event.all_day and event.end_date:
        return "past" if event.end_date <= now.astimezone(LOCAL_TZ).date() else "upcoming"
    return "past" if end < now else "upcoming"


def meta_description(event: Event, when: str) -> str:
    """A search result snippet: when and where, then the start of the description."""
    place = "Online" if event.attendance == "online" else location_text(event)
    lead = " · ".join(part for part in (when, place) if part)
    text = " ".join((event.description or "").split())
    full = f"{lead}. {text}" if text else lead
    if len(full) <= DESCRIPTION_CHARS:
        return full
    return full[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def route_url(event: Event) -> str | None:
    """OpenStreetMap directions to the venue (coordinates), else a map search for the
    address; none for an online event or an unknown place."""
    if event.attendance == "online":
        return None
    if event.lat is not None and event.lon is not None:
        return "https://www.openstreetmap.org/directions?" + urlencode(
            {"route": f";{event.lat:.5f},{event.lon:.5f}"}
        )
    place = location_text(event)
    if place:
        return "https://www.openstreetmap.org/search?" + urlencode({"query": place})
    return None


def back_params(raw: str) -> dict[str, str]:
    """The search parameters carried in an event link's ``terug`` value (others dropped:
    the back link can only lead to the search page)."""
    return {k: v for k, v in parse_qsl(raw[:2000]) if k in _SEARCH_PARAMS and v}


def more_like_this(
    snapshot: StoreSnapshot, config: Any, event: Event, *, limit: int = 4
) -> list[Event]:
    """Upcoming events of the same type (then the same region), other than this one and
    its own series, soonest first."""
    base = build_filters(config, date_from=today_local(), per_page=limit * 6)
    wanted: list[Event] = []
    seen = {event.id}
    title = event.title.casefold()
    tries = []
    if event.activity_type:
        tries.append(replace(base, types=(event.activity_type,)))
    if event.region:
        tries.append(replace(base, regions=(event.region,)))
    for filters in tries:
        for other in snapshot.events(filters, config.regions).items:
            if other.id in seen or other.title.casefold() == title:
                continue
            if other.status == "cancelled":
                continue
            seen.add(other.id)
            title_seen = {e.title.casefold() for e in wanted}
            if other.title.casefold() not in title_seen:
                wanted.append(other)
            if len(wanted) == limit:
                return wanted
    return wanted
