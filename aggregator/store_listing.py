"""Store one listing of a source in bulk: one read of its records, set-based writes.

The listing is decided in memory, in the order ``store.store_drafts`` documents (by start,
then identity), against one read of the source's records and one indexed read of the
dedup candidates of every new or changed record; then it is written in a few executemany
statements: new events, new records, changed records, removals, changed events. An
unchanged record (same content hash) or an older version of one costs no write at all.

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

    # -- deciding ----------------------------------------------------------------------

    def decide(
        self,
        latest: dict[tuple[str, str], EventDraft],
        unchanged: Collection[tuple[str, str]] = (),
    ) -> None:
        """Decide every record of the listing and the removals, in memory.

        ``unchanged`` are listed records that skipped the pipeline (the same input as
        stored): seen and unchanged, nothing to decide.
        """
        self.kept = set(unchanged) - latest.keys()
        self.outcome.counts.seen += len(self.kept)
        self.outcome.counts.unchanged += len(self.kept)
        order = sorted(latest, key=lambda k: (str(latest[k].start), k))
        listed = {key: self._prepare(key, latest[key]) for key in order}
        self.index = CandidateIndex.read(
            session=self.session,
            probes=[item.probe for item in listed.values() if item.probe is not None],
            exclude_source=self.source_id,
        )
        vanished = {
            key: record
            for key, record in self.stored.items()
            if key not in latest
            and key not in self.kept
            and record.removed_at is None
            and record.has_fields
        }
        if vanished and any(key not in self.stored for key in latest):
            self._remint = RemintIndex.read(
                session=self.session,
                vanished={key: (record.id, record) for key, record in vanished.items()},
            )
        for key in order:
            self._decide_one(key, listed[key])
        self._decide_removals(latest)

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
            return
        record.values = self._values(key, item)
        record.content_hash, record.has_fields, record.removed_at = item.content_hash, True, None
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
            self.outcome.new_events.setdefault(event_id, item.draft.title)
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

    def _decide_removals(self, latest: dict[tuple[str, str], EventDraft]) -> None:
        if not self.remove_vanished:
            return
        for key, record in self.stored.items():
            if key in latest or key in self.kept or record.removed_at is not None:
                continue
            if record.event_start is not None and record.event_start < self.window.start:
                continue  # outside the harvest window, not gone from the source
            record.removed_at, record.removed_now = self.now, True
            self.outcome.counts.removed += 1
            self.outcome.touched.add(record.event_id)

    # -- writing -----------------------------------------------------------------------

    def write(self) -> set[str]:
        """Write the decided listing; return the ids of the events whose content changed."""
        events, fresh = self._load_events()
        merge_records = self._merge_records()
        regions = source_regions(self.session)
        changed: set[str] = set()
        inserts, updates = [], []
        for event_id in sorted(self.outcome.touched):
            values = events[event_id]
            before = dict(values)
            if recompute_values(
                values,
                merge_records.get(event_id, []),
                regions=regions,
                now=self.now,
                created=event_id in self.created,
                fresh=event_id in fresh,
            ):
                changed.add(event_id)
            if event_id in fresh:
                inserts.append(values)
            elif values != before or event_id in self.outcome.folded:
                updates.append(values)
        insert_rows(self.session, Event, inserts)
        self._write_records()
        update_by_id(self.session, Event, updates)
        return changed

    def _load_events(self) -> tuple[dict[str, dict[str, Any]], set[str]]:
        """Column values of the touched events; placeholders for those not stored yet."""
        events: dict[str, dict[str, Any]] = {}
        columns = [col(getattr(Event, name)) for name in ("id", *EVENT_COLUMNS)]
        for chunk in chunks(self.outcome.touched):
            for row in self.session.execute(select(*columns).where(col(Event.id).in_(chunk))):
                events[row[0]] = dict(zip(("id", *EVENT_COLUMNS), row, strict=True))
        fresh = set()
        for event_id in self.outcome.touched - events.keys():
            title = self.outcome.new_events[event_id]
            events[event_id] = _placeholder(event_id, title, self.now)
            fresh.add(event_id)
        for old, target in self.outcome.folded.items():
            values = events[old]
            values["merged_into"] = target
            values["removed_at"] = self.now
            values["sequence"] += 1
            values["last_modified"] = self.now
        return events, fresh

    def _merge_records(self) -> dict[str, list[MergeRecord]]:
        """The records of every touched event as they are after this listing."""
        by_id: dict[int, tuple[str, MergeRecord]] = {}
        for chunk in chunks(self.outcome.touched):
            rows = self.session.execute(
                select(
                    col(SourceRecord.id),
                    col(SourceRecord.event_id),
                    col(SourceRecord.source_id),
                    col(SourceRecord.uid),
                    col(SourceRecord.recurrence_id),
                    col(SourceRecord.fields),
                    col(SourceRecord.removed_at),
                ).where(col(SourceRecord.event_id).in_(chunk))
            )
            for record_id, event_id, *rest in rows:
                assert record_id is not None
                by_id[record_id] = (event_id, MergeRecord(*rest))
        extra: list[tuple[str, MergeRecord]] = []
        for record in self.stored.values():
            if record.values is not None:
                merge = MergeRecord(
                    self.source_id,
                    record.uid,
                    record.recurrence_id,
                    record.values["fields"],
                    record.removed_at,
                )
                if record.id is None:
                    extra.append((record.event_id, merge))
                else:
                    by_id[record.id] = (record.event_id, merge)
            elif record.removed_now and record.id in by_id:
                event_id, merge = by_id[record.id]
                by_id[record.id] = (event_id, merge._replace(removed_at=record.removed_at))
        grouped: dict[str, list[MergeRecord]] = {}
        for event_id, merge in [*by_id.values(), *extra]:
            grouped.setdefault(event_id, []).append(merge)
        return grouped

    def _write_records(self) -> None:
        """New, changed, removed and moved records, each kind in batches of rows built as
        they are written (``bulk_sql``): no second copy of the listing's columns at once."""
        stored = self.stored.values
        insert_rows(
            self.session,
            SourceRecord,
            (
                {**self._row(r), "source_id": self.source_id, "first_seen": self.now}
                for r in stored()
                if r.values is not None and r.id is None
            ),
        )
        changed = (
            {**self._row(r), "id": r.id}
            for r in stored()
            if r.values is not None and r.id is not None
        )
        removed = (
            {"id": r.id, "removed_at": self.now}
            for r in stored()
            if r.values is None and r.removed_now
        )
        moved = (
            {
                "id": r.id,
                "uid": r.uid,
                "recurrence_id": r.recurrence_id,
                "content_hash": "",
                "input_hash": None,
            }
            for r in stored()
            if r.values is None and not r.removed_now and r.moved
        )
        rehashed = (
            {"id": r.id, "input_hash": r.input_hash}
            for r in stored()
            if r.values is None and r.rehashed and not r.moved
        )
        for rows in (changed, removed, moved, rehashed):
            update_by_id(self.session, SourceRecord, rows)

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
