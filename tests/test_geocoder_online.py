"""The optional online geocoder: PDOK answers from a local server, cached in the database."""

from __future__ import annotations

from pytest_httpserver import HTTPServer
from sqlmodel import Session, select

from agenda.settings import Settings
from aggregator.geocoder_online import OnlineGeocoder, online_geocoder_from_settings
from aggregator.models import GeocodeCache

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


def test_off_by_default(engine) -> None:  # type: ignore[no-untyped-def]
    assert online_geocoder_from_settings(engine=engine, settings=Settings()) is None


def test_pdok_answer_is_cached(engine, httpserver: HTTPServer) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_oneshot_request("/free").respond_with_json(PDOK_DOC)
    geocoder = OnlineGeocoder(
        engine=engine, provider="pdok", url=httpserver.url_for("/"), min_delay=0
    )
    hit = geocoder("Sportcentrum De Horst, Drienerlolaan 5")
    assert hit is not None and hit.municipality_code == "GM0153" and hit.postcode == "7522NB"
    again = geocoder("sportcentrum de horst,  drienerlolaan 5")  # no second request
    assert again is not None and again.lat == hit.lat
    httpserver.expect_oneshot_request("/free").respond_with_json({"response": {"docs": []}})
    assert geocoder("Nergenshuizen") is None
    assert geocoder("Nergenshuizen") is None  # "not found" is cached too
    with Session(engine) as session:
        rows = session.exec(select(GeocodeCache)).all()
    assert sorted(r.found for r in rows) == [False, True]


def test_network_errors_are_not_cached(engine) -> None:  # type: ignore[no-untyped-def]
    geocoder = OnlineGeocoder(
        engine=engine, provider="pdok", url="http://127.0.0.1:9", min_delay=0, timeout=2
    )
    assert geocoder("Ergens 1, Utrecht") is None
    with Session(engine) as session:
        assert session.exec(select(GeocodeCache)).all() == []
