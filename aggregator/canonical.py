"""Canonical events: the fields of an event, merged from the records of its sources.

Each source record keeps its own normalised fields (``SourceRecord.fields``); the event
shows, per field, the value of the best-ranked record that has one (``dedup.record_rank``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from aggregator.dedup import record_rank
from aggregator.draft import EventDraft
from aggregator.localtime import local_midnight
from aggregator.models import Event, Source, SourceRecord

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
    "organizer_email",
    "activity_type",
    "sectors",
    "phases",
    "audiences",
    "language",
    "is_free",
)

TIME_FIELDS = ("all_day", "start_date", "end_date", "start_at", "end_at")


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


def record_fields(draft: EventDraft) -> dict[str, Any]:
    """A draft's canonical fields as JSON (times as ISO strings), kept on its record."""
    fields: dict[str, Any] = {name: getattr(draft, name) for name in EVENT_FIELDS}
    for name, value in draft_times(draft).items():
        fields[name] = value.isoformat() if isinstance(value, date) else value
    fields["relevant"] = draft.relevant
    return fields


def _fields_fingerprint(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()


# Every column of an event that recomputing it may set.
EVENT_COLUMNS = (
    *EVENT_FIELDS,
    *TIME_FIELDS,
    "relevant",
    "search_text",
    "removed_at",
    "merged_into",
    "sequence",
    "last_modified",
)


class MergeRecord(NamedTuple):
    """What recomputing an event reads of one of its records."""

    source_id: str
    uid: str
    recurrence_id: str
    fields: dict[str, Any]
    removed_at: datetime | None


def fields_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical fields of an event's column values (times as UTC ISO strings)."""
    fields: dict[str, Any] = {name: values.get(name) for name in EVENT_FIELDS}
    for name in TIME_FIELDS:
        value = values.get(name)
        if isinstance(value, datetime):
            value = to_utc(value)
        fields[name] = value.isoformat() if isinstance(value, date) else value
    return fields


def event_fields(event: Event) -> dict[str, Any]:
    """The canonical fields an event shows now."""
    return fields_of({name: getattr(event, name) for name in (*EVENT_FIELDS, *TIME_FIELDS)})


def canonical_values(fields: dict[str, Any], *, title: str) -> dict[str, Any]:
    """The event columns for merged canonical fields (``title`` when the fields have none)."""
    values: dict[str, Any] = {name: fields.get(name) for name in EVENT_FIELDS}
    for name in ("sectors", "phases", "audiences"):
        values[name] = list(fields.get(name) or [])
    values["description"] = fields.get("description") or ""
    values["title"] = fields.get("title") or title
    values["status"] = fields.get("status") or "confirmed"
    values["attendance"] = fields.get("attendance") or "offline"
    values["all_day"] = bool(fields.get("all_day"))
    for name in ("start_at", "end_at"):
        value = fields.get(name)
        values[name] = datetime.fromisoformat(value) if value else None
    for name in ("start_date", "end_date"):
        value = fields.get(name)
        values[name] = date.fromisoformat(value) if value else None
    values["relevant"] = bool(fields.get("relevant", True))
    values["search_text"] = " ".join(
        str(fields[name])
        for name in ("title", "description", "location_name", "city", "municipality")
        if fields.get(name)
    )
    return values


def set_event_fields(event: Event, fields: dict[str, Any]) -> None:
    """Set an event's columns from merged canonical fields."""
    for name, value in canonical_values(fields, title=event.title).items():
        setattr(event, name, value)


def merge_fields(ranked: list[dict[str, Any]]) -> dict[str, Any]:
    """The canonical fields of an event from its records' fields, best-ranked first.

    Times, title and status come together from the best record; each other field from the
    best record that has a value (``dedup.record_rank`` documents the ranking). An end
    time is borrowed only from a record that starts at the same moment.
    """
    best = ranked[0]
    merged = dict(best)
    for name in EVENT_FIELDS:
        if name in {"title", "status", "attendance"}:
            continue
        if merged.get(name) in (None, "", []):
            for other in ranked[1:]:
                if other.get(name) not in (None, "", []):
                    merged[name] = other[name]
                    break
    if not merged.get("end_at") and not merged.get("all_day"):
        for other in ranked[1:]:
            if other.get("start_at") == best.get("start_at") and other.get("end_at"):
                merged["end_at"] = other["end_at"]
                break
    if any(f.get("attendance") == "mixed" for f in ranked):
        merged["attendance"] = "mixed"
    return merged


def recompute_values(
    values: dict[str, Any],
    records: list[MergeRecord],
    *,
    regions: Mapping[str, str],
    now: datetime,
    created: bool = False,
    fresh: bool = False,
) -> bool:
    """Set an event's column ``values`` from its records; bump SEQUENCE when what shows changed.

    ``values`` holds at least ``EVENT_COLUMNS`` and is changed in place; ``regions`` maps
    source ids to their regions. An event with no live record left is marked removed (and
    keeps its last fields). ``created``: the event is new in this harvest run, not yet
    published, so a change does not raise its SEQUENCE. ``fresh``: ``values`` are a
    placeholder for a row not stored yet, which always changes. Returns whether the event
    changed.
    """
    live = [r for r in records if r.removed_at is None and r.fields]
    if not live:
        if values["removed_at"] is None and not any(r.removed_at is None for r in records):
            values["removed_at"] = now
            values["sequence"] += 1
            values["last_modified"] = now
            return True
        return False
    live.sort(
        key=lambda r: record_rank(
            source_region=regions.get(r.source_id),
            fields=r.fields,
            source_id=r.source_id,
            uid=f"{r.uid}\x1f{r.recurrence_id}",
        )
    )
    merged = merge_fields([r.fields for r in live])
    before = None if fresh else _fields_fingerprint(fields_of(values))
    was_removed = values["removed_at"] is not None
    values.update(canonical_values(merged, title=values["title"]))
    values["removed_at"] = None
    values["merged_into"] = None
    changed = fresh or was_removed or before != _fields_fingerprint(fields_of(values))
    if changed:
        values["sequence"] += 0 if created else 1
        values["last_modified"] = now
    return changed


def recompute_event(
    *, session: Session, event: Event, now: datetime, created: bool = False
) -> bool:
    """Recompute one event from its records in the database (``recompute_values``)."""
    records = [
        MergeRecord(r.source_id, r.uid, r.recurrence_id, r.fields, r.removed_at)
        for r in session.exec(select(SourceRecord).where(SourceRecord.event_id == event.id))
    ]
    regions = source_regions(session, {r.source_id for r in records})
    values = {name: getattr(event, name) for name in EVENT_COLUMNS}
    changed = recompute_values(values, records, regions=regions, now=now, created=created)
    for name, value in values.items():
        setattr(event, name, value)  # the ORM writes only the columns whose value changed
    session.add(event)
    return changed


def source_regions(session: Session, source_ids: Collection[str] | None = None) -> dict[str, str]:
    """The region of each named source (every source when ``source_ids`` is None).

    Two columns, not Source objects: a harvest asks once a listing, for every source.
    """
    query = select(col(Source.id), col(Source.region))
    if source_ids is not None:
        if not source_ids:
            return {}
        query = query.where(col(Source.id).in_(source_ids))
    return {source_id: region for source_id, region in session.execute(query)}
