"""Store one listing of a source in bulk: one read of its records, set-based writes.

The listing is decided in memory, in the order ``store.store_drafts`` documents (by start,
then identity), against one read of the source's records and one indexed read of the
dedup candidates of every new or changed record; then it is written in a few executemany
statements: new events, new records, changed records, removals, changed events. An
unchanged record (same content hash) or an older version of one costs no write at all.

A long listing is taken in consecutive chunks of that one order (``CHUNK`` records):
each chunk is decided and its records written before the next is prepared, so what is
held at once is a chunk's drafts and rows plus a small ``Stored`` per record of the
source. Removals wait for the last chunk (they need every key of the listing), and the
touched events are recomputed once after it, so an event touched in two chunks changes
(and raises its SEQUENCE) once: the result is the same for any chunk size.

Why the decisions can be made before writing: the candidates of a record are live
records of *other* sources, which this listing never changes; what it does change is
which events this source already feeds (a source does not duplicate itself), and that is
kept here (``_OwnEvents``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from aggregator.bulk_sql import chunks, insert_rows, update_by_id
from aggregator.canonical import (
    EVENT_COLUMNS,
    MergeRecord,
    recompute_values,
    record_fields,
    source_regions,
)
from aggregator.dedup import Fingerprint, Probe, probe
from aggregator.dedup_index import CandidateIndex, best_duplicate
from aggregator.draft import EventDraft
from aggregator.models import Event, SourceRecord, utcnow
from aggregator.record_values import draft_fingerprint, event_id_for, is_older, record_values
from aggregator.remint_index import RemintIndex
from crawlers.records import Window

CHUNK = 2_000  # records decided and written at a time (and events recomputed at a time)
_UPDATED = ("id", *EVENT_COLUMNS)  # the columns of an event that recomputing sets


@dataclass(slots=True)
class Stored:
    """One stored record of the source, as far as deciding a listing needs it."""

    id: int | None
    uid: str
    recurrence_id: str
    event_id: str
    content_hash: str
    sequence: int | None
    source_last_modified: datetime | None
    removed_at: datetime | None
    has_fields: bool
    event_start: datetime | None
    input_hash: str | None = None  # aggregator.unchanged_records
    values: dict[str, Any] | None = None  # columns to write (new or changed record)
    rehashed: bool = False  # content unchanged, input hash changed: only it is written
    removed_now: bool = False  # marked removed by this listing
    moved: bool = False  # re-minted under a new UID but an older version: only the key moves


@dataclass(slots=True)
class Listed:
    """One record of the listing, prepared once."""

    draft: EventDraft
    fields: dict[str, Any]
    content_hash: str
    fingerprint: Fingerprint | None = None
    probe: Probe | None = None


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


@dataclass(slots=True)
class Outcome:
    """What deciding a listing produced, before anything is written."""

    counts: StoreCounts = field(default_factory=StoreCounts)
    touched: set[str] = field(default_factory=set)
    new_events: dict[str, str] = field(default_factory=dict)  # event id -> placeholder title
    folded: dict[str, str] = field(default_factory=dict)  # old event id -> surviving event id


class _OwnEvents:
    """Events with a live record of this source (they are never its duplicates)."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}

    def add(self, event_id: str) -> None:
        self._count[event_id] = self._count.get(event_id, 0) + 1

    def discard(self, event_id: str) -> None:
        self._count[event_id] -= 1
        if not self._count[event_id]:
            del self._count[event_id]

    def count(self, event_id: str) -> int:
        return self._count.get(event_id, 0)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._count


def load_stored(*, session: Session, source_id: str) -> dict[tuple[str, str], Stored]:
    """Every record of a source in one query, without its fields (only whether it has any)."""
    has_fields = cast(SourceRecord.fields, Text) != "{}"
    rows = session.execute(
        select(
            col(SourceRecord.id),
            col(SourceRecord.uid),
            col(SourceRecord.recurrence_id),
            col(SourceRecord.event_id),
            col(SourceRecord.content_hash),
            col(SourceRecord.sequence),
            col(SourceRecord.source_last_modified),
            col(SourceRecord.removed_at),
            has_fields,
            col(Event.start_at),
            col(SourceRecord.input_hash),
        )
        .outerjoin(Event, col(Event.id) == col(SourceRecord.event_id))
        .where(col(SourceRecord.source_id) == source_id)
    ).all()
    return {(row[1], row[2]): Stored(*row) for row in rows}


