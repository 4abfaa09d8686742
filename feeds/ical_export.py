"""iCal export: a pure renderer from events to an RFC 5545 calendar (bytes).

Written for the clients overstappers use: Google Calendar, Outlook, Apple Calendar and
Thunderbird. Every DATE-TIME carries TZID=Europe/Amsterdam with its VTIMEZONE; all-day
events use exclusive DATE ends; text is escaped and folded (75 octets, CRLF, never inside a
UTF-8 character); DESCRIPTION is plain text, HTML goes in X-ALT-DESC. Cancelled events, and
events removed at their source, are exported as STATUS:CANCELLED with a higher SEQUENCE
so that subscribers see the cancellation instead of a silently vanished event.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import icalendar

from aggregator.config import Regions
from aggregator.localtime import LOCAL_TZ
from aggregator.models import Event, Source, SourceRecord
from aggregator.query import EventFilters, EventStamp, StoreSnapshot
from crawlers.html_text import html_to_text
from feeds.jsonld import Organiser, event_page_url, organizer_email, organizer_web
from feeds.location import Place, location_text

PRODID = "-//Overstap Agenda//Nationale activiteitenkalender//NL"
UID_DOMAIN = "overstap-agenda"
CANCELLED_PREFIX = "Geannuleerd: "

# The rule-based zone definition calendar clients expect (EU rules since 1996).
_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Europe/Amsterdam
X-LIC-LOCATION:Europe/Amsterdam
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE
"""


