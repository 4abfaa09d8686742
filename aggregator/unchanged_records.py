"""Unchanged records skip the pipeline: the one place that decides which records do.

A record is processed by the stages and stored with its *input hash*: a hash of the raw
record as the source gave it (after the field limits of ``aggregator.budget``), keyed by
the pipeline's key (stage names, taxonomy, regions, the code and bundled data:
``pipeline.code_fingerprint``) and the source's configuration (its defaults, relevance,
region). Stages are pure functions of exactly these, so a record whose input hash equals
the stored one would give the same draft again: it is not processed, and the store
counts it as seen and unchanged (no write, never removed).

The version fields (SEQUENCE, LAST-MODIFIED) are left out of the hash: no stage reads
them, and the store writes nothing for a record whose content is unchanged whatever its
version says. A UID listed twice in one listing is never skipped (which of its versions
counts is the store's decision), nor is any record of a pipeline without a key (an online
geocoder), a removed record or one stored without fields.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Text, cast, select
from sqlmodel import Session, col

from aggregator.models import SourceRecord
from crawlers.records import RawEvent
from crawlers.source import SourceConfig

RecordKey = tuple[str, str]  # (uid, recurrence id or "")
_VERSION_FIELDS = ("sequence", "last_modified")


def record_key(raw: RawEvent) -> RecordKey:
    """A record's identity within its source."""
    return (raw.uid, raw.recurrence_id or "")


def source_key(pipeline_key: str | None, source: SourceConfig) -> str | None:
    """The key of one source's records: the pipeline's key and the source's configuration."""
    if pipeline_key is None:
        return None
    config = json.dumps(source.model_dump(mode="json"), sort_keys=True, default=str)
    return hashlib.sha256(f"{pipeline_key}\x1f{config}".encode()).hexdigest()


def input_hash(raw: RawEvent, key: str) -> str:
    """The hash of a raw record (without its version fields) under a source key."""
    data = raw.to_dict()
    for name in _VERSION_FIELDS:
        data.pop(name, None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(f"{key}\x1f{text}".encode()).hexdigest()


def stored_input_hashes(*, session: Session, source_id: str) -> dict[RecordKey, str]:
    """The input hashes of a source's live records stored with fields, in one query."""
    rows = session.execute(
        select(
            col(SourceRecord.uid), col(SourceRecord.recurrence_id), col(SourceRecord.input_hash)
        ).where(
            col(SourceRecord.source_id) == source_id,
            col(SourceRecord.removed_at).is_(None),
            col(SourceRecord.input_hash).is_not(None),
            cast(SourceRecord.fields, Text) != "{}",
        )
    ).all()
    return {(uid, recurrence_id): value for uid, recurrence_id, value in rows}


@dataclass(slots=True)
class RecordSkip:
    """Split one listing into records to process and unchanged ones (see the module).

    ``stored`` is :func:`stored_input_hashes` of the source; ``key`` its
    :func:`source_key` (None: nothing is skipped, every record gets no hash).
    After :meth:`split`, ``unchanged`` holds the keys skipped and ``hashes`` the input
    hash of every record to process (what the store writes with it).
    """

    stored: dict[RecordKey, str]
    key: str | None
    unchanged: list[RecordKey] = field(default_factory=list)
    hashes: dict[RecordKey, str] = field(default_factory=dict)

    def split(
        self, records: Iterable[RawEvent], *, listing: Iterable[RawEvent]
    ) -> Iterator[RawEvent]:
        """The records to process, lazily; the unchanged ones are kept in ``unchanged``.

        ``listing`` is the whole listing ``records`` come from (before the budget cuts
        it): a UID it lists twice is never skipped.
        """
        if self.key is None:
            yield from records
            return
        listed = Counter(record_key(raw) for raw in listing)
        for raw in records:
            key = record_key(raw)
            if listed[key] > 1:  # the store picks the newest version of a UID listed twice
                yield raw
                continue
            value = input_hash(raw, self.key)
            if self.stored.get(key) == value:
                self.unchanged.append(key)
                continue
            self.hashes[key] = value
            yield raw
