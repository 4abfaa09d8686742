"""Offline Dutch gazetteer: postcodes, places and municipalities from config/geo.

Built by tools/build_gazetteer.py from GeoNames and CBS data (CC BY 4.0, see NOTICE).
Lookups are by a folded key (case, accents, apostrophes and hyphens ignored); an ambiguous
name (two "Zwolle"s, three "Elst"s) is ranked: places in the preferred municipalities
(the source's region) first, then by feature code (capital, seat) and population.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from aggregator.distance import haversine_km
from config import bundled

# A Dutch postcode: 4 digits (no leading 0), then two letters. Uppercase letters may stand
# apart ("5211 AB", "8017\u00a0CA"); lowercase ones only glued on ("5211ab"), so that a
# year followed by a word ("2027 in") is not read as a postcode.
_PC6 = re.compile(r"(?<![\w-])([1-9]\d{3})(?:[ \u00a0\u202f]?([A-Z]{2})|([a-z]{2}))(?![\w])")
_PC4 = re.compile(r"(?<![\w-])([1-9]\d{3})(?![\w-])")
_FEATURE_RANK = {"PPLC": 4, "PPLG": 4, "PPLA": 4, "PPLA2": 3, "ADM2": 3, "PPL": 2, "PPLL": 1}
_NON_KEY = re.compile(r"[^a-z0-9' ]+")


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """The lookup key of a name: lowercase ASCII, one apostrophe style, hyphens as spaces."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("’", "'").replace("`", "'").replace("‘", "'")
    text = _NON_KEY.sub(" ", text.replace("-", " ").replace(".", " "))
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Municipality:
    """A CBS gemeente: its code, CBS name ("Bergen (NH.)") and public display name
    ("Bergen (Noord-Holland)"), and a display coordinate (its largest place)."""

    code: str
    name: str
    province: str
    lat: float
    lon: float
    display_name: str = ""
    population: int = 0  # of its largest place

    @property
    def public_name(self) -> str:
        """The name to show on a public page (the CBS name when no display name is set)."""
        return self.display_name or self.name


@dataclass(frozen=True, slots=True)
class Place:
    """A populated place (or a gemeente used as a place name)."""

    name: str
    gemeente_code: str
    lat: float
    lon: float
    population: int
    feature: str

    def rank(self, prefer: frozenset[str]) -> tuple[int, int, int]:
        """Sort key, higher is better."""
        return (
            int(self.gemeente_code in prefer),
            _FEATURE_RANK.get(self.feature, 0),
            self.population,
        )


@dataclass(frozen=True, slots=True)
class PostcodeArea:
    """A 4-digit postcode area."""

    pc4: str
    place: str
    gemeente_code: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class PostcodeHit:
    """A postcode found in a text: its display form and the area it lies in."""

    postcode: str  # "3011 AB" or "3011"
    area: PostcodeArea
    end: int  # index in the text after the postcode


