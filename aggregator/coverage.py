"""Coverage: how many upcoming activities each region has, per sector, type and month, and
where the gaps are (the national desk's planning view).

Vocabulary
    A *cell* is (region, sector, type, month): the number of events of that activity type
    for that sector starting in that (local) month in that region. ``ANY`` in a position
    sums over it, counting each event once (an event for po and vo counts once in
    ``(r, ANY, t, m)`` and once in each of ``(r, "po", t, m)`` and ``(r, "vo", t, m)``).
    Events without sectors count under the sector ``""`` (unknown), events without a type
    under the type ``""``; both only in the sums and in their own cells.

    An event's *row* is its region: the region of its municipality (the first partition
    region listing it, ``Regions.home_of``), else the region it was given (a source's
    default, ``landelijk`` for national and online ones). In a per-region view every event
    the region filter matches (composite regions by membership) is in that region's row.

    A *gap* is a run of consecutive months without any event for a (region, sector, type).
    Gaps are summarised from the top: a region with nothing in the window is one gap
    (sector and type ``ANY``); a sector with nothing in a region is one gap (type ``ANY``);
    else, when types are asked for, one gap per run of empty months per type that starts
    the period ("no meeloopdag for vo in Twente before March"), ends it ("none after
    April") or lasts at least ``MIN_INNER_GAP`` months in between: one quiet month amid
    activities is no planning gap. The type ``overig`` (other) is never reported as a gap:
    "no other activities" tells the desk nothing.

Cancelled and removed events do not count; the period starts at ``since`` (today on the
pages) and runs to the end of the last month.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby

from sqlalchemy import Text, case, cast, func, type_coerce
from sqlalchemy import select as sql_select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from aggregator.config import Regions, Taxonomy
from aggregator.localtime import local_midnight
from aggregator.models import Event
from aggregator.query import EventFilters, filter_conditions

ANY = "*"
MAX_MONTHS = 24
NOT_A_GAP_TYPES = frozenset({"overig"})
MIN_INNER_GAP = 2


def month_start(day: date) -> date:
    """The first day of the month of ``day``."""
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month ``count`` months after ``month``."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of months ``first`` to ``last`` (both first days of a month) without events.

    ``sector`` or ``activity_type`` is ``ANY`` when the gap holds for all of them;
    ``whole`` is true when the run is the whole period, ``leading`` when it starts at
    the period's first month (so "none before ``last``'s next month"), ``trailing`` when
    it ends at the period's last month ("none after the month before ``first``").
    """

    region: str
    sector: str
    activity_type: str
    first: date
    last: date
    whole: bool
    leading: bool
    trailing: bool


@dataclass(slots=True)
class Coverage:
    """The counts of one coverage view and the gaps in them."""

    months: list[date]
    rows: list[str]
    sectors: list[str]
    types: list[str]
    counts: Counter[tuple[str, str, str, date]] = field(default_factory=Counter)
    events: int = 0

    def count(
        self,
        region: str = ANY,
        sector: str = ANY,
        activity_type: str = ANY,
        month: date | None = None,
    ) -> int:
        """The events of a cell (``ANY`` or None sums over that position, each event once)."""
        if month is None:
            return sum(self.counts[(region, sector, activity_type, m)] for m in self.months)
        return self.counts[(region, sector, activity_type, month)]

    def gaps(self, *, by_type: bool = True) -> list[Gap]:
        """The gaps of every row, summarised from the top (see the module docstring);
        without ``by_type`` only those of whole regions and of sectors in a region."""
        found: list[Gap] = []
        for region in self.rows:
            if self.count(region) == 0:
                found.append(self._gap(region, ANY, ANY, self.months))
                continue
            for sector in self.sectors:
                if self.count(region, sector) == 0:
                    found.append(self._gap(region, sector, ANY, self.months))
                    continue
                if not by_type:
                    continue
                for activity_type in self.types:
                    if activity_type in NOT_A_GAP_TYPES:
                        continue
                    empty = [
                        m for m in self.months if self.count(region, sector, activity_type, m) == 0
                    ]
                    for run in self._runs(empty):
                        gap = self._gap(region, sector, activity_type, run)
                        if gap.leading or gap.trailing or len(run) >= MIN_INNER_GAP:
                            found.append(gap)
        return found

    def _runs(self, empty: list[date]) -> list[list[date]]:
        """Consecutive months of ``empty`` (a sorted subset of ``months``) grouped in runs."""
        position = {m: i for i, m in enumerate(self.months)}
        return [
            [m for _, m in run]
            for _, run in groupby(enumerate(empty), key=lambda pair: position[pair[1]] - pair[0])
        ]

    def _gap(self, region: str, sector: str, activity_type: str, run: list[date]) -> Gap:
        return Gap(
            region=region,
            sector=sector,
            activity_type=activity_type,
            first=run[0],
            last=run[-1],
            whole=len(run) == len(self.months),
            leading=run[0] == self.months[0],
            trailing=run[-1] == self.months[-1],
        )


