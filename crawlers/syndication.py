"""RSS 2.0, RSS 1.0 and Atom reader: feed bytes in, RawEvent records out.

Where the event date comes from, in order: the RSS event module (``ev:startdate``), xCal
elements, Google Calendar GData (``gd:when``, ``gd:recurrence``), Google Base
(``g:event_date_range``), and else the item's own text in Dutch or English
(:mod:`crawlers.textdates`). ``pubDate`` is when the item was published, never the event
date: an item with no findable date is skipped and counted.

``feedparser`` recognises the feed type and reads feeds that are not well-formed XML; a
well-formed feed is walked with lxml so that namespaced event elements keep their
attributes and nested entries (GData comments, exceptions) stay inside their entry.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import feedparser
from lxml import etree

from crawlers import ical
from crawlers.charset import decode_lenient
from crawlers.formats import unsupported_format
from crawlers.html_text import html_to_text
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig
from crawlers.textdates import find_when
from crawlers.timevalues import parse_timevalue

DEFAULT_TZ = "Europe/Amsterdam"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "rss1": "http://purl.org/rss/1.0/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "ev": "http://purl.org/rss/1.0/modules/event/",
    "g": "http://base.google.com/ns/1.0",
    "gd": "http://schemas.google.com/g/2005",
    "gcal": "http://schemas.google.com/gCal/2005",
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
}
XCAL_NAMESPACES = ("urn:ietf:params:xml:ns:xcal", "urn:ietf:params:xml:ns:icalendar-2.0")
_EVENT_NAMESPACES = {NS["ev"], NS["g"], NS["gd"], *XCAL_NAMESPACES}
_STATUS = {"confirmed": "confirmed", "tentative": "tentative", "canceled": "cancelled"}
# the encoding an XML declaration names: <?xml version="1.0" encoding="UTF-8"?>
_XML_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
# "Locatie: …", "Waar: …", "Where: …" lines in an item's text
_PLACE_LABEL = re.compile(
    r"^(?:locatie|waar|plaats|adres|location|where|venue)\s*:\s*(?P<place>.+)$",
    re.IGNORECASE | re.MULTILINE,
)

# a short line holding a Dutch postcode ("…, Oudestraat 86, 8261 CR Kampen") is the address
_POSTCODE_LINE = re.compile(r"^(?P<line>[^\n]{0,100}\b[1-9]\d{3} ?[A-Z]{2}\b[^\n]{0,40})$", re.M)


@dataclass(slots=True)
class FeedItem:
    """The fields of one RSS item or Atom entry that matter for an event."""

    uid: str | None = None
    title: str = ""
    link: str | None = None
    html: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    categories: list[str] = field(default_factory=list)
    author: str | None = None
    start: str | None = None
    end: str | None = None
    location: str | None = None
    organizer: str | None = None
    status: str | None = None
    recurrence: str | None = None
    original_uid: str | None = None
    original_start: str | None = None
    line: int | None = None


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Parse an RSS or Atom body; raise FeedError when it is no feed at all."""
    window = window or Window.around(now)
    tz = ZoneInfo(source.timezone or DEFAULT_TZ)
    items, feed_tz, structured = read_items(body)
    if feed_tz and not source.timezone:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            tz = ZoneInfo(feed_tz)
    result = ParseResult(truncated=root_unclosed(body))
    overrides: set[tuple[str, datetime]] = set()
    series: list[RawEvent] = []
    for item in items:
        if item.recurrence:
            series.extend(_expand_recurrence(item, source, now, window, result))
            continue
        record = _to_record(item, source, tz, result, prose=not structured)
        if record is None:
            continue
        if item.original_uid and item.original_start:
            original = parse_timevalue(item.original_start, tz)
            if isinstance(original, datetime):
                record.uid = item.original_uid
                record.recurrence_id = original.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
                overrides.add((item.original_uid, original))
        result.events.append(record)
    for occurrence in series:
        start = occurrence.start
        if isinstance(start, datetime) and (occurrence.uid, start) in overrides:
            continue  # replaced by an exception entry (gd:originalEvent)
        result.events.append(occurrence)
    return result


