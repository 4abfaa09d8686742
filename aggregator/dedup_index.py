"""Dedup candidates read through the start-bucket x place-key index of source records.

``dedup.probe`` names the slots a duplicate of a record can sit in; ``fetch_candidates``
reads the live records of other sources in those slots (for many probes in few queries)
and ``best_duplicate`` picks the event among them that ``dedup.same_event`` accepts with
the highest ``match_score``. The cost of a record depends on how many records share its
slots, not on the size of the store.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from aggregator.bulk_sql import table_of
from aggregator.dedup import (
    FINGERPRINT_FIELDS,
    FINGERPRINT_TEXT,
    PLACELESS,
    START_TOLERANCE,
    Fingerprint,
    Probe,
    match_score,
    same_event,
)
from aggregator.models import Event, SourceRecord

BUCKETS_PER_QUERY = 900  # bound parameters of one statement stay far below every limit


@dataclass(frozen=True, slots=True)
class Candidate:
    """A live record of a live event, as dedup compares it."""

    record_id: int
    event_id: str
    source_id: str
    bucket: int
    place: str
    fingerprint: Fingerprint


def _lookups(probes: Iterable[Probe]) -> dict[tuple[str, ...] | None, set[int]]:
    """The buckets to read per group of place keys (None: every key; ``("m:%/o",)``: the
    towns' online records). A town's two keys are read together, the placeless keys once
    for every probe: a few statements of one shape each, whatever the listing's size."""
    wanted: dict[tuple[str, ...] | None, set[int]] = {}
    for one in probes:
        groups: list[tuple[str, ...] | None]
        if one.places is None:
            groups = [None]
        else:
            towns = tuple(sorted(p for p in one.places if p not in PLACELESS))
            groups = [tuple(sorted(PLACELESS & one.places))]
            if towns:
                groups.append(towns)
            if one.coded_online:
                groups.append(CODED_ONLINE)
        for group in groups:
            wanted.setdefault(group, set()).update(one.buckets)
    return wanted


CODED_ONLINE = ("m:%/o",)


@cache
def _statement(shape: str) -> Any:
    """The candidate query of one shape (``all``, ``places`` or ``coded-online``), built
    once: its buckets, places and excluded source are bound parameters."""
    bucket_col, place_col = col(SourceRecord.dedup_bucket), col(SourceRecord.dedup_place)
    conditions: list[ColumnElement[bool]] = [
        col(SourceRecord.removed_at).is_(None),  # the partial index's own condition
        col(Event.removed_at).is_(None),
        col(SourceRecord.source_id) != bindparam("exclude_source"),
        bucket_col.in_(bindparam("buckets", expanding=True)),
    ]
    if shape == "coded-online":
        conditions.append(place_col.like(CODED_ONLINE[0]))
    elif shape == "places":
        conditions.append(place_col.in_(bindparam("places", expanding=True)))
    fields = table_of(SourceRecord).c.fields
    return (
        select(
            col(SourceRecord.id),
            col(SourceRecord.event_id),
            col(SourceRecord.source_id),
            bucket_col,
            place_col,
            # only what Fingerprint.from_fields reads: a few short values a candidate,
            # not its whole fields JSON decoded
            *(fields[name].as_string() for name in FINGERPRINT_TEXT),
            fields["all_day"].as_boolean(),
            fields["sectors"].as_json(),
        )
        .join(Event, col(Event.id) == col(SourceRecord.event_id))
        .where(*conditions)
    )


def _select(
    places: tuple[str, ...] | None, buckets: list[int], exclude_source: str
) -> tuple[Any, dict[str, Any]]:
    params: dict[str, Any] = {"buckets": buckets, "exclude_source": exclude_source}
    if places is None:
        return _statement("all"), params
    if places == CODED_ONLINE:
        return _statement("coded-online"), params
    return _statement("places"), {**params, "places": list(places)}


def fetch_candidates(
    *, session: Session, probes: Collection[Probe], exclude_source: str
) -> list[Candidate]:
    """Live records of live events, not of ``exclude_source``, in the slots of ``probes``.

    May return records that no single probe wants (a town's buckets are read together);
    ``CandidateIndex.for_probe`` keeps each probe to its own slots.
    """
    found: dict[int, Candidate] = {}
    session.flush()  # (what the ORM would flush first; then Core: no ORM result per query)
    connection = session.connection()
    for places, bucket_set in _lookups(probes).items():
        buckets = sorted(bucket_set)
        for at in range(0, len(buckets), BUCKETS_PER_QUERY):
            statement, params = _select(
                places, buckets[at : at + BUCKETS_PER_QUERY], exclude_source
            )
            rows = connection.execute(statement, params)
            for record_id, event_id, source_id, bucket, place, *values in rows:
                fields = dict(zip(FINGERPRINT_FIELDS, values, strict=True))
                if record_id in found or not (fields["start_at"] or fields["start_date"]):
                    continue  # no fields (a record stored before they were kept)
                found[record_id] = Candidate(
                    record_id, event_id, source_id, bucket, place, Fingerprint.from_fields(fields)
                )
    return list(found.values())


def best_duplicate(
    fingerprint: Fingerprint,
    candidates: Iterable[Candidate],
    *,
    own_events: Container[str],
    tolerance: timedelta = START_TOLERANCE,
) -> str | None:
    """The id of the event a record duplicates among ``candidates``, if any.

    Events in ``own_events`` (those the record's source already feeds) are skipped: a
    source does not duplicate itself. Ties go to the higher event id, so the answer does
    not depend on the order of the candidates.
    """
    best: tuple[float, str] | None = None
    for candidate in candidates:
        if candidate.event_id in own_events:
            continue
        if same_event(fingerprint, candidate.fingerprint, tolerance=tolerance):
            score = match_score(fingerprint, candidate.fingerprint)
            if best is None or (score, candidate.event_id) > best:
                best = (score, candidate.event_id)
    return best[1] if best else None


class CandidateIndex:
    """Candidates of many probes read ahead in few queries, then handed out per probe."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        self._by_bucket: dict[int, list[Candidate]] = {}
        for candidate in candidates:
            self._by_bucket.setdefault(candidate.bucket, []).append(candidate)

    @classmethod
    def read(
        cls, *, session: Session, probes: Collection[Probe], exclude_source: str
    ) -> CandidateIndex:
        """Read the candidates of ``probes`` from the store."""
        if not probes:
            return cls(())
        return cls(fetch_candidates(session=session, probes=probes, exclude_source=exclude_source))

    def for_probe(self, one: Probe) -> list[Candidate]:
        """The candidates in the slots of one probe."""
        return [
            candidate
            for bucket in one.buckets
            for candidate in self._by_bucket.get(bucket, ())
            if one.admits(candidate.bucket, candidate.place)
        ]
