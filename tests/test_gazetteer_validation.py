"""Every PC4, place and gemeente coordinate of config/geo lies in (or within 2 km of) its gemeente.

Checked against an independent boundary set: the CBS 2025 generalised gemeente map
(tests/data/geo), while tools/build_gazetteer.py validated with the 2024 Wijk- en
Buurtkaart polygons. Distances are measured in a local metric projection.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from aggregator.gazetteer import load_gazetteer

BOUNDARIES = Path(__file__).parent / "data" / "geo" / "gemeente_2025_cbs_cartomap.geojson"
TOLERANCE_KM = 2.0
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(52.1))


def _km(lon: float, lat: float) -> tuple[float, float]:
    return lon * KM_PER_DEG_LON, lat * KM_PER_DEG_LAT


def _projected(geometry: BaseGeometry) -> BaseGeometry:
    return shapely.transform(geometry, lambda xy: xy * (KM_PER_DEG_LON, KM_PER_DEG_LAT))


@pytest.fixture(scope="module")
def gemeenten() -> dict[str, BaseGeometry]:
    data = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    return {f["properties"]["statcode"]: _projected(shape(f["geometry"])) for f in data["features"]}


def _km_outside(gemeenten: dict[str, BaseGeometry], code: str, lat: float, lon: float) -> float:
    return gemeenten[code].distance(Point(*_km(lon, lat)))


def test_the_gazetteer_covers_every_gemeente_and_postcode(gemeenten: dict) -> None:
    gaz = load_gazetteer()
    assert set(gaz.municipalities) == set(gemeenten)  # the 342 gemeenten of 2025
    assert len(gaz.postcodes) == 4086  # every distinct PC4 of the GeoNames postal dump


def test_every_pc4_lies_in_its_gemeente(gemeenten: dict) -> None:
    gaz = load_gazetteer()
    outside = {
        pc4: round(km, 1)
        for pc4, area in gaz.postcodes.items()
        if (km := _km_outside(gemeenten, area.gemeente_code, area.lat, area.lon)) > TOLERANCE_KM
    }
    assert outside == {}


def test_every_gemeente_coordinate_lies_inside_it(gemeenten: dict) -> None:
    gaz = load_gazetteer()
    outside = [
        m.code
        for m in gaz.municipalities.values()
        if _km_outside(gemeenten, m.code, m.lat, m.lon) > TOLERANCE_KM
    ]
    assert outside == []


def test_every_place_lies_in_its_gemeente(gemeenten: dict) -> None:
    gaz = load_gazetteer()
    places = {(p.name, p.gemeente_code, p.lat, p.lon) for p in gaz.all_places()}
    assert len(places) > 7000
    outside = [
        (name, code, round(km, 1))
        for name, code, lat, lon in places
        if (km := _km_outside(gemeenten, code, lat, lon)) > TOLERANCE_KM
    ]
    assert outside == []


def test_known_noise_is_repaired() -> None:
    gaz = load_gazetteer()
    # 9999 is Stitswerd/Kantens (Het Hogeland), not the mean of its noise rows near Deventer
    assert gaz.postcodes["9999"].gemeente_code == "GM1966"
    # 3062 is Rotterdam-Kralingen, not the sea off Goeree
    kralingen = gaz.postcodes["3062"]
    assert kralingen.gemeente_code == "GM0599" and 4.45 < kralingen.lon < 4.56
    assert gaz.postcodes["7571"].gemeente_code == "GM0173"  # Oldenzaal
    assert gaz.postcodes["8611"].gemeente_code == "GM1900"  # Súdwest-Fryslân
    repairs = (Path(__file__).parent.parent / "config" / "geo" / "repairs.csv").read_text()
    for pc4 in ("9999", "3062", "7571", "8611"):
        assert f"pc4,{pc4}," in repairs
