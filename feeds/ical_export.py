"""iCal export: a pure renderer from events to an RFC 5545 calendar (bytes).

Written for the clients overstappers use: Google Calendar, Outlook, Apple Calendar and
Thunderbird. Every DATE-TIME carries TZID=Europe/Amsterdam with its VTIMEZONE; all-day
events use exclusive DATE ends; text is escaped and folded (75 octets, CRLF) by
``icalendar``; DESCRIPTION is plain text, HTML goes in X-ALT-DESC. Cancelled events, and
events removed at their source, are exported as STATUS:CANCELLED with a higher SEQUENCE
so that subscribers see the cancellation instead of a silently vanished event.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import icalendar

from aggregator.localtime import LOCAL_TZ
from aggregator.models import Event, Source, SourceRecord
from crawlers.html_text import html_to_text
from feeds.jsonld import event_page_url, organizer_email, organizer_web
from feeds.location import location_text

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


def amsterdam_vtimezone() -> icalendar.Timezone:
    """The VTIMEZONE component for Europe/Amsterdam."""
    zone = icalendar.Timezone.from_ical(_VTIMEZONE.replace("\n", "\r\n"))
    assert isinstance(zone, icalendar.Timezone)
    return zone


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


_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")


def plain_text(value: str) -> str:
    """Text without HTML: DESCRIPTION is plain text for every client (RFC 5545 3.8.1.5)."""
    if not _TAG.search(value):
        return value
    return html_to_text(value)


def event_summary(event: Event) -> str:
    """The SUMMARY: the title, marked when cancelled or removed.

    Several clients show a subscribed STATUS:CANCELLED event like any other, so the
    title says it too.
    """
    if event.status == "cancelled" or event.removed_at is not None:
        return f"{CANCELLED_PREFIX}{event.title}"
    return event.title


def event_description(event: Event, records: list[SourceRecord], sources: dict[str, Source]) -> str:
    """Plain-text description with registration link, organiser and the 'Bron:' line."""
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
    parts.append(provenance_line(records, sources))
    return "\n\n".join(p for p in parts if p)


def _local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def event_to_vevent(
    event: Event, records: list[SourceRecord], sources: dict[str, Source], *, base_url: str
) -> icalendar.Event:
    """One canonical event as a VEVENT."""
    vevent = icalendar.Event()
    vevent.add("UID", event_uid(event.id))
    vevent.add("DTSTAMP", event.last_modified.astimezone(UTC))
    vevent.add("LAST-MODIFIED", event.last_modified.astimezone(UTC))
    vevent.add("CREATED", event.first_seen.astimezone(UTC))
    vevent.add("SEQUENCE", event.sequence)
    vevent.add("SUMMARY", event_summary(event))
    if event.all_day and event.start_date:
        vevent.add("DTSTART", event.start_date)
        end_date = event.end_date
        if end_date is None or end_date <= event.start_date:
            end_date = event.start_date + timedelta(days=1)
        vevent.add("DTEND", end_date)  # exclusive, as every client expects
    else:
        vevent.add("DTSTART", _local(event.start_at))
        if event.end_at and event.end_at > event.start_at:
            vevent.add("DTEND", _local(event.end_at))
    description = event_description(event, records, sources)
    if description:
        vevent.add("DESCRIPTION", description)
    if event.description_html:
        # an X- property has no known type: say it is TEXT, so newlines and commas are escaped
        vevent.add(
            "X-ALT-DESC",
            icalendar.vText(event.description_html),
            parameters={"FMTTYPE": "text/html"},
        )
    location = location_text(event)
    if location:
        vevent.add("LOCATION", location)
    if event.lat is not None and event.lon is not None:
        vevent.add("GEO", (event.lat, event.lon))
    vevent.add("URL", event_page_url(event.id, base_url=base_url))
    cancelled = event.status == "cancelled" or event.removed_at is not None
    vevent.add(
        "STATUS",
        "CANCELLED" if cancelled else {"tentative": "TENTATIVE"}.get(event.status, "CONFIRMED"),
    )
    vevent.add("TRANSP", "TRANSPARENT")
    if email := organizer_email(event):
        organizer = icalendar.vCalAddress(f"mailto:{email}")
        if event.organizer_name:
            organizer.params["CN"] = icalendar.vText(event.organizer_name)
        vevent.add("ORGANIZER", organizer)
    categories = [*filter(None, [event.activity_type]), *event.sectors]
    if categories:
        vevent.add("CATEGORIES", categories)
    return vevent


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
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    if subscription:
        calendar.add("X-WR-CALNAME", calendar_name)
        calendar.add("X-WR-CALDESC", calendar_description)
        calendar.add("NAME", calendar_name)  # RFC 7986
        calendar.add("DESCRIPTION", calendar_description)
        calendar.add("X-WR-TIMEZONE", "Europe/Amsterdam")
        calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(refresh))
    calendar.add_component(amsterdam_vtimezone())
    for event in events:
        calendar.add_component(
            event_to_vevent(event, records.get(event.id, []), sources, base_url=base_url)
        )
    return calendar.to_ical()
