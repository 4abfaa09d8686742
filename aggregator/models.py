"""Database tables: sources, canonical events, source records (provenance), harvest runs,
health notifications.

Datetimes are timezone-aware and stored as UTC (sqlmodel's UTCDateTime) on SQLite and
PostgreSQL alike. All-day events keep their dates in ``start_date``/``end_date`` (end
exclusive) and ``start_at``/``end_at`` at local midnight for ordering and range filters.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from aggregator.dedup import slot_of

T = TypeVar("T")


def _signed(factory: Callable[[], T]) -> Callable[[], T]:
    """Give a default factory its signature up front.

    SQLModel's table constructor asks pydantic (2.14) for every field's default on every
    instance, and pydantic runs ``inspect.signature`` on the factory each time to learn
    whether it takes the validated data: about 1.5 ms an ``Event`` for ``list`` (a builtin,
    whose signature is parsed from text). ``inspect.signature`` returns a preset
    ``__signature__`` at once.
    """
    factory.__signature__ = inspect.signature(factory)  # type: ignore[attr-defined]
    return factory


@_signed
def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


@_signed
def new_list() -> list[Any]:
    """Return a new empty list (a column's default)."""
    return []


@_signed
def new_dict() -> dict[str, Any]:
    """Return a new empty dict (a column's default)."""
    return {}


class Source(SQLModel, table=True):
    """A configured source and its fetch state (validators, health)."""

    id: str = Field(primary_key=True, max_length=100)
    name: str
    kind: str = Field(max_length=20)
    url: str
    region: str = Field(max_length=100)
    etag: str | None = None
    http_last_modified: str | None = None
    content_fingerprint: str | None = Field(default=None, max_length=64)
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    last_error_at: datetime | None = None
    next_run_at: datetime | None = None


class Event(SQLModel, table=True):
    """The canonical event: one real-world activity, merged from one or more records."""

    id: str = Field(primary_key=True, max_length=40)
    title: str
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    description_html: str | None = Field(default=None, sa_column=Column(Text))
    start_at: datetime = Field(index=True)
    end_at: datetime | None = None
    all_day: bool = False
    start_date: date | None = None
    end_date: date | None = None
    status: str = Field(default="confirmed", max_length=20)
    attendance: str = Field(default="offline", max_length=20)
    location_name: str | None = None
    address: str | None = None
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = None
    municipality: str | None = None
    municipality_code: str | None = Field(default=None, max_length=10)
    lat: float | None = None
    lon: float | None = None
    region: str | None = Field(default=None, index=True, max_length=100)
    url: str | None = None
    registration_url: str | None = None
    organizer_name: str | None = None
    organizer_url: str | None = None
    organizer_email: str | None = Field(default=None, max_length=254)
    activity_type: str | None = Field(default=None, max_length=40)
    sectors: list[str] = Field(default_factory=new_list, sa_column=Column(JSON, nullable=False))
    phases: list[str] = Field(default_factory=new_list, sa_column=Column(JSON, nullable=False))
    audiences: list[str] = Field(default_factory=new_list, sa_column=Column(JSON, nullable=False))
    language: str | None = Field(default=None, max_length=5)
    is_free: bool | None = None
    relevant: bool = True
    sequence: int = 0
    first_seen: datetime = Field(default_factory=utcnow)
    last_modified: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None
    merged_into: str | None = Field(default=None, max_length=40)  # folded into this event
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class SourceRecord(SQLModel, table=True):
    """One record as one source gave it, linked to its canonical event (provenance).

    A record keeps its own canonical fields (for merging) and its dedup slot
    (``dedup.start_bucket`` x ``dedup.place_key``, indexed over live records), not the raw
    payload it was read from: history needs only the current version's fingerprint.
    """

    __table_args__ = (
        UniqueConstraint("source_id", "uid", "recurrence_id", name="uq_record_identity"),
        Index("ix_record_event", "event_id"),
        Index(
            "ix_record_dedup",
            "dedup_bucket",
            "dedup_place",
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", max_length=100)
    uid: str
    recurrence_id: str = Field(default="", max_length=40)
    event_id: str = Field(foreign_key="event.id", max_length=40)
    title: str
    url: str | None = None
    content_hash: str = Field(max_length=64)
    # the raw record and the pipeline's version it was processed with: the same again
    # skips the pipeline (aggregator.unchanged_records); None: always processed
    input_hash: str | None = Field(default=None, max_length=64)
    sequence: int | None = None
    source_last_modified: datetime | None = None
    # this record's own canonical fields (normalised, classified, geocoded), for merging
    fields: dict[str, Any] = Field(
        default_factory=new_dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    # where dedup finds this record (aggregator.dedup.slot_of its fields; None without)
    dedup_bucket: int | None = None
    dedup_place: str | None = Field(default=None, max_length=20)
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    harvested_at: datetime = Field(default_factory=utcnow)
    removed_at: datetime | None = None


@event.listens_for(SourceRecord, "before_insert")
@event.listens_for(SourceRecord, "before_update")
def _index_record(mapper: Mapper[Any], connection: Any, record: SourceRecord) -> None:
    """Keep a record's dedup slot in step with its fields on every ORM write."""
    del mapper, connection
    record.dedup_bucket, record.dedup_place = slot_of(record.fields)


class HarvestRun(SQLModel, table=True):
    """One harvest of one source: timing, outcome, HTTP facts and record counts."""

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", index=True, max_length=100)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    outcome: str = Field(default="running", max_length=20)  # success | unchanged | failed
    http_status: int | None = None
    bytes: int | None = None
    records_seen: int = 0
    records_new: int = 0
    records_updated: int = 0
    records_removed: int = 0
    records_skipped: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    events: int | None = None  # events published from the source after the run (the trend)
    duration_seconds: float | None = None


class SourceNotification(SQLModel, table=True):
    """One mail sent to a source's owners about its health (aggregator.notify)."""

    __table_args__ = (Index("ix_notification_source_sent", "source_id", "sent_at"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="source.id", max_length=100)
    kind: str = Field(max_length=20)  # failing | held | recovered
    sent_at: datetime = Field(default_factory=utcnow)
    recipients: str = Field(sa_column=Column(Text, nullable=False))  # comma-separated
    reason: str | None = Field(default=None, sa_column=Column(Text))


class GeocodeCache(SQLModel, table=True):
    """One answer of the optional online geocoder (also "not found"), asked once per query."""

    query: str = Field(primary_key=True, max_length=300)
    provider: str = Field(primary_key=True, max_length=40)
    found: bool = False
    lat: float | None = None
    lon: float | None = None
    municipality_code: str | None = Field(default=None, max_length=10)
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    """An account: an admin, or a region editor who moderates the submissions of a region."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True, max_length=254)
    password_hash: str
    role: str = Field(default="editor", max_length=20)  # admin | editor | submitter
    region: str | None = Field(default=None, max_length=100)
    trusted: bool = False  # submissions skip the moderation queue
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None
    # carried in the session cookie; raised at logout, which ends every copy of the cookie
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Submission(SQLModel, table=True):
    """An event (or a feed URL) proposed through the form, and its moderation state.

    ``data`` holds the proposal as last edited; ``published`` the version that is live in
    the calendar (an approved event whose date or place changes waits in the queue again
    while the previous version stays published).
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(default="event", max_length=20)  # event | source
    status: str = Field(default="pending", index=True, max_length=20)  # pending|approved|rejected
    region: str = Field(index=True, max_length=100)
    data: dict[str, Any] = Field(default_factory=new_dict, sa_column=Column(JSON, nullable=False))
    published: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    submitter_email: str = Field(max_length=254)
    submitter_user_id: int | None = Field(default=None, foreign_key="user.id")
    edit_token: str = Field(max_length=64)
    event_id: str | None = Field(default=None, max_length=40)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class RateLimitHit(SQLModel, table=True):
    """One rate-limited action by one client (address digest), for sliding-window limits."""

    __table_args__ = (Index("ix_ratelimit_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100)
    at: datetime = Field(default_factory=utcnow)


class SourceSchedule(SQLModel, table=True):
    """When a source is harvested next, and what the scheduler knows of its recent runs.

    ``claimed_by`` names the process harvesting it now (one run of a source at a time, on
    any number of machines); ``requested_at`` is a harvest asked for by a ping or a WebSub
    notification that the scheduler has not started yet.
    """

    __tablename__ = "source_schedule"

    source_id: str = Field(primary_key=True, foreign_key="source.id", max_length=100)
    next_due: datetime = Field(index=True)
    last_attempt_at: datetime | None = None
    last_finished_at: datetime | None = None
    consecutive_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    backoff_seconds: float | None = None  # the wait after the last failure (None: none)
    retry_after_until: datetime | None = None  # a 429/503 Retry-After holds it until then
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_at: datetime | None = None
    requested_at: datetime | None = None
    request_reason: str | None = Field(default=None, max_length=20)  # ping | websub


class SourcePush(SQLModel, table=True):
    """Push freshness of a source: its ping token (hashed) and its WebSub subscription."""

    __tablename__ = "source_push"

    source_id: str = Field(primary_key=True, foreign_key="source.id", max_length=100)
    token_hash: str | None = Field(default=None, max_length=64)
    token_created_at: datetime | None = None
    last_ping_at: datetime | None = None
    hub_url: str | None = None
    topic_url: str | None = None
    websub_secret: str | None = Field(default=None, max_length=100)
    websub_state: str | None = Field(default=None, max_length=20)  # pending | verified | denied
    websub_lease_until: datetime | None = None
    websub_checked_at: datetime | None = None


class InterestCount(SQLModel, table=True):
    """How often something was asked for in one ISO week: no person, address or cookie.

    ``kind`` is ``subscription`` (an iCal subscription fetched; ``subject`` is the canonical
    subscription URL, its filter set), ``view`` (an event page shown) or ``click`` (a
    registration link followed through /uit/{event_id}); ``event_id`` is set for the last
    two. ``week`` is the ISO week in Europe/Amsterdam, e.g. ``2027-W03``.
    """

    __table_args__ = (
        UniqueConstraint("kind", "week", "event_id", "subject", name="uq_interest_key"),
        Index("ix_interest_week", "week"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)
    week: str = Field(max_length=8)
    event_id: str = Field(default="", max_length=40)
    subject: str = Field(default="", max_length=300)
    count: int = 0
