"""Full-text search for an event calendar: title hits first, and soonest first within them.

Relevance is a small number of tiers, best first:

1. every word of the query is in the title;
2. some words are in the title, the others elsewhere (only for queries of several words);
3. the words are only in the description, the place or the organiser.

Within a tier, events come in date order (start, then a stable tie-break). For a calendar
that beats a term-frequency score such as bm25 or ``ts_rank``: those mostly reward short
titles and repeated words, and would put next year's "Informatieavond zij-instroom" above
next week's. It is also what keeps a broad search fast: each tier is read in date order
and stops at the end of the page, so the first page of 40,000 matches costs what the
first page of 40 does.

How each backend reads a tier in date order:

* SQLite: FTS5 returns matches in rowid order and stops at a ``LIMIT``; migration 0005
  keys ``event_fts`` by start (``start second << SLOT_BITS`` plus a free slot), so rowid
  order is date order and a start range is a rowid range.
* PostgreSQL: a GIN index has no order. With the number of matches of each tier (one
  counting pass, cached per store version with the total) the tier is read in start
  windows sized to hold about three pages, so that a broad tier reads a few hundred rows
  and a narrow one is read whole and sorted.

Every word matches as a prefix, all words are required (SQLite FTS5 ``unicode61`` folds
case and accents; PostgreSQL's ``dutch`` configuration also stems and drops stop words).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Connection,
    Integer,
    String,
    column,
    func,
    literal_column,
    not_,
    select,
    table,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from aggregator.models import Event

MAX_TERMS = 12
MAX_TERM_LENGTH = 40
SLOT_BITS = 20  # events per start second in the SQLite index (migration 0005)
WINDOW_PAGES = 3  # PostgreSQL: a start window is sized to hold this many pages of a tier
WINDOW_GROWTH = 4  # ... and grows by this factor while it holds too few
_WORD = re.compile(r"\w+", re.UNICODE)

_FTS = table("event_fts", column("rowid", Integer))
_FTS_MAP = table("event_fts_map", column("fts_rowid", Integer), column("event_id", String))
_SEARCH_VECTOR = "event.search_vector"
_TITLE_VECTOR = "event.title_vector"


def search_terms(q: str | None) -> list[str]:
    """The words of a free-text query, lower-cased; search syntax characters are dropped.

    ``"``, ``*``, ``(``, ``:`` or ``NEAR`` never reach the search engine as syntax: each word is
    quoted (FTS5) or is a plain lexeme (tsquery), so any text is a valid query.
    """
    if not q:
        return []
    words = [w.lower()[:MAX_TERM_LENGTH] for w in _WORD.findall(q)]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression: every term as a quoted prefix, all required."""
    return " ".join(f'"{t}"*' for t in terms)


def tsquery(terms: Sequence[str]) -> str:
    """A PostgreSQL ``to_tsquery`` expression: every term a prefix lexeme, all required."""
    return " & ".join(f"{t}:*" for t in terms)


def _tsquery_any(terms: Sequence[str]) -> str:
    return " | ".join(f"{t}:*" for t in terms)


Tier = Literal["title", "some-title", "elsewhere", "anywhere"]


def match_tiers(terms: Sequence[str], *, ranked: bool = True) -> tuple[Tier, ...]:
    """The tiers of a search, best first; together they match exactly what all terms match.

    ``title``: every word in the title; ``some-title``: some words in the title (queries of
    several words only); ``elsewhere``: no word in the title. Unranked (``sort=date``) there
    is one tier, ``anywhere``.
    """
    if not ranked:
        return ("anywhere",)
    if len(terms) == 1:
        return ("title", "elsewhere")
    return ("title", "some-title", "elsewhere")


def fts5_tier(tier: Tier, terms: Sequence[str]) -> str:
    """The FTS5 MATCH expression of a tier (``title`` is the first column of ``event_fts``)."""
    every = fts5_query(terms)
    any_in_title = "{title} : (" + " OR ".join(f'"{t}"*' for t in terms) + ")"
    all_in_title = f"{{title}} : ({every})"
    if tier == "title":
        return all_in_title
    if tier == "some-title":
        return f"(({every}) AND {any_in_title}) NOT {all_in_title}"
    if tier == "elsewhere":
        return f"({every}) NOT {any_in_title}"
    return every