_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_TAIL = 4096


def root_unclosed(body: bytes) -> bool:
    """Whether the document's root element is never closed: the body was cut off.

    A dropped connection leaves an RSS or Atom body that feedparser still reads up to the
    cut; storing that part would mark every later item removed (as a truncated iCal body).
    """
    head = re.sub(rb"<[?!][^>]*>", b"", body[:_TAIL])  # the prolog: declaration, comments
    match = _ROOT.search(head)
    if match is None:
        return False
    closing = re.compile(rb"</" + re.escape(match.group(1)) + rb"\s*>")
    return closing.search(body[-_TAIL:]) is None


def read_items(body: bytes) -> tuple[list[FeedItem], str | None, bool]:
    """Return the items, the feed's time zone (gCal:timezone) and whether it declares event data.

    A feed that declares an event vocabulary (ev:, xCal, GData, Google Base) puts its event
    dates there; its items without one are not events, so their prose is not searched.
    Raise FeedError when the body is not a feed.
    """
    if not body.strip():
        raise FeedError("empty response: no RSS or Atom feed")
    body = _utf8(body)
    parsed = feedparser.parse(body)
    if not parsed.get("version"):
        raise FeedError(unsupported_format(body, expected="RSS or Atom feed"))
    try:
        root = etree.fromstring(
            body.lstrip(b"\xef\xbb\xbf"),
            etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False),
        )
    except etree.XMLSyntaxError:
        declared = set(parsed.get("namespaces", {}).values())
        structured = bool(declared & _EVENT_NAMESPACES)
        return [_from_feedparser(entry) for entry in parsed.entries], None, structured
    items, feed_tz = _from_xml(root)
    declared = {uri for node in root.iter() for uri in (node.nsmap or {}).values()}
    return items, feed_tz, bool(declared & _EVENT_NAMESPACES)


