"""Text search ranking: title hits first, soonest first within them, pages that add up.

The relevance tiers of ``aggregator.fulltext`` are read differently per backend (FTS5
rowids in date order on SQLite, start windows on PostgreSQL); both must give exactly the
order a plain sort of every match gives, on every page.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlmodel import Session

from aggregator.config import load_config
from aggregator.db import alembic_config, make_engine, upgrade
from aggregator.fulltext import SLOT_BITS
from aggregator.models import Event
from aggregator.query import EventFilters, query_events
from config import bundled
from tests.conftest import Seed
from tests.publishing_data import AMS, Spec, event_id, seed, seed_at_revision

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py

REGIONS = load_config(
    bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml")
).regions


def _at(month: int, day: int, year: int = 2027) -> datetime:
    return datetime(year, month, day, 19, 0, tzinfo=AMS)


TIERED = [
    Spec("late-title", "Meeloopdag basisonderwijs Arnhem", _at(6, 10)),
    Spec("early-title", "Meeloopdag basisonderwijs Zwolle", _at(2, 3)),
    Spec(
        "some-title",
        "Meeloopdag Nijmegen",
        _at(1, 20),
        values={"description": "Een dag meelopen op een school voor basisonderwijs."},
    ),
    Spec(
        "text-only",
        "Open dag pabo",
        _at(1, 5),
        values={"description": "Met een meeloopdag in het basisonderwijs."},
    ),
    Spec(
        "one-word",
        "Informatieavond voortgezet onderwijs",
        _at(1, 2),
        values={"description": "Geen meeloopdag."},
    ),
]


def _ids(engine: Engine, **filters) -> tuple[list[str], int]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        page = query_events(session=session, filters=EventFilters(**filters), regions=REGIONS)
        return [e.id.removeprefix("ev-") for e in page.items], page.total


def test_title_hits_come_first_then_the_soonest(engine: Engine) -> None:
    seed(engine, TIERED)
    ranked = ["early-title", "late-title", "some-title", "text-only"]
    assert _ids(engine, q="meeloopdag basisonderwijs") == (ranked, 4)
    by_date = ["text-only", "some-title", "early-title", "late-title"]
    assert _ids(engine, q="meeloopdag basisonderwijs", sort="date") == (by_date, 4)
    # one word: in the title (by date), then elsewhere
    assert _ids(engine, q="meeloopdag")[0] == [
        "some-title",
        "early-title",
        "late-title",
        "one-word",
        "text-only",
    ]


@pytest.mark.parametrize("per_page", [1, 2, 3])
def test_pages_cross_tier_boundaries_without_gaps(engine: Engine, per_page: int) -> None:
    seed(engine, TIERED)
    seen: list[str] = []
    for page in range(1, 6):
        ids, total = _ids(engine, q="meeloopdag basisonderwijs", page=page, per_page=per_page)
        assert total == 4
        seen += ids
    assert seen == ["early-title", "late-title", "some-title", "text-only"]


WORDS = ["kwark", "bliksem", "tulp", "molen", "fiets", "gracht"]
QUERIES = ["kwark", "bliksem tulp", "molen fiets gracht", "tulp kwark", "gracht"]


def _random_specs(count: int, seed_value: int) -> list[Spec]:
    """Events with titles and descriptions from a small vocabulary, and distinct starts.

    Half the starts cluster in one month late in the year, so that matches are not spread
    evenly (PostgreSQL's start windows have to grow).
    """
    rng = random.Random(seed_value)
    first = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    minutes = rng.sample(range(0, 365 * 24 * 60, 7), count // 2)
    minutes += rng.sample(range(300 * 24 * 60, 330 * 24 * 60, 11), count - count // 2)
    specs = []
    for n, minute in enumerate(minutes):
        title = " ".join([*rng.sample(WORDS, rng.randint(0, 3)), "avond"])
        body = " ".join(rng.sample(WORDS, rng.randint(0, 4)))
        specs.append(
            Spec(
                f"r{n:04d}", title, first + timedelta(minutes=minute), values={"description": body}
            )
        )
    return specs


def _expected(specs: list[Spec], q: str, ranked: bool, day: date | None) -> list[str]:
    terms = q.split()
    rows = []
    for spec in specs:
        title = set(spec.title.split())
        everything = title | set((spec.values or {})["description"].split())
        if not all(t in everything for t in terms):
            continue
        assert isinstance(spec.start, datetime)
        if day and spec.start.astimezone(AMS).date() < day:
            continue
        in_title = sum(t in title for t in terms)
        tier = 0 if in_title == len(terms) else (1 if in_title else 2)
        rows.append(((tier if ranked else 0), spec.start, spec.key))
    return [key for _, _, key in sorted(rows)]


@pytest.mark.parametrize("day", [None, date(2027, 3, 1)])
def test_every_page_matches_a_plain_sort_of_all_matches(
    read_only_engine: Callable[[str, Seed], Engine], day: date | None
) -> None:
    specs = _random_specs(400, seed_value=7)
    engine = read_only_engine("ranking-400", lambda engine: seed(engine, specs))
    for q in QUERIES:
        for ranked in (True, False):
            expected = _expected(specs, q, ranked, day)
            assert expected, q
            sort = "relevance" if ranked else "date"
            for per_page in (7, 50):
                pages = []
                for page in range(1, len(expected) // per_page + 2):
                    ids, total = _ids(
                        engine, q=q, sort=sort, date_from=day, page=page, per_page=per_page
                    )
                    assert total == len(expected), (q, sort, per_page, page)
                    pages += ids
                assert pages == expected, (q, sort, per_page)


def test_changed_start_moves_an_event_in_the_search_order(engine: Engine) -> None:
    seed(engine, TIERED)
    with Session(engine) as session:
        event = session.get(Event, event_id("late-title"))
        assert event is not None
        event.start_at = _at(1, 1).astimezone(UTC)
        session.add(event)
        session.commit()
    assert _ids(engine, q="meeloopdag basisonderwijs")[0][:2] == ["late-title", "early-title"]
    assert _ids(engine, q="basisonderwijs", sort="date")[0][0] == "late-title"


def _sqlite_index_follows_start(engine: Engine) -> bool:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT m.fts_rowid, e.start_at FROM event_fts_map m "
                "JOIN event e ON e.id = m.event_id ORDER BY m.fts_rowid"
            )
        ).all()
        indexed = connection.execute(text("SELECT count(*) FROM event_fts")).scalar_one()
    starts = [start for _, start in rows]
    seconds = [rowid >> SLOT_BITS for rowid, _ in rows]
    return (
        bool(rows)
        and indexed == len(rows)
        and starts == sorted(starts)
        and all(
            int(datetime.fromisoformat(str(s)).replace(tzinfo=UTC).timestamp()) == second
            for s, second in zip(starts, seconds, strict=True)
        )
    )


def test_migration_keys_existing_events_by_start_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    upgrade(url, "0004")
    engine = make_engine(url)
    try:
        seed_at_revision(engine, TIERED)
        upgrade(url)
        assert _sqlite_index_follows_start(engine)
        assert _ids(engine, q="meeloopdag basisonderwijs")[0][0] == "early-title"
        command.downgrade(alembic_config(url), "0004")
        with Session(engine) as session:  # 0002's search still works after the downgrade
            rows = session.execute(
                text("SELECT count(*) FROM event_fts WHERE event_fts MATCH 'meeloopdag'")
            ).scalar_one()
        assert rows == 5
    finally:
        engine.dispose()


def test_sqlite_index_stays_in_start_order_through_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'writes.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        seed(engine, _random_specs(60, seed_value=3))
        with Session(engine) as session:
            for n in range(0, 60, 5):
                event = session.get(Event, event_id(f"r{n:04d}"))
                assert event is not None
                event.start_at = event.start_at - timedelta(days=40 + n)
                session.add(event)
            session.commit()
        assert _sqlite_index_follows_start(engine)
    finally:
        engine.dispose()