def fts_key(moment: datetime) -> int:
    """The smallest SQLite full-text rowid of an event starting in ``moment``'s second."""
    return math.floor(moment.timestamp()) << SLOT_BITS


@dataclass(frozen=True, slots=True)
class StartRange:
    """Bounds on ``start_at`` implied by the date filters (None: unbounded)."""

    lo: datetime | None = None  # start_at >= lo
    hi: datetime | None = None  # start_at < hi


def _tsquery(vector: str, expression: str) -> ColumnElement[bool]:
    return literal_column(vector).op("@@")(func.to_tsquery(literal_column("'dutch'"), expression))


def _postgres_tier(tier: Tier, terms: Sequence[str]) -> list[ColumnElement[bool]]:
    # title_vector (migration 0005) holds the title alone: small, and no weights to recheck
    every, any_word = tsquery(terms), _tsquery_any(terms)
    if tier == "title":
        return [_tsquery(_TITLE_VECTOR, every)]
    if tier == "some-title":
        return [
            _tsquery(_SEARCH_VECTOR, every),
            _tsquery(_TITLE_VECTOR, any_word),
            not_(_tsquery(_TITLE_VECTOR, every)),
        ]
    if tier == "elsewhere":
        return [_tsquery(_SEARCH_VECTOR, every), not_(_tsquery(_TITLE_VECTOR, any_word))]
    return [_tsquery(_SEARCH_VECTOR, every)]


def _fts_matches(expression: str) -> Any:
    """``event_fts`` joined to its map; matches of an FTS5 expression, in rowid order."""
    return (
        select(_FTS_MAP.c.event_id)
        .select_from(_FTS)
        .join(_FTS_MAP, _FTS_MAP.c.fts_rowid == _FTS.c.rowid)
        .where(literal_column("event_fts").match(expression))
    )


def match_condition(dialect: str, terms: Sequence[str]) -> ColumnElement[bool]:
    """A WHERE condition on ``event``: every term matches (for counts and other orders)."""
    if dialect == "postgresql":
        return _tsquery(_SEARCH_VECTOR, tsquery(terms))
    return col(Event.id).in_(_fts_matches(fts5_query(terms)))


def count_tiers(
    connection: Connection,
    terms: Sequence[str],
    tiers: Sequence[Tier],
    conditions: Sequence[ColumnElement[bool]],
) -> tuple[int, ...]:
    """The number of matches of each tier (PostgreSQL), in one pass over all matches."""
    every = tsquery(terms)
    columns: list[Any] = [func.count()]
    if len(tiers) > 1:
        columns += [
            func.count().filter(_tsquery(_TITLE_VECTOR, every)),
            func.count().filter(_tsquery(_TITLE_VECTOR, _tsquery_any(terms))),
        ]
    statement = (
        select(*columns).select_from(Event).where(_tsquery(_SEARCH_VECTOR, every), *conditions)
    )
    row = [int(n) for n in connection.execute(statement).one()]
    if len(tiers) == 1:
        return (row[0],)
    total, all_in_title, any_in_title = row
    by_tier = {
        "title": all_in_title,
        "some-title": any_in_title - all_in_title,
        "elsewhere": total - any_in_title,
    }
    return tuple(by_tier[t] for t in tiers)


def count_matches(
    connection: Connection,
    terms: Sequence[str],
    conditions: Sequence[ColumnElement[bool]],
) -> int:
    """The number of events every term matches (SQLite: through the full-text index)."""
    matches = _fts_matches(fts5_query(terms))
    statement = (
        matches.with_only_columns(func.count())
        .join(Event, col(Event.id) == _FTS_MAP.c.event_id)
        .where(*conditions)
    )
    return int(connection.execute(statement).scalar_one())


