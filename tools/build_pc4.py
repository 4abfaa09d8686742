"""Build config/geo/pc4.csv (PC4 postcode -> centroid, municipality) from GeoNames (by hand).

Reads the shared geodata checkout (``../shared/data/nl_pc4_geonames.csv`` by default); the
product never reads it at run time. Rows without coordinates are left out; coordinates are
rounded to 4 decimals (about 10 m), which is plenty for "within N km" searches. A PC4 that
spans several places keeps its most accurate row.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

DEFAULT_INPUT = Path(__file__).resolve().parents[2] / "shared" / "data" / "nl_pc4_geonames.csv"
OUTPUT = Path(__file__).resolve().parents[1] / "config" / "geo" / "pc4.csv"


def build(source: Path, target: Path) -> int:
    """Write the compact table and return the number of postcodes written."""
    rows: dict[str, tuple[str, str, str]] = {}
    accuracy: dict[str, int] = {}
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            pc4 = row["pc4"].strip()
            if len(pc4) != 4 or not pc4.isdigit() or not row["latitude"] or not row["longitude"]:
                continue
            # a PC4 spanning several places: keep the most accurate row, the first on ties
            rank = int(row.get("accuracy") or 0)
            if pc4 in rows and rank <= accuracy[pc4]:
                continue
            accuracy[pc4] = rank
            rows[pc4] = (
                f"{float(row['latitude']):.4f}",
                f"{float(row['longitude']):.4f}",
                row.get("gemeente_code", "").strip(),
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["pc4", "lat", "lon", "municipality_code"])
        for pc4 in sorted(rows):
            writer.writerow([pc4, *rows[pc4]])
    return len(rows)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_INPUT
    print(f"{build(source, OUTPUT)} postcodes written to {OUTPUT}")
