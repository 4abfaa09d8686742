"""Deduplication: decide whether two records describe the same real-world event.

The same activity often appears in a college's iCal, a regional feed and a national page,
with different titles ("Voorlichting zij-instroom PO – Groningen" and "Informatieavond
zij-instroom basisonderwijs"). Two records are the same event when

* they start at the same moment, within ``START_TOLERANCE`` (all-day: the same date);
* their places agree: the same municipality; or, when a place is missing, the same
  organiser, or both online (or mixed), or a title nearly the same as the other's;
* and what they are agrees: nearly the same title (rapidfuzz ``token_set_ratio`` at least
  ``TITLE_SAME``), or the same activity type with compatible sectors and a title at least
  ``TITLE_RELATED`` alike.

Two events with one title on one day in different towns stay apart, and so do two
webinars half an hour apart. Dedup marks, never deletes: records are linked to one
canonical event; which record supplies each field is ``record_rank`` (see there).

Candidates are found by an index, not by reading a whole day: every record carries its
``start_bucket`` (``START_TOLERANCE``-wide slots of its start; an all-day record its date)
and its ``place_key`` (municipality, or the kind of placeless record), and ``probe`` says
which slots and place keys can hold a record that ``same_event`` might accept. A record in
Zwolle at 19:00 is compared with the records of Zwolle and the placeless ones between
18:40 and 19:20, never with the rest of the country.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from aggregator.gazetteer import fold

START_TOLERANCE = timedelta(minutes=20)
TITLE_SAME = 85.0
TITLE_RELATED = 45.0
# a re-exported record (new UID, same content) of a source is the same record
TITLE_REMINT = 90.0
NATIONAL_REGION = "landelijk"
BUCKET_SECONDS = int(START_TOLERANCE.total_seconds())  # width of a start bucket
ONLINE = frozenset({"online", "mixed"})
PLACELESS = frozenset({"online", "mixed", "none"})  # place keys of records without a town


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What dedup compares of one record."""

    title: str
    start: datetime | date
    municipality_code: str | None = None
    attendance: str | None = None
    activity_type: str | None = None
    sectors: frozenset[str] = field(default_factory=frozenset)
    location: str | None = None
    organizer: str | None = None

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Fingerprint:
        """Build from stored record fields (``store.record_fields``)."""
        if fields.get("all_day") and fields.get("start_date"):
            start: datetime | date = date.fromisoformat(fields["start_date"])
        else:
            start = datetime.fromisoformat(fields["start_at"])
        return cls(
            title=fields.get("title") or "",
            start=start,
            municipality_code=fields.get("municipality_code"),
            attendance=fields.get("attendance"),
            activity_type=fields.get("activity_type"),
            sectors=frozenset(fields.get("sectors") or ()),
            location=fields.get("location_name"),
            organizer=fields.get("organizer_name"),
        )


# the record fields Fingerprint.from_fields reads: text values, then a flag and a list
# (aggregator.dedup_index extracts only these from a candidate's stored fields)
FINGERPRINT_TEXT = (
    "title",
    "start_at",
    "start_date",
    "municipality_code",
    "attendance",
    "activity_type",
    "location_name",
    "organizer_name",
)
FINGERPRINT_FIELDS = (*FINGERPRINT_TEXT, "all_day", "sectors")


@lru_cache(maxsize=65536)
def title_key(title: str) -> str:
    """A title folded for comparison: lowercase ASCII words, no punctuation or emoji.

    Cached: a listing compares each title with every candidate of its slot.
    """
    return fold(title)


def title_similarity(a: str, b: str) -> float:
    """0-100: how alike two titles are, word order and extra words forgiven."""
    return float(fuzz.token_set_ratio(title_key(a), title_key(b)))


def same_start(a: datetime | date, b: datetime | date, tolerance: timedelta) -> bool:
    """Whether two starts are the same moment (timed) or the same day (all-day)."""
    a_timed, b_timed = isinstance(a, datetime), isinstance(b, datetime)
    if a_timed and b_timed:
        return abs(a - b) <= tolerance  # type: ignore[operator]
    if not a_timed and not b_timed:
        return a == b
    return False


def _online(fp: Fingerprint) -> bool:
    return fp.attendance in ONLINE


def places_agree(a: Fingerprint, b: Fingerprint, similarity: float) -> bool:
    """Whether the two records can take place at the same place."""
    if a.municipality_code and b.municipality_code:
        return a.municipality_code == b.municipality_code
    if a.organizer and b.organizer and fold(a.organizer) == fold(b.organizer):
        return _online(a) == _online(b)  # one organiser, one time: one place
    if not a.municipality_code and not b.municipality_code:
        return (_online(a) and _online(b)) or similarity >= TITLE_SAME
    placeless = a if not a.municipality_code else b
    if placeless.attendance == "online":
        return False  # an online-only record against one with a place
    return similarity >= TITLE_SAME


def same_event(a: Fingerprint, b: Fingerprint, *, tolerance: timedelta = START_TOLERANCE) -> bool:
    """Whether two records from different sources describe one real-world event."""
    if not same_start(a.start, b.start, tolerance):
        return False
    similarity = title_similarity(a.title, b.title)
    if not places_agree(a, b, similarity):
        return False
    if similarity >= TITLE_SAME:
        return True
    same_kind = (
        a.activity_type is not None
        and a.activity_type == b.activity_type
        and a.activity_type != "overig"
    )
    sectors_fit = not a.sectors or not b.sectors or bool(a.sectors & b.sectors)
    return same_kind and sectors_fit and similarity >= TITLE_RELATED


