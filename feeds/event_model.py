"""The public event model: DESIGN.md's canonical event JSON as pydantic models.

``feeds.event_json.event_to_json`` renders the JSON; these models describe it for the
OpenAPI document (``/api/events`` and ``/api/events/{id}``) and a test checks that every
rendered event validates against them with no field left over (``extra="forbid"``), so the
document and the server cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventLocation(_Strict):
    """Where an event takes place (each part null when unknown)."""

    name: str | None = Field(description="venue as the source names it")
    address: str | None = Field(description="street and number")
    postcode: str | None = Field(description="Dutch postcode, '3011 AB'")
    city: str | None
    municipality: str | None = Field(description="the municipality (gemeente) it lies in")
    lat: float | None
    lon: float | None


class EventOrganizer(_Strict):
    """Who organises the event."""

    name: str | None
    url: str | None = Field(description="web address (http or https), never a mail address")
    email: str | None = Field(description="mail address, when the source gave one")


class EventSourceRecord(_Strict):
    """One source's record of the event (provenance)."""

    source: str = Field(description="source id (see /api/sources)")
    name: str | None = Field(description="the source's name")
    url: str | None = Field(description="the event's page at that source")
    uid: str = Field(description="the event's UID at that source")
    recurrence_id: str | None = Field(
        description="original start, for one occurrence of a series, else null"
    )
    title: str = Field(description="the title as that source gave it")
    harvested_at: str | None = Field(description="when the record was last read")
    last_success: str | None = Field(description="the source's last successful harvest")


class EventOut(_Strict):
    """One canonical event. Times are ISO 8601 with offset (Europe/Amsterdam); all-day
    events have dates in ``start``/``end`` with ``end`` exclusive, as in iCal."""

    id: str = Field(description="stable opaque id of the canonical event")
    title: str
    description: str = Field(description="plain text (sanitised), may be empty")
    start: str | None = Field(examples=["2027-03-12T19:00:00+01:00"])
    end: str | None = Field(examples=["2027-03-12T21:00:00+01:00"])
    all_day: bool
    status: Literal["confirmed", "tentative", "cancelled"] = Field(
        description="what the organiser says"
    )
    removed: bool = Field(
        description="no longer in any of its sources' calendars (subscribers see it cancelled)"
    )
    removed_at: str | None = Field(description="when it was found removed, else null")
    attendance: Literal["offline", "online", "mixed"]
    location: EventLocation | None
    region: str | None = Field(description="slug of the region, or 'landelijk'")
    url: str | None = Field(description="page of the event")
    registration_url: str | None = Field(description="where to sign up, if known")
    organizer: EventOrganizer | None
    activity_type: str | None = Field(description="one slug from /api/taxonomy")
    sectors: list[str]
    phases: list[str]
    audiences: list[str]
    language: str | None = Field(description="'nl' or 'en'")
    is_free: bool | None
    sources: list[EventSourceRecord]
    first_seen: str | None
    last_modified: str | None
    sequence: int = Field(description="RFC 5545 SEQUENCE: raised at every significant change")


class EventHit(EventOut):
    """An event in a search result; ``distance_km`` only with ``near``."""

    distance_km: float | None = Field(default=None, description="distance to 'near', in km")


class EventDetail(EventOut):
    """One event; with ``jsonld=true`` also its schema.org Event (what its page embeds)."""

    jsonld: dict[str, Any] | None = Field(default=None, description="schema.org Event")


class EventList(_Strict):
    """One page of a search."""

    items: list[EventHit]
    total: int = Field(description="number of matching events")
    page: int
    per_page: int
