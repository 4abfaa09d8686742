"""Store: write pipeline output into the database, keeping provenance and history.

Data functions take ``*, session`` and never commit: the harvest run owns the transaction.
Identity of a record is (source, uid, recurrence id). A record that vanishes from a source
that was read successfully is marked removed, never deleted; a failed source changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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
from aggregator.dedup import START_TOLERANCE, Fingerprint, probe
from aggregator.dedup_index import CandidateIndex, best_duplicate
from aggregator.draft import EventDraft
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.models import Event, Source, SourceRecord
from aggregator.record_values import (
    draft_fingerprint,
    event_id_for,
    is_older_version,
    record_values,
)
from aggregator.store_listing import CHUNK, ListingStore, StoreCounts
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


def _values(draft: EventDraft, fingerprint: str, now: datetime) -> dict[str, Any]:
    return record_values(draft, record_fields(draft), fingerprint, now)


def find_duplicate(
    *, session: Session, draft: EventDraft, source_id: str, tolerance: timedelta = START_TOLERANCE
) -> Event | None:
    """The live canonical event of other sources that a new record duplicates, if any.

    Candidates come from the dedup index (``aggregator.dedup_index``): the live records of
    other sources in the record's start slots and place keys.
    """
    fingerprint = Fingerprint.from_fields(record_fields(draft))
    one = probe(fingerprint, tolerance=tolerance)
    candidates = CandidateIndex.read(
        session=session, probes=[one], exclude_source=source_id
    ).for_probe(one)
    event_ids = {c.event_id for c in candidates}
    own = set(
        session.exec(
            select(SourceRecord.event_id).where(
                SourceRecord.source_id == source_id,
                col(SourceRecord.removed_at).is_(None),
                col(SourceRecord.event_id).in_(event_ids),
            )
        ).all()
        if event_ids
        else ()
    )
    event_id = best_duplicate(fingerprint, candidates, own_events=own, tolerance=tolerance)
    return session.get(Event, event_id) if event_id else None


def store_drafts(
    *,
    session: Session,
    source: SourceConfig,
    drafts: Iterable[EventDraft],
    now: datetime,
    window: Window,
    created_in_run: set[str] | None = None,
    remove_vanished: bool = True,
    chunk: int = CHUNK,
    unchanged: Collection[tuple[str, str]] = (),
    input_hashes: Mapping[tuple[str, str], str] | None = None,
) -> StoreCounts:
    """Insert or update one successful harvest of a source; mark vanished records removed.

    ``remove_vanished=False`` (a partial crawl, a held listing: see
    ``aggregator.removal_guard``) stores what was read and marks nothing removed.
    ``unchanged`` are the keys of records listed but not processed, their input the same
    as stored (``aggregator.unchanged_records``): seen, unchanged, never removed.
    ``input_hashes`` (by key) are stored with the drafts' records.

    ``created_in_run`` collects the events created during one harvest run (all sources);
    such an event has not been published yet, so a later source joining it in the same
    run does not bump its SEQUENCE (this keeps the result independent of source order).

    Records are taken by start, then identity; of one UID listed twice the newest version
    counts. A new record joins the canonical event it duplicates (``find_duplicate``) or
    starts its own. A new UID whose content matches a record of this source that vanished
    in the same harvest is that record re-exported (``dedup.is_reminted``), not a new
    event. An update that makes a record's event (fed by it alone) a duplicate of another
    folds it into that one. An unchanged record, or an older version of one, is not
    written. The whole listing costs one read of the source's records, one indexed read
    of dedup candidates and a few set-based writes per ``chunk`` records
    (``aggregator.store_listing``: a chunk's drafts are let go once written, so memory
    follows the chunk, not the listing; the result does not depend on the chunk size);
    the session is not flushed per record. Safe to call for different sources in parallel
    threads, each with its own session (no state outside the call).
    """
    latest: dict[tuple[str, str], EventDraft] = {}
    for draft in drafts:
        key = (draft.raw.uid, draft.raw.recurrence_id or "")
        kept = latest.get(key)
        if kept is not None and is_older_version(
            draft.raw.sequence, draft.raw.last_modified, kept.raw.sequence, kept.raw.last_modified
        ):
            continue  # the same UID twice in one feed: keep the newest version
        latest[key] = draft
    session.flush()  # the listing reads and writes below bypass the unit of work
    listing = ListingStore(
        session=session,
        source_id=source.id,
        now=now,
        window=window,
        created=created_in_run if created_in_run is not None else set(),
        remove_vanished=remove_vanished,
        input_hashes=input_hashes or {},
    )
    changed = listing.store(latest, chunk=chunk, unchanged=unchanged)
    counts = listing.outcome.counts
    counts.changed_event_ids = changed
    return counts


def _add_record(
    *,
    session: Session,
    source_id: str,
    key: tuple[str, str],
    draft: EventDraft,
    fingerprint: str,
    now: datetime,
) -> tuple[SourceRecord, bool]:
    """Add a new record to the event it duplicates, or to an event of its own.

    Returns the record and whether its event row is new in the database.
    """
    event = find_duplicate(session=session, draft=draft, source_id=source_id)
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
        **_values(draft, fingerprint, now),
    )  # type: ignore[arg-type]
    session.add(record)
    return record, fresh_row


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
        record, created = _add_record(
            session=session,
            source_id=source_id,
            key=key,
            draft=draft,
            fingerprint=fingerprint,
            now=now,
        )
    elif record.content_hash != fingerprint or record.removed_at is not None:
        for name, value in _values(draft, fingerprint, now).items():
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
        **_values(draft, draft_fingerprint(draft), now),
    )  # type: ignore[arg-type]
    return event, record
