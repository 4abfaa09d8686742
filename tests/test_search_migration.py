"""Migration 0002: search indexes backfilled on an existing database, the publish version."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.config import load_config
from aggregator.db import alembic_config, make_engine, upgrade
from aggregator.models import Event, Source, SourceRecord
from aggregator.query import EventFilters, publish_version, query_events
from config import bundled
from tests.publishing_data import seed, seed_at_revision

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with no schema at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def regions():  # type: ignore[no-untyped-def]
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    return config.regions


def _titles(engine: Engine, regions, q: str) -> set[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        page = query_events(session=session, filters=EventFilters(q=q), regions=regions)
        return {e.title for e in page.items}


def test_upgrade_backfills_existing_events_and_downgrade_reverts(empty_url, regions) -> None:  # type: ignore[no-untyped-def]
    upgrade(empty_url, "0001")
    engine = make_engine(empty_url)
    try:
        seed_at_revision(engine)  # the 0001 schema: only its columns
        upgrade(empty_url)
        assert _titles(engine, regions, "deeltijdpabo") == {"Open avond deeltijdpabo Arnhem"}
        command.downgrade(alembic_config(empty_url), "0001")
        upgrade(empty_url)
        assert _titles(engine, regions, "speeddate") == {"Speeddate zij-instromers Twente"}
    finally:
        engine.dispose()


def test_every_write_raises_the_publish_version(engine) -> None:  # type: ignore[no-untyped-def]
    seed(engine)
    versions = []

    def current() -> int:
        with Session(engine) as session:
            return publish_version(session=session)

    versions.append(current())
    with Session(engine) as session:
        event = session.get(Event, "ev-webinar-mbo")
        assert event is not None
        event.title = "Webinar mbo (nieuwe datum)"
        session.add(event)
        session.commit()
    versions.append(current())
    with Session(engine) as session:
        source = session.get(Source, "twente")
        assert source is not None
        source.last_error = "timeout"
        session.add(source)
        session.commit()
    versions.append(current())
    with Session(engine) as session:
        record = session.exec(select(SourceRecord)).first()
        assert record is not None
        session.delete(record)
        session.commit()
    versions.append(current())
    with Session(engine) as session:
        session.exec(select(Event)).all()  # reading changes nothing
    versions.append(current())
    assert versions[0] < versions[1] < versions[2] < versions[3] == versions[4]
