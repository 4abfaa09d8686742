"""The optional online geocoder: PDOK answers from a local server, remembered in memory and
stored in the database by the harvest, never by the stage."""

from __future__ import annotations

from pytest_httpserver import HTTPServer
from sqlmodel import Session, select

from agenda import wiring
from agenda.settings import Settings
from aggregator.db import session_scope
from aggregator.geocoder_online import OnlineGeocoder
from aggregator.models import Event, GeocodeCache
from config import bundled
from tests.conftest import config_for, write_sources
from tests.harvesting import harvest_once

PDOK_DOC = {
    "response": {
        "numFound": 1,
        "docs": [
            {
                "type": "adres",
                "weergavenaam": "Drienerlolaan 5, 7522NB Enschede",
                "gemeentecode": "0153",
                "postcode": "7522NB",
                "woonplaatsnaam": "Enschede",
                "centroide_ll": "POINT(6.85 52.24)",
            }
        ],
    }
}


def test_off_by_default() -> None:
    assert wiring.online_geocoder(Settings()) is None
    assert wiring.pipeline(Settings(), config_for(bundled("sources.yaml"))).caches == ()


def _save(geocoder: OnlineGeocoder, engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        geocoder.memo.save(session=session)


def test_pdok_answer_is_remembered_and_saved_by_the_caller(engine, httpserver: HTTPServer) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_oneshot_request("/free").respond_with_json(PDOK_DOC)
    geocoder = OnlineGeocoder(provider="pdok", url=httpserver.url_for("/"), min_delay=0)
    hit = geocoder("Sportcentrum De Horst, Drienerlolaan 5")
    assert hit is not None and hit.municipality_code == "GM0153" and hit.postcode == "7522NB"
    again = geocoder("sportcentrum de horst,  drienerlolaan 5")  # no second request
    assert again is not None and again.lat == hit.lat
    httpserver.expect_oneshot_request("/free").respond_with_json({"response": {"docs": []}})
    assert geocoder("Nergenshuizen") is None
    assert geocoder("Nergenshuizen") is None  # "not found" is remembered too
    with Session(engine) as session:  # the geocoder itself never writes
        assert session.exec(select(GeocodeCache)).all() == []
    _save(geocoder, engine)
    with Session(engine) as session:
        rows = session.exec(select(GeocodeCache)).all()
    assert sorted(r.found for r in rows) == [False, True]
    # a new process loads the stored answers and asks the provider nothing
    later = OnlineGeocoder(provider="pdok", url="http://127.0.0.1:9", min_delay=0, timeout=2)
    with Session(engine) as session:
        later.memo.load(session=session)
    cached = later("Sportcentrum De Horst, Drienerlolaan 5")
    assert cached is not None and cached.how == "pdok (cached)" and cached.postcode == "7522NB"
    assert later("nergenshuizen") is None


def test_network_errors_are_not_cached(engine) -> None:  # type: ignore[no-untyped-def]
    geocoder = OnlineGeocoder(provider="pdok", url="http://127.0.0.1:9", min_delay=0, timeout=2)
    assert geocoder("Ergens 1, Utrecht") is None
    _save(geocoder, engine)
    with Session(engine) as session:
        assert session.exec(select(GeocodeCache)).all() == []


def test_harvest_loads_and_saves_the_geocoder_answers(
    engine, httpserver: HTTPServer, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """The stage asks the provider; the harvest stores the answer in its own transaction."""
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//NL\r\nBEGIN:VEVENT\r\n"
        "UID:horst-1\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270210T190000Z\r\n"
        "SUMMARY:Voorlichting zij-instroom\r\nLOCATION:Sportcentrum Het Nergenshuis\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (tmp_path / "a.ics").write_text(calendar, encoding="utf-8")
    config = config_for(
        write_sources(
            tmp_path / "sources.yaml",
            [{"id": "a", "name": "A", "kind": "ics", "url": "a.ics", "region": "twente"}],
        )
    )
    httpserver.expect_oneshot_request("/free").respond_with_json(PDOK_DOC)
    settings = Settings(
        GEOCODER_PROVIDER="pdok", GEOCODER_URL=httpserver.url_for("/"), GEOCODER_MIN_DELAY=0
    )  # type: ignore[call-arg]
    pipeline = wiring.pipeline(settings, config)
    [outcome] = harvest_once(engine, config, pipeline=pipeline)
    assert outcome.outcome == "success", outcome.error
    with Session(engine) as session:
        [row] = session.exec(select(GeocodeCache)).all()
        [event] = session.exec(select(Event)).all()
    assert row.found and row.query == "sportcentrum het nergenshuis"
    assert event.municipality_code == "GM0153"