class VeventFields(Place, Organiser, Protocol):
    """What a VEVENT is rendered from: a loaded :class:`Event`, or a row of the columns
    :data:`VEVENT_COLUMNS` (read without building ORM objects)."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def description_html(self) -> str | None: ...
    @property
    def start_at(self) -> datetime: ...
    @property
    def end_at(self) -> datetime | None: ...
    @property
    def all_day(self) -> bool: ...
    @property
    def start_date(self) -> date | None: ...
    @property
    def end_date(self) -> date | None: ...
    @property
    def status(self) -> str: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def registration_url(self) -> str | None: ...
    @property
    def organizer_name(self) -> str | None: ...
    @property
    def activity_type(self) -> str | None: ...
    @property
    def sectors(self) -> list[str]: ...
    @property
    def sequence(self) -> int: ...
    @property
    def first_seen(self) -> datetime: ...
    @property
    def last_modified(self) -> datetime: ...
    @property
    def removed_at(self) -> datetime | None: ...


def _properties(protocol: type) -> list[str]:
    """The property names a protocol (and the protocols it extends) declares."""
    return sorted(
        {
            name
            for cls in protocol.__mro__
            for name, v in vars(cls).items()
            if isinstance(v, property)
        }
    )


# the event table's columns a VEVENT reads: every property of VeventFields
VEVENT_COLUMNS: tuple[Any, ...] = tuple(getattr(Event, name) for name in _properties(VeventFields))


_VTIMEZONE_BYTES = _VTIMEZONE.rstrip("\n").replace("\n", "\r\n").encode()


def event_uid(event_id: str) -> str:
    """The stable UID of a canonical event in every exported calendar."""
    return f"{event_id}@{UID_DOMAIN}"


def provenance_line(records: list[SourceRecord], sources: dict[str, Source]) -> str:
    """A short 'Bron:' line: the sources of an event, their pages and the last harvest day.

    Only the day of the last successful harvest is named, so that the line (and with it the
    export's ETag) changes at most once a day, not at every harvest.
    """
    parts: dict[str, str] = {}
    last: datetime | None = None
    for record in records:
        source = sources.get(record.source_id)
        name = source.name if source else record.source_id
        url = record.url or (source.url if source and source.url.startswith("http") else None)
        parts.setdefault(name, f"{name} ({url})" if url else name)
        if source and source.last_success_at and (last is None or source.last_success_at > last):
            last = source.last_success_at
    if not parts:
        return ""
    line = "Bron: " + "; ".join(parts.values())
    if last:
        line += f", opgehaald {last.astimezone(LOCAL_TZ):%d-%m-%Y}"
    return line


def provenance_text(
    provenance: tuple[tuple[str, str | None], ...],
    labels: dict[str, tuple[str | None, str | None, str | None]],
) -> str:
    """The 'Bron:' line of :func:`provenance_line` from an event's stamp
    (``EventStamp.provenance``) and the source labels of :func:`source_labels`, without
    loading records or sources."""
    parts: dict[str, str] = {}
    last: str | None = None
    for source_id, record_url in provenance:
        label = labels.get(source_id)
        name = (label[0] if label else None) or source_id
        source_url = label[1] if label else None
        url = record_url or (source_url if source_url and source_url.startswith("http") else None)
        parts.setdefault(name, f"{name} ({url})" if url else name)
        day = label[2] if label else None
        if day and (last is None or day > last):
            last = day
    if not parts:
        return ""
    line = "Bron: " + "; ".join(parts.values())
    if last:
        year, month, day_of_month = last.split("-")
        line += f", opgehaald {day_of_month}-{month}-{year}"
    return line


_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


def plain_text(value: str) -> str:
    """Text without HTML: DESCRIPTION is plain text for every client (RFC 5545 3.8.1.5)."""
    if not _TAG.search(value):
        return value
    return html_to_text(value)


def event_summary(event: VeventFields) -> str:
    """The SUMMARY: the title, marked when cancelled or removed.

    Several clients show a subscribed STATUS:CANCELLED event like any other, so the
    title says it too.
    """
    if event.status == "cancelled" or event.removed_at is not None:
        return f"{CANCELLED_PREFIX}{event.title}"
    return event.title


def event_description(event: VeventFields, provenance: str) -> str:
    """Plain-text description with registration link, organiser and the 'Bron:' line
    (``provenance``: :func:`provenance_line` or :func:`provenance_text`)."""
    parts = [plain_text(event.description or "").strip()]
    if event.removed_at is not None:
        parts.append("Deze activiteit staat niet meer in de agenda van de bron.")
    if event.registration_url:
        parts.append(f"Aanmelden: {event.registration_url}")
    if event.organizer_name:
        organiser = event.organizer_name
        if web := organizer_web(event):
            organiser += f" ({web})"
        parts.append(f"Organisator: {organiser}")
    parts.append(provenance)
    return "\n\n".join(p for p in parts if p)


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


# -- content lines, written directly (RFC 5545 3.1, 3.3) ----------------------------------
# Building an icalendar object per event cost about 0.8 ms an event (a 10k calendar took
# 8 s); writing the lines costs a tenth of that. The output is checked against icalendar,
# libical, ical.js and vobject in the tests.

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # TEXT allows HTAB, never other controls
_NEEDS_ESCAPE = re.compile(r"[\\;,\n\r]")
_BACKSLASH = 0x5C


def escape_text(value: str) -> str:
    """A TEXT value escaped (RFC 5545 3.3.11): backslash, semicolon, comma and newlines."""
    if _CONTROL.search(value):
        value = _CONTROL.sub("", value)
    if not _NEEDS_ESCAPE.search(value):
        return value
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def param_value(value: str) -> str:
    """A parameter value, always quoted (RFC 5545 3.2): DQUOTE and line breaks cannot
    appear in one, so they become a single quote and a space."""
    value = _CONTROL.sub("", value.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    return '"' + value.replace('"', "'") + '"'


def fold(line: str) -> bytes:
    """One content line as UTF-8, folded at 75 octets (RFC 5545 3.1), never inside a
    character and never right after a backslash, so escapes stay whole for lax clients."""
    data = line.encode()
    if len(data) <= 75:
        return data
    parts: list[bytes] = []
    start, limit = 0, 75
    while len(data) - start > limit:
        end = start + limit
        while (data[end] & 0xC0) == 0x80:  # a UTF-8 continuation byte: cut before its char
            end -= 1
        if data[end - 1] == _BACKSLASH and end - 1 > start:
            end -= 1
        parts.append(data[start:end])
        start, limit = end, 74  # a continuation line starts with one space
    parts.append(data[start:])
    return b"\r\n ".join(parts)


def _stamp(v: datetime) -> str:
    return f"{v.year:04d}{v.month:02d}{v.day:02d}T{v.hour:02d}{v.minute:02d}{v.second:02d}"


def _utc(value: datetime) -> str:
    return _stamp(value.astimezone(UTC)) + "Z"


def _local_time(value: datetime) -> str:
    return "TZID=Europe/Amsterdam:" + _stamp(_local(value))


def _day(value: date) -> str:
    return f"VALUE=DATE:{value.year:04d}{value.month:02d}{value.day:02d}"


def event_lines(event: VeventFields, provenance: str, *, base_url: str) -> list[str]:
    """The content lines of one canonical event's VEVENT, unfolded (``provenance``: the
    'Bron:' line)."""
    modified = _utc(event.last_modified)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event_uid(event.id))}",
        f"DTSTAMP:{modified}",
        f"LAST-MODIFIED:{modified}",
        f"CREATED:{_utc(event.first_seen)}",
        f"SEQUENCE:{int(event.sequence)}",
        f"SUMMARY:{escape_text(event_summary(event))}",
    ]
    if event.all_day and event.start_date:
        end_date = event.end_date
        if end_date is None or end_date <= event.start_date:
            end_date = event.start_date + timedelta(days=1)
        lines.append(f"DTSTART;{_day(event.start_date)}")
        lines.append(f"DTEND;{_day(end_date)}")  # exclusive, as every client expects
    else:
        lines.append(f"DTSTART;{_local_time(event.start_at)}")
        if event.end_at and event.end_at > event.start_at:
            lines.append(f"DTEND;{_local_time(event.end_at)}")
    description = event_description(event, provenance)
    if description:
        lines.append(f"DESCRIPTION:{escape_text(description)}")
    if event.description_html:
        lines.append(f"X-ALT-DESC;FMTTYPE=text/html:{escape_text(event.description_html)}")
    location = location_text(event)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if event.lat is not None and event.lon is not None:
        lines.append(f"GEO:{float(event.lat)};{float(event.lon)}")
    lines.append(f"URL:{event_page_url(event.id, base_url=base_url)}")
    cancelled = event.status == "cancelled" or event.removed_at is not None
    status = "CANCELLED" if cancelled else {"tentative": "TENTATIVE"}.get(event.status, "CONFIRMED")
    lines.append(f"STATUS:{status}")
    lines.append("TRANSP:TRANSPARENT")
    if email := organizer_email(event):
        name = f";CN={param_value(event.organizer_name)}" if event.organizer_name else ""
        lines.append(f"ORGANIZER{name}:mailto:{email}")
    categories = [*filter(None, [event.activity_type]), *event.sectors]
    if categories:
        lines.append("CATEGORIES:" + ",".join(escape_text(c) for c in categories))
    lines.append("END:VEVENT")
    return lines


def vevent_text(event: VeventFields, provenance: str, *, base_url: str) -> bytes:
    """One event's VEVENT, folded, its lines joined by CRLF (no trailing CRLF): from a
    loaded event or a row of :data:`VEVENT_COLUMNS`, and its 'Bron:' line.

    Most lines are short ASCII and need no folding: they are joined as text and encoded
    once, and only the others go through :func:`fold`.
    """
    return "\r\n".join(
        line if len(line) <= 75 and line.isascii() else fold(line).decode()
        for line in event_lines(event, provenance, base_url=base_url)
    ).encode()


def vevent_bytes(
    event: Event, records: list[SourceRecord], sources: dict[str, Source], *, base_url: str
) -> bytes:
    """One loaded event's VEVENT (:func:`vevent_text`) with the 'Bron:' line of its records."""
    return vevent_text(event, provenance_line(records, sources), base_url=base_url)


