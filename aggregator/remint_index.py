"""Vanished records of a source by exact start and municipality, for ``dedup.is_reminted``.

Some producers mint a new UID on every export. A new UID is matched against the records
of its source that vanished in the same harvest; only those with the same start and the
same municipality can match, so each new record looks at its own slot, never at all of
them (a listing re-exported whole would otherwise cost its length squared).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Generic, TypeVar

from sqlmodel import Session, col, select

from aggregator.bulk_sql import chunks
from aggregator.dedup import Fingerprint, is_reminted
from aggregator.models import SourceRecord

Record = TypeVar("Record")
Key = tuple[str, str]


class RemintIndex(Generic[Record]):
    """Vanished records with their fingerprints, by slot; each can be taken once."""

    def __init__(self, entries: dict[Key, tuple[Record, Fingerprint]]) -> None:
        self._entries = entries
        self._slots: dict[tuple[bool, date, str | None], list[Key]] = {}
        for key in sorted(entries):
            self._slots.setdefault(_slot(entries[key][1]), []).append(key)

    @classmethod
    def read(
        cls, *, session: Session, vanished: dict[Key, tuple[int | None, Record]]
    ) -> RemintIndex[Record]:
        """Read the fields of the vanished records (given by key as ``(id, record)``)."""
        by_id = {record_id: key for key, (record_id, _) in vanished.items() if record_id}
        entries: dict[Key, tuple[Record, Fingerprint]] = {}
        for chunk in chunks(by_id):
            rows = session.execute(
                select(col(SourceRecord.id), col(SourceRecord.fields)).where(
                    col(SourceRecord.id).in_(chunk)
                )
            )
            for record_id, fields in rows:
                key = by_id[record_id]
                entries[key] = (vanished[key][1], Fingerprint.from_fields(fields))
        return cls(entries)

    def take(self, new: Fingerprint) -> Record | None:
        """The first vanished record (by identity) that ``new`` re-mints; it is used up."""
        keys = self._slots.get(_slot(new), [])
        for at, key in enumerate(keys):
            record, old = self._entries[key]
            if is_reminted(old, new):
                del keys[at]
                del self._entries[key]
                return record
        return None


def _slot(fp: Fingerprint) -> tuple[bool, date, str | None]:
    start = fp.start
    if isinstance(start, datetime):
        return True, start.astimezone(UTC), fp.municipality_code
    return False, start, fp.municipality_code
