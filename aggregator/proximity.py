"""Where a search is "near": postcodes, place names and coordinates; distances, bounding boxes.

The postcode table is bundled (config/geo/pc4.csv, built by tools/build_gazetteer.py from GeoNames,
CC BY 4.0); a PC6 postcode resolves to the centroid of its PC4 area. A place name is any
woonplaats or gemeente of the gazetteer, in its everyday spellings ("Den Bosch",
"'s-Hertogenbosch", "A'dam", "Bergen NH"); see ``resolve_place`` for ambiguous names.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aggregator.distance import KM_PER_DEGREE_LAT
from aggregator.gazetteer import Gazetteer, Municipality, Place, fold, load_gazetteer
from config import bundled

_PC = re.compile(r"^\s*([1-9][0-9]{3})\s*(?:([A-Za-z]{2}))?\s*$")
_LATLON = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,;]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
# a place name: letters first, then letters, spaces, apostrophes, hyphens, dots, brackets
_NAME = re.compile(r"^['’]?[^\W\d_][\w'’ .()/,-]{0,59}$")
# The Netherlands with a margin (Caribbean municipalities have no PC4): a lat,lon outside
# this box is almost always swapped or mistyped, so it is refused rather than searched.
NL_BOUNDS = (50.5, 53.8, 3.0, 7.5)


class NearError(ValueError):
    """A ``near`` value that is not a known postcode or place, nor a plausible lat,lon."""


class AmbiguousNear(NearError):
    """A place name that several places carry, none clearly the one meant."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        self.candidates = candidates
        super().__init__(
            f"near {name!r} is ambiguous: {'; '.join(candidates)}. Give one of these, or a postcode"
        )


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 point, with the label it was given as and what it resolved to.

    ``kind`` is ``postcode``, ``place`` or ``coordinates``; ``place`` and the gemeente
    (CBS code and public name) are set when known.
    """

    lat: float
    lon: float
    label: str
    kind: str = "coordinates"
    place: str | None = None
    municipality_code: str | None = None
    municipality: str | None = None

    def as_json(self) -> dict[str, object]:
        """The resolved point as the API shows it (``near`` in /api/events)."""
        return {
            "query": self.label,
            "kind": self.kind,
            "place": self.place,
            "municipality": self.municipality,
            "municipality_code": self.municipality_code,
            "lat": round(self.lat, 5),
            "lon": round(self.lon, 5),
        }


@lru_cache(maxsize=4)
def load_pc4(path: Path | None = None) -> dict[str, tuple[float, float]]:
    """Return PC4 -> (lat, lon) from the bundled table (read once)."""
    path = path or bundled("geo/pc4.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["pc4"]: (float(row["lat"]), float(row["lon"])) for row in csv.DictReader(handle)
        }


def parse_near(value: str, *, table: dict[str, tuple[float, float]] | None = None) -> GeoPoint:
    """Resolve ``6511``, ``6511 AB``, ``6511AB``, ``51.84,5.86`` or a place name to a point.

    Raises NearError with a message meant for the person who typed the value (an
    AmbiguousNear listing the candidates for a name several places carry).
    """
    text = value.strip()
    if not text:
        raise NearError("near is empty; give a place, a postcode (6511 or 6511 AB) or lat,lon")
    match = _PC.match(text)
    if match:
        table = table if table is not None else load_pc4()
        pc4 = match[1]
        if pc4 not in table:
            raise NearError(f"unknown postcode {pc4!r}")
        lat, lon = table[pc4]
        label = f"{pc4} {match[2].upper()}" if match[2] else pc4
        area = _areas().get(pc4)
        if area is None:
            return GeoPoint(lat, lon, label, "postcode")
        return GeoPoint(lat, lon, label, "postcode", area[0], area[1], area[2])
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
    if _NAME.match(text):
        return resolve_place(text)
    raise NearError(
        f"near {text[:40]!r} is neither a place, a postcode (6511 or 6511 AB) "
        "nor coordinates (lat,lon)"
    )


@lru_cache(maxsize=1)
def _areas() -> dict[str, tuple[str, str, str]]:
    """PC4 -> (place, gemeente code, gemeente public name), from the bundled tables."""
    with bundled("geo/municipalities.csv").open(encoding="utf-8", newline="") as handle:
        names = {
            row["code"]: row.get("display_name") or row["name"] for row in csv.DictReader(handle)
        }
    with bundled("geo/pc4.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["pc4"]: (row["place"], row["gemeente_code"], names.get(row["gemeente_code"], ""))
            for row in csv.DictReader(handle)
        }


def bounding_box(point: GeoPoint, km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) enclosing every point within ``km`` (a cheap SQL prefilter)."""
    dlat = km / KM_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(min(89.0, abs(point.lat) + dlat))), 1e-6)
    dlon = km / (KM_PER_DEGREE_LAT * cos_lat)
    return point.lat - dlat, point.lat + dlat, point.lon - dlon, point.lon + dlon


