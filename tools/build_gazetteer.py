"""Build the compact offline gazetteer in config/geo/ from the shared geodata (run by hand).

Reads the shared data checkout (``../shared/data`` by default; see its SOURCES.md); the
product and the tests only read the files written here. Output, all UTF-8 CSV:

* ``municipalities.csv``: CBS code, CBS name, province, display coordinate (largest place).
* ``pc4.csv``: one row per 4-digit postcode: place, gemeente code, coordinate.
* ``places.csv``: GeoNames populated places with their gemeente, population, feature code
  and the alternate names that a Dutch or English text could use (Latin script only).

Hand-made aliases and the words that are not places live in ``config/geo/aliases.yaml``.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

# Historical, abandoned and other non-living places would only cause false matches.
SKIP_FEATURES = {"PPLH", "PPLQ", "PPLW", "PPLCH"}
_LATIN_NAME = re.compile(r"^[A-Z'’][A-Za-zÀ-ÿ'’.\- ()]{2,}$")


def _keep_alternate(name: str, primary: str) -> bool:
    """Keep spellings a Dutch calendar may use: Latin, capitalised, not an airport code."""
    if name == primary or not _LATIN_NAME.match(name):
        return False
    return not (name.isupper() and len(name) <= 4)


def build_municipalities(data: Path, out: Path) -> None:
    """Write municipalities.csv (code, name, province, lat, lon)."""
    with (data / "nl_gemeenten.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["code", "name", "province", "lat", "lon"])
        for row in rows:
            lat = row["largest_place_lat"] or row["inside_point_lat"]
            lon = row["largest_place_lon"] or row["inside_point_lon"]
            writer.writerow(
                [
                    row["gemeente_code"],
                    row["gemeente_name"],
                    row["province_name"],
                    f"{float(lat):.4f}",
                    f"{float(lon):.4f}",
                ]
            )


def build_pc4(data: Path, out: Path) -> None:
    """Write pc4.csv: a PC4 spanning several places keeps its most common gemeente."""
    by_pc4: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (data / "nl_pc4_geonames.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["gemeente_code"]:
                by_pc4[row["pc4"]].append(row)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["pc4", "place", "gemeente_code", "lat", "lon"])
        for pc4 in sorted(by_pc4):
            rows = by_pc4[pc4]
            code = Counter(r["gemeente_code"] for r in rows).most_common(1)[0][0]
            first = next(r for r in rows if r["gemeente_code"] == code)
            lat = sum(float(r["latitude"]) for r in rows) / len(rows)
            lon = sum(float(r["longitude"]) for r in rows) / len(rows)
            writer.writerow([pc4, first["place_name"], code, f"{lat:.4f}", f"{lon:.4f}"])


def build_places(data: Path, out: Path) -> None:
    """Write places.csv (name, alternates joined by '|', gemeente, coordinate, rank data)."""
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
                    f"{float(row['latitude']):.4f}",
                    f"{float(row['longitude']):.4f}",
                    row["population"] or "0",
                    row["feature_code"],
                ]
            )


def main(data: Path, out_dir: Path) -> None:
    """Build all three files."""
    out_dir.mkdir(parents=True, exist_ok=True)
    build_municipalities(data, out_dir / "municipalities.csv")
    build_pc4(data, out_dir / "pc4.csv")
    build_places(data, out_dir / "places.csv")


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("../shared/data")
    main(shared, Path("config/geo"))