def _calendar_head(
    *, calendar_name: str, calendar_description: str, refresh: timedelta, subscription: bool
) -> list[bytes]:
    lines = [
        "BEGIN:VCALENDAR",
        f"PRODID:{escape_text(PRODID)}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
    ]
    if subscription:
        ttl = icalendar.vDuration(refresh).to_ical().decode()
        lines += [
            f"X-WR-CALNAME:{escape_text(calendar_name)}",
            f"X-WR-CALDESC:{escape_text(calendar_description)}",
            f"NAME:{escape_text(calendar_name)}",  # RFC 7986
            f"DESCRIPTION:{escape_text(calendar_description)}",
            "X-WR-TIMEZONE:Europe/Amsterdam",
            f"REFRESH-INTERVAL;VALUE=DURATION:{ttl}",
            f"X-PUBLISHED-TTL:{ttl}",
        ]
    return [*(fold(line) for line in lines), _VTIMEZONE_BYTES]


def _assemble(head: list[bytes], vevents: Iterable[bytes]) -> bytes:
    return b"\r\n".join([*head, *vevents, b"END:VCALENDAR"]) + b"\r\n"


def render_ics(
    events: Iterable[Event],
    records: dict[str, list[SourceRecord]],
    sources: dict[str, Source],
    *,
    calendar_name: str,
    calendar_description: str,
    base_url: str,
    refresh: timedelta = timedelta(hours=6),
    subscription: bool = True,
) -> bytes:
    """Render a whole calendar (VCALENDAR with VTIMEZONE and one VEVENT per event).

    No METHOD: a published calendar is not an iTIP message, and METHOD:PUBLISH would oblige
    every VEVENT to carry an ORGANIZER (RFC 5546 3.2.1), which most of ours do not have.
    A ``subscription`` carries its name, description and refresh interval (X-WR-CALNAME,
    RFC 7986 NAME and REFRESH-INTERVAL ...); a one-event download (``subscription=False``)
    carries none of them, so that opening it adds the event instead of a new calendar.
    """
    head = _calendar_head(
        calendar_name=calendar_name,
        calendar_description=calendar_description,
        refresh=refresh,
        subscription=subscription,
    )
    return _assemble(
        head,
        (
            vevent_bytes(event, records.get(event.id, []), sources, base_url=base_url)
            for event in events
        ),
    )


