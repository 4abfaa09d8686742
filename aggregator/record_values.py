"""What the store writes for one record: its identity, content hash, version and columns."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from aggregator.canonical import EVENT_FIELDS, draft_times, to_utc
from aggregator.dedup import slot_of
from aggregator.draft import EventDraft
from aggregator.normalise import safe_url


def event_id_for(source_id: str, uid: str, recurrence_id: str) -> str:
    """A stable opaque id for a new canonical event, from the record that created it."""
    digest = hashlib.sha256(f"{source_id}\x1f{uid}\x1f{recurrence_id}".encode()).hexdigest()
    return digest[:20]


def draft_fingerprint(draft: EventDraft) -> str:
    """Hash of everything a subscriber would see, to tell a real change from a re-harvest."""
    payload = {name: getattr(draft, name) for name in EVENT_FIELDS}
    payload.update({k: str(v) for k, v in draft_times(draft).items()})
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def is_older_version(
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


def is_older(draft: EventDraft, sequence: int | None, last_modified: datetime | None) -> bool:
    """Whether a draft is an older version than the stored record's (sequence, modified)."""
    return is_older_version(draft.raw.sequence, draft.raw.last_modified, sequence, last_modified)


def record_values(
    draft: EventDraft, fields: dict[str, Any], content_hash: str, now: datetime
) -> dict[str, Any]:
    """The columns of a record stored (or re-stored) from a draft at ``now``.

    ``fields`` is ``canonical.record_fields(draft)``. No raw payload is kept: the fields
    and the content hash are all that merging and history read.
    """
    raw = draft.raw
    modified = raw.last_modified if isinstance(raw.last_modified, datetime) else None
    bucket, place = slot_of(fields)
    return {
        "title": raw.title,
        "url": safe_url(raw.url),  # shown as the link to the source's page
        "content_hash": content_hash,
        "sequence": raw.sequence,
        "source_last_modified": to_utc(modified) if modified and modified.tzinfo else None,
        "fields": fields,
        "dedup_bucket": bucket,
        "dedup_place": place,
        "last_seen": now,
        "harvested_at": now,
        "removed_at": None,
    }