class ListingStore:
    """Decide and write one listing of one source (one instance per call: no shared state)."""

    def __init__(
        self,
        *,
        session: Session,
        source_id: str,
        now: datetime,
        window: Window,
        created: set[str],
        remove_vanished: bool,
        input_hashes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self.session, self.source_id, self.now, self.window = session, source_id, now, window
        self.created, self.remove_vanished = created, remove_vanished
        self.input_hashes = input_hashes or {}
        self.kept: set[tuple[str, str]] = set()  # listed, skipped as unchanged
        self.outcome = Outcome()
        self.stored = load_stored(session=session, source_id=source_id)
        self.own = _OwnEvents()
        for record in self.stored.values():
            if record.removed_at is None:
                self.own.add(record.event_id)
        self._shared: set[str] | None = None
        self._remint: RemintIndex[Stored] | None = None
        self.index = CandidateIndex(())
        # the records of the current chunk to write, and the events it started
        self._pending: list[Stored] = []
        self._new_in_chunk: list[str] = []
        self._fresh: set[str] = set()  # events whose rows this listing inserted
        # the records the source had before this listing (by id; new rows get larger ids)
        self._last_stored_id = max((r.id for r in self.stored.values() if r.id), default=0)

    # -- the listing, chunk by chunk ----------------------------------------------------

    def store(
        self,
        latest: dict[tuple[str, str], EventDraft],
        *,
        chunk: int = CHUNK,
        unchanged: Collection[tuple[str, str]] = (),
    ) -> set[str]:
        """Decide and write the listing ``chunk`` records at a time; return the changed events.

        ``unchanged`` are listed records that skipped the pipeline (the same input as
        stored): seen and unchanged, nothing to decide, never removed.

        The records are taken in one order for the whole listing (by start, then identity)
        and cut into consecutive chunks: each is prepared, decided and its records written,
        then its drafts and column values are let go (``latest`` is emptied as it goes).
        Across chunks only what later decisions read is kept: the source's records by key
        and hash (``Stored``), the events it feeds, the vanished records a new UID may
        re-mint, and the ids of the touched events. Removals are decided after the last
        chunk, against every key of the listing; the touched events are recomputed once,
        at the end, from their records as written (one SEQUENCE bump at most per event, as
        if the listing were one chunk).
        """
        if chunk < 1:
            raise ValueError("a chunk holds at least one record")
        self.kept = set(unchanged) - latest.keys()
        self.outcome.counts.seen += len(self.kept)
        self.outcome.counts.unchanged += len(self.kept)
        order = sorted(latest, key=lambda k: (str(latest[k].start), k))
        listed = frozenset(order) | self.kept  # every key the source still lists
        self._begin(listed)
        for at in range(0, len(order), chunk):
            part = {key: self._prepare(key, latest.pop(key)) for key in order[at : at + chunk]}
            self._decide_chunk(part)
            del part
            self._write_chunk()
        self._decide_removals(listed)
        self._write_removals()
        return self._write_events()

    def _begin(self, listed: frozenset[tuple[str, str]]) -> None:
        """Read the vanished records a new UID of the listing may re-mint (once, up front)."""
        vanished = {
            key: record
            for key, record in self.stored.items()
            if key not in listed and record.removed_at is None and record.has_fields
        }
        if vanished and any(key not in self.stored for key in listed):
            self._remint = RemintIndex.read(
                session=self.session,
                vanished={key: (record.id, record) for key, record in vanished.items()},
            )

    def _decide_chunk(self, part: dict[tuple[str, str], Listed]) -> None:
        """Decide the records of one chunk, in order, against their dedup candidates."""
        self.index = CandidateIndex.read(
            session=self.session,
            probes=[item.probe for item in part.values() if item.probe is not None],
            exclude_source=self.source_id,
        )
        for key, item in part.items():
            self._decide_one(key, item)
        self.index = CandidateIndex(())

    def _prepare(self, key: tuple[str, str], draft: EventDraft) -> Listed:
        item = Listed(draft, record_fields(draft), draft_fingerprint(draft))
        record = self.stored.get(key)
        needs_probe = record is None or (
            not is_older(draft, record.sequence, record.source_last_modified)
            and (
                record.content_hash != item.content_hash
                or record.removed_at is not None
                or not record.has_fields
            )
        )
        if needs_probe:
            item.fingerprint = Fingerprint.from_fields(item.fields)
            item.probe = probe(item.fingerprint)
        return item

    def _decide_one(self, key: tuple[str, str], item: Listed) -> None:
        counts = self.outcome.counts
        counts.seen += 1
        record = self.stored.get(key)
        reminted = False
        if record is None and self._remint is not None:
            assert item.fingerprint is not None
            record = self._remint.take(item.fingerprint)
            if record is not None:
                del self.stored[(record.uid, record.recurrence_id)]
                record.uid, record.recurrence_id = key
                self.stored[key] = record
                reminted = True
        if record is None:
            self._add(key, item)
            return
        if is_older(item.draft, record.sequence, record.source_last_modified):
            counts.stale += 1  # an older version: ignored, nothing written
            if reminted:  # the record keeps its old version under its new UID
                record.moved, record.content_hash = True, ""
                self._pending.append(record)
            return
        was_removed = record.removed_at is not None
        if (
            not reminted
            and record.content_hash == item.content_hash
            and not was_removed
            and record.has_fields
        ):
            counts.unchanged += 1  # nothing written (but a new input hash)
            fresh_hash = self.input_hashes.get(key)
            if fresh_hash is not None and fresh_hash != record.input_hash:
                record.input_hash, record.rehashed = fresh_hash, True
                self._pending.append(record)
            return
        record.values = self._values(key, item)
        record.content_hash, record.has_fields, record.removed_at = item.content_hash, True, None
        self._pending.append(record)
        if was_removed:
            self.own.add(record.event_id)
        counts.updated += 1
        self.outcome.touched.add(record.event_id)
        self._merge_if_now_duplicate(record, item)

    def _add(self, key: tuple[str, str], item: Listed) -> None:
        """A new record: it joins the event it duplicates, or starts its own."""
        assert item.fingerprint is not None and item.probe is not None
        event_id = best_duplicate(
            item.fingerprint, self.index.for_probe(item.probe), own_events=self.own
        )
        if event_id is None:
            event_id = event_id_for(self.source_id, *key)
            self.created.add(event_id)
            if event_id not in self.outcome.new_events:
                self.outcome.new_events[event_id] = item.draft.title
                self._new_in_chunk.append(event_id)
        record = Stored(
            id=None,
            uid=key[0],
            recurrence_id=key[1],
            event_id=event_id,
            content_hash=item.content_hash,
            sequence=item.draft.raw.sequence,
            source_last_modified=None,
            removed_at=None,
            has_fields=True,
            event_start=None,
            values=self._values(key, item),
        )
        self.stored[key] = record
        self._pending.append(record)
        self.own.add(event_id)
        self.outcome.counts.new += 1
        self.outcome.touched.add(event_id)

    def _values(self, key: tuple[str, str], item: Listed) -> dict[str, Any]:
        """The columns of a record written from a listed item, its input hash included."""
        values = record_values(item.draft, item.fields, item.content_hash, self.now)
        values["input_hash"] = self.input_hashes.get(key)
        return values

    def _shared_events(self) -> set[str]:
        """Events of this source's records that a live record of another source feeds too."""
        if self._shared is None:
            other = aliased(SourceRecord)
            self._shared = set(
                self.session.scalars(
                    select(col(other.event_id))
                    .distinct()
                    .join(SourceRecord, col(SourceRecord.event_id) == col(other.event_id))
                    .where(
                        col(SourceRecord.source_id) == self.source_id,
                        col(SourceRecord.id) <= self._last_stored_id,
                        col(other.source_id) != self.source_id,
                        col(other.removed_at).is_(None),
                    )
                ).all()
            )
        return self._shared

    def _merge_if_now_duplicate(self, record: Stored, item: Listed) -> None:
        """Fold a record's event into another when an update makes it that event's duplicate.

        Only an event fed by this record alone is folded: it is marked ``merged_into`` and
        removed (never deleted), and the record moves to the surviving event.
        """
        old = record.event_id
        if self.own.count(old) > 1 or old in self._shared_events():
            return
        assert item.fingerprint is not None and item.probe is not None
        target = best_duplicate(
            item.fingerprint, self.index.for_probe(item.probe), own_events=self.own
        )
        if target is None or target == old:
            return
        record.event_id = target
        self.own.discard(old)
        self.own.add(target)
        self.outcome.folded[old] = target
        self.outcome.touched.add(target)

    def _decide_removals(self, listed: frozenset[tuple[str, str]]) -> None:
        if not self.remove_vanished:
            return
        for key, record in self.stored.items():
            if key in listed or record.removed_at is not None:
                continue
            if record.event_start is not None and record.event_start < self.window.start:
                continue  # outside the harvest window, not gone from the source
            record.removed_at, record.removed_now = self.now, True
            self.outcome.counts.removed += 1
            self.outcome.touched.add(record.event_id)

    # -- writing -----------------------------------------------------------------------

    def _write_chunk(self) -> None:
        """Write the records decided in the current chunk (rows for its new events first).

        A new event gets a placeholder row now, for its records to point at; its columns
        are set with the other touched events' in :meth:`_write_events`. Each record's
        column values are let go once written.
        """
        if self._new_in_chunk:
            existing: set[str] = set()
            for ids in chunks(self._new_in_chunk):
                existing.update(
                    self.session.scalars(select(col(Event.id)).where(col(Event.id).in_(ids)))
                )
            fresh = [e for e in self._new_in_chunk if e not in existing]
            insert_rows(
                self.session,
                Event,
                (_placeholder(e, self.outcome.new_events[e], self.now) for e in fresh),
            )
            self._fresh.update(fresh)
        pending = self._pending
        insert_rows(
            self.session,
            SourceRecord,
            (
                {**self._row(r), "source_id": self.source_id, "first_seen": self.now}
                for r in pending
                if r.values is not None and r.id is None
            ),
        )
        changed = (
            {**self._row(r), "id": r.id}
            for r in pending
            if r.values is not None and r.id is not None
        )
        moved = (
            {
                "id": r.id,
                "uid": r.uid,
                "recurrence_id": r.recurrence_id,
                "content_hash": "",
                "input_hash": None,
            }
            for r in pending
            if r.values is None and r.moved
        )
        rehashed = (
            {"id": r.id, "input_hash": r.input_hash}
            for r in pending
            if r.values is None and r.rehashed and not r.moved
        )
        for rows in (changed, moved, rehashed):
            update_by_id(self.session, SourceRecord, rows)
        for record in pending:
            record.values, record.moved, record.rehashed = None, False, False
        self._pending, self._new_in_chunk = [], []

    def _write_removals(self) -> None:
        """Mark the records this listing removed (decided after the last chunk)."""
        update_by_id(
            self.session,
            SourceRecord,
            ({"id": r.id, "removed_at": self.now} for r in self.stored.values() if r.removed_now),
        )

    def _write_events(self) -> set[str]:
        """Recompute every touched event once from its records as written; return the changed.

        In chunks of event ids: the columns as stored before this listing (a placeholder
        for a new row), the folds applied, then ``recompute_values`` over the event's
        records, read back from the database.
        """
        regions = source_regions(self.session)
        changed: set[str] = set()
        touched = sorted(self.outcome.touched)
        for at in range(0, len(touched), CHUNK):
            ids = touched[at : at + CHUNK]
            events = self._load_events(ids)
            merge_records = self._merge_records(ids)
            updates = []
            for event_id in ids:
                values = events[event_id]
                before = dict(values)
                fresh = event_id in self._fresh
                if recompute_values(
                    values,
                    merge_records.get(event_id, []),
                    regions=regions,
                    now=self.now,
                    created=event_id in self.created,
                    fresh=fresh,
                ):
                    changed.add(event_id)
                if fresh or values != before or event_id in self.outcome.folded:
                    updates.append({name: values[name] for name in _UPDATED})
            update_by_id(self.session, Event, updates)
        return changed

    def _load_events(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Column values of the events ``ids`` as before this listing (folds applied)."""
        events: dict[str, dict[str, Any]] = {}
        columns = [col(getattr(Event, name)) for name in ("id", *EVENT_COLUMNS)]
        stored = [event_id for event_id in ids if event_id not in self._fresh]
        for chunk in chunks(stored):
            for row in self.session.execute(select(*columns).where(col(Event.id).in_(chunk))):
                events[row[0]] = dict(zip(("id", *EVENT_COLUMNS), row, strict=True))
        for event_id in ids:
            if event_id in self._fresh:
                title = self.outcome.new_events[event_id]
                events[event_id] = _placeholder(event_id, title, self.now)
            target = self.outcome.folded.get(event_id)
            if target is not None:
                values = events[event_id]
                values["merged_into"] = target
                values["removed_at"] = self.now
                values["sequence"] += 1
                values["last_modified"] = self.now
        return events

    def _merge_records(self, ids: list[str]) -> dict[str, list[MergeRecord]]:
        """The records of the events ``ids`` as they are after this listing (all written)."""
        grouped: dict[str, list[MergeRecord]] = {}
        for chunk in chunks(ids):
            rows = self.session.execute(
                select(
                    col(SourceRecord.event_id),
                    col(SourceRecord.source_id),
                    col(SourceRecord.uid),
                    col(SourceRecord.recurrence_id),
                    col(SourceRecord.fields),
                    col(SourceRecord.removed_at),
                )
                .where(col(SourceRecord.event_id).in_(chunk))
                .order_by(col(SourceRecord.id))
            )
            for event_id, *rest in rows:
                grouped.setdefault(event_id, []).append(MergeRecord(*rest))
        return grouped

    @staticmethod
    def _row(record: Stored) -> dict[str, Any]:
        assert record.values is not None
        return {
            **record.values,
            "uid": record.uid,
            "recurrence_id": record.recurrence_id,
            "event_id": record.event_id,
        }


def _placeholder(event_id: str, title: str, now: datetime) -> dict[str, Any]:
    """The columns of a new event row before its records are merged into it."""
    values: dict[str, Any] = {name: None for name in EVENT_COLUMNS}
    values.update(
        id=event_id,
        title=title,
        description="",
        start_at=now,
        all_day=False,
        status="confirmed",
        attendance="offline",
        sectors=[],
        phases=[],
        audiences=[],
        relevant=True,
        search_text="",
        sequence=0,
        first_seen=now,
        last_modified=utcnow(),
    )
    return values
