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
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from aggregator.canonical import (
    EVENT_FIELDS,
    draft_times,
    recompute_event,
    record_fields,
    set_event_fields,
    to_utc,
)
from aggregator.dedup import (
    START_TOLERANCE,
    Fingerprint,
    is_reminted,
    match_score,
    same_event,
)
from aggregator.draft import EventDraft
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.models import Event, Source, SourceRecord
from aggregator.normalise import safe_url
from crawlers.records import Window
from crawlers.source import SourceConfig

__all__ = [
    "EVENT_FIELDS",
    "LOCAL_TZ",
    "StoreCounts",
    "draft_fingerprint",
    "draft_times",
    "event_id_for",
    "find_duplicate",
    "local_midnight",
    "preview_event",
    "store_drafts",
    "sync_sources",
    "to_utc",
    "upsert_record",
    "withdraw_record",
]


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


def _is_older_version(
    new_seq: int | None, new_mod: object, old_seq: int | None, old_mod: object
) -> bool:
    """RFC 5545 ordering: a lower SEQUENCE, or the same with an earlier LAST-MODIFIED, is older."""
    if new_seq is not None and old_seq is not None and new_seq != old_seq:
        return new_seq < old_seq
    if not (isinstance(new_mod, datetime) and isinstance(old_mod, datetime)):
        return False
    if (new_mod.tzinfo is None) != (old_mod.tzinfo is None):
        return False  # naive and aware cannot be ordered
    return new_mod < old_mod


def _is_older(draft: EventDraft, record: SourceRecord) -> bool:
    """Whether a record's new version is older than the stored one."""
    return _is_older_version(
        draft.raw.sequence, draft.raw.last_modified, record.sequence, record.source_last_modified
    )


def _record_values(draft: EventDraft, fingerprint: str, now: datetime) -> dict[str, Any]:
    raw = draft.raw
    modified = raw.last_modified if isinstance(raw.last_modified, datetime) else None
    return {
        "title": raw.title,
        "url": safe_url(raw.url),  # shown as the link to the source's page
        "content_hash": fingerprint,
        "sequence": raw.sequence,
        "source_last_modified": to_utc(modified) if modified and modified.tzinfo else None,
        "data": raw.to_dict(),
        "fields": record_fields(draft),
        "last_seen": now,
        "harvested_at": now,
        "removed_at": None,
    }


def find_duplicate(
    *, session: Session, draft: EventDraft, source_id: str, tolerance: timedelta = START_TOLERANCE
) -> Event | None:
    """The live canonical event of other sources that a new record duplicates, if any."""
    fields = record_fields(draft)
    fingerprint = Fingerprint.from_fields(fields)
    start = datetime.fromisoformat(fields["start_at"])
    candidates = session.exec(
        select(SourceRecord, Event)
        .join(Event, col(Event.id) == col(SourceRecord.event_id))
        .where(
            col(Event.removed_at).is_(None),
            col(SourceRecord.removed_at).is_(None),
            col(Event.start_at) >= start - tolerance - timedelta(days=1),
            col(Event.start_at) <= start + tolerance + timedelta(days=1),
        )
    ).all()
    own_events = {e.id for r, e in candidates if r.source_id == source_id}
    best: tuple[float, str, Event] | None = None
    for record, event in candidates:
        if event.id in own_events or not record.fields:
            continue  # a source does not duplicate itself
        other = Fingerprint.from_fields(record.fields)
        if same_event(fingerprint, other, tolerance=tolerance):
            score = match_score(fingerprint, other)
            if best is None or (score, event.id) > (best[0], best[1]):
                best = (score, event.id, event)
    return best[2] if best else None


