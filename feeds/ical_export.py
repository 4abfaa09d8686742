"""iCal export: a pure renderer from events to an RFC 5545 calendar (bytes).

Written for the clients overstappers use: Google Calendar, Outlook, Apple Calendar and
Thunderbird. Every DATE-TIME carries TZID=Europe/Amsterdam with its VTIMEZONE; all-day
events use exclusive DATE ends; text is escaped and folded by ``icalendar``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from aggregator.models import Event, Source, SourceRecord

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
PRODID = "-//Overstap Agenda//Nationale activiteitenkalender//NL"
UID_DOMAIN = "overstap-agenda"

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
    return icalendar.Timezone.from_ical(_VTIMEZONE.replace("\n", "\r\n"))


def event_uid(event_id: str) -> str:
    """The stable UID of a canonical event in every exported calendar."""
    return f"{event_id}@{UID_DOMAIN}"


def provenance_line(records: list[SourceRecord], sources: dict[str, Source]) -> str:
    """A short 'Bron:' line naming the sources of an event and the last successful harvest."""
    names = []
    last: datetime | None = None
    for record in records:
        source = sources.get(record.source_id)
        names.append(source.name if source else record.source_id)
        if source and source.last_success_at and (last is None or source.last_success_at > last):
            last = source.last_success_at
    if not names:
        return ""
    line = "Bron: " + "; ".join(dict.fromkeys(names))
    if last:
        line += f" (bijgewerkt {last.astimezone(LOCAL_TZ):%d-%m-%Y %H:%M})"
    return line


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
    vevent.add("SUMMARY", event.title)
    if event.all_day and event.start_date:
        vevent.add("DTSTART", event.start_date)
        vevent.add("DTEND", event.end_date or event.start_date + timedelta(days=1))
    else:
        vevent.add("DTSTART", _local(event.start_at))
        if event.end_at and event.end_at > event.start_at:
            vevent.add("DTEND", _local(event.end_at))
    description = event.description or ""
    bron = provenance_line(records, sources)
    if event.registration_url:
        description += f"\n\nAanmelden: {event.registration_url}"
    if bron:
        description += f"\n\n{bron}"
    if description.strip():
        vevent.add("DESCRIPTION", description.strip())
    location = ", ".join(
        p
        for p in (
            event.location_name,
            event.address,
            " ".join(x for x in (event.postcode, event.city) if x),
        )
        if p
    )
    if location:
        vevent.add("LOCATION", location)
    if event.lat is not None and event.lon is not None:
        vevent.add("GEO", (event.lat, event.lon))
    vevent.add("URL", f"{base_url.rstrip('/')}/events/{event.id}")
    vevent.add(
        "STATUS",
        {"cancelled": "CANCELLED", "tentative": "TENTATIVE"}.get(event.status, "CONFIRMED"),
    )
    if event.organizer_name:
        organizer = icalendar.vCalAddress(
            event.organizer_url
            if event.organizer_url and event.organizer_url.startswith(("mailto:", "http"))
            else "mailto:noreply@example.org"
        )
        organizer.params["CN"] = icalendar.vText(event.organizer_name)
        vevent.add("ORGANIZER", organizer)
    if event.activity_type:
        vevent.add("CATEGORIES", [event.activity_type, *event.sectors])
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
) -> bytes:
    """Render a whole calendar (VCALENDAR with VTIMEZONE and one VEVENT per event)."""
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    calendar.add("X-WR-CALNAME", calendar_name)
    calendar.add("X-WR-CALDESC", calendar_description)
    calendar.add("X-WR-TIMEZONE", "Europe/Amsterdam")
    calendar.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", icalendar.vDuration(refresh))
    calendar.add_component(amsterdam_vtimezone())
    for event in events:
        calendar.add_component(
            event_to_vevent(event, records.get(event.id, []), sources, base_url=base_url)
        )
    return calendar.to_ical()
