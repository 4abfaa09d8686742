"""A pooled PostgreSQL connection pinged after idling still takes a snapshot's isolation level."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from aggregator.db import make_engine, upgrade
from aggregator.query import EventFilters, StoreSnapshot
from config import bundled
from tests.conftest import config_for


@pytest.mark.postgres
def test_a_pinged_connection_starts_clean(postgres_url: str) -> None:
    upgrade(postgres_url)
    # every checkout counts as idle: each one is pinged first
    engine = make_engine(postgres_url, ping_idle_after=-1)
    regions = config_for(bundled("sources.yaml")).regions
    try:
        for _ in range(2):  # the second checkout reuses the pinged connection
            with Session(engine) as session:
                page = StoreSnapshot(session).events(EventFilters(), regions)
                assert page.total == 0
    finally:
        engine.dispose()