def store_drafts(
    *,
    session: Session,
    source: SourceConfig,
    drafts: Iterable[EventDraft],
    now: datetime,
    window: Window,
    created_in_run: set[str] | None = None,
    remove_vanished: bool = True,
) -> StoreCounts:
    """Insert or update one successful harvest of a source; mark vanished records removed.

    ``remove_vanished=False`` (a partial crawl, a held listing: see
    ``aggregator.removal_guard``) stores what was read and marks nothing removed.

    ``created_in_run`` collects the events created during one harvest run (all sources);
    such an event has not been published yet, so a later source joining it in the same
    run does not bump its SEQUENCE (this keeps the result independent of source order).

    A new record joins the canonical event it duplicates (``find_duplicate``) or starts
    its own. A new UID whose content matches a record of this source that vanished in the
    same harvest is that record re-exported (``dedup.is_reminted``), not a new event.
    """
    counts = StoreCounts()
    existing = {
        (r.uid, r.recurrence_id): r
        for r in session.exec(select(SourceRecord).where(SourceRecord.source_id == source.id))
    }
    latest: dict[tuple[str, str], EventDraft] = {}
    for draft in drafts:
        key = (draft.raw.uid, draft.raw.recurrence_id or "")
        kept = latest.get(key)
        if kept is not None and _is_older_draft(draft, kept):
            continue  # the same UID twice in one feed: keep the newest version
        latest[key] = draft
    vanished = {
        key: record
        for key, record in existing.items()
        if key not in latest and record.removed_at is None and record.fields
    }
    touched: set[str] = set()
    created: set[str] = created_in_run if created_in_run is not None else set()
    for key in sorted(latest, key=lambda k: (str(latest[k].start), k)):
        draft = latest[key]
        counts.seen += 1
        fingerprint = draft_fingerprint(draft)
        record = existing.get(key)
        if record is None:
            record = _reminted(draft, vanished)
            if record is not None:
                del vanished[(record.uid, record.recurrence_id)]
                del existing[(record.uid, record.recurrence_id)]
                record.uid, record.recurrence_id = key
                existing[key] = record
                record.content_hash = ""  # force the update below
        if record is None:
            record, own_event, _ = _add_record(
                session=session,
                source_id=source.id,
                key=key,
                draft=draft,
                fingerprint=fingerprint,
                now=now,
            )
            if own_event:
                created.add(record.event_id)
            existing[key] = record
            counts.new += 1
            touched.add(record.event_id)
            continue
        if _is_older(draft, record):
            counts.stale += 1
            record.last_seen = now
            session.add(record)
            continue
        was_removed = record.removed_at is not None
        if record.content_hash == fingerprint and not was_removed and record.fields:
            record.last_seen = now
            record.harvested_at = now
            session.add(record)
            counts.unchanged += 1
            continue
        for name, value in _record_values(draft, fingerprint, now).items():
            setattr(record, name, value)
        session.add(record)
        counts.updated += 1
        touched.add(record.event_id)
        merged_into = _merge_if_now_duplicate(
            session=session, record=record, draft=draft, source_id=source.id, now=now
        )
        if merged_into is not None:
            touched.add(merged_into)
    for key, record in existing.items():
        if key in latest or record.removed_at is not None or not remove_vanished:
            continue
        event = session.get(Event, record.event_id)
        if event is not None and event.start_at < window.start:
            continue  # outside the harvest window, not gone from the source
        record.removed_at = now
        session.add(record)
        counts.removed += 1
        touched.add(record.event_id)
    session.flush()
    for event_id in sorted(touched):
        event = session.get(Event, event_id)
        if event is not None and recompute_event(
            session=session, event=event, now=now, created=event_id in created
        ):
            counts.changed_event_ids.add(event_id)
    return counts


def _add_record(
    *,
    session: Session,
    source_id: str,
    key: tuple[str, str],
    draft: EventDraft,
    fingerprint: str,
    now: datetime,
) -> tuple[SourceRecord, bool, bool]:
    """Add a new record to the event it duplicates, or to an event of its own.

    Returns the record, whether it got an event of its own (no duplicate found), and
    whether that event row is new in the database.
    """
    event = find_duplicate(session=session, draft=draft, source_id=source_id)
    own_event = event is None
    fresh_row = False
    if event is None:
        event_id = event_id_for(source_id, *key)
        event = session.get(Event, event_id)
        fresh_row = event is None
        if event is None:
            event = Event(id=event_id, title=draft.title, start_at=now, first_seen=now)
        session.add(event)
        session.flush()
    record = SourceRecord(
        source_id=source_id,
        uid=key[0],
        recurrence_id=key[1],
        event_id=event.id,
        first_seen=now,
        **_record_values(draft, fingerprint, now),
    )  # type: ignore[arg-type]
    session.add(record)
    return record, own_event, fresh_row