class Gazetteer:
    """In-memory indexes over the bundled gazetteer files."""

    def __init__(self, directory: Path) -> None:
        self.municipalities: dict[str, Municipality] = {}
        self.postcodes: dict[str, PostcodeArea] = {}
        self._names: dict[str, list[Place]] = {}
        self._alternates: dict[str, list[Place]] = {}
        self._places: list[Place] = []
        with (directory / "municipalities.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                m = Municipality(
                    row["code"],
                    row["name"],
                    row["province"],
                    float(row["lat"]),
                    float(row["lon"]),
                    display_name=row.get("display_name") or row["name"],
                    population=int(row.get("population") or 0),
                )
                self.municipalities[m.code] = m
        with (directory / "pc4.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                self.postcodes[row["pc4"]] = PostcodeArea(
                    row["pc4"],
                    row["place"],
                    row["gemeente_code"],
                    float(row["lat"]),
                    float(row["lon"]),
                )
        with (directory / "places.csv").open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                place = Place(
                    row["name"],
                    row["gemeente_code"],
                    float(row["lat"]),
                    float(row["lon"]),
                    int(row["population"] or 0),
                    row["feature"],
                )
                self._places.append(place)
                self._names.setdefault(fold(place.name), []).append(place)
                for alternate in filter(None, row["alternates"].split("|")):
                    self._alternates.setdefault(fold(alternate), []).append(place)
        for m in self.municipalities.values():
            # a gemeente name is a place name too ("Smallingerland", "Hengelo (O.)")
            as_place = Place(m.name, m.code, m.lat, m.lon, m.population, "ADM2")
            bare = re.sub(r"\s*\(.*?\)", "", m.name)
            for key in {fold(m.name), fold(bare), fold(m.public_name)}:
                self._names.setdefault(key, []).append(as_place)
        extra = yaml.safe_load((directory / "aliases.yaml").read_text(encoding="utf-8")) or {}
        self.not_places: frozenset[str] = frozenset(fold(w) for w in extra.get("not_places", []))
        self._blocked: set[str] = set()
        for alias, target in (extra.get("aliases") or {}).items():
            key = fold(alias)
            if target is None:
                self._blocked.add(key)  # a region or province, not a place
                continue
            places = self._resolve_alias(str(target))
            if places:
                self._names[key] = places

    def _resolve_alias(self, target: str) -> list[Place]:
        if target in self.municipalities:
            m = self.municipalities[target]
            return [Place(m.name, m.code, m.lat, m.lon, m.population, "ADM2")]
        return list(self._names.get(fold(target), []))

    def all_places(self) -> Iterable[Place]:
        """Every place of places.csv (not the gemeenten or aliases)."""
        yield from self._places

    def place_names(self) -> Iterable[str]:
        """Every primary place name and gemeente name, as written (for masking in texts)."""
        seen: set[str] = set()
        for places in self._names.values():
            for place in places:
                if place.name not in seen:
                    seen.add(place.name)
                    yield place.name

    def municipality(self, code: str | None) -> Municipality | None:
        """The gemeente with this CBS code."""
        return self.municipalities.get(code) if code else None

    def lookup(
        self,
        name: str,
        *,
        prefer: frozenset[str] = frozenset(),
        alternates: bool = True,
    ) -> Place | None:
        """The best place for a name, or None; alternates are other spellings from GeoNames."""
        key = fold(name)
        if not key or key in self._blocked:
            return None
        candidates = self._names.get(key) or (self._alternates.get(key) if alternates else None)
        if not candidates:
            return None
        return max(candidates, key=lambda p: p.rank(prefer))

    def local_name(self, place: Place) -> str:
        """The name to show for a place: its gemeente's public name when GeoNames' primary
        name is a foreign one of the same place ("The Hague" -> "Den Haag")."""
        gemeente = self.municipalities.get(place.gemeente_code)
        if gemeente is None or place.feature == "ADM2":
            return gemeente.public_name if gemeente else place.name
        local = re.sub(r"\s*\(.*?\)\s*$", "", gemeente.public_name)
        if fold(local) != fold(place.name) and place in self._alternates.get(fold(local), []):
            return local
        return place.name

    def candidates(self, name: str) -> list[Place]:
        """Every place a name (or its folded key) may mean: primary names and aliases, else
        GeoNames' alternate spellings; none for a region or province name."""
        key = fold(name)
        if not key or key in self._blocked:
            return []
        return list(self._names.get(key) or self._alternates.get(key) or [])

    def is_known(self, name: str) -> bool:
        """Whether a name is a place name (primary or alias)."""
        return fold(name) in self._names

    def find_postcodes(self, text: str, *, allow_pc4: bool = False) -> Iterable[PostcodeHit]:
        """Postcodes in a text, in order; plain 4-digit ones only when ``allow_pc4``."""
        for match in _PC6.finditer(text):
            area = self.postcodes.get(match.group(1))
            if area is not None:
                letters = (match.group(2) or match.group(3)).upper()
                yield PostcodeHit(f"{match.group(1)} {letters}", area, match.end())
        if allow_pc4:
            for match in _PC4.finditer(text):
                area = self.postcodes.get(match.group(1))
                if area is not None:
                    yield PostcodeHit(match.group(1), area, match.end())

    def nearest_postcode(
        self, lat: float, lon: float, *, max_km: float = 3.0
    ) -> PostcodeArea | None:
        """The PC4 area whose centre is nearest to a point, if within ``max_km``."""
        best: tuple[float, PostcodeArea] | None = None
        for area in self.postcodes.values():
            km = haversine_km(lat, lon, area.lat, area.lon)
            if best is None or km < best[0]:
                best = (km, area)
        return best[1] if best and best[0] <= max_km else None


@lru_cache(maxsize=2)
def load_gazetteer(directory: Path | None = None) -> Gazetteer:
    """The bundled gazetteer (loaded once per process)."""
    return Gazetteer(directory or bundled("geo"))


def public_municipality_name(code: str | None, cbs_name: str | None = None) -> str | None:
    """The public name of a gemeente for a page or feed ("Bergen (Noord-Holland)",
    "Middelburg", "Den Haag"), by CBS code; the CBS name when the code is unknown."""
    gemeente = load_gazetteer().municipality(code)
    return gemeente.public_name if gemeente is not None else cbs_name
