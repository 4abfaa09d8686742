"""One query function for the JSON API, the pages and every feed (read only).

Filters OR within a field (``sector=po&sector=vo``) and AND across fields. Full-text search
runs on SQLite FTS5 (table ``event_fts``) or on PostgreSQL ``tsvector`` with the ``dutch``
configuration (column ``event.search_vector``); both are kept in sync by the database itself
(migrations 0002 and 0005), so the query layer only reads them. How a text search is ranked
and read page by page is ``aggregator.fulltext``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, Row, Text, and_, cast, func, or_, text, type_coerce
from sqlalchemy.orm import defer
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from aggregator.config import Regions
from aggregator.distance import EARTH_RADIUS_KM, haversine_km
from aggregator.fulltext import (
    StartRange,
    count_matches,
    count_tiers,
    match_condition,
    match_tiers,
    ranked_ids,
    search_terms,
)
from aggregator.localtime import LOCAL_TZ, local_midnight
from aggregator.models import Event, Source, SourceRecord
from aggregator.proximity import GeoPoint, bounding_box

SortOrder = Literal["date", "distance", "relevance"]


_R = TypeVar("_R")


@dataclass(slots=True)
class EventFilters:
    """Filters shared by every output format (see DESIGN.md, HTTP API contract).

    Tuples are OR-ed within a field; fields are AND-ed. ``region`` is the single-region
    form of ``regions`` (both may be given). ``removed_since`` brings back events removed
    at their source after that moment (calendar exports show them as cancelled).
    """

    q: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    region: str | None = None
    regions: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    phases: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    attendance: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    free: bool | None = None
    near: GeoPoint | None = None
    km: float = 25.0
    plus_online: bool = False  # with near: online and hybrid events count as near
    sort: SortOrder | None = None
    page: int = 1
    per_page: int = 50
    include_cancelled: bool = True
    include_removed: bool = False
    removed_since: datetime | None = None

    def all_regions(self) -> tuple[str, ...]:
        """Every requested region slug (``region`` and ``regions`` together)."""
        return tuple(dict.fromkeys((*((self.region,) if self.region else ()), *self.regions)))

    def effective_sort(self) -> SortOrder:
        """The order asked for, else relevance for a text search and date otherwise."""
        if self.sort:
            return self.sort
        return "relevance" if search_terms(self.q) else "date"


@dataclass(slots=True)
class EventPage:
    """One page of events with their provenance (and distances for a ``near`` search)."""

    items: list[Event]
    total: int
    page: int
    per_page: int
    records: dict[str, list[SourceRecord]] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    distances: dict[str, float] = field(default_factory=dict)


def _json_list_contains(column: Any, values: tuple[str, ...], dialect: str) -> ColumnElement[bool]:
    # The lists are small JSON arrays of slugs; a quoted LIKE is exact, since a slug never
    # contains a double quote. SQLite stores JSON as text (and a CAST would cost a copy per
    # row); PostgreSQL's json type needs the cast to text.
    text_column = cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)
    return or_(*(text_column.like(f'%"{v}"%') for v in values))


def _attendance_values(values: tuple[str, ...]) -> list[str]:
    # A mixed event can be attended either way, so it answers both online and offline.
    wanted = set(values)
    if wanted & {"online", "offline"}:
        wanted.add("mixed")
    return sorted(wanted)


def _distance_expr(point: GeoPoint, lat: Any = None, lon: Any = None) -> ColumnElement[float]:
    """Haversine in SQL (SQLite's math functions, PostgreSQL's built-ins)."""
    lat = col(Event.lat) if lat is None else lat
    lon = col(Event.lon) if lon is None else lon
    rad = func.radians
    a = func.power(func.sin(rad(lat - point.lat) / 2), 2) + func.cos(rad(point.lat)) * func.cos(
        rad(lat)
    ) * func.power(func.sin(rad(lon - point.lon) / 2), 2)
    return (2 * EARTH_RADIUS_KM) * func.asin(func.sqrt(a))


def _near_condition(filters: EventFilters, rows: Any = None) -> ColumnElement[bool]:
    """``near``/``km`` (and ``plus_online``) on the event table, or on ``rows`` (a subquery)."""
    assert filters.near is not None
    lat = col(Event.lat) if rows is None else rows.c.lat
    lon = col(Event.lon) if rows is None else rows.c.lon
    attendance = col(Event.attendance) if rows is None else rows.c.attendance
    south, north, west, east = bounding_box(filters.near, filters.km)
    nearby = and_(
        lat.between(south, north),
        lon.between(west, east),
        _distance_expr(filters.near, lat, lon) <= filters.km,
    )
    if filters.plus_online:
        # "near me, plus what I can join from home"
        nearby = or_(nearby, attendance.in_(("online", "mixed")))
    return nearby


def _conditions(
    filters: EventFilters,
    regions: Regions,
    dialect: str,
    longest: timedelta | None = None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [col(Event.relevant).is_(True)]
    if filters.removed_since is not None:
        conditions.append(
            or_(col(Event.removed_at).is_(None), col(Event.removed_at) >= filters.removed_since)
        )
    elif not filters.include_removed:
        conditions.append(col(Event.removed_at).is_(None))
    if not filters.include_cancelled:
        conditions.append(col(Event.status) != "cancelled")
    if filters.date_from:
        start = local_midnight(filters.date_from)
        conditions.append(func.coalesce(Event.end_at, Event.start_at) >= start)
        if longest is not None:
            # "not ended before the day" is no index range; with the longest duration in
            # the store it implies one on start, which the indexes can use (still exact)
            conditions.append(col(Event.start_at) >= start - longest)
    if filters.date_to:
        conditions.append(col(Event.start_at) < local_midnight(filters.date_to + timedelta(days=1)))
    wanted_regions = filters.all_regions()
    if wanted_regions:
        members: set[str] = set()
        for slug in wanted_regions:
            members |= regions.members(slug)
        region_match = [col(Event.region).in_(wanted_regions)]
        if members:
            region_match.append(col(Event.municipality_code).in_(sorted(members)))
        conditions.append(or_(*region_match))
    if filters.sectors:
        conditions.append(_json_list_contains(Event.sectors, filters.sectors, dialect))
    if filters.phases:
        conditions.append(_json_list_contains(Event.phases, filters.phases, dialect))
    if filters.audiences:
        conditions.append(_json_list_contains(Event.audiences, filters.audiences, dialect))
    if filters.types:
        conditions.append(col(Event.activity_type).in_(filters.types))
    if filters.attendance:
        conditions.append(col(Event.attendance).in_(_attendance_values(filters.attendance)))
    if filters.languages:
        conditions.append(col(Event.language).in_(filters.languages))
    if filters.free is not None:
        conditions.append(col(Event.is_free).is_(filters.free))
    if filters.near is not None:
        conditions.append(_near_condition(filters))
    return conditions


@dataclass(frozen=True, slots=True)
class SearchStatements:
    """The SQL of one search in date or distance order: the ids of a page, and the count.

    The ids query reads only columns of the covering indexes of migration 0002, so
    filtering and ordering never touch the (wide) event rows; ``query_events`` then
    loads just the rows of the page by primary key. Text searches in relevance or date
    order are read tier by tier instead (``aggregator.fulltext``).
    """

    ids: Any
    count: Any


def search_statements(
    *,
    dialect: str,
    filters: EventFilters,
    regions: Regions,
    paginate: bool = True,
    longest: timedelta | None = None,
) -> SearchStatements:
    """Build the date- or distance-ordered statements of a search.

    ``longest`` is the longest event duration in the store (``longest_duration``); given,
    a ``from`` filter also bounds the start, so that date ranges are index ranges.
    """
    conditions = _conditions(filters, regions, dialect, longest)
    terms = search_terms(filters.q)
    if terms:
        conditions.append(match_condition(dialect, terms))
    ids = select(col(Event.id)).where(*conditions)
    count = select(func.count()).select_from(Event).where(*conditions)
    order: list[Any] = []
    if filters.effective_sort() == "distance" and filters.near is not None:
        order.append(_distance_expr(filters.near))
    order += [col(Event.start_at), col(Event.id)]
    ids = ids.order_by(*order)
    if paginate:
        ids = ids.offset((filters.page - 1) * filters.per_page).limit(filters.per_page)
    return SearchStatements(ids=ids, count=count)


NEAR_PROBE_ROWS = (2000, 8000)  # bounds on the upcoming events a near probe reads


def near_probe_statement(
    *, dialect: str, filters: EventFilters, regions: Regions, longest: timedelta | None = None
) -> Any:
    """A date-ordered page of a ``near`` search that reads only the next few thousand events.

    The planner answers ``near`` through the latitude index: every event in a band across
    the country, then a sort. In date order, a page is usually among the next few thousand
    events of the other filters (a 25 km circle holds several percent of all events), read
    in order from the start index. The probe is right whenever it fills its page (the page
    then lies wholly inside the prefix it read); otherwise the caller runs the full query.
    """
    needed = filters.page * filters.per_page
    rows = min(max(40 * needed, NEAR_PROBE_ROWS[0]), NEAR_PROBE_ROWS[1])
    others = _conditions(replace(filters, near=None), regions, dialect, longest)
    prefix = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() up to four columns
            col(Event.id),
            col(Event.start_at),
            col(Event.lat),
            col(Event.lon),
            col(Event.attendance),
        )
        .where(*others)
        .order_by(col(Event.start_at), col(Event.id))
        .limit(rows)
        .subquery("upcoming")
    )
    return (
        select(prefix.c.id)
        .where(_near_condition(filters, prefix))
        .order_by(prefix.c.start_at, prefix.c.id)
        .offset((filters.page - 1) * filters.per_page)
        .limit(filters.per_page)
    )


def start_range(filters: EventFilters, longest: timedelta | None) -> StartRange:
    """The start bounds the date filters imply (``from`` only with the longest duration)."""
    lo = local_midnight(filters.date_from) - longest if filters.date_from and longest else None
    hi = local_midnight(filters.date_to + timedelta(days=1)) if filters.date_to else None
    return StartRange(lo=lo, hi=hi)


@dataclass(slots=True)
class PageIds:
    """The ordered event ids of one page and the number of all matches."""

    ids: list[str]
    total: int


CountsLookup = Callable[[Callable[[], tuple[int, ...]]], tuple[int, ...]]


def _count_now(count: Callable[[], tuple[int, ...]]) -> tuple[int, ...]:
    return count()


def select_page(
    connection: Connection,
    *,
    filters: EventFilters,
    regions: Regions,
    longest: timedelta | None = None,
    paginate: bool = True,
    counts: CountsLookup = _count_now,
) -> PageIds:
    """Run a search: the ids of its page in order, and its total.

    ``counts`` receives the function that counts the matches (per relevance tier on
    PostgreSQL) and may answer from a cache instead; the default counts every time.
    A short page needs no count: it is the last one.
    """
    dialect = connection.dialect.name
    offset = (filters.page - 1) * filters.per_page if paginate else 0
    limit = filters.per_page if paginate else None
    terms = search_terms(filters.q)
    sort = filters.effective_sort()
    if terms and sort in ("relevance", "date"):
        conditions = _conditions(filters, regions, dialect, longest)
        tiers = match_tiers(terms, ranked=sort == "relevance")
        # PostgreSQL sizes its start windows by the matches of each tier: count first
        tier_counts = (
            counts(lambda: count_tiers(connection, terms, tiers, conditions))
            if dialect == "postgresql"
            else None
        )
        ids = ranked_ids(
            connection,
            terms,
            tiers,
            conditions,
            start_range(filters, longest),
            offset=offset,
            limit=limit,
            counts=tier_counts,
        )
        if tier_counts is not None:
            return PageIds(ids=ids, total=sum(tier_counts))

        def count() -> tuple[int, ...]:
            return (count_matches(connection, terms, conditions),)
    else:
        statements = search_statements(
            dialect=dialect, filters=filters, regions=regions, paginate=paginate, longest=longest
        )
        ids = []
        if paginate and sort == "date" and filters.near is not None:
            probe = near_probe_statement(
                dialect=dialect, filters=filters, regions=regions, longest=longest
            )
            ids = list(connection.execute(probe).scalars())
        if len(ids) < filters.per_page:  # no probe, or a short one: the full query decides
            ids = list(connection.execute(statements.ids).scalars())

        def count() -> tuple[int, ...]:
            return (int(connection.execute(statements.count).scalar_one()),)

    if limit is None or 0 < len(ids) < limit or (not ids and offset == 0):
        return PageIds(ids=ids, total=offset + len(ids))
    return PageIds(ids=ids, total=sum(counts(count)))


def query_events(
    *,
    session: Session,
    filters: EventFilters,
    regions: Regions,
    paginate: bool = True,
    version: int | None = None,
) -> EventPage:
    """Return the matching events with their records, ordered by ``filters.effective_sort()``.

    With ``paginate=False`` every match is returned (calendar exports and feeds).
    Ties are broken by start, then id, so pages never overlap. ``version`` is the store
    version the caller read already (``StoreSnapshot``); else it is read here.
    """
    found = matching_ids(
        session=session, filters=filters, regions=regions, paginate=paginate, version=version
    )
    return load_page(session=session, ids=found.ids, total=found.total, filters=filters)


def matching_ids(
    *,
    session: Session,
    filters: EventFilters,
    regions: Regions,
    paginate: bool = True,
    version: int | None = None,
) -> PageIds:
    """The ordered ids of the events matching ``filters`` (one page, or all) and their
    total, with totals cached per store version."""
    if version is None:
        version = publish_version(session=session)
    connection = session.connection()

    def cached_counts(count: Callable[[], tuple[int, ...]]) -> tuple[int, ...]:
        return _TOTALS.counts(connection, version, filters, regions, count)

    return select_page(
        connection,
        filters=filters,
        regions=regions,
        longest=longest_duration(session=session, version=version) if filters.date_from else None,
        paginate=paginate,
        counts=cached_counts,
    )


def load_page(
    *, session: Session, ids: list[str], total: int, filters: EventFilters | None = None
) -> EventPage:
    """The events of ``ids`` (in that order) with their provenance, as one page.

    ``filters`` gives the page numbers and, with ``near``, each event's distance.
    """
    filters = filters or EventFilters(per_page=max(len(ids), 1))
    by_id: dict[str, Event] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for event in session.exec(select(Event).where(col(Event.id).in_(chunk))):
            by_id[event.id] = event
    items = [by_id[i] for i in ids if i in by_id]
    distances: dict[str, float] = {}
    if filters.near is not None:
        for event in items:
            if event.lat is not None and event.lon is not None:
                distances[event.id] = round(
                    haversine_km(filters.near.lat, filters.near.lon, event.lat, event.lon), 2
                )
    page = EventPage(
        items=items,
        total=total,
        page=filters.page,
        per_page=filters.per_page,
        distances=distances,
    )
    attach_provenance(session=session, page=page)
    return page


@dataclass(frozen=True, slots=True)
class EventStamp:
    """What decides an event's rendering, without loading it: its version and provenance.

    ``last_modified`` and ``sequence`` change with every visible change of the event (the
    store bumps SEQUENCE on each, and on removal); ``provenance`` names the source and URL
    of each record its "Bron:" line is made of (live records, or all when none is live).
    """

    id: str
    last_modified: datetime
    sequence: int
    provenance: tuple[tuple[str, str | None], ...]


def event_stamps(
    *, session: Session, filters: EventFilters, regions: Regions, version: int | None = None
) -> list[EventStamp]:
    """The stamps of every event matching ``filters``, in the export's order.

    Two narrow queries instead of loading each event: an export can then reuse what it
    rendered before for every event whose stamp is unchanged (``feeds.ical_export``).
    """
    stamps, _ = stamped_rows(session=session, filters=filters, regions=regions, version=version)
    return stamps


def stamped_rows(
    *,
    session: Session,
    filters: EventFilters,
    regions: Regions,
    version: int | None = None,
    columns: Sequence[Any] = (),
) -> tuple[list[EventStamp], dict[str, Row[Any]]]:
    """The stamps of every event matching ``filters`` (as ``event_stamps``) and, read in
    the same pass, each event's ``columns`` of the event table as plain rows by id
    (``columns`` include ``id``, ``last_modified`` and ``sequence``).

    What an export that has rendered nothing yet reads: the stamps key what it renders,
    the rows are what it renders from, without building ORM objects.
    """
    found = matching_ids(
        session=session, filters=filters, regions=regions, paginate=False, version=version
    )
    connection = session.connection()
    versions: dict[str, tuple[datetime, int]] = {}
    rows: dict[str, Row[Any]] = {}
    records: dict[str, list[tuple[str, str | None, bool]]] = {}
    selected = columns or (col(Event.id), col(Event.last_modified), col(Event.sequence))
    for start in range(0, len(found.ids), 2000):
        chunk = found.ids[start : start + 2000]
        among = col(Event.id).in_(chunk)
        for row in connection.execute(select(*selected).where(among)):
            versions[row.id] = (row.last_modified, row.sequence)
            if columns:
                rows[row.id] = row
        for event_id, source_id, url, removed_at in connection.execute(
            select(
                SourceRecord.event_id,
                SourceRecord.source_id,
                SourceRecord.url,
                SourceRecord.removed_at,
            )
            .where(col(SourceRecord.event_id).in_(chunk))
            .order_by(col(SourceRecord.first_seen), col(SourceRecord.id))
        ):
            records.setdefault(event_id, []).append((source_id, url, removed_at is None))
    stamps = []
    for event_id in found.ids:
        if event_id not in versions:
            continue
        modified, sequence = versions[event_id]
        kept = records.get(event_id, [])
        shown = live_or_all(kept, lambda record: record[2])
        provenance = tuple((source, url) for source, url, _ in shown)
        stamps.append(EventStamp(event_id, modified, int(sequence), provenance))
    return stamps, rows


def event_rows(*, session: Session, ids: list[str], columns: Sequence[Any]) -> dict[str, Row[Any]]:
    """The ``columns`` of the events of ``ids`` as plain rows by id (no ORM objects);
    ``columns`` include ``id``."""
    connection = session.connection()
    rows: dict[str, Row[Any]] = {}
    for start in range(0, len(ids), 2000):
        among = col(Event.id).in_(ids[start : start + 2000])
        for row in connection.execute(select(*columns).where(among)):
            rows[row.id] = row
    return rows


def live_or_all(records: list[_R], is_live: Callable[[_R], bool]) -> list[_R]:
    """An event's live records, or all of them when none is live: an event removed at
    every source keeps its last records, so its provenance still shows."""
    return [record for record in records if is_live(record)] or records


def attach_provenance(*, session: Session, page: EventPage) -> None:
    """Load the live source records (and their sources) of the events on a page.

    An event removed at every source keeps its last records, so its provenance still shows.
    """
    ids = [e.id for e in page.items]
    if not ids:
        return
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        records = session.exec(
            select(SourceRecord)
            # a record's merge input (``fields``) can be large, and no publisher reads it:
            # decoding its JSON was a third of a page's time
            .options(defer(SourceRecord.fields))  # type: ignore[arg-type]
            .where(col(SourceRecord.event_id).in_(chunk))
            .order_by(col(SourceRecord.first_seen), col(SourceRecord.id))
        )
        for record in records:
            page.records.setdefault(record.event_id, []).append(record)
    for event_id, kept in page.records.items():
        page.records[event_id] = live_or_all(kept, lambda record: record.removed_at is None)
    source_ids = {r.source_id for rs in page.records.values() for r in rs}
    if source_ids:
        for source in session.exec(select(Source).where(col(Source.id).in_(source_ids))):
            page.sources[source.id] = source


def get_event(*, session: Session, event_id: str) -> EventPage | None:
    """Return one event (removed ones included, so links keep working) with provenance."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    page = EventPage(items=[event], total=1, page=1, per_page=1)
    attach_provenance(session=session, page=page)
    return page


