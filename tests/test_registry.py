"""Output renderers: registered by name with one signature; routes and plugins look them up."""

from __future__ import annotations

import json

import feedparser
import icalendar
import pytest

from aggregator.query import EventPage
from feeds import registry
from feeds.ical_export import event_uid
from feeds.registry import (
    RenderContext,
    output_renderer,
    output_renderers,
    register_output_renderer,
)
from tests.publishing_data import SPECS, build_event

BASE = "https://agenda.example.nl"


@pytest.fixture(scope="module")
def page() -> EventPage:
    events = [build_event(spec) for spec in SPECS[:3]]
    return EventPage(items=events, total=len(events), page=1, per_page=50)


def test_every_format_is_registered_with_its_media_type() -> None:
    media = {r.name: r.media_type.split(";")[0] for r in output_renderers()}
    assert media == {
        "atom": "application/atom+xml",
        "events": "application/json",
        "ics": "text/calendar",
        "jsonfeed": "application/feed+json",
        "jsonld": "application/ld+json",
        "rss": "application/rss+xml",
    }


def test_every_renderer_takes_a_page_and_a_context(page: EventPage) -> None:
    context = RenderContext(base_url=BASE, self_url=f"{BASE}/feeds/events.rss")
    titles = {e.title for e in page.items}
    out = {r.name: r.render(page, context) for r in output_renderers()}
    calendar = icalendar.Calendar.from_ical(out["ics"])
    assert sorted(str(c["UID"]) for c in calendar.walk("VEVENT")) == sorted(
        event_uid(e.id) for e in page.items
    )
    for name in ("rss", "atom"):
        parsed = feedparser.parse(out[name])
        assert not parsed.bozo and {e.title for e in parsed.entries} == titles
    assert {i["title"] for i in json.loads(out["jsonfeed"])["items"]} == titles
    listing = json.loads(out["events"])
    assert [i["id"] for i in listing["items"]] == [e.id for e in page.items]
    assert "distance_km" not in listing["items"][0]
    assert json.loads(out["jsonld"])["name"] == page.items[0].title


def test_distances_only_for_a_search_near_a_place(page: EventPage) -> None:
    near = RenderContext(base_url=BASE, with_distance=True)
    items = json.loads(output_renderer("events").render(page, near))["items"]
    assert all("distance_km" in item for item in items)


def test_unknown_and_duplicate_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LookupError, match="known: atom, events, ics"):
        output_renderer("pdf")
    with pytest.raises(ValueError, match="registered already"):
        register_output_renderer("ics", "text/calendar")(lambda page, context: b"")
    monkeypatch.setattr(registry, "_RENDERERS", dict(registry._RENDERERS))
    register_output_renderer("count", "text/plain")(lambda page, ctx: str(page.total).encode())
    assert output_renderer("count").render(EventPage([], 7, 1, 1), RenderContext(BASE)) == b"7"