def _merge_if_now_duplicate(
    *, session: Session, record: SourceRecord, draft: EventDraft, source_id: str, now: datetime
) -> str | None:
    """Fold a record's event into another when an update makes it that event's duplicate.

    Only an event fed by this record alone is folded: it is marked ``merged_into`` and
    removed (never deleted), and the record moves to the surviving event.
    """
    session.flush()
    others = session.exec(
        select(SourceRecord).where(
            SourceRecord.event_id == record.event_id,
            col(SourceRecord.removed_at).is_(None),
            SourceRecord.id != record.id,
        )
    ).first()
    if others is not None:
        return None
    target = find_duplicate(session=session, draft=draft, source_id=source_id)
    if target is None or target.id == record.event_id:
        return None
    old = session.get(Event, record.event_id)
    record.event_id = target.id
    session.add(record)
    if old is not None:
        old.merged_into = target.id
        old.removed_at = now
        old.sequence += 1
        old.last_modified = now
        session.add(old)
    return target.id


def _is_older_draft(draft: EventDraft, kept: EventDraft) -> bool:
    return _is_older_version(
        draft.raw.sequence, draft.raw.last_modified, kept.raw.sequence, kept.raw.last_modified
    )


def _reminted(
    draft: EventDraft, vanished: dict[tuple[str, str], SourceRecord]
) -> SourceRecord | None:
    new = Fingerprint.from_fields(record_fields(draft))
    for key in sorted(vanished):
        record = vanished[key]
        if is_reminted(Fingerprint.from_fields(record.fields), new):
            return record
    return None


def upsert_record(*, session: Session, source_id: str, draft: EventDraft, now: datetime) -> str:
    """Insert or update one record and its event, touching no other record of the source.

    For sources fed one record at a time (the submission form): a new record joins the
    event it duplicates or starts its own, exactly as in a harvest; returns the event id.
    """
    key = (draft.raw.uid, draft.raw.recurrence_id or "")
    fingerprint = draft_fingerprint(draft)
    record = session.exec(
        select(SourceRecord).where(
            SourceRecord.source_id == source_id,
            SourceRecord.uid == key[0],
            SourceRecord.recurrence_id == key[1],
        )
    ).first()
    created = False
    if record is None:
        record, _, created = _add_record(
            session=session,
            source_id=source_id,
            key=key,
            draft=draft,
            fingerprint=fingerprint,
            now=now,
        )
    elif record.content_hash != fingerprint or record.removed_at is not None:
        for name, value in _record_values(draft, fingerprint, now).items():
            setattr(record, name, value)
        session.add(record)
    else:
        return record.event_id
    session.flush()
    event = session.get(Event, record.event_id)
    assert event is not None
    recompute_event(session=session, event=event, now=now, created=created)
    return event.id


def withdraw_record(*, session: Session, source_id: str, uid: str, now: datetime) -> bool:
    """Mark one record removed and recompute its event; return whether anything changed."""
    record = session.exec(
        select(SourceRecord).where(SourceRecord.source_id == source_id, SourceRecord.uid == uid)
    ).first()
    if record is None or record.removed_at is not None:
        return False
    record.removed_at = now
    session.add(record)
    session.flush()
    event = session.get(Event, record.event_id)
    if event is not None:
        recompute_event(session=session, event=event, now=now)
    return True


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
    set_event_fields(event, record_fields(draft))
    record = SourceRecord(
        source_id=draft.raw.source_id,
        uid=key[0],
        recurrence_id=key[1],
        event_id=event.id,
        first_seen=now,
        **_record_values(draft, draft_fingerprint(draft), now),
    )  # type: ignore[arg-type]
    return event, record
