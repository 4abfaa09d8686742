"""schema.org Event markup in HTML pages (JSON-LD, microdata, RDFa, h-event) to RawEvent records.

``extract_page`` runs ``extruct`` over one page and returns the event nodes and the URLs an
``ItemList`` points to; ``event_to_record`` maps one node. Both are pure: the spider and the
single-page reader (kind ``jsonld``) share them.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig
from crawlers.timevalues import inclusive_end, parse_timevalue

log = logging.getLogger(__name__)
DEFAULT_TZ = "Europe/Amsterdam"
SYNTAXES = ("json-ld", "microdata", "rdfa", "microformat")
_STATUS = {
    "eventscheduled": "confirmed",
    "eventrescheduled": "confirmed",
    "eventmovedonline": "confirmed",
    "eventpostponed": "tentative",
    "eventcancelled": "cancelled",
    "eventcanceled": "cancelled",
}
_ATTENDANCE = {
    "offlineeventattendancemode": "offline",
    "onlineeventattendancemode": "online",
    "mixedeventattendancemode": "mixed",
}
_MARKERS = {
    "json-ld": re.compile(r"application/ld\+json", re.IGNORECASE),
    "microdata": re.compile(r"\bitemscope\b", re.IGNORECASE),
    "rdfa": re.compile(r"\btypeof\s*=", re.IGNORECASE),
    "microformat": re.compile(r"class\s*=\s*[\"'][^\"']*\b(?:h-event|vevent)\b", re.IGNORECASE),
}
_POSTCODE = re.compile(r"\b([1-9]\d{3}) ?([A-Z]{2})\b")


@dataclass(slots=True)
class PageData:
    """What one HTML page holds: event nodes, list URLs, and per-syntax errors.

    ``list_entries`` maps each list URL to what its ItemList entry says (its JSON without
    the position): when that text is unchanged, so is the entry.
    """

    events: list[dict[str, Any]] = field(default_factory=list)
    list_urls: list[str] = field(default_factory=list)
    list_entries: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _types(node: dict[str, Any]) -> list[str]:
    value = node.get("@type") or node.get("type") or []
    values = value if isinstance(value, list) else [value]
    return [str(v).rsplit("/", 1)[-1].rsplit("#", 1)[-1] for v in values]


def is_event(node: dict[str, Any]) -> bool:
    """Whether a node is a schema.org Event (any subtype) or a microformats h-event."""
    return any(t.endswith("Event") or t in {"h-event", "vevent"} for t in _types(node))


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a JSON-LD value: top-level arrays, @graph and nested nodes."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def extract_page(body: bytes | str, base_url: str) -> PageData:
    """Extract events and ItemList URLs from a page; a broken block spoils only itself."""
    page = PageData()
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    nodes: list[dict[str, Any]] = []
    for syntax in SYNTAXES:
        if not _MARKERS[syntax].search(text):
            continue  # mf2py takes seconds on a large page: only parse what is there
        # imported on first use: extruct (mf2py, lxml's html5 parser, bs4) costs every
        # process that never reads a page, `agenda run` and each CLI child, a second of CPU
        import extruct

        try:
            found = extruct.extract(text, base_url=base_url, syntaxes=[syntax], uniform=True)
        except Exception as exc:  # extruct raises parser-specific errors per syntax
            page.errors.append(f"{syntax}: {type(exc).__name__}: {exc}")
            continue
        values = found.get(syntax, [])
        if syntax == "rdfa":
            values = _compact(values)
        nodes.extend(_walk(values))
    ids = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str) and len(n) > 1}
    seen: set[str] = set()
    for node in nodes:
        if is_event(node):
            key = json.dumps(node, sort_keys=True, default=str)
            if key not in seen:
                seen.add(key)
                page.events.append(_resolve(node, ids))
        elif "ItemList" in _types(node):
            for element in _as_list(node.get("itemListElement")):
                url = _list_url(element)
                if url:
                    page.list_urls.append(url)
                    page.list_entries[url] = _entry_text(element)
    return page


_SCHEMA_IRI = re.compile(r"^https?://schema\.org/")


def _compact(value: Any) -> Any:
    """Expanded RDFa (``"https://schema.org/name": [{"@value": ...}]``) as plain schema.org."""
    if isinstance(value, list):
        items = [_compact(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, dict):
        if "@value" in value and set(value) <= {"@value", "@language", "@type"}:
            return value["@value"]
        return {
            key if key.startswith("@") else _SCHEMA_IRI.sub("", key): (
                item if key == "@type" else _compact(item)
            )
            for key, item in value.items()
        }
    return value


def _entry_text(element: Any) -> str:
    """An ItemList entry as stable text: its position left out (an entry added above moves it)."""
    if isinstance(element, dict):
        element = {k: v for k, v in element.items() if k != "position"}
    return json.dumps(element, sort_keys=True, default=str)


def _list_url(element: Any) -> str | None:
    if isinstance(element, str):
        return element
    if not isinstance(element, dict) or is_event(element):
        return None
    item = element.get("item")
    if isinstance(item, dict):
        if is_event(item):
            return None
        item = item.get("url") or item.get("@id")
    url = element.get("url") or item
    return url if isinstance(url, str) else None


def _resolve(node: dict[str, Any], ids: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """Replace {"@id": ...} references by the nodes they name (organizer, location)."""
    if depth > 5:
        return node
    if isinstance(node, dict):
        if set(node) == {"@id"} and node["@id"] in ids:
            return _resolve(ids[node["@id"]], ids, depth + 1)
        return {k: _resolve(v, ids, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, ids, depth + 1) for v in node]
    return node


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _first(value: Any) -> Any:
    values = _as_list(value)
    return values[0] if values else None


def _text(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("@value") or value.get("value") or value.get("name")
        value = _first(value)
    if value is None:
        return None
    text = str(value).strip()
    for _ in range(2):  # "&amp;amp;" double-encoded by a CMS
        if "&" not in text:
            break
        text = html.unescape(text)
    return text or None


def _enum(value: Any, table: dict[str, str]) -> str | None:
    word = _text(value)
    if not word:
        return None
    return table.get(word.rsplit("/", 1)[-1].lower())


@dataclass(slots=True)
class _Place:
    name: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    online_url: str | None = None


def _place(value: Any) -> _Place:
    place = _Place()
    for item in _as_list(value):
        if isinstance(item, str):
            place.name = place.name or item.strip() or None
            continue
        if not isinstance(item, dict):
            continue
        types = _types(item)
        if "VirtualLocation" in types:
            place.online_url = place.online_url or _text(item.get("url"))
            continue
        if "h-card" in types or "h-adr" in types:
            place.name = place.name or _text(item.get("name"))
            adr = _first(item.get("adr"))
            if isinstance(adr, dict):
                place.address = _text(adr.get("name"))
            geo = _first(item.get("geo"))
            if isinstance(geo, dict):
                _set_geo(place, _text(geo.get("name")))
            continue
        if place.name or place.address:
            continue  # the first physical place wins
        place.name = _text(item.get("name"))
        address = _first(item.get("address"))
        if isinstance(address, dict):
            place.address = _text(address.get("streetAddress"))
            place.postcode = _text(address.get("postalCode"))
            place.city = _text(address.get("addressLocality"))
        elif address is not None:
            text = _text(address)
            if text and not re.search(r"\d", text) and "," not in text:
                place.city = text  # "address": "Groningen" names only the town
            else:
                place.address = text
            match = _POSTCODE.search(text or "")
            if match:
                place.postcode = f"{match[1]} {match[2]}"
        geo = item.get("geo")
        if isinstance(geo, dict):
            try:
                place.lat = float(geo["latitude"])
                place.lon = float(geo["longitude"])
            except (KeyError, TypeError, ValueError):
                pass
    return place


def _set_geo(place: _Place, text: str | None) -> None:
    if not text:
        return
    parts = re.split(r"[,;]\s*", text)
    with contextlib.suppress(IndexError, ValueError):
        place.lat, place.lon = float(parts[0]), float(parts[1])


def _price(offers: Any) -> tuple[bool | None, str | None, str | None]:
    """(is_free, price text, registration url) from Offer / AggregateOffer."""
    offer = _first(offers)
    if not isinstance(offer, dict):
        return None, None, None
    raw = offer.get("price", offer.get("lowPrice"))
    url = _text(offer.get("url"))
    currency = _text(offer.get("priceCurrency")) or ""
    if raw is None:
        return None, None, url
    try:
        amount = float(str(raw).replace(",", "."))
    except ValueError:
        return None, str(raw), url
    if amount == 0:
        return True, None, url
    return False, f"{raw} {currency}".strip(), url


def event_to_record(
    node: dict[str, Any], source: SourceConfig, *, page_url: str | None, tz: ZoneInfo
) -> RawEvent:
    """Map one schema.org Event (or h-event) node; raise ValueError when it has no usable start."""
    h_event = "h-event" in _types(node) or "vevent" in _types(node)
    title = _text(node.get("name") or node.get("summary"))
    start_text = _text(node.get("start" if h_event else "startDate"))
    if not title:
        raise ValueError("event has no name")
    if not start_text:
        raise ValueError(f"event {title!r} has no startDate")
    start = parse_timevalue(start_text, tz)
    if start is None:
        raise ValueError(f"event {title!r}: startDate {start_text!r} is not a date")
    end_text = _text(node.get("end" if h_event else "endDate"))
    end = parse_timevalue(end_text, tz) if end_text else None
    if isinstance(start, datetime) and end is not None and not isinstance(end, datetime):
        end = None  # an end day without time says nothing about the end time
    elif not isinstance(start, datetime):
        end = inclusive_end(start, end.date() if isinstance(end, datetime) else end)
    if isinstance(end, datetime) and isinstance(start, datetime) and end < start:
        end = None
    url = _text(node.get("url"))
    place = _place(node.get("location"))
    organizer = _first(node.get("organizer"))
    is_free, price, registration = _price(node.get("offers"))
    language = _text(node.get("inLanguage"))
    uid = url or _text(node.get("@id")) or f"{page_url or ''}#{title}|{start_text}"
    extra: dict[str, Any] = {}
    attendance = _enum(node.get("eventAttendanceMode"), _ATTENDANCE)
    if attendance:
        extra["attendance"] = attendance
    return RawEvent(
        source_id=source.id,
        uid=uid,
        title=title,
        start=start,
        end=end,
        description=_text(node.get("description")),
        url=url or page_url,
        registration_url=registration,
        location=place.name,
        address=place.address,
        postcode=place.postcode,
        city=place.city,
        lat=place.lat,
        lon=place.lon,
        online_url=place.online_url,
        organizer_name=_text(organizer.get("name")) if isinstance(organizer, dict) else None,
        organizer_url=_text(organizer.get("url")) if isinstance(organizer, dict) else None,
        organizer_email=_text(organizer.get("email")) if isinstance(organizer, dict) else None,
        categories=[c for c in (_text(v) for v in _as_list(node.get("category"))) if c],
        status=_enum(node.get("eventStatus"), _STATUS),
        language=language[:2].lower() if language else None,
        is_free=is_free,
        price=price,
        extra=extra,
    )


def _copy_key(node: dict[str, Any]) -> str:
    """Name and start day: what the JSON-LD and microdata copies of one event share."""
    start = _text(node.get("startDate") or node.get("start")) or ""
    day = re.match(r"(\d{4})-?(\d{1,2})-?(\d{1,2})", start)
    when = "-".join(str(int(part)) for part in day.groups()) if day else start
    return f"{_text(node.get('name')) or ''}|{when}"


def records_from_page(
    page: PageData, source: SourceConfig, *, page_url: str | None, result: ParseResult
) -> None:
    """Add the records of one page's event nodes to ``result``; bad nodes become problems.

    A page often carries the same event twice (JSON-LD and microdata): the first usable
    copy wins, and a broken copy is only reported when no copy of that event is usable.
    """
    tz = ZoneInfo(source.timezone or DEFAULT_TZ)
    done: dict[str, RawEvent] = {}
    failed: dict[str, str] = {}
    for node in page.events:
        key = _copy_key(node)
        try:
            record = event_to_record(node, source, page_url=page_url, tz=tz)
        except ValueError as exc:
            failed.setdefault(key, str(exc))
            continue
        if record.uid not in done:
            done[record.uid] = record
            result.events.append(record)
        done.setdefault(key, record)
    for key, reason in failed.items():
        if key not in done:
            result.skipped += 1
            result.problems.append(ParseProblem(source.id, f"{page_url or 'page'}: {reason}"))


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Read the schema.org events of one HTML page (no link following: that is the spider)."""
    del now, window
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not (b"<" in head[:1] or head.startswith(b"<")):
        from crawlers.formats import unsupported_format

        raise FeedError(unsupported_format(body, expected="HTML page"))
    url = source.resolved_url()
    page = extract_page(body, url if "://" in url else f"file://{url}")
    result = ParseResult()
    records_from_page(page, source, page_url=None, result=result)
    if not page.events:
        raise FeedError(no_events_reason(page))
    return result


def no_events_reason(page: PageData) -> str:
    """Why a page counts as a failure: it holds no schema.org Event at all."""
    reason = "no schema.org Event markup found (JSON-LD, microdata, RDFa or h-event)"
    if page.errors:
        reason += "; " + "; ".join(page.errors[:3])
    return reason