def _utf8(body: bytes) -> bytes:
    """A feed that is UTF-8 (declared so, or by XML's default) but for a few bad bytes,
    repaired line by line (:mod:`crawlers.charset`); other encodings are left to the parsers.

    Otherwise one bad byte sends lxml to feedparser, which then reads the whole feed as
    Windows-1252 ("CafÃ©").
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body
    declared = _XML_ENCODING.match(body.lstrip(b"\xef\xbb\xbf \t\r\n"))
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return decode_lenient(body).encode("utf-8")
    return body


def _text(node: Any, path: str) -> str | None:
    found = node.find(path, NS)
    if found is None:
        return None
    value = "".join(found.itertext()).strip()
    return value or None


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        parsed = parse_timevalue(value, ZoneInfo("UTC"))
        return parsed if isinstance(parsed, datetime) else None


def _from_xml(root: Any) -> tuple[list[FeedItem], str | None]:
    tag = etree.QName(root).localname
    if tag == "entry":
        entries = [root]
    elif tag == "feed":
        entries = root.findall("atom:entry", NS)
    elif tag == "RDF":
        entries = root.findall("rss1:item", NS) or root.findall("item")
    else:
        channel = root.find("channel")
        entries = channel.findall("item") if channel is not None else root.findall(".//item")
    zone = root.find("gcal:timezone", NS)  # on a GData feed or a single entry
    return [_xml_item(entry) for entry in entries], zone.get("value") if zone is not None else None


def _xml_item(node: Any) -> FeedItem:
    atom = etree.QName(node).namespace == NS["atom"]
    item = FeedItem(line=node.sourceline)
    if atom:
        item.uid = _text(node, "atom:id")
        item.title = _text(node, "atom:title") or ""
        for link in node.findall("atom:link", NS):
            if link.get("rel", "alternate") == "alternate":
                item.link = link.get("href")
                break
        content = node.find("atom:content", NS)
        summary = node.find("atom:summary", NS)
        for candidate in (content, summary):
            if candidate is not None and "".join(candidate.itertext()).strip():
                item.html = _inner(candidate)
                break
        item.published = _date(_text(node, "atom:published"))
        item.updated = _date(_text(node, "atom:updated"))
        item.author = _text(node, "atom:author/atom:name")
        item.categories = [
            c.get("term", "")
            for c in node.findall("atom:category", NS)
            if "#" not in c.get("term", "#")
        ]
    else:

        def child(name: str) -> str | None:
            return _text(node, name) or _text(node, f"rss1:{name}")

        item.uid = child("guid") or node.get(f"{{{NS['rdf']}}}about")
        item.title = child("title") or _text(node, "dc:title") or ""
        item.link = child("link")
        item.html = _text(node, "content:encoded") or child("description") or ""
        item.published = _date(child("pubDate") or _text(node, "dc:date"))
        item.author = child("author") or _text(node, "dc:creator")
        item.categories = [c.text.strip() for c in node.findall("category") if c.text]
    # RSS event module
    item.start = _text(node, "ev:startdate")
    item.end = _text(node, "ev:enddate")
    item.location = _text(node, "ev:location")
    item.organizer = _text(node, "ev:organizer")
    # Google Base
    item.start = item.start or _text(node, "g:event_date_range/g:start")
    item.end = item.end or _text(node, "g:event_date_range/g:end")
    item.location = item.location or _text(node, "g:location")
    # xCal (the 2005 draft and RFC 6321)
    for namespace in XCAL_NAMESPACES:
        for name, attr in (("dtstart", "start"), ("dtend", "end"), ("location", "location")):
            found = node.find(f".//{{{namespace}}}{name}")
            if found is not None and getattr(item, attr) is None:
                setattr(item, attr, "".join(found.itertext()).strip() or None)
    # Google Calendar GData
    when = node.find("gd:when", NS)
    if when is not None and item.start is None:
        item.start, item.end = when.get("startTime"), when.get("endTime")
    where = node.find("gd:where", NS)
    if where is not None and item.location is None:
        item.location = (where.get("valueString") or "").strip() or None
    status = node.find("gd:eventStatus", NS)
    if status is not None:
        item.status = _STATUS.get((status.get("value") or "").rsplit(".", 1)[-1])
    item.recurrence = _text(node, "gd:recurrence")
    original = node.find("gd:originalEvent", NS)
    if original is not None:
        item.original_uid = original.get("id")
        original_when = original.find("gd:when", NS)
        item.original_start = original_when.get("startTime") if original_when is not None else None
    if atom and item.uid and (item.recurrence or when is not None):
        item.uid = item.uid.rstrip("/").rsplit("/", 1)[-1]  # the GData event id
    return item


def _inner(node: Any) -> str:
    if len(node):
        return "".join(etree.tostring(child, encoding="unicode") for child in node)
    return node.text or ""


def _from_feedparser(entry: Any) -> FeedItem:
    """Map a feedparser entry (for feeds that are not well-formed XML)."""
    content = entry.get("content") or []
    when = entry.get("gd_when") or {}
    where = entry.get("gd_where") or {}
    published = entry.get("published_parsed") or entry.get("updated_parsed")
    return FeedItem(
        uid=entry.get("id"),
        title=entry.get("title", ""),
        link=entry.get("link"),
        html=(content[0].get("value") if content else None) or entry.get("summary", ""),
        published=datetime(*published[:6]).replace(tzinfo=UTC) if published else None,  # noqa: DTZ001 - a UTC struct_time
        categories=[t.get("term", "") for t in entry.get("tags", []) if t.get("term")],
        start=entry.get("ev_startdate") or entry.get("g_start") or when.get("starttime"),
        end=entry.get("ev_enddate") or entry.get("g_end") or when.get("endtime"),
        location=entry.get("ev_location") or entry.get("g_location") or where.get("valuestring"),
        organizer=entry.get("ev_organizer"),
    )


def _to_record(
    item: FeedItem, source: SourceConfig, tz: ZoneInfo, result: ParseResult, *, prose: bool
) -> RawEvent | None:
    text = html_to_text(item.html, links=False)
    uid = item.uid or item.link or item.title
    start: datetime | date | None = None
    end: datetime | date | None = None
    location = item.location
    if item.start:
        start = parse_timevalue(item.start, tz)
        end = parse_timevalue(item.end, tz) if item.end else None
        if start is None:
            result.problems.append(
                ParseProblem(source.id, f"start {item.start!r} is not a date", item.line, uid)
            )
            result.skipped += 1
            return None
    elif not prose:
        result.skipped += 1
        result.problems.append(
            ParseProblem(source.id, "no event date element (the feed uses them)", item.line, uid)
        )
        return None
    else:
        reference = item.published.astimezone(tz).date() if item.published else None
        when = find_when(text, reference=reference, tz=tz) or find_when(
            html_to_text(item.title, links=False), reference=reference, tz=tz
        )
        if when is None:
            result.skipped += 1
            result.problems.append(
                ParseProblem(source.id, "no event date in the item", item.line, uid)
            )
            return None
        start, end = when.start, when.end
        if location is None:
            labelled = _PLACE_LABEL.search(text)
            postcode_line = _POSTCODE_LINE.search(text)
            if labelled:
                location = labelled["place"].strip().rstrip(".")
            elif when.tail:
                location = when.tail.rstrip(".")
            elif postcode_line:
                location = postcode_line["line"].strip()
    if not uid:
        result.skipped += 1
        result.problems.append(ParseProblem(source.id, "item has no id, link or title", item.line))
        return None
    if isinstance(start, date) and not isinstance(start, datetime) and isinstance(end, datetime):
        end = end.date()
    if end is not None and type(end) is type(start) and end < start:  # type: ignore[operator]
        end = None
    return RawEvent(
        source_id=source.id,
        uid=uid,
        title=item.title.strip(),
        start=start,
        end=end,
        description_html=item.html or None,
        description=text or None,
        url=item.link,
        location=location,
        organizer_name=item.organizer or None,
        categories=[c for c in item.categories if c],
        status=item.status,
        last_modified=item.updated,
    )


def _expand_recurrence(
    item: FeedItem, source: SourceConfig, now: datetime, window: Window, result: ParseResult
) -> list[RawEvent]:
    """Expand a GData ``gd:recurrence`` (iCalendar lines) with the iCal reader."""
    assert item.recurrence is not None
    lines = re.sub(r"\s+(?=[A-Z][A-Z-]*[;:])", "\n", item.recurrence.strip()).splitlines()
    zones: list[str] = []
    props: list[str] = []
    inside = False
    for line in lines:
        line = line.strip()
        if line == "BEGIN:VTIMEZONE":
            inside = True
        (zones if inside else props).append(line)
        if line == "END:VTIMEZONE":
            inside = False
    uid = item.uid or item.title
    summary = item.title.replace("\n", " ")
    calendar = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//overstap-agenda//gdata//EN",
            *zones,
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"SUMMARY:{summary}",
            *([f"LOCATION:{item.location}"] if item.location else []),
            *props,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    try:
        expanded = ical.parse(calendar.encode("utf-8"), source, now=now, window=window)
    except FeedError as exc:
        result.problems.append(ParseProblem(source.id, f"gd:recurrence: {exc}", item.line, uid))
        result.skipped += 1
        return []
    result.problems.extend(expanded.problems)
    for record in expanded.events:
        record.url = item.link
        record.status = item.status or record.status
        record.description_html = item.html or None
    return expanded.events
