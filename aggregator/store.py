"""Store: write pipeline output into the database, keeping provenance and history.

Data functions take ``*, session`` and never commit: the harvest run owns the transaction.
Identity of a record is (source, uid, recurrence id). A record that vanishes from a source
that was read successfully is marked removed, never deleted; a failed source changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from aggregator.config import SourceConfig
from aggregator.draft import EventDraft
from aggregator.models import Event, Source, SourceRecord
from crawlers.records import Window

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")

# Canonical fields copied from a draft onto its event.
EVENT_FIELDS = (
    "title",
    "description",
    "description_html",
    "status",
    "attendance",
    "location_name",
    "address",
    "postcode",
    "city",
    "municipality",
    "municipality_code",
    "lat",
    "lon",
    "region",
    "url",
    "registration_url",
    "organizer_name",
    "organizer_url",
    "activity_type",
    "sectors",
    "phases",
    "audiences",
    "language",
    "is_free",
)


@dataclass(slots=True)
class StoreCounts:
    """What one harvest did to the stored records of a source."""

    seen: int = 0
    new: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    stale: int = 0  # an older version than the stored one: ignored
    changed_event_ids: set[str] = field(default_factory=set)


def event_id_for(source_id: str, uid: str, recurrence_id: str) -> str:
    """A stable opaque id for a new canonical event, from the record that created it."""
    digest = hashlib.sha256(f"{source_id}\x1f{uid}\x1f{recurrence_id}".encode()).hexdigest()
    return digest[:20]


def local_midnight(day: date) -> datetime:
    """The start of a calendar day in Europe/Amsterdam, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def to_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC."""
    return value.astimezone(UTC)


def draft_times(draft: EventDraft) -> dict[str, object]:
    """The time columns of an event for a draft (all-day: dates plus local midnights)."""
    if draft.all_day:
        start_day = draft.start if isinstance(draft.start, date) else draft.start.date()
        end_day = (
            draft.end
            if isinstance(draft.end, date) and not isinstance(draft.end, datetime)
            else None
        )
        return {
            "all_day": True,
            "start_date": start_day,
            "end_date": end_day,
            "start_at": local_midnight(start_day),
            "end_at": local_midnight(end_day) if end_day else None,
        }
    assert isinstance(draft.start, datetime)
    end = draft.end if isinstance(draft.end, datetime) else None
    return {
        "all_day": False,
        "start_date": None,
        "end_date": None,
        "start_at": to_utc(draft.start),
        "end_at": to_utc(end) if end else None,
    }


def draft_fingerprint(draft: EventDraft) -> str:
    """Hash of everything a subscriber would see, to tell a real change from a re-harvest."""
    payload = {name: getattr(draft, name) for name in EVENT_FIELDS}
    payload.update({k: str(v) for k, v in draft_times(draft).items()})
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def sync_sources(*, session: Session, sources: Iterable[SourceConfig]) -> None:
    """Create or update the Source rows from the configuration."""
    for config in sources:
        row = session.get(Source, config.id)
        if row is None:
            row = Source(
                id=config.id,
                name=config.name,
                kind=config.kind,
                url=config.url,
                region=config.region,
            )
        else:
            if row.url != config.url or row.kind != config.kind:
                # a different feed: its validators no longer apply
                row.etag = row.http_last_modified = row.content_fingerprint = None
            row.name, row.kind, row.url, row.region = (
                config.name,
                config.kind,
                config.url,
                config.region,
            )
        session.add(row)


def _is_older(draft: EventDraft, record: SourceRecord) -> bool:
    """RFC 5545 ordering: a lower SEQUENCE, or the same with an earlier LAST-MODIFIED, is older."""
    new_seq, old_seq = draft.raw.sequence, record.sequence
    if new_seq is not None and old_seq is not None and new_seq != old_seq:
        return new_seq < old_seq
    new_mod, old_mod = draft.raw.last_modified, record.source_last_modified
    if isinstance(new_mod, datetime) and old_mod is not None and new_mod.tzinfo is not None:
        return to_utc(new_mod) < old_mod.astimezone(UTC)
    return False


def _apply_to_event(event: Event, draft: EventDraft, now: datetime, *, bump: bool) -> None:
    for name in EVENT_FIELDS:
        setattr(event, name, getattr(draft, name))
    for name, value in draft_times(draft).items():
        setattr(event, name, value)
    event.relevant = draft.relevant
    event.removed_at = None
    event.search_text = " ".join(
        part
        for part in (
            draft.title,
            draft.description,
            draft.location_name,
            draft.city,
            draft.municipality,
            draft.organizer_name,
        )
        if part
    )
    if bump:
        event.sequence += 1
        event.last_modified = now


def _record_values(draft: EventDraft, fingerprint: str, now: datetime) -> dict[str, object]:
    raw = draft.raw
    modified = raw.last_modified if isinstance(raw.last_modified, datetime) else None
    return {
        "title": raw.title,
        "url": raw.url,
        "content_hash": fingerprint,
        "sequence": raw.sequence,
        "source_last_modified": to_utc(modified) if modified and modified.tzinfo else None,
        "data": raw.to_dict(),
        "last_seen": now,
        "harvested_at": now,
        "removed_at": None,
    }


def store_drafts(
    *,
    session: Session,
    source: SourceConfig,
    drafts: Iterable[EventDraft],
    now: datetime,
    window: Window,
) -> StoreCounts:
    """Insert or update one successful harvest of a source; mark vanished records removed."""
    counts = StoreCounts()
    existing = {
        (r.uid, r.recurrence_id): r
        for r in session.exec(select(SourceRecord).where(SourceRecord.source_id == source.id))
    }
    seen: set[tuple[str, str]] = set()
    for draft in drafts:
        key = (draft.raw.uid, draft.raw.recurrence_id or "")
        if key in seen:
            # the same UID twice in one feed: keep the newest version
            record = existing.get(key)
            if record is not None and _is_older(draft, record):
                continue
        seen.add(key)
        counts.seen += 1
        fingerprint = draft_fingerprint(draft)
        record = existing.get(key)
        if record is None:
            event_id = event_id_for(source.id, *key)
            event = session.get(Event, event_id) or Event(
                id=event_id, title=draft.title, start_at=now, first_seen=now
            )
            _apply_to_event(event, draft, now, bump=False)
            event.last_modified = now
            session.add(event)
            record = SourceRecord(
                source_id=source.id,
                uid=key[0],
                recurrence_id=key[1],
                event_id=event.id,
                first_seen=now,
                **_record_values(draft, fingerprint, now),
            )  # type: ignore[arg-type]
            session.add(record)
            existing[key] = record
            counts.new += 1
            counts.changed_event_ids.add(event.id)
            continue
        if _is_older(draft, record):
            counts.stale += 1
            record.last_seen = now
            session.add(record)
            continue
        was_removed = record.removed_at is not None
        if record.content_hash == fingerprint and not was_removed:
            record.last_seen = now
            record.harvested_at = now
            session.add(record)
            counts.unchanged += 1
            continue
        for name, value in _record_values(draft, fingerprint, now).items():
            setattr(record, name, value)
        session.add(record)
        event = session.get(Event, record.event_id)
        assert event is not None
        _apply_to_event(event, draft, now, bump=True)
        session.add(event)
        counts.updated += 1
        counts.changed_event_ids.add(event.id)
    for key, record in existing.items():
        if key in seen or record.removed_at is not None:
            continue
        event = session.get(Event, record.event_id)
        if event is not None and event.start_at < window.start:
            continue  # outside the harvest window, not gone from the source
        record.removed_at = now
        session.add(record)
        counts.removed += 1
        if event is not None:
            _mark_removed_if_orphan(session=session, event=event, now=now)
            counts.changed_event_ids.add(event.id)
    return counts


def _mark_removed_if_orphan(*, session: Session, event: Event, now: datetime) -> None:
    live = session.exec(
        select(SourceRecord).where(
            SourceRecord.event_id == event.id, SourceRecord.removed_at.is_(None)
        )  # type: ignore[union-attr]
    ).first()
    if live is None and event.removed_at is None:
        event.removed_at = now
        event.sequence += 1
        event.last_modified = now
        session.add(event)


def preview_event(draft: EventDraft, *, now: datetime) -> tuple[Event, SourceRecord]:
    """The event and record a draft would become, without a database (``agenda parse``)."""
    key = (draft.raw.uid, draft.raw.recurrence_id or "")
    event = Event(
        id=event_id_for(draft.raw.source_id, *key),
        title=draft.title,
        start_at=now,
        first_seen=now,
        last_modified=now,
    )
    _apply_to_event(event, draft, now, bump=False)
    record = SourceRecord(
        source_id=draft.raw.source_id,
        uid=key[0],
        recurrence_id=key[1],
        event_id=event.id,
        first_seen=now,
        **_record_values(draft, draft_fingerprint(draft), now),
    )  # type: ignore[arg-type]
    return event, record