def publish_version(*, session: Session) -> int:
    """The store's write counter (raised by triggers on every write; migration 0002).

    Equal versions mean nothing was written in between, so a change marker computed at
    one version still holds; a different version only means "recompute".
    """
    statement = text("SELECT version FROM publish_state WHERE id = 1")
    return int(session.execute(statement).scalar_one())


class TotalCache:
    """Match counts of searches per store version: paging or re-running a search skips them.

    The key holds the ``publish_state`` version (raised by triggers on every write), so a
    cached count is never served after a write; the filters apart from the page and the
    region definitions complete it. The order only matters for text searches on
    PostgreSQL, whose counts are per relevance tier.
    """

    def __init__(self, max_items: int = 2048) -> None:
        self.max_items = max_items
        self._items: OrderedDict[tuple[Any, ...], tuple[Regions, tuple[int, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(
        connection: Connection, version: int, filters: EventFilters, regions: Regions
    ) -> tuple[Any, ...]:
        url = connection.engine.url.render_as_string(hide_password=True)
        fields = replace(filters, page=1, per_page=1, sort=None)
        return (url, version, id(regions), filters.effective_sort() == "relevance", repr(fields))

    def get(
        self, connection: Connection, version: int, filters: EventFilters, regions: Regions
    ) -> tuple[int, ...] | None:
        """The counts taken for these filters at this version, if any."""
        key = self._key(connection, version, filters, regions)
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] is not regions:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def counts(
        self,
        connection: Connection,
        version: int,
        filters: EventFilters,
        regions: Regions,
        count: Callable[[], tuple[int, ...]],
    ) -> tuple[int, ...]:
        """The cached counts for these filters at this version, else ``count()`` kept."""
        known = self.get(connection, version, filters, regions)
        if known is None:
            known = count()
            self.put(connection, version, filters, regions, known)
        return known

    def put(
        self,
        connection: Connection,
        version: int,
        filters: EventFilters,
        regions: Regions,
        counts: tuple[int, ...],
    ) -> None:
        """Remember counts (the regions object is kept, so its id cannot be reused)."""
        with self._lock:
            self._items[self._key(connection, version, filters, regions)] = (regions, counts)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)


_TOTALS = TotalCache()

_LONGEST_SQL = {
    "sqlite": "SELECT max(julianday(end_at) - julianday(start_at)) FROM event "
    "WHERE end_at IS NOT NULL",
    "postgresql": "SELECT max(extract(epoch FROM end_at - start_at)) / 86400.0 FROM event "
    "WHERE end_at IS NOT NULL",
}
_longest_cache: dict[tuple[str, int], timedelta] = {}


def longest_duration(*, session: Session, version: int | None = None) -> timedelta:
    """The longest event duration in the store (a minute of margin), per store version.

    One scan of a covering index after each write; in between, one primary-key read
    (none when the caller read ``version`` already).
    """
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if version is None:
        version = publish_version(session=session)
    key = (engine.url.render_as_string(hide_password=True), version)
    if key not in _longest_cache:
        days = session.execute(text(_LONGEST_SQL[bind.dialect.name])).scalar()
        if len(_longest_cache) > 64:
            _longest_cache.clear()
        _longest_cache[key] = timedelta(days=float(days or 0)) + timedelta(minutes=1)
    return _longest_cache[key]


def change_marker(
    *, session: Session, filters: EventFilters, regions: Regions, version: int | None = None
) -> tuple[Any, ...]:
    """A cheap validator for exports: changes whenever the rendered output could change.

    Count, newest ``last_modified`` and the sum of ``sequence`` of the matching events catch
    new, updated and removed events: the store bumps SEQUENCE on every visible change and on
    removal (so a change is seen even when its timestamp is not the newest), and an event
    entering or leaving the filter changes the count. The last successful harvest day of
    each source covers the "Bron:" lines, which name that day. ``version``: as for
    ``query_events``.
    """
    dialect = session.get_bind().dialect.name
    longest = longest_duration(session=session, version=version) if filters.date_from else None
    conditions = _conditions(filters, regions, dialect, longest)
    count_events = select(
        func.count(), func.max(Event.last_modified), func.coalesce(func.sum(Event.sequence), 0)
    ).select_from(Event)
    terms = search_terms(filters.q)
    if terms:
        conditions.append(match_condition(dialect, terms))
    count, newest, sequences = session.exec(count_events.where(*conditions)).one()  # type: ignore[call-overload]
    harvest_days = tuple(
        (source_id, success.astimezone(LOCAL_TZ).date().isoformat() if success else None)
        for source_id, success in session.exec(
            select(Source.id, Source.last_success_at).order_by(col(Source.id))
        )
    )
    return int(count), newest.isoformat() if newest else None, int(sequences), harvest_days


class StoreSnapshot:
    """What one request reads from the store: one session, the store version read once.

    Every read of the request (validator, page of events, one event) goes through it, so
    the version that keys the caches is read a single time. On PostgreSQL the session
    runs in a REPEATABLE READ transaction, so all its reads see the same committed state;
    SQLite reads each statement at the latest state (the version still keys the caches).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        self._version: int | None = None

    @property
    def version(self) -> int:
        """The store version (``publish_version``), read on first use."""
        if self._version is None:
            self._version = publish_version(session=self.session)
        return self._version

    def events(
        self, filters: EventFilters, regions: Regions, *, paginate: bool = True
    ) -> EventPage:
        """The page of events matching ``filters`` (``query_events``)."""
        return query_events(
            session=self.session,
            filters=filters,
            regions=regions,
            paginate=paginate,
            version=self.version,
        )

    def stamps(self, filters: EventFilters, regions: Regions) -> list[EventStamp]:
        """The stamps of the events matching ``filters`` (``event_stamps``)."""
        return event_stamps(
            session=self.session, filters=filters, regions=regions, version=self.version
        )

    def stamped_rows(
        self, filters: EventFilters, regions: Regions, columns: Sequence[Any]
    ) -> tuple[list[EventStamp], dict[str, Row[Any]]]:
        """The stamps and the ``columns`` of the events matching ``filters``, in one pass
        (``stamped_rows``)."""
        return stamped_rows(
            session=self.session,
            filters=filters,
            regions=regions,
            version=self.version,
            columns=columns,
        )

    def event_rows(self, ids: list[str], columns: Sequence[Any]) -> dict[str, Row[Any]]:
        """The ``columns`` of the events of ``ids`` by id (``event_rows``)."""
        return event_rows(session=self.session, ids=ids, columns=columns)

    def events_by_id(self, ids: list[str]) -> EventPage:
        """The events of ``ids`` with their provenance, in that order (``load_page``)."""
        return load_page(session=self.session, ids=ids, total=len(ids))

    def source_names(self) -> dict[str, tuple[str, str, datetime | None]]:
        """Every source's name, page and last successful harvest, by id (a few hundred
        narrow rows: what a "Bron:" line names)."""
        rows = self.session.connection().execute(
            select(Source.id, Source.name, Source.url, Source.last_success_at)
        )
        return {source_id: (name, url, success) for source_id, name, url, success in rows}

    def event(self, event_id: str) -> EventPage | None:
        """One event with its provenance (``get_event``), or None."""
        return get_event(session=self.session, event_id=event_id)

    def marker(self, filters: EventFilters, regions: Regions) -> tuple[Any, ...]:
        """The change marker of the events matching ``filters`` (``change_marker``)."""
        return change_marker(
            session=self.session, filters=filters, regions=regions, version=self.version
        )


def filter_conditions(
    filters: EventFilters, regions: Regions, dialect: str
) -> list[ColumnElement[bool]]:
    """The WHERE conditions of ``filters`` on the event table (for reads other than a page
    of events, such as the coverage counts), the same the event query applies."""
    return _conditions(filters, regions, dialect)
