"""Output formats as registered renderers with one signature (Datasette's
``register_output_renderer`` is the model).

A renderer turns one page of events (``aggregator.query.EventPage``: the events, their
source records and sources, distances) and a ``RenderContext`` (addresses and titles)
into bytes of one media type. The publisher's routes look renderers up by name; adding a
format is registering one function here or in a plugin module, not writing a route.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import orjson

from aggregator.config import Regions
from aggregator.query import EventFilters, EventPage, StoreSnapshot
from feeds.event_json import event_to_json
from feeds.ical_export import VeventCache, render_ics, render_ics_from_store
from feeds.jsonld import event_jsonld
from feeds.syndication import (
    FeedInfo,
    FeedItem,
    paging_links,
    render_atom,
    render_json_feed,
    render_rss,
)

CALENDAR_NAME = "Overstap Agenda"
CALENDAR_DESCRIPTION = "Activiteiten voor overstappers naar het onderwijs"
# A feed of no events still needs an 'updated' time; a fixed one keeps its bytes stable.
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What a renderer needs besides the events.

    ``base_url`` is the site's public address (links to event pages); ``title`` and
    ``description`` name the calendar or feed; ``self_url`` is the output's own address
    (feeds link to themselves and, with another ``page``, to their neighbours);
    ``with_distance`` adds each event's ``distance_km`` (a search ``near`` a place) and
    ``near`` the resolved place to the JSON API's page;
    ``subscription`` is false for a one-event iCal download (no calendar name or refresh
    interval); ``region_label`` names the region of a one-event JSON-LD (its place when the
    source names none).
    """

    base_url: str
    title: str = CALENDAR_NAME
    description: str = CALENDAR_DESCRIPTION
    self_url: str = ""
    with_distance: bool = False
    near: dict[str, object] | None = None  # what a search's near value resolved to
    subscription: bool = True
    region_label: str | None = None


Render = Callable[[EventPage, RenderContext], bytes]
# A renderer that reads the store itself (for a whole export): it may then skip loading
# what it rendered before. Same output as ``render`` on the same events.
RenderFromStore = Callable[
    [StoreSnapshot, EventFilters, Regions, RenderContext, VeventCache], bytes
]


@dataclass(frozen=True, slots=True)
class OutputRenderer:
    """A registered output format: its name, its media type and its render function
    (and, for a format that can reuse earlier work, one that reads the store itself)."""

    name: str
    media_type: str
    render: Render
    render_from_store: RenderFromStore | None = None


_RENDERERS: dict[str, OutputRenderer] = {}


def register_output_renderer(name: str, media_type: str) -> Callable[[Render], Render]:
    """Register the decorated function as the renderer of format ``name``."""

    def register(render: Render) -> Render:
        if name in _RENDERERS:
            raise ValueError(f"an output renderer named {name!r} is registered already")
        _RENDERERS[name] = OutputRenderer(name=name, media_type=media_type, render=render)
        return render

    return register


def output_renderer(name: str) -> OutputRenderer:
    """The renderer registered as ``name`` (LookupError naming the known ones if none)."""
    try:
        return _RENDERERS[name]
    except KeyError:
        known = ", ".join(sorted(_RENDERERS))
        raise LookupError(f"no output renderer {name!r}; known: {known}") from None


def output_renderers() -> list[OutputRenderer]:
    """Every registered renderer, by name."""
    return [_RENDERERS[name] for name in sorted(_RENDERERS)]


@register_output_renderer("ics", "text/calendar; charset=utf-8")
def ics(page: EventPage, context: RenderContext) -> bytes:
    """An RFC 5545 calendar of the page's events."""
    return render_ics(
        page.items,
        page.records,
        page.sources,
        calendar_name=context.title,
        calendar_description=context.description,
        base_url=context.base_url,
        subscription=context.subscription,
    )


def _ics_from_store(
    snapshot: StoreSnapshot,
    filters: EventFilters,
    regions: Regions,
    context: RenderContext,
    cache: VeventCache,
) -> bytes:
    return render_ics_from_store(
        snapshot,
        filters,
        regions,
        cache=cache,
        calendar_name=context.title,
        calendar_description=context.description,
        base_url=context.base_url,
        subscription=context.subscription,
    )


_RENDERERS["ics"] = replace(_RENDERERS["ics"], render_from_store=_ics_from_store)


def _feed(page: EventPage, context: RenderContext) -> tuple[list[FeedItem], FeedInfo]:
    newest = max((e.last_modified for e in page.items), default=None)
    info = FeedInfo(
        title=context.title,
        description=context.description,
        home_url=f"{context.base_url}/",
        feed_url=context.self_url,
        base_url=context.base_url,
        updated=newest or EMPTY_FEED_UPDATED,
        **paging_links(context.self_url, page=page.page, per_page=page.per_page, total=page.total),
    )
    items = [FeedItem(e, page.records.get(e.id, []), page.sources) for e in page.items]
    return items, info


@register_output_renderer("rss", "application/rss+xml; charset=utf-8")
def rss(page: EventPage, context: RenderContext) -> bytes:
    """An RSS 2.0 feed of the page's events."""
    items, info = _feed(page, context)
    return render_rss(items, info=info)


@register_output_renderer("atom", "application/atom+xml; charset=utf-8")
def atom(page: EventPage, context: RenderContext) -> bytes:
    """An Atom 1.0 feed of the page's events."""
    items, info = _feed(page, context)
    return render_atom(items, info=info)


@register_output_renderer("jsonfeed", "application/feed+json; charset=utf-8")
def jsonfeed(page: EventPage, context: RenderContext) -> bytes:
    """A JSON Feed 1.1 of the page's events."""
    items, info = _feed(page, context)
    return render_json_feed(items, info=info)


@register_output_renderer("events", "application/json")
def events(page: EventPage, context: RenderContext) -> bytes:
    """The JSON API's page of events: canonical event JSON items, total, page, per_page."""
    items = []
    for event in page.items:
        data = event_to_json(event, page.records.get(event.id, []), page.sources)
        if context.with_distance:
            data["distance_km"] = page.distances.get(event.id)
        items.append(data)
    # The items are plain JSON already: orjson renders them directly, skipping FastAPI's
    # generic (and, for 200 items, costly) jsonable_encoder pass.
    body: dict[str, object] = {
        "items": items,
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
    }
    if context.near is not None:
        body["near"] = context.near
    return orjson.dumps(body)


@register_output_renderer("jsonld", "application/ld+json")
def jsonld(page: EventPage, context: RenderContext) -> bytes:
    """The schema.org Event of the page's (first) event."""
    if not page.items:
        raise ValueError("JSON-LD renders one event; the page is empty")
    event = page.items[0]
    data = event_jsonld(
        event,
        page.records.get(event.id, []),
        page.sources,
        base_url=context.base_url,
        region_label=context.region_label,
    )
    return json.dumps(data, ensure_ascii=False).encode()