def _month_index(period: list[date]) -> ColumnElement[int]:
    """SQL: the index in ``period`` of the (local) month an event starts in, -1 before it.

    All-day events start at local midnight of their first day, so one comparison of
    ``start_at`` with each month's local start serves both kinds.
    """
    bounds = [local_midnight(m) for m in period[1:]]
    whens = [(col(Event.start_at) < local_midnight(period[0]), -1)]
    whens += [(col(Event.start_at) < bound, i) for i, bound in enumerate(bounds)]
    return case(*whens, else_=len(period) - 1)


def _sectors_text(dialect: str) -> ColumnElement[str]:
    # the JSON list as its text, to group by (PostgreSQL's json type needs the cast)
    column = col(Event.sectors)
    return cast(column, Text) if dialect == "postgresql" else type_coerce(column, Text)


def _default_rows(regions: Regions) -> list[str]:
    """Every region that is not made of other regions, national (``landelijk``) first."""
    simple = [r for r in regions if not r.includes]
    simple.sort(key=lambda r: (r.slug != "landelijk", r.name.casefold()))
    return [r.slug for r in simple]


def coverage(
    *,
    session: Session,
    filters: EventFilters,
    regions: Regions,
    taxonomy: Taxonomy,
    since: date,
    months: int,
) -> Coverage:
    """Count the events matching ``filters`` from ``since`` to the end of the ``months``-th
    month (counting the month of ``since`` as the first).

    With one region in ``filters`` the view is that region's (one row); else the national
    view (a row per region that is not a composite, plus any other region events name).
    The sectors and types of the view are those of the filters, else every taxonomy value.
    """
    months = max(1, min(months, MAX_MONTHS))
    first = month_start(since)
    period = [add_months(first, i) for i in range(months)]
    window = replace(
        filters,
        date_from=since,
        date_to=_last_day(add_months(first, months)),
        include_cancelled=False,
        include_removed=False,
        removed_since=None,
        near=None,
        q=None,
    )
    dialect = session.get_bind().dialect.name
    wanted = filters.all_regions()
    view_region = wanted[0] if len(wanted) == 1 else None
    month_index = _month_index(period).label("month_index")
    sectors_text = _sectors_text(dialect).label("sectors_text")
    statement = (
        sql_select(
            col(Event.region),
            col(Event.municipality_code),
            col(Event.activity_type),
            sectors_text,
            month_index,
            func.count(),
        )
        .where(*filter_conditions(window, regions, dialect))
        .group_by(
            col(Event.region),
            col(Event.municipality_code),
            col(Event.activity_type),
            sectors_text,
            month_index,
        )
    )
    rows = [view_region] if view_region else (list(wanted) or _default_rows(regions))
    sectors = list(filters.sectors) or taxonomy.slugs("sectors")
    types = list(filters.types) or taxonomy.slugs("activity_types")
    result = Coverage(months=period, rows=rows, sectors=sectors, types=types)
    seen_rows = set(rows)
    parsed: dict[str, list[str]] = {}
    for region, code, activity_type, listed, index, count in session.execute(statement):
        if index < 0:
            continue  # began before the first month and lasts into it: counted where it starts
        row = view_region or (regions.home_of.get(code or "") or region or "")
        if row not in seen_rows:
            if wanted:  # a named composite matched through its members: count it there
                row = next(
                    (w for w in wanted if row == w or (code and code in regions.members(w))), row
                )
            if row not in seen_rows:
                seen_rows.add(row)
                result.rows.append(row)
        if listed not in parsed:
            parsed[listed] = list(json.loads(listed or "[]")) or [""]
        result.events += count
        _add(result.counts, row, parsed[listed], activity_type or "", period[index], count)
    return result


def _last_day(next_month: date) -> date:
    """The last day before the first day of ``next_month``."""
    return date.fromordinal(next_month.toordinal() - 1)


def _add(
    counts: Counter[tuple[str, str, str, date]],
    row: str,
    sectors: list[str],
    activity_type: str,
    month: date,
    count: int = 1,
) -> None:
    """Count ``count`` events alike in their cells and in every sum over region, sector
    and type."""
    for region in (row, ANY):
        for sector in (*dict.fromkeys(sectors), ANY):
            for kind in (activity_type, ANY):
                counts[(region, sector, kind, month)] += count


def upcoming_per_region(*, session: Session, regions: Regions, since: date) -> dict[str, int]:
    """How many events each region lists from ``since`` on (as its region page does: not
    removed, cancelled ones included), counted as the region filter counts them
    (composites by their members' municipalities)."""
    filters = EventFilters(date_from=since)
    dialect = session.get_bind().dialect.name
    found = session.exec(
        select(Event.region, Event.municipality_code).where(
            *filter_conditions(filters, regions, dialect)
        )
    ).all()
    # which regions list each municipality (composites included), so each event is read once
    containing: dict[str, set[str]] = {}
    for region in regions:
        for member in regions.members(region.slug):
            containing.setdefault(member, set()).add(region.slug)
    counts = dict.fromkeys((r.slug for r in regions), 0)
    for slug, code in found:
        for match in containing.get(code or "", set()) | ({slug} if slug in counts else set()):
            counts[match] += 1
    return counts
