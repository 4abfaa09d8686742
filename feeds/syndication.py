"""RSS 2.0, Atom 1.0 and JSON Feed 1.1: pure renderers from events to bytes.

Items are the events themselves (ordered as given: upcoming first). Each item links to the
event page and carries the summary (when, where, what, "Bron:") as HTML paragraphs (RSS
``description``, Atom ``content``, JSON Feed ``content_html``) and as plain text. Event
times are machine-readable in every format: the RSS event module (``ev:startdate``,
``ev:enddate``, inclusive for all-day events) in RSS and Atom, and the ``_event``
extension object in JSON Feed, whose items also carry the canonical event JSON
(``_overstap_agenda``). A page of a longer list links its neighbours (RFC 5005 ``first``,
``previous``, ``next``, ``last``; JSON Feed ``next_url``).
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree as ET

from aggregator.localtime import LOCAL_TZ, local_iso
from aggregator.models import Event, Source, SourceRecord
from feeds.event_json import event_to_json
from feeds.ical_export import event_summary, plain_text, provenance_line
from feeds.jsonld import event_page_url, event_start, event_status, inclusive_end
from feeds.location import location_text, where_text

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
    first_url: str | None = None
    previous_url: str | None = None
    next_url: str | None = None
    last_url: str | None = None

    def page_links(self) -> list[tuple[str, str]]:
        """The RFC 5005 paging links of this page: (relation, URL)."""
        pairs = (
            ("first", self.first_url),
            ("previous", self.previous_url),
            ("next", self.next_url),
            ("last", self.last_url),
        )
        return [(rel, url) for rel, url in pairs if url]


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


def paging_links(self_url: str, *, page: int, per_page: int, total: int) -> dict[str, str | None]:
    """RFC 5005 paged-feed links of one page (``first_url``, ``previous_url``, ``next_url``,
    ``last_url``): the feed's own URL with another ``page``; None where there is none."""
    if not self_url or per_page < 1:
        return {}
    last = max(1, -(-total // per_page))
    parts = urlsplit(self_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "page"]

    def url(number: int) -> str:
        return urlunsplit(parts._replace(query=urlencode([*query, ("page", str(number))])))

    return {
        "first_url": url(1) if last > 1 else None,
        "previous_url": url(page - 1) if 1 < page <= last else None,
        "next_url": url(page + 1) if page < last else None,
        "last_url": url(last) if last > 1 else None,
    }


def item_parts(item: FeedItem) -> list[str]:
    """The paragraphs of an item's summary: when, where, what, registration and 'Bron:'."""
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
    return [p for p in parts if p]


def item_text(item: FeedItem) -> str:
    """The plain-text summary of an item, paragraphs separated by blank lines."""
    return "\n\n".join(item_parts(item))


def item_html(item: FeedItem) -> str:
    """The summary of an item as HTML paragraphs (line breaks kept within a paragraph)."""
    paragraphs = []
    for part in item_parts(item):
        lines = [html.escape(line.strip(), quote=False) for line in part.split("\n")]
        text = "<br>".join(line for line in lines if line)
        if text:
            paragraphs.append(f"<p>{text}</p>")
    return "".join(paragraphs)


def entry_updated(event: Event) -> str:
    """An entry's atom:updated: when the event last changed, in UTC (RFC 3339).

    A harvest stamps every event it changes with one instant, and the W3C validator warns
    when entries of a feed share an atom:updated (DuplicateUpdated). The fraction of the
    second is therefore taken from the event's id: stable across requests and feeds,
    different between events, and never moving the time out of the second it changed in.
    """
    changed = event.last_modified.astimezone(UTC).replace(microsecond=0)
    fraction = int(hashlib.sha256(event.id.encode()).hexdigest()[:12], 16) % 10**9
    return f"{changed:%Y-%m-%dT%H:%M:%S}.{fraction:09d}Z"


def _event_elements(parent: ET.Element, event: Event) -> None:
    """The RSS event module's elements (also valid as foreign markup in Atom)."""
    ET.SubElement(parent, f"{{{EV_NS}}}startdate").text = event_start(event)
    if end := inclusive_end(event):
        ET.SubElement(parent, f"{{{EV_NS}}}enddate").text = end
    if where := location_text(event):
        ET.SubElement(parent, f"{{{EV_NS}}}location").text = where
    if event.organizer_name:
        ET.SubElement(parent, f"{{{EV_NS}}}organizer").text = event.organizer_name
    if event.activity_type:
        ET.SubElement(parent, f"{{{EV_NS}}}type").text = event.activity_type


def _feed_source(item: FeedItem) -> tuple[str, str] | None:
    """(name, feed URL) of the first source of an item that is itself an RSS or Atom feed.

    RSS 2.0's ``<source url>`` names "the RSS channel that the item came from": an iCal
    calendar or an HTML page is no such channel, so those items carry no ``<source>``
    (their sources are in the description's 'Bron:' line).
    """
    for record in item.records:
        source = item.sources.get(record.source_id)
        if (
            source is not None
            and source.kind in ("rss", "atom")
            and source.url.startswith(("http://", "https://"))
        ):
            return source.name, source.url
    return None


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
    for rel, url in info.page_links():
        ET.SubElement(
            channel, f"{{{ATOM_NS}}}link", {"href": url, "rel": rel, "type": "application/rss+xml"}
        )
    for item in items:
        event = item.event
        element = ET.SubElement(channel, "item")
        ET.SubElement(element, "title").text = event_summary(event)
        ET.SubElement(element, "link").text = event_page_url(event.id, base_url=info.base_url)
        ET.SubElement(element, "description").text = item_html(item)
        ET.SubElement(element, "guid", {"isPermaLink": "false"}).text = item_id(event)
        ET.SubElement(element, "pubDate").text = format_datetime(event.first_seen, usegmt=True)
        for category in [*filter(None, [event.activity_type]), *event.sectors]:
            ET.SubElement(element, "category").text = category
        if source := _feed_source(item):
            ET.SubElement(element, "source", {"url": source[1]}).text = source[0]
        _event_elements(element, event)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


def render_atom(items: Sequence[FeedItem], *, info: FeedInfo) -> bytes:
    """Atom 1.0 (RFC 4287): one entry an event, updated when the event last changed."""
    ET.register_namespace("", ATOM_NS)
    ET.register_namespace("ev", EV_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {f"{{{XML_NS}}}lang": "nl"})
    sub(feed, "id", f"{ID_AUTHORITY}:feed:{info.feed_url.split('://', 1)[-1]}")
    sub(feed, "title", info.title)
    sub(feed, "subtitle", info.description)
    sub(feed, "updated", info.updated.astimezone(UTC).isoformat())
    sub(feed, "link", href=info.feed_url, rel="self", type="application/atom+xml")
    sub(feed, "link", href=info.home_url, rel="alternate", type="text/html")
    for rel, url in info.page_links():
        sub(feed, "link", href=url, rel=rel, type="application/atom+xml")
    author = sub(feed, "author")
    sub(author, "name", "Overstap Agenda")
    sub(author, "uri", info.base_url)
    for item in items:
        event = item.event
        entry = sub(feed, "entry")
        sub(entry, "id", item_id(event))
        sub(entry, "title", event_summary(event))
        sub(entry, "updated", entry_updated(event))
        sub(entry, "published", event.first_seen.astimezone(UTC).isoformat())
        sub(
            entry,
            "link",
            href=event_page_url(event.id, base_url=info.base_url),
            rel="alternate",
            type="text/html",
        )
        sub(entry, "summary", item_text(item), type="text")
        sub(entry, "content", item_html(item), type="html")
        for category in [*filter(None, [event.activity_type]), *event.sectors]:
            sub(entry, "category", term=category)
        for url in dict.fromkeys(r.url for r in item.records if r.url):
            sub(entry, "link", href=url, rel="via")
        _event_elements(entry, event)
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
    if info.next_url:
        feed["next_url"] = info.next_url
    for item in items:
        event = item.event
        entry: dict[str, Any] = {
            "id": item_id(event),
            "url": event_page_url(event.id, base_url=info.base_url),
            "title": event_summary(event),
            "content_html": item_html(item),
            "content_text": item_text(item),
            "date_published": local_iso(event.first_seen),
            "date_modified": local_iso(event.last_modified),
            "tags": [*filter(None, [event.activity_type]), *event.sectors],
            "_event": event_extension(event),
            "_overstap_agenda": event_to_json(event, item.records, item.sources),
        }
        if event.url:
            entry["external_url"] = event.url
        feed["items"].append(entry)
    return json.dumps(feed, ensure_ascii=False, indent=1).encode("utf-8")


def event_extension(event: Event) -> dict[str, Any]:
    """JSON Feed's ``_event`` extension: when and where, machine-readable.

    ``start`` and ``end`` as in the canonical event (ISO 8601 with offset; for all-day
    events dates with the end exclusive, as in iCal), plus ``end_inclusive`` (the last day
    for all-day events), ``status`` as a schema.org EventStatusType and ``location``.
    """
    canonical = event_to_json(event, [], {})
    return {
        "about": "https://schema.org/Event",
        "start": canonical["start"],
        "end": canonical["end"],
        "end_inclusive": inclusive_end(event),
        "all_day": event.all_day,
        "status": event_status(event),
        "attendance": event.attendance,
        "location": location_text(event) or None,
    }