# Province qualifiers people add to a name ("Bergen NH", "Bergen (L.)", "Hengelo Gld").
_PROVINCE_WORDS = {
    "Noord-Holland": ("nh", "n h", "noord holland"),
    "Zuid-Holland": ("zh", "z h", "zuid holland"),
    "Limburg": ("l", "lb", "li", "limburg"),
    "Gelderland": ("gld", "gl", "gelderland"),
    "Overijssel": ("o", "ov", "ovl", "overijssel"),
    "Utrecht": ("u", "ut", "utr", "utrecht"),
    "Noord-Brabant": ("nb", "n b", "nbr", "noord brabant", "brabant"),
    "Zeeland": ("z", "zl", "zld", "zeeland"),
    "Fryslân": ("fr", "fri", "friesland", "fryslan"),
    "Groningen": ("gr", "gn", "groningen"),
    "Drenthe": ("dr", "drenthe"),
    "Flevoland": ("fl", "flevoland"),
}
_PROVINCE_OF = {word: province for province, words in _PROVINCE_WORDS.items() for word in words}
# A place this many times more populous than every other candidate is the one meant.
DOMINANT_FACTOR = 10
MAX_CANDIDATES = 10  # an ambiguous name lists at most this many (most populous first)


def _bare(name: str) -> str:
    return re.sub(r"\s*\(.*?\)\s*$", "", name)


def _label(place: Place, gemeente: Municipality) -> str:
    """How a candidate is named to the person: "Elst (Overbetuwe)", "Bergen (Limburg)"."""
    if fold(place.name) == fold(_bare(gemeente.public_name)) or place.feature == "ADM2":
        return gemeente.public_name
    return f"{place.name} ({gemeente.public_name})"


def _qualified(gaz: Gazetteer, key: str) -> list[Place]:
    """Candidates for "<name> <province or gemeente>" ("bergen nh", "elst rhenen")."""
    words = key.split()
    for cut in range(1, len(words)):
        base, qualifier = " ".join(words[:-cut]), " ".join(words[-cut:])
        places = gaz.candidates(base)
        province = _PROVINCE_OF.get(qualifier)
        chosen = [
            p
            for p in places
            if (m := gaz.municipality(p.gemeente_code)) is not None
            and (
                (province is not None and m.province == province)
                or fold(_bare(m.public_name)) == qualifier
                or fold(_bare(m.name)) == qualifier
            )
        ]
        if chosen:
            return chosen
    return []


def resolve_place(name: str, gazetteer: Gazetteer | None = None) -> GeoPoint:
    """The point of a woonplaats or gemeente name, in any common spelling.

    The rule for a name several places carry: candidates in one gemeente count as one (the
    best of them); two gemeenten of that name ("Bergen") are always ambiguous; otherwise
    the most populous candidate is taken when it has at least ``DOMINANT_FACTOR`` times
    the population of every other ("Zwolle", not the hamlet near Groenlo); else the name is
    ambiguous and AmbiguousNear lists the candidates, each a spelling that resolves.
    A qualifier picks among them: "Bergen NH", "Bergen (Limburg)", "Elst (Rhenen)".
    """
    gaz = gazetteer or load_gazetteer()
    key = fold(re.sub(r"^\s*gemeente\s+", "", name, flags=re.IGNORECASE))
    candidates = gaz.candidates(key) or _qualified(gaz, key)
    if not candidates:
        raise NearError(
            f"near {name[:40]!r} is an unknown place; give a woonplaats or gemeente, a "
            "postcode (6511 or 6511 AB) or lat,lon"
        )
    best: dict[str, Place] = {}
    for place in candidates:
        current = best.get(place.gemeente_code)
        if current is None or place.rank(frozenset()) > current.rank(frozenset()):
            best[place.gemeente_code] = place
    ranked = sorted(best.values(), key=lambda p: p.rank(frozenset()), reverse=True)
    ranked.sort(key=lambda p: p.population, reverse=True)
    gemeenten = {p.gemeente_code for p in candidates if p.feature == "ADM2"}
    chosen = ranked[0]
    dominant = chosen.population > 0 and (
        chosen.population >= DOMINANT_FACTOR * ranked[1].population if len(ranked) > 1 else True
    )
    if len(ranked) > 1 and (len(gemeenten) > 1 or not dominant):
        labels = []
        for place in ranked[:MAX_CANDIDATES]:
            gemeente = gaz.municipality(place.gemeente_code)
            if gemeente is not None:
                label = _label(place, gemeente)
                if fold(label) == key:  # "Laren" -> "Laren (Noord-Holland)", which resolves
                    label = f"{label} ({gemeente.province})"
                labels.append(label)
        raise AmbiguousNear(name.strip(), list(dict.fromkeys(labels)))
    gemeente = gaz.municipality(chosen.gemeente_code)
    assert gemeente is not None  # every place of the gazetteer has a known gemeente
    place_name = _bare(gaz.local_name(chosen))
    return GeoPoint(
        chosen.lat,
        chosen.lon,
        name.strip(),
        "place",
        place_name,
        gemeente.code,
        gemeente.public_name,
    )
