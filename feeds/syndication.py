"""RSS 2.0, Atom 1.0 and JSON Feed 1.1: pure renderers from events to bytes.

Items are the events themselves (ordered as given: upcoming first). Each item links to the
event page, carries a plain-text summary (when, where, what, "Bron:") and, in RSS, the
RSS event module (``ev:startdate`` ...); JSON Feed items carry the canonical event JSON in
the ``_overstap_agenda`` extension, provenance included.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET

from aggregator.localtime import LOCAL_TZ, local_iso
from aggregator.models import Event, Source, SourceRecord
from feeds.event_json import event_to_json
from feeds.ical_export import event_summary, plain_text, provenance_line
from feeds.jsonld import event_page_url

ATOM_NS = "http://www.w3.org/2005/Atom"
EV_NS = "http://purl.org/rss/1.0/modules/event/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ID_AUTHORITY = "tag:overstap-agenda,2026"

_DAYS = ("ma", "di", "wo", "do", "vr", "za", "zo")
_MONTHS = (
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
)


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a feed says about itself."""

    title: str
    description: str
    home_url: str
    feed_url: str
    base_url: str
    updated: datetime


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One event with its provenance, as the renderers need it."""

    event: Event
    records: list[SourceRecord]
    sources: dict[str, Source]


def when_text(event: Event) -> str:
    """The date and time in Dutch: ``di 12 maart 2027, 19:00–21:00``."""
    if event.all_day and event.start_date:
        day = event.start_date
        text = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"
        if event.end_date and (event.end_date - day).days > 1:
            last = event.end_date.fromordinal(event.end_date.toordinal() - 1)
            text += f" t/m {_DAYS[last.weekday()]} {last.day} {_MONTHS[last.month - 1]}"
        return text
    start = event.start_at.astimezone(LOCAL_TZ)
    text = f"{_DAYS[start.weekday()]} {start.day} {_MONTHS[start.month - 1]} {start.year}"
    text += f", {start:%H:%M}"
    if event.end_at and event.end_at > event.start_at:
        end = event.end_at.astimezone(LOCAL_TZ)
        text += f"–{end:%H:%M}" if end.date() == start.date() else f" tot {end:%d-%m-%Y %H:%M}"
    return text


def where_text(event: Event) -> str:
    """The place in one line, or 'Online'."""
    place = ", ".join(p for p in (event.location_name, event.address, event.city) if p)
    if event.attendance == "online":
        return "Online"
    if event.attendance == "mixed":
        return f"{place} en online" if place else "Online en op locatie"
    return place


def item_text(item: FeedItem) -> str:
    """The plain-text summary of an item: when, where, what, registration and 'Bron:'."""
    event = item.event
    parts = [when_text(event)]
    if where := where_text(event):
        parts.append(where)
    if event.status == "cancelled" or event.removed_at is not None:
        parts.append("Deze activiteit gaat niet door.")
    if event.description:
        parts.append(plain_text(event.description).strip())
    if event.registration_url:
        parts.append(f"Aanmelden: {event.registration_url}")
    if bron := provenance_line(item.records, item.sources):
        parts.append(bron)
    return "\n\n".join(parts)


def item_id(event: Event) -> str:
    """A permanent, base-URL independent id of an event in every feed."""
    return f"{ID_AUTHORITY}:event:{event.id}"


def render_rss(items: Sequence[FeedItem], *, info: FeedInfo) -> bytes:
    """RSS 2.0 with the RSS event module and an atom:link to itself."""
    ET.register_namespace("atom", ATOM_NS)
    ET.register_namespace("ev", EV_NS)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = info.title
    ET.SubElement(channel, "link").text = info.home_url
    ET.SubElement(channel, "description").text = info.description
    ET.SubElement(channel, "language").text = "nl"
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(info.updated, usegmt=True)
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        {"href": info.feed_url, "rel": "self", "type": "application/rss+xml"},
    )
    for item in items:
        event = item.event
        element = ET.SubElement(channel, "item")
        ET.SubElement(element, "title").text = event_summary(event)
        ET.SubElement(element, "link").text = event_page_url(event.id, base_url=info.base_url)
        ET.SubElement(element, "description").text = item_text(item)
        ET.SubElement(element, "guid", {"isPermaLink": "false"}).text = item_id(event)
        ET.SubElement(element, "pubDate").text = format_datetime(event.first_seen, usegmt=True)
        for category in [*filter(None, [event.activity_type]), *event.sectors]:
            ET.SubElement(element, "category").text = category
        start, end = _start_end(event)
        ET.SubElement(element, f"{{{EV_NS}}}startdate").text = start
        if end:
            ET.SubElement(element, f"{{{EV_NS}}}enddate").text = end
        if where := where_text(event):
            ET.SubElement(element, f"{{{EV_NS}}}location").text = where
        if event.organizer_name:
            ET.SubElement(element, f"{{{EV_NS}}}organizer").text = event.organizer_name
        for record in item.records:
            if record.url:
                source = item.sources.get(record.source_id)
                name = source.name if source else record.source_id
                ET.SubElement(element, "source", {"url": record.url}).text = name
                break  # RSS 2.0 allows one <source> an item
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def _start_end(event: Event) -> tuple[str, str | None]:
    if event.all_day and event.start_date:
        return event.start_date.isoformat(), (
            event.end_date.isoformat() if event.end_date else None
        )
    return local_iso(event.start_at) or "", local_iso(event.end_at)


def render_atom(items: Sequence[FeedItem], *, info: FeedInfo) -> bytes:
    """Atom 1.0 (RFC 4287): one entry an event, updated when the event last changed."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {f"{{{XML_NS}}}lang": "nl"})
    sub(feed, "id", f"{ID_AUTHORITY}:feed:{info.feed_url.split('://', 1)[-1]}")
    sub(feed, "title", info.title)
    sub(feed, "subtitle", info.description)
    sub(feed, "updated", info.updated.isoformat())
    sub(feed, "link", href=info.feed_url, rel="self", type="application/atom+xml")
    sub(feed, "link", href=info.home_url, rel="alternate", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", "Overstap Agenda")
    sub(author, "uri", info.base_url)
    for item in items:
        event = item.event
        entry = sub(feed, "entry")
        sub(entry, "id", item_id(event))
        sub(entry, "title", event_summary(event))
        sub(entry, "updated", event.last_modified.isoformat())
        sub(entry, "published", event.first_seen.isoformat())
        sub(
            entry,
            "link",
            href=event_page_url(event.id, base_url=info.base_url),
            rel="alternate",
            type="text/html",
        )
        sub(entry, "summary", item_text(item), type="text")
        for category in [*filter(None, [event.activity_type]), *event.sectors]:
            sub(entry, "category", term=category)
        for record in item.records:
            if record.url:
                sub(entry, "link", href=record.url, rel="via")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def render_json_feed(items: Sequence[FeedItem], *, info: FeedInfo) -> bytes:
    """JSON Feed 1.1; each item also carries the canonical event JSON (``_overstap_agenda``)."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": info.title,
        "description": info.description,
        "home_page_url": info.home_url,
        "feed_url": info.feed_url,
        "language": "nl",
        "authors": [{"name": "Overstap Agenda", "url": info.base_url}],
        "items": [],
    }
    for item in items:
        event = item.event
        entry: dict[str, Any] = {
            "id": item_id(event),
            "url": event_page_url(event.id, base_url=info.base_url),
            "title": event_summary(event),
            "content_text": item_text(item),
            "date_published": local_iso(event.first_seen),
            "date_modified": local_iso(event.last_modified),
            "tags": [*filter(None, [event.activity_type]), *event.sectors],
            "_overstap_agenda": event_to_json(event, item.records, item.sources),
        }
        if event.url:
            entry["external_url"] = event.url
        feed["items"].append(entry)
    return json.dumps(feed, ensure_ascii=False, indent=1).encode("utf-8")
