"""The pipeline: one configurable stage list, the same for harvest, parse and submissions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from agenda import wiring
from agenda.cli import app
from agenda.settings import Settings
from aggregator.db import session_scope
from aggregator.models import Event, GeocodeCache, Submission, User
from aggregator.pipeline import STAGE_FACTORIES, UnknownStage, build_pipeline, parse_stage_names
from aggregator.submissions import approve
from config import bundled
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from tests.conftest import SAMPLE_NOW, config_for
from tests.test_geocoder_online import PDOK_DOC

CONFIG = config_for(bundled("sources.yaml"))
SOURCE = SourceConfig(id="s", name="S", kind="ics", url="x.ics", region="twente")
RECORD = RawEvent(
    source_id="s",
    uid="u1",
    title="GEANNULEERD: Informatieavond zij-instroom in Enschede",
    start=datetime(2027, 2, 10, 19, 30, tzinfo=UTC),
)


def test_stage_names_resolve_through_the_one_table() -> None:
    assert parse_stage_names(" normalise, classify ,geocode") == tuple(STAGE_FACTORIES)
    with pytest.raises(UnknownStage, match=r"'geocoder'.*known: normalise, classify, geocode"):
        parse_stage_names("normalise,geocoder")
    with pytest.raises(UnknownStage, match="twice"):
        parse_stage_names("normalise,normalise")


def test_the_configured_stages_run_and_only_those() -> None:
    [full] = build_pipeline(CONFIG).run([RECORD], SOURCE)
    assert full.draft.status == "cancelled" and full.draft.activity_type is not None
    assert full.draft.municipality_code == "GM0153"  # Enschede
    [normalised] = build_pipeline(CONFIG, names="normalise").run([RECORD], SOURCE)
    assert normalised.draft.status == "cancelled"
    assert normalised.draft.activity_type is None and normalised.draft.municipality_code is None


def test_a_bad_stage_list_is_a_configuration_error(tmp_path: Path) -> None:
    calendar = bundled("samples/nl-sample/ics/twents-onderwijsnetwerk.ics")
    result = CliRunner().invoke(
        app, ["parse", str(calendar)], env={"PIPELINE_STAGES": "normalise,bogus"}
    )
    assert result.exit_code == 2
    assert "PIPELINE_STAGES" in result.output and "'bogus'" in result.output


def test_submissions_are_published_through_the_harvest_pipeline(
    engine: Engine, httpserver: HTTPServer
) -> None:
    """Also the online geocoder: the submitted place is asked for and its answer stored."""
    httpserver.expect_oneshot_request("/free").respond_with_json(PDOK_DOC)
    settings = Settings(  # type: ignore[call-arg]
        GEOCODER_PROVIDER="pdok", GEOCODER_URL=httpserver.url_for("/"), GEOCODER_MIN_DELAY=0
    )
    pipeline = wiring.pipeline(settings, CONFIG)
    with session_scope(engine) as session:
        moderator = User(email="m@example.org", password_hash="x", role="admin")
        submission = Submission(
            region="twente",
            data={
                "title": "Meeloopdag op het Nergenshuis",
                "start_date": "2027-02-10",
                "start_time": "13:00",
                "location_name": "Sportcentrum Het Nergenshuis",
            },
            submitter_email="s@example.org",
            edit_token="t",
        )
        session.add(moderator)
        session.add(submission)
        session.flush()
        approve(
            session=session,
            submission=submission,
            moderator=moderator,
            pipeline=pipeline,
            now=SAMPLE_NOW,
        )
    with Session(engine) as session:
        [event] = session.exec(select(Event)).all()
        [cached] = session.exec(select(GeocodeCache)).all()
    assert event.municipality_code == "GM0153" and event.postcode == "7522NB"
    assert cached.query == "sportcentrum het nergenshuis" and cached.found
