"""Deterministic synthetic events for benchmarks: realistic titles, places, dates and labels.

Places are real: a PC4 area drawn from config/geo/pc4.csv (so denser where more postcodes
are, as with people), with its municipality (``gemeente_code``) and region from the
bundled config.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aggregator.config import Regions
from config import bundled

AMS = ZoneInfo("Europe/Amsterdam")
SOURCES = [
    (f"bron-{i:02d}", f"Agenda onderwijsregio {i:02d}", f"https://bron{i:02d}.example/agenda.ics")
    for i in range(40)
]
TYPES = {
    "voorlichting": ["Informatieavond zij-instroom", "Voorlichting overstappen", "Infosessie"],
    "webinar": ["Webinar zij-instroom", "Online informatiesessie", "Webevent leraar worden"],
    "meeloopdag": ["Meeloopdag", "Kijkje in de klas", "Snuffelstage"],
    "open-dag": ["Open avond deeltijdopleiding", "Open dag lerarenopleiding"],
    "proefles": ["Proefstuderen", "Proefles"],
    "matching": ["Matchingsavond", "Speeddate onderwijs", "Banenmarkt onderwijs"],
    "selectie": ["Selectiedag", "Geschiktheidsonderzoek"],
    "voorbereiding": ["Startersbijeenkomst", "Voorbereidingsavond"],
    "netwerk": ["Netwerkbijeenkomst", "Onderwijsdag"],
    "overig": ["Workshop", "Spreekuur"],
}
SECTOR_WORDS = {
    "po": "basisonderwijs",
    "vo": "voortgezet onderwijs",
    "mbo": "mbo",
    "ho": "hoger onderwijs",
    "so": "speciaal onderwijs",
    "pro": "praktijkonderwijs",
}
PHASES = ["interesseren", "orienteren", "besluiten", "matchen", "voorbereiden", "starten"]
AUDIENCES = ["zij-instromers", "herintreders", "internationals", "oop", "studenten"]
DESCRIPTION_BITS = [
    "Maak kennis met het werk van leraar en hoor hoe het zij-instroomtraject werkt.",
    "Ervaren zij-instromers vertellen over hun overstap naar het onderwijs.",
    "Je hoort over geschiktheidsonderzoek, opleiding, salaris en begeleiding.",
    "Na afloop is er ruimte voor vragen en een gesprek met schoolleiders.",
    "Aanmelden is nodig; deelname is gratis.",
    "De bijeenkomst is bedoeld voor iedereen die overweegt leraar te worden.",
]


def load_places(regions: Regions) -> list[dict[str, Any]]:
    """PC4 areas with coordinates, municipality code and name, and home region."""
    names = {code: name for r in regions for code, name in r.municipalities.items()}
    places = []
    with bundled("geo/pc4.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code = row["gemeente_code"]
            if code in regions.home_of:
                places.append(
                    {
                        "pc4": row["pc4"],
                        "lat": float(row["lat"]),
                        "lon": float(row["lon"]),
                        "municipality_code": code,
                        "municipality": names.get(code, code),
                        "region": regions.home_of[code],
                    }
                )
    return places


def generate(
    count: int, *, regions: Regions, today: date, seed: int = 42
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield (event row, source record row) pairs, deterministic for a seed."""
    rng = random.Random(seed)
    places = load_places(regions)
    harvested = datetime.combine(today, time(5), tzinfo=UTC)
    for n in range(count):
        activity_type = rng.choice(list(TYPES))
        sectors = rng.sample(list(SECTOR_WORDS), k=rng.choice((1, 1, 1, 2, 2, 3)))
        attendance = rng.choices(["offline", "online", "mixed"], weights=(80, 15, 5))[0]
        if activity_type == "webinar":
            attendance = "online"
        place = rng.choice(places)
        day = today + timedelta(days=rng.randint(-60, 365))
        hour = rng.choice((9, 10, 13, 15, 16, 19, 19, 19, 20))
        start = datetime.combine(day, time(hour, rng.choice((0, 0, 30))), tzinfo=AMS)
        end = start + timedelta(hours=rng.choice((1, 1.5, 2, 2, 3)))
        online = attendance == "online"
        city = place["municipality"]
        title = f"{rng.choice(TYPES[activity_type])} {SECTOR_WORDS[sectors[0]]}"
        if not online:
            title += f" {city}"
        description = " ".join(rng.sample(DESCRIPTION_BITS, k=3))
        source_id, source_name, source_url = SOURCES[n % len(SOURCES)]
        event_id = f"b{n:07d}{rng.getrandbits(48):012x}"
        location_name = (
            None if online else f"{rng.choice(['OBS', 'CSG', 'Hogeschool', 'ROC'])} {city}"
        )
        event = {
            "id": event_id,
            "title": title,
            "description": description,
            "description_html": None,
            "start_at": start.astimezone(UTC),
            "end_at": end.astimezone(UTC),
            "all_day": False,
            "start_date": None,
            "end_date": None,
            "status": "cancelled" if rng.random() < 0.02 else "confirmed",
            "attendance": attendance,
            "location_name": location_name,
            "address": None if online else f"Schoolstraat {rng.randint(1, 200)}",
            "postcode": None
            if online
            else f"{place['pc4']} {rng.choice('ABCDEFGHJK')}{rng.choice('ABCDEFGHJK')}",
            "city": None if online else city,
            "municipality": None if online else city,
            "municipality_code": None if online else place["municipality_code"],
            "lat": None if online else place["lat"],
            "lon": None if online else place["lon"],
            "region": "landelijk" if online else place["region"],
            "url": f"{source_url.rsplit('/', 1)[0]}/activiteit/{n}",
            "registration_url": None,
            "organizer_name": source_name,
            "organizer_url": None,
            "organizer_email": None,
            "activity_type": activity_type,
            "sectors": sectors,
            "phases": rng.sample(PHASES, k=rng.choice((1, 2))),
            "audiences": rng.sample(AUDIENCES, k=rng.choice((1, 1, 2))),
            "language": "en" if rng.random() < 0.05 else "nl",
            "is_free": rng.random() < 0.9,
            "relevant": True,
            "sequence": rng.choice((0, 0, 0, 1, 2)),
            "first_seen": harvested - timedelta(days=rng.randint(1, 90)),
            "last_modified": harvested - timedelta(hours=rng.randint(1, 2000)),
            "removed_at": None,
            "search_text": " ".join(p for p in (title, description, location_name, city) if p),
        }
        record = {
            "source_id": source_id,
            "uid": f"{n}@{source_id}",
            "recurrence_id": "",
            "event_id": event_id,
            "title": title,
            "url": event["url"],
            "content_hash": f"{n:064x}",
            "sequence": None,
            "source_last_modified": None,
            "first_seen": event["first_seen"],
            "last_seen": harvested,
            "harvested_at": harvested,
            "removed_at": None,
        }
        yield event, record
