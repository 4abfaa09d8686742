"""``near`` by place name: spellings, ambiguity, the repaired postcodes, and the API answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.distance import haversine_km
from aggregator.proximity import AmbiguousNear, NearError, parse_near
from tests.conftest import config_for, write_sources
from tests.publishing_data import keys, seed

# Reference points, read off a map (not from the gazetteer)
NIJMEGEN_CENTRE = (51.8450, 5.8640)  # Grote Markt
DEN_BOSCH_CENTRE = (51.6880, 5.3030)  # Markt
KRALINGEN = (51.9250, 4.5050)  # Kralingse Plas, Rotterdam
KANTENS = (53.3640, 6.6300)  # Kantens, Het Hogeland (PC4 9999: Stitswerd/Kantens)
AMSTERDAM_DAM = (52.3731, 4.8924)


@pytest.mark.parametrize(
    ("value", "point", "km", "gemeente"),
    [
        ("Nijmegen", NIJMEGEN_CENTRE, 3, "GM0268"),
        ("nijmegen", NIJMEGEN_CENTRE, 3, "GM0268"),
        ("Den Bosch", DEN_BOSCH_CENTRE, 3, "GM0796"),
        ("'s-Hertogenbosch", DEN_BOSCH_CENTRE, 3, "GM0796"),
        ("’s Hertogenbosch", DEN_BOSCH_CENTRE, 3, "GM0796"),
        ("A'dam", AMSTERDAM_DAM, 3, "GM0363"),
        ("gemeente Amsterdam", AMSTERDAM_DAM, 3, "GM0363"),
        ("3062", KRALINGEN, 3, "GM0599"),
        ("9999", KANTENS, 5, "GM1966"),
    ],
)
def test_what_a_person_expects(value: str, point: tuple[float, float], km: float, gemeente: str):
    near = parse_near(value)
    assert haversine_km(near.lat, near.lon, *point) < km, near
    assert near.municipality_code == gemeente


def test_bergen_is_ambiguous_and_each_candidate_resolves() -> None:
    with pytest.raises(AmbiguousNear) as caught:
        parse_near("Bergen")
    assert caught.value.candidates == ["Bergen (Noord-Holland)", "Bergen (Limburg)"]
    for candidate, code in zip(caught.value.candidates, ["GM0373", "GM0893"], strict=True):
        assert parse_near(candidate).municipality_code == code
    for spelling in ("Bergen NH", "Bergen (NH.)", "Bergen N-H", "Bergen, Noord-Holland"):
        assert parse_near(spelling).municipality_code == "GM0373", spelling
    assert parse_near("Bergen (L.)").municipality_code == "GM0893"
    assert parse_near("Bergen op Zoom").municipality_code == "GM0748"  # not a Bergen at all


def test_a_dominant_place_wins_and_a_village_qualifier_picks() -> None:
    # two Zwolles: the city, and a hamlet near Groenlo
    assert parse_near("Zwolle").municipality_code == "GM0193"
    hengelo = parse_near("Hengelo")  # Hengelo (O.), not the village in Bronckhorst
    assert hengelo.municipality_code == "GM0164" and hengelo.municipality == "Hengelo"
    assert parse_near("Hengelo Gld").municipality_code == "GM1876"
    with pytest.raises(AmbiguousNear) as caught:
        parse_near("Beek")  # a gemeente in Limburg and villages of that name elsewhere
    for candidate in caught.value.candidates:
        assert parse_near(candidate).place == "Beek", candidate


def test_public_names_in_the_answer() -> None:
    assert parse_near("Middelburg").municipality == "Middelburg"
    assert parse_near("Den Haag").municipality == "Den Haag"
    assert parse_near("Den Haag").place == "Den Haag"


@pytest.mark.parametrize("value", ["Friesland", "Twente", "Atlantis", "Zoom"])
def test_regions_and_unknown_names_are_refused(value: str) -> None:
    with pytest.raises(NearError) as caught:
        parse_near(value)
    assert not isinstance(caught.value, AmbiguousNear)


@pytest.fixture
def client(engine, tmp_path: Path) -> TestClient:  # type: ignore[no-untyped-def]
    seed(engine)
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    return TestClient(create_app(settings=Settings(), config=config, engine=engine))


def test_api_near_a_place_name(client: TestClient) -> None:
    response = client.get("/api/events", params={"near": "Nijmegen", "km": 30, "sort": "distance"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert keys(body["items"]) == ["nijmegen-info", "arnhem-open"]
    assert body["near"]["kind"] == "place" and body["near"]["place"] == "Nijmegen"
    assert body["near"]["municipality_code"] == "GM0268"
    assert haversine_km(body["near"]["lat"], body["near"]["lon"], *NIJMEGEN_CENTRE) < 3
    postcode = client.get("/api/events", params={"near": "6511"}).json()["near"]
    assert postcode["kind"] == "postcode" and postcode["municipality"] == "Nijmegen"


def test_api_ambiguous_name_lists_the_candidates(client: TestClient) -> None:
    response = client.get("/api/events", params={"near": "Bergen"})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "Bergen (Noord-Holland)" in detail and "Bergen (Limburg)" in detail
    for params in ({"near": "Friesland"}, {"near": "x" * 61}, {"near": "Nijmegen!"}):
        assert client.get("/api/events", params=params).status_code in (400, 422), params


def test_two_hamlets_of_unknown_size_are_ambiguous() -> None:
    from aggregator.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    # names carried by several places in different gemeenten, none with a known population
    names = {}
    for place in gaz.all_places():
        names.setdefault(place.name, []).append(place)
    unknown = [
        n
        for n, ps in names.items()
        if len({p.gemeente_code for p in ps}) > 1
        and all(p.population == 0 for p in ps)
        and len(gaz.candidates(n)) == len(ps)
    ]
    assert unknown
    for name in unknown[:20]:
        with pytest.raises(AmbiguousNear):
            parse_near(name)