def match_score(a: Fingerprint, b: Fingerprint) -> float:
    """How strongly two matching records agree (to choose among several candidates)."""
    return title_similarity(a.title, b.title) + (
        20.0 if a.municipality_code and a.municipality_code == b.municipality_code else 0.0
    )


def is_reminted(old: Fingerprint, new: Fingerprint) -> bool:
    """Whether a new record of a source is a vanished record of it under a new UID.

    Some producers mint a new UID on every export: same start, (nearly) the same title and
    the same place mean the same record, not a removal plus an addition.
    """
    if not same_start(old.start, new.start, timedelta(0)):
        return False
    if old.municipality_code != new.municipality_code:
        return False
    return title_similarity(old.title, new.title) >= TITLE_REMINT


def record_rank(
    *, source_region: str | None, fields: dict[str, Any], source_id: str, uid: str
) -> tuple[int, int, str, str]:
    """Sort key (lower wins) deciding which record of an event supplies its fields.

    1. The organiser's own or a regional source beats a national aggregator
       (a source whose region is ``landelijk``).
    2. The more specific record beats the less: points for a postcode, a municipality,
       an end time, a description, a registration link and an organiser.
    3. Ties go to the source id and UID, so the result never depends on harvest order.

    Per field, the best-ranked record that has a value supplies it, so a national page
    may still add the registration link a regional feed lacks.
    """
    national = 1 if source_region == NATIONAL_REGION else 0
    specific = sum(
        bool(fields.get(name))
        for name in (
            "postcode",
            "municipality_code",
            "end_at",
            "description",
            "registration_url",
            "organizer_name",
        )
    )
    return (national, -specific, source_id, uid)


def start_bucket(start: datetime | date) -> int:
    """The index slot of a start: ``BUCKET_SECONDS`` slots of UTC time, or minus the date's
    ordinal for an all-day start (so timed and all-day starts never share a slot)."""
    if isinstance(start, datetime):
        return math.floor(start.timestamp() / BUCKET_SECONDS)
    return -start.toordinal()


def place_key(fp: Fingerprint) -> str:
    """The index key of a record's place: ``m:<code>`` (``m:<code>/o`` when it is online or
    mixed too), else ``online``, ``mixed`` or ``none`` (offline, place unknown)."""
    if fp.municipality_code:
        suffix = "/o" if _online(fp) else ""
        return f"m:{fp.municipality_code}{suffix}"
    if fp.attendance in ONLINE:
        return str(fp.attendance)
    return "none"


def is_coded_online(key: str) -> bool:
    """Whether a place key is that of a record with a municipality that is online too."""
    return key.startswith("m:") and key.endswith("/o")


def slot_of(fields: dict[str, Any]) -> tuple[int | None, str | None]:
    """``(start_bucket, place_key)`` of stored record fields; ``(None, None)`` without fields."""
    if not fields or not (fields.get("start_at") or fields.get("start_date")):
        return None, None
    fp = Fingerprint.from_fields(fields)
    return start_bucket(fp.start), place_key(fp)


@dataclass(frozen=True, slots=True)
class Probe:
    """Where the records that ``same_event`` might accept for one fingerprint are indexed.

    ``places`` None means every place key; ``coded_online`` adds every ``m:<code>/o`` key
    (an online record with an organiser matches those through the organiser).
    """

    buckets: tuple[int, ...]
    places: frozenset[str] | None
    coded_online: bool = False

    def admits(self, bucket: int, place: str) -> bool:
        """Whether an indexed record at ``(bucket, place)`` is a candidate."""
        if bucket not in self.buckets:
            return False
        if self.places is None or place in self.places:
            return True
        return self.coded_online and is_coded_online(place)


def probe(fp: Fingerprint, *, tolerance: timedelta = START_TOLERANCE) -> Probe:
    """The slots and place keys that can hold a duplicate of ``fp`` (see ``places_agree``).

    * with a municipality: that municipality (offline or online) and the placeless keys
      (``online`` only when it is online or mixed too); another municipality never agrees;
    * online without one: the placeless keys, plus towns' online records when it names an
      organiser (the same organiser stands in for the place);
    * mixed or offline without one: every key (a nearly equal title is enough).
    """
    if isinstance(fp.start, datetime):
        moment = fp.start.timestamp()
        span = tolerance.total_seconds()
        low = math.floor((moment - span) / BUCKET_SECONDS)
        high = math.floor((moment + span) / BUCKET_SECONDS)
        buckets = tuple(range(low, high + 1))
    else:
        buckets = (start_bucket(fp.start),)
    if fp.municipality_code:
        code = fp.municipality_code
        # an online-only record without a town agrees only through the same organiser,
        # and then only with a record that is online too
        placeless = PLACELESS if _online(fp) else PLACELESS - {"online"}
        return Probe(buckets, frozenset({f"m:{code}", f"m:{code}/o"}) | placeless)
    if fp.attendance == "online":
        return Probe(buckets, PLACELESS, coded_online=bool(fp.organizer))
    return Probe(buckets, None)