class VeventCache:
    """Rendered VEVENTs kept by what decides them, so an export after a harvest renders
    only the events that changed (and every filter shares the same entries).

    Bounded by the bytes it holds (least recently used out first); thread-safe, since
    exports render in the server's thread pool.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        """An empty cache that holds at most ``max_bytes`` of rendered text."""
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get_many(self, keys: list[Hashable]) -> list[bytes | None]:
        """The cached text for each key (None where there is none)."""
        with self._lock:
            found: list[bytes | None] = []
            for key in keys:
                value = self._entries.get(key)
                if value is not None:
                    self._entries.move_to_end(key)
                found.append(value)
            return found

    def put_many(self, items: list[tuple[Hashable, bytes]]) -> None:
        """Keep each rendered text under its key, dropping the oldest beyond the bound."""
        with self._lock:
            for key, value in items:
                old = self._entries.pop(key, None)
                if old is not None:
                    self._size -= len(old)
                if len(value) > self.max_bytes:
                    continue
                self._entries[key] = value
                self._size += len(value)
            while self._size > self.max_bytes and self._entries:
                _, dropped = self._entries.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        """How many VEVENTs are kept."""
        return len(self._entries)


def stamp_key(
    stamp: EventStamp,
    labels: dict[str, tuple[str | None, str | None, str | None]],
    base_url: str,
) -> Hashable:
    """Everything one VEVENT's text depends on: the event's version, its provenance (with
    each source's label from :func:`source_labels`) and the site's address."""
    provenance = tuple(
        (source_id, url, labels.get(source_id)) for source_id, url in stamp.provenance
    )
    return (stamp.id, stamp.last_modified, stamp.sequence, provenance, base_url)


def source_labels(
    sources: dict[str, tuple[str, str, datetime | None]],
) -> dict[str, tuple[str | None, str | None, str | None]]:
    """What the "Bron:" line takes from each source (``StoreSnapshot.source_names``): its
    name, page and the day of its last successful harvest."""
    return {
        source_id: (name, url, success.astimezone(LOCAL_TZ).date().isoformat() if success else None)
        for source_id, (name, url, success) in sources.items()
    }


def render_ics_from_store(
    snapshot: StoreSnapshot,
    filters: EventFilters,
    regions: Regions,
    *,
    cache: VeventCache,
    calendar_name: str,
    calendar_description: str,
    base_url: str,
    refresh: timedelta = timedelta(hours=6),
    subscription: bool = True,
) -> bytes:
    """The calendar of the events matching ``filters``, rendering only the events whose
    stamp ``cache`` has not seen; the same bytes as :func:`render_ics` on those events.

    Events are rendered from plain rows of :data:`VEVENT_COLUMNS` and their stamp's
    provenance, never from ORM objects: a fresh process renders its first calendar with
    one read of the rows beside the stamps.
    """
    labels = source_labels(snapshot.source_names())
    rows: dict[str, Any] | None = None
    if len(cache):
        stamps = snapshot.stamps(filters, regions)
    else:  # a fresh process has nothing to reuse: read the rows with the stamps, at once
        stamps, rows = snapshot.stamped_rows(filters, regions, VEVENT_COLUMNS)
    keys = [stamp_key(stamp, labels, base_url) for stamp in stamps]
    texts = cache.get_many(keys)
    missing = [i for i, text in enumerate(texts) if text is None]
    if missing:
        if rows is None:
            rows = snapshot.event_rows([stamps[i].id for i in missing], VEVENT_COLUMNS)
        fresh = []
        for i in missing:
            stamp = stamps[i]
            row = rows.get(stamp.id)
            if row is None:  # gone between the two reads: left out
                continue
            text = vevent_text(row, provenance_text(stamp.provenance, labels), base_url=base_url)
            texts[i] = text
            fresh.append((keys[i], text))
        cache.put_many(fresh)
    head = _calendar_head(
        calendar_name=calendar_name,
        calendar_description=calendar_description,
        refresh=refresh,
        subscription=subscription,
    )
    return _assemble(head, (text for text in texts if text is not None))
