"""The contract between readers and the aggregator: RawEvent records and parse problems."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(slots=True)
class RawEvent:
    """One event as one source gave it, before normalising.

    ``start``/``end`` are timezone-aware datetimes, or dates for all-day events (end
    exclusive, as in iCal). ``uid`` identifies the record at its source; for one occurrence
    of a series, ``recurrence_id`` is the original start of that occurrence (ISO string).
    Text fields are as the source gave them (HTML allowed): the normaliser sanitises.
    """

    source_id: str
    uid: str
    title: str
    start: datetime | date
    end: datetime | date | None = None
    recurrence_id: str | None = None
    description: str | None = None
    description_html: str | None = None
    url: str | None = None
    registration_url: str | None = None
    location: str | None = None
    address: str | None = None
    postcode: str | None = None
    city: str | None = None
    lat: float | None = None
    lon: float | None = None
    online_url: str | None = None
    organizer_name: str | None = None
    organizer_url: str | None = None
    organizer_email: str | None = None  # a bare address; readers move mailto: here
    categories: list[str] = field(default_factory=list)
    status: str | None = None  # confirmed | tentative | cancelled (source words mapped by reader)
    sequence: int | None = None
    last_modified: datetime | None = None
    language: str | None = None
    is_free: bool | None = None
    price: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def all_day(self) -> bool:
        """Whether the event is given as dates rather than times."""
        return not isinstance(self.start, datetime)

    def key(self) -> tuple[str, str, str]:
        """Identity at the source: (source, uid, recurrence id or '')."""
        return (self.source_id, self.uid, self.recurrence_id or "")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (dates and datetimes as ISO strings)."""
        data = asdict(self)
        for name in ("start", "end", "last_modified"):
            value = data[name]
            if value is not None:
                data[name] = value.isoformat()
        return data


@dataclass(slots=True)
class ParseProblem:
    """A record a reader could not use: where it is and why (the rest of the feed goes on)."""

    source_id: str
    reason: str
    line: int | None = None
    uid: str | None = None

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "record"
        ident = f" (uid {self.uid})" if self.uid else ""
        return f"{self.source_id}: {where}{ident}: {self.reason}"


class FeedError(Exception):
    """The whole response is unusable (not a calendar, too large, ...): the source fails."""


@dataclass(slots=True)
class ParseResult:
    """What a reader produced from one body: events, skipped-record problems and counts."""

    events: list[RawEvent] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    skipped: int = 0
    # things repaired or guessed while the record was still used (unknown TZID, bad EXDATE)
    warnings: list[ParseProblem] = field(default_factory=list)
    # the body stops before its end (a broken-off download): what was read is only a part
    truncated: bool = False
    # a crawl did not read every page it was led to: the events are a part, never a reason
    # to mark stored events removed
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """The harvest window: recurring series are expanded between ``start`` and ``end``."""

    start: datetime
    end: datetime
    # a series with more occurrences than this inside the window is refused (runaway RRULE)
    max_occurrences: int = 2000

    @classmethod
    def around(
        cls,
        now: datetime,
        *,
        past_days: int = 30,
        horizon_days: int = 365,
        max_occurrences: int = 2000,
    ) -> Window:
        """The window from ``past_days`` before ``now`` to ``horizon_days`` after it."""
        from datetime import timedelta

        return cls(
            now - timedelta(days=past_days), now + timedelta(days=horizon_days), max_occurrences
        )
