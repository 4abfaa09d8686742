"""Where a search is "near": postcodes (PC4/PC6) and coordinates, distances and bounding boxes.

The postcode table is bundled (config/geo/pc4.csv, built by tools/build_gazetteer.py from GeoNames,
CC BY 4.0); a PC6 postcode resolves to the centroid of its PC4 area.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aggregator.distance import KM_PER_DEGREE_LAT
from config import bundled

_PC = re.compile(r"^\s*([1-9][0-9]{3})\s*(?:([A-Za-z]{2}))?\s*$")
_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# The Netherlands with a margin (Caribbean municipalities have no PC4): a lat,lon outside
# this box is almost always swapped or mistyped, so it is refused rather than searched.
NL_BOUNDS = (50.5, 53.8, 3.0, 7.5)


class NearError(ValueError):
    """A ``near`` value that is neither a known Dutch postcode nor a plausible lat,lon."""


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point, with the label it was given as (postcode or coordinates)."""

    lat: float
    lon: float
    label: str


@lru_cache(maxsize=4)
def load_pc4(path: Path | None = None) -> dict[str, tuple[float, float]]:
    """Return PC4 -> (lat, lon) from the bundled table (read once)."""
    path = path or bundled("geo/pc4.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["pc4"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(handle)
        }


def parse_near(value: str, *, table: dict[str, tuple[float, float]] | None = None) -> GeoPoint:
    """Resolve ``6511``, ``6511 AB``, ``6511AB`` or ``51.84,5.86`` to a point.

    Raises NearError with a message meant for the person who typed the value.
    """
    text = value.strip()
    if not text:
        raise NearError("near is empty; give a postcode (6511 or 6511 AB) or lat,lon")
    match = _PC.match(text)
    if match:
        table = table if table is not None else load_pc4()
        pc4 = match[1]
        if pc4 not in table:
            raise NearError(f"unknown postcode {pc4!r}")
        lat, lon = table[pc4]
        label = f"{pc4} {match[2].upper()}" if match[2] else pc4
        return GeoPoint(lat, lon, label)
    match = _LATLON.match(text)
    if match:
        lat, lon = float(match[1]), float(match[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise NearError(f"near {text!r}: latitude or longitude out of range")
        south, north, west, east = NL_BOUNDS
        if not (south <= lat <= north and west <= lon <= east):
            raise NearError(
                f"near {text!r} is not in the Netherlands (give lat,lon, in that order)"
            )
        return GeoPoint(lat, lon, f"{lat:.5f},{lon:.5f}")
    raise NearError(
        f"near {text[:40]!r} is neither a postcode (6511 or 6511 AB) nor coordinates (lat,lon)"
    )


def bounding_box(point: GeoPoint, km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) enclosing every point within ``km`` (a cheap SQL prefilter)."""
    dlat = km / KM_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(min(89.0, abs(point.lat) + dlat))), 1e-6)
    dlon = km / (KM_PER_DEGREE_LAT * cos_lat)
    return point.lat - dlat, point.lat + dlat, point.lon - dlon, point.lon + dlon