def _sqlite_tier_ids(
    connection: Connection,
    expression: str,
    conditions: Sequence[ColumnElement[bool]],
    starts: StartRange,
    limit: int | None,
) -> list[str]:
    # FTS5 drives the join (rowid order = date order) and stops at the limit.
    statement = (
        _fts_matches(expression)
        .join(Event, col(Event.id) == _FTS_MAP.c.event_id)
        .where(*conditions)
        .order_by(_FTS.c.rowid)
    )
    if starts.lo is not None:
        statement = statement.where(_FTS.c.rowid >= fts_key(starts.lo))
    if starts.hi is not None:
        statement = statement.where(_FTS.c.rowid < fts_key(starts.hi) + (1 << SLOT_BITS))
    if limit is not None:
        statement = statement.limit(limit)
    return list(connection.execute(statement).scalars())


def _postgres_start_span(connection: Connection, starts: StartRange) -> tuple[datetime, datetime]:
    lo, hi = starts.lo, starts.hi
    if lo is None or hi is None:
        first, last = connection.execute(
            select(func.min(Event.start_at), func.max(Event.start_at))
        ).one()
        if first is None:  # no events at all: an empty span
            anchor = lo or hi or datetime.now(UTC)
            return anchor, anchor
        lo = lo if lo is not None else first
        hi = hi if hi is not None else last + timedelta(seconds=1)
    return lo, hi


def _postgres_tier_ids(
    connection: Connection,
    match: Sequence[ColumnElement[bool]],
    conditions: Sequence[ColumnElement[bool]],
    span: tuple[datetime, datetime],
    count: int,
    limit: int | None,
) -> list[str]:
    lo, hi = span
    window = hi - lo  # a narrow tier is read whole, then sorted
    if limit is not None and count > WINDOW_PAGES * limit:
        # a broad tier: assume its matches spread evenly over the span, grow if they do not
        window = max(window * (WINDOW_PAGES * limit / count), timedelta(seconds=1))
    rows: list[tuple[datetime, str]] = []
    start = lo
    while start < hi and (limit is None or len(rows) < limit):
        end = min(hi, start + window)
        in_window = (col(Event.start_at) >= start, col(Event.start_at) < end)
        statement = select(col(Event.start_at), col(Event.id)).where(
            *match, *conditions, *in_window
        )
        rows += sorted((s, i) for s, i in connection.execute(statement))
        start, window = end, window * WINDOW_GROWTH
    return [event_id for _, event_id in rows[:limit]]


def ranked_ids(
    connection: Connection,
    terms: Sequence[str],
    tiers: Sequence[Tier],
    conditions: Sequence[ColumnElement[bool]],
    starts: StartRange,
    *,
    offset: int = 0,
    limit: int | None = None,
    counts: Sequence[int] | None = None,
) -> list[str]:
    """The ids of one page of matches: tier by tier, each in date order.

    ``counts`` (the matches of each tier, required on PostgreSQL) lets a page skip tiers
    that end before it. ``limit=None`` returns every match from ``offset`` on.
    """
    postgres = connection.dialect.name == "postgresql"
    if postgres and counts is None:
        raise ValueError("PostgreSQL pages need the count of each tier")
    span: tuple[datetime, datetime] | None = None  # PostgreSQL: read once, on first need
    ids: list[str] = []
    skip = offset
    for index, tier in enumerate(tiers):
        if limit is not None and len(ids) >= limit:
            break
        if counts is not None and counts[index] <= skip:
            skip -= counts[index]
            continue
        wanted = None if limit is None else skip + limit - len(ids)
        if postgres:
            assert counts is not None
            span = span or _postgres_start_span(connection, starts)
            match = _postgres_tier(tier, terms)
            found = _postgres_tier_ids(connection, match, conditions, span, counts[index], wanted)
        else:
            found = _sqlite_tier_ids(connection, fts5_tier(tier, terms), conditions, starts, wanted)
        ids += found[skip:]
        skip = max(0, skip - len(found))
    return ids
