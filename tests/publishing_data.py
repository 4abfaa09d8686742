"""A small, realistic set of stored events (as the aggregator will leave them) for publisher tests.

The aggregator fills municipality, coordinates, sectors and the rest; today many of those
are still null after a harvest, so these tests insert complete rows directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.db import make_engine, upgrade
from aggregator.localtime import local_midnight
from aggregator.models import Event, Source, SourceRecord
from tests.conftest import config_for, write_sources

AMS = ZoneInfo("Europe/Amsterdam")
HARVESTED = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
FIRST_SEEN = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

LONG_DESCRIPTION = (
    "Wil je leraar worden in het basisonderwijs? Tijdens deze avond vertellen "
    "zij-instromers, schoolleiders en de pabo hoe het traject werkt; je hoort over "
    "geschiktheidsonderzoek, salaris, subsidie en begeleiding.\n"
    "Neem gerust je partner mee – koffie & thee staan klaar. Café 'De Hoek', 2e etage."
)


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    start: datetime | date
    end: datetime | date | None = None
    values: dict[str, Any] | None = None
    source: str = "rap-nijmegen"


def _at(day: int, month: int, hour: int, minute: int = 0, year: int = 2027) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS)


SPECS: list[Spec] = [
    Spec(
        "nijmegen-info",
        "Informatieavond zij-instroom basisonderwijs",
        _at(12, 3, 19),
        _at(12, 3, 21),
        {
            "description": LONG_DESCRIPTION,
            # real producers (WordPress, Outlook) put newlines and commas in their HTML
            "description_html": "<p>Wil je leraar worden?</p>\n<p><strong>Kom langs</strong>,"
            " met koffie.</p>\n",
            "location_name": "Hogeschool van Arnhem en Nijmegen",
            "address": "Kapittelweg 33",
            "postcode": "6525 EN",
            "city": "Nijmegen",
            "municipality": "Nijmegen",
            "municipality_code": "GM0268",
            "lat": 51.8226,
            "lon": 5.8681,
            "region": "rijk-van-nijmegen",
            "activity_type": "voorlichting",
            "sectors": ["po"],
            "phases": ["orienteren"],
            "audiences": ["zij-instromers"],
            "language": "nl",
            "is_free": True,
            "registration_url": "https://example.org/aanmelden?event=12,maart;po",
            "organizer_name": "RAP Rijk van Nijmegen",
            "organizer_url": "https://example.org/rap",
        },
    ),
    Spec(
        "arnhem-open",
        "Open avond deeltijdpabo Arnhem",
        _at(20, 1, 18, 30),
        _at(20, 1, 20, 30),
        {
            "location_name": "HAN Ruitenberglaan",
            "city": "Arnhem",
            "municipality": "Arnhem",
            "municipality_code": "GM0202",
            "lat": 51.9880,
            "lon": 5.9497,
            "region": "midden-gelderland",
            "activity_type": "open-dag",
            "sectors": ["po"],
            "phases": ["besluiten"],
            "audiences": ["zij-instromers", "herintreders"],
            "language": "nl",
            "is_free": True,
        },
        source="han",
    ),
    Spec(
        "webinar-mbo",
        "Teaching in Dutch vocational education (webinar)",
        _at(3, 2, 12),
        _at(3, 2, 13),
        {
            "description": "An online session for internationals: how to teach in mbo.",
            "attendance": "online",
            "region": "landelijk",
            "activity_type": "webinar",
            "sectors": ["mbo"],
            "phases": ["interesseren"],
            "audiences": ["internationals"],
            "language": "en",
            "is_free": True,
            "url": "https://example.org/webinar-mbo",
        },
        source="onderwijsloket",
    ),
    Spec(
        "utrecht-meeloop",
        "Meeloopdag voortgezet onderwijs Utrecht",
        _at(9, 2, 8, 30),
        _at(9, 2, 15),
        {
            "city": "Utrecht",
            "municipality": "Utrecht",
            "municipality_code": "GM0344",
            "lat": 52.0907,
            "lon": 5.1214,
            "region": "midden-utrecht",
            "activity_type": "meeloopdag",
            "sectors": ["vo"],
            "phases": ["orienteren"],
            "audiences": ["zij-instromers"],
            "language": "nl",
            "is_free": True,
        },
        source="onderwijsloket",
    ),
    Spec(
        "amsterdam-banenmarkt",
        "Onderwijsbanenmarkt Amsterdam",
        _at(6, 3, 10),
        _at(6, 3, 16),
        {
            "location_name": "Beurs van Berlage",
            "city": "Amsterdam",
            "municipality": "Amsterdam",
            "municipality_code": "GM0363",
            "lat": 52.3757,
            "lon": 4.8960,
            "region": "groot-amsterdam",
            "activity_type": "matching",
            "sectors": ["vo", "mbo"],
            "phases": ["matchen"],
            "audiences": ["zij-instromers", "herintreders"],
            "language": "nl",
            "is_free": False,
        },
        source="onderwijsloket",
    ),
    Spec(
        "enschede-speeddate",
        "Speeddate zij-instromers Twente",
        _at(17, 2, 19),
        _at(17, 2, 21),
        {
            "attendance": "mixed",
            "city": "Enschede",
            "municipality": "Enschede",
            "municipality_code": "GM0153",
            "lat": 52.2215,
            "lon": 6.8937,
            "region": "twente",
            "activity_type": "matching",
            "sectors": ["po", "so"],
            "phases": ["matchen"],
            "audiences": ["zij-instromers"],
            "language": "nl",
        },
        source="twente",
    ),
    Spec(
        "groningen-opendag",
        "Open dag lerarenopleidingen Groningen",
        date(2027, 3, 20),
        date(2027, 3, 21),
        {
            "all_day": True,
            "city": "Groningen",
            "municipality": "Groningen",
            "municipality_code": "GM0014",
            "lat": 53.2194,
            "lon": 6.5665,
            "region": "groningen",
            "activity_type": "open-dag",
            "sectors": ["ho", "vo"],
            "phases": ["besluiten"],
            "audiences": ["studenten"],
            "language": "nl",
            "is_free": True,
        },
        source="twente",
    ),
    Spec(
        "zwolle-cancelled",
        "Matchingsavond onderwijs regio Zwolle",
        _at(25, 2, 19),
        _at(25, 2, 21),
        {
            "status": "cancelled",
            "city": "Zwolle",
            "municipality": "Zwolle",
            "municipality_code": "GM0193",
            "lat": 52.5168,
            "lon": 6.0830,
            "region": "regio-zwolle",
            "activity_type": "matching",
            "sectors": ["po", "vo"],
            "language": "nl",
        },
        source="twente",
    ),
    Spec(
        "nijmegen-removed",
        "Workshop overstappen Nijmegen",
        _at(2, 3, 19),
        _at(2, 3, 21),
        {
            "removed_at": datetime(2027, 1, 3, 6, 0, tzinfo=UTC),
            "city": "Nijmegen",
            "municipality_code": "GM0268",
            "lat": 51.8426,
            "lon": 5.8528,
            "region": "rijk-van-nijmegen",
            "activity_type": "voorlichting",
            "sectors": ["po"],
        },
    ),
    Spec(
        "syntax-title",
        'Proefles "NEAR" het station (wiskunde*) – vo',
        _at(10, 3, 16),
        _at(10, 3, 17),
        {
            "description": 'Let op: AND/OR "quotes", sterretjes * en haakjes ( ) in tekst.',
            "city": "Amersfoort",
            "municipality_code": "GM0307",
            "lat": 52.1561,
            "lon": 5.3878,
            "region": "amersfoort",
            "activity_type": "proefles",
            "sectors": ["vo"],
            "language": "nl",
        },
        source="onderwijsloket",
    ),
    Spec(
        "irrelevant",
        "Kerstmarkt basisschool",
        _at(15, 2, 16),
        None,
        {"relevant": False, "region": "rijk-van-nijmegen", "city": "Nijmegen"},
    ),
]

SOURCES = {
    "rap-nijmegen": ("RAP Rijk van Nijmegen", "https://example.org/rap-nijmegen.ics"),
    "han": ("HAN Lerarenopleidingen", "https://example.org/han/agenda"),
    "onderwijsloket": ("Onderwijsloket", "https://example.org/onderwijsloket/events"),
    "twente": ("Twents Onderwijsnetwerk", "https://example.org/twente.ics"),
}


def event_id(key: str) -> str:
    """The stored id of a spec (readable in test failures)."""
    return f"ev-{key}"


def build_event(spec: Spec) -> Event:
    """An Event row for a spec, with search_text as the store builds it."""
    values = dict(spec.values or {})
    event = Event(id=event_id(spec.key), title=spec.title, start_at=HARVESTED)
    if values.pop("all_day", False):
        assert isinstance(spec.start, date) and not isinstance(spec.start, datetime)
        event.all_day = True
        event.start_date = spec.start
        event.end_date = spec.end  # type: ignore[assignment]
        event.start_at = local_midnight(spec.start)
        event.end_at = local_midnight(spec.end) if isinstance(spec.end, date) else None
    else:
        assert isinstance(spec.start, datetime)
        event.start_at = spec.start.astimezone(UTC)
        event.end_at = spec.end.astimezone(UTC) if isinstance(spec.end, datetime) else None
    for name, value in values.items():
        setattr(event, name, value)
    event.first_seen = FIRST_SEEN
    event.last_modified = HARVESTED - timedelta(hours=1)
    event.sequence = 1 if event.removed_at or event.status == "cancelled" else 0
    event.search_text = " ".join(
        p
        for p in (
            event.title,
            event.description,
            event.location_name,
            event.city,
            event.municipality,
            event.organizer_name,
        )
        if p
    )
    return event


def seed(engine: Engine, specs: list[Spec] | None = None) -> dict[str, Event]:
    """Insert sources, events and one source record per event; return events by key."""
    specs = SPECS if specs is None else specs
    events: dict[str, Event] = {}
    with Session(engine, expire_on_commit=False) as session:
        for source_id, (name, url) in SOURCES.items():
            session.add(
                Source(
                    id=source_id,
                    name=name,
                    kind="ics",
                    url=url,
                    region="landelijk",
                    last_success_at=HARVESTED,
                )
            )
        session.flush()
        for spec in specs:
            event = build_event(spec)
            session.add(event)
            events[spec.key] = event
        session.flush()
        for spec in specs:
            event = events[spec.key]
            session.add(
                SourceRecord(
                    source_id=spec.source,
                    uid=f"{spec.key}@{spec.source}",
                    event_id=event.id,
                    title=event.title,
                    url=f"{SOURCES[spec.source][1]}#{spec.key}",
                    content_hash="0" * 64,
                    first_seen=FIRST_SEEN,
                    last_seen=HARVESTED,
                    harvested_at=HARVESTED,
                    removed_at=event.removed_at,
                )
            )
        session.commit()
    return events


def seed_at_revision(engine: Engine, specs: list[Spec] | None = None) -> None:
    """Insert the same rows as ``seed`` into an older schema: only the columns it has.

    For migration tests: today's models may carry columns that a later migration adds.
    """
    from sqlalchemy import MetaData, insert

    specs = SPECS if specs is None else specs
    metadata = MetaData()
    metadata.reflect(engine, only=("source", "event", "sourcerecord"))

    def rows(table: str, objects: list[Any]) -> list[dict[str, Any]]:
        names = set(metadata.tables[table].columns.keys())
        # sourcerecord.data (raw payloads, NOT NULL until migration 0008 dropped it)
        legacy = {"data": {}} if table == "sourcerecord" and "data" in names else {}
        return [
            {
                **legacy,
                **{
                    k: v
                    for k, v in obj.model_dump().items()
                    if k in names and not (k == "id" and v is None)
                },
            }
            for obj in objects
        ]

    sources = [
        Source(id=i, name=n, kind="ics", url=u, region="landelijk", last_success_at=HARVESTED)
        for i, (n, u) in SOURCES.items()
    ]
    events = [build_event(spec) for spec in specs]
    records = [
        SourceRecord(
            source_id=spec.source,
            uid=f"{spec.key}@{spec.source}",
            event_id=event.id,
            title=event.title,
            url=f"{SOURCES[spec.source][1]}#{spec.key}",
            content_hash="0" * 64,
            first_seen=FIRST_SEEN,
            last_seen=HARVESTED,
            harvested_at=HARVESTED,
            removed_at=event.removed_at,
        )
        for spec, event in zip(specs, events, strict=True)
    ]
    with engine.begin() as connection:
        for table, objects in (("source", sources), ("event", events), ("sourcerecord", records)):
            connection.execute(insert(metadata.tables[table]), rows(table, objects))


def keys(items: list[dict[str, Any]]) -> list[str]:
    """The spec keys of API items, in order."""
    return [item["id"].removeprefix("ev-") for item in items]


def seeded_app(directory: Path, *, base_url: str = "https://agenda.example") -> FastAPI:
    """An app over a fresh SQLite file in ``directory`` holding the seeded events (for
    module-scoped fixtures: one database for all the tests of a module)."""
    url = f"sqlite:///{directory / 'agenda.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    seed(engine)
    config = config_for(write_sources(directory / "sources.yaml", []))
    settings = Settings(AGENDA_BASE_URL=base_url)  # type: ignore[call-arg]
    return create_app(settings=settings, config=config, engine=engine)
