"""A ``near`` search in date order reads a short date-ordered prefix first; pages stay exact."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from aggregator import query
from aggregator.config import load_config
from aggregator.proximity import GeoPoint
from aggregator.query import (
    EventFilters,
    longest_duration,
    near_probe_statement,
    search_statements,
    select_page,
)
from config import bundled
from tests.conftest import Seed
from tests.publishing_data import Spec, seed

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py

REGIONS = load_config(
    bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml")
).regions
NIJMEGEN = GeoPoint(lat=51.8426, lon=5.8528, label="6511")


def _specs(count: int) -> list[Spec]:
    """Events over a year; about a third within 25 km of Nijmegen, some online."""
    rng = random.Random(11)
    first = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    specs = []
    for n, minute in enumerate(rng.sample(range(0, 365 * 24 * 60, 13), count)):
        if rng.random() < 0.35:
            lat, lon = NIJMEGEN.lat + rng.uniform(-0.2, 0.2), NIJMEGEN.lon + rng.uniform(-0.3, 0.3)
        else:
            lat, lon = rng.uniform(52.2, 53.4), rng.uniform(4.6, 6.9)
        values = {"lat": lat, "lon": lon, "attendance": rng.choice(["offline", "online"])}
        specs.append(
            Spec(f"n{n:04d}", "Informatieavond", first + timedelta(minutes=minute), None, values)
        )
    return specs


@pytest.mark.parametrize("plus_online", [False, True])
def test_probe_pages_equal_the_full_query(
    seeded_engine: Callable[[str, Seed], Engine], plus_online: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = seeded_engine("near-probe-900", lambda engine: seed(engine, _specs(900)))
    # a prefix much shorter than the store, as with 100,000 events
    monkeypatch.setattr(query, "NEAR_PROBE_ROWS", (100, 400))
    with Session(engine) as session:
        longest = longest_duration(session=session)
        connection = session.connection()
        dialect = connection.dialect.name
        for per_page in (10, 50):
            for page in (1, 2, 4, 30):
                filters = EventFilters(
                    near=NIJMEGEN,
                    km=25,
                    plus_online=plus_online,
                    date_from=date(2027, 1, 1),
                    page=page,
                    per_page=per_page,
                )
                full = search_statements(
                    dialect=dialect, filters=filters, regions=REGIONS, longest=longest
                )
                expected = list(connection.execute(full.ids).scalars())
                found = select_page(connection, filters=filters, regions=REGIONS, longest=longest)
                assert found.ids == expected, (per_page, page)
                probe = near_probe_statement(
                    dialect=dialect, filters=filters, regions=REGIONS, longest=longest
                )
                probed = list(connection.execute(probe).scalars())
                # the probe answers on its own when it fills the page, and is a prefix-exact
                # (possibly short) answer otherwise
                assert probed == expected[: len(probed)]
                if page == 1:
                    assert len(probed) == per_page  # the shortcut is actually taken
