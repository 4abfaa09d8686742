"""EventDraft: the canonical fields of one record on its way through the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from crawlers.records import RawEvent


@dataclass(slots=True)
class EventDraft:
    """A record being normalised: the RawEvent it came from and the canonical fields so far."""

    raw: RawEvent
    title: str
    start: datetime | date
    end: datetime | date | None
    description: str = ""
    description_html: str | None = None
    status: str = "confirmed"
    attendance: str | None = None
    location_name: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    municipality: str | None = None
    municipality_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    region: str | None = None
    url: str | None = None
    registration_url: str | None = None
    organizer_name: str | None = None
    organizer_url: str | None = None
    organizer_email: str | None = None
    activity_type: str | None = None
    sectors: list[str] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    language: str | None = None
    is_free: bool | None = None
    relevant: bool = True

    @property
    def all_day(self) -> bool:
        """Whether the event is given as dates rather than times."""
        return not isinstance(self.start, datetime)

    @classmethod
    def from_raw(cls, raw: RawEvent) -> EventDraft:
        """Start a draft with the record's own values, untouched."""
        return cls(
            raw=raw,
            title=raw.title,
            start=raw.start,
            end=raw.end,
            description=raw.description or "",
            description_html=raw.description_html,
            status=raw.status or "confirmed",
            location_name=raw.location,
            address=raw.address,
            postcode=raw.postcode,
            city=raw.city,
            lat=raw.lat,
            lon=raw.lon,
            url=raw.url,
            registration_url=raw.registration_url,
            organizer_name=raw.organizer_name,
            organizer_url=raw.organizer_url,
            organizer_email=raw.organizer_email,
            language=raw.language,
            is_free=raw.is_free,
        )
