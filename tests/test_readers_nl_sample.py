"""Every non-iCal nl-sample file through its reader, checked against labels.jsonl.

The labels give each record's title, start and end (Europe/Amsterdam, all-day ends
exclusive) and, when the record itself holds one, the 4-digit postcode.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from crawlers import registry
from crawlers.records import RawEvent, Window
from crawlers.source import SourceConfig
from tests.conftest import AMS, SAMPLE_NOW

SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "nl-sample"
KINDS = {"rss": "rss", "json": "tribe", "html": "jsonld"}
SELECTORS = {"html/co-gelderse-vallei-agenda.html": "html/co-gelderse-vallei-agenda.selectors.yaml"}


def _labels() -> dict[str, list[dict[str, Any]]]:
    by_file: dict[str, list[dict[str, Any]]] = {}
    for line in (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        if not label["source"].endswith(".ics"):
            by_file.setdefault(label["source"], []).append(label)
    return by_file


LABELS = _labels()


def read(relative: str) -> list[RawEvent]:
    kind = "selectors" if relative in SELECTORS else KINDS[relative.split("/", 1)[0]]
    source = SourceConfig(
        id="nl-sample",
        name=relative,
        kind=kind,
        url=relative,
        region="landelijk",
        selectors=SELECTORS.get(relative),
        base_dir=SAMPLE,
    )
    body = (SAMPLE / relative).read_bytes()
    result = registry.parse_document(body, source, now=SAMPLE_NOW, window=Window.around(SAMPLE_NOW))
    return result.events


def local(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(AMS).strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def find(events: list[RawEvent], key: str) -> RawEvent:
    matches = [e for e in events if e.uid == key or e.title == key.strip()]
    assert len(matches) == 1, f"{key}: {len(matches)} records"
    return matches[0]


@pytest.mark.parametrize("relative", sorted(LABELS))
def test_every_labelled_record_is_read_with_its_times(relative: str) -> None:
    events = read(relative)
    labels = LABELS[relative]
    assert len(events) == len(labels)
    for label in labels:
        record = find(events, label["uid_or_key"])
        # labels leave out a decorative emoji some titles carry ("… leraar 🎓")
        assert label["title"].strip() in record.title
        assert local(record.start) == label["start_local"], label["uid_or_key"]
        assert local(record.end) == label["end_local"], label["uid_or_key"]


@pytest.mark.parametrize("relative", sorted(LABELS))
def test_postcodes_the_records_hold_are_kept(relative: str) -> None:
    events = read(relative)
    for label in LABELS[relative]:
        if not label["postcode4"]:
            continue
        record = find(events, label["uid_or_key"])
        where = " ".join(filter(None, [record.postcode, record.address, record.location]))
        assert label["postcode4"] in where, (label["uid_or_key"], where)


def test_online_records_carry_no_physical_place() -> None:
    events = read("html/onderwijsregio-rijk-van-nijmegen-agenda.html")
    webinar = find(
        events,
        "https://www.onderwijsregio-rvn.example.nl/agenda/teaching-in-the-netherlands-internationals",
    )
    assert (
        webinar.location is None and webinar.online_url and webinar.extra["attendance"] == "online"
    )
    hybrid = find(
        events,
        "https://www.onderwijsregio-rvn.example.nl/agenda/hybride-informatieavond-leraar-mbo",
    )
    assert (
        hybrid.postcode == "6525 EN" and hybrid.online_url and hybrid.extra["attendance"] == "mixed"
    )


def test_rss_prose_locations() -> None:
    events = read("rss/onderwijsnetwerk-regio-zwolle-agenda.xml")
    by_id = {e.uid.rsplit("/agenda/", 1)[1].split("/")[0]: e for e in events}
    assert by_id["2262"].location == "Praktijkschool De Bolder in IJsselmuiden"
    assert by_id["2265"].location == "Provinciehuis (Luttenbergstraat 2, Zwolle)"
    assert by_id["2258"].location == "CBS De Regenboog, Grotestraat 10, 8102 EK Raalte"
    assert (
        by_id["2251"].location
        == "Hogeschool IJsseldelta, locatie Kampen, Oudestraat 86, 8261 CR Kampen"
    )
    assert by_id["2236"].location == "online"
    assert (
        by_id["2247"].title.startswith("Information session")
        and by_id["2247"].location == "online via Zoom"
    )


def test_rss_event_module_locations_and_zones() -> None:
    events = read("rss/werkplein-arnhem-veluwe-events.xml")
    first = find(events, "https://www.werkplein-arnhemveluwe.example.nl/agenda/771")
    assert (
        first.location == "Online (Microsoft Teams)"
        and first.organizer_name == "Werkplein Arnhem-Veluwe"
    )
    naive = find(events, "https://www.werkplein-arnhemveluwe.example.nl/agenda/779")
    assert naive.start == datetime(2027, 2, 25, 10, 0, tzinfo=AMS)


def test_windows_1252_feed_keeps_frisian_letters() -> None:
    events = read("rss/spo-de-walden-nieuws-agenda.xml")
    meeloop = find(events, "dewalden-agenda-312")
    assert meeloop.title == "Meeloopochtend voor zij-instromers op OBS ’t Fûgelnêst"
    assert "€ 3,00" in (find(events, "dewalden-agenda-321").description or "")
    assert find(events, "dewalden-agenda-306").location == "gemeentehuis Drachten"


def test_tribe_details() -> None:
    events = read("json/ijsseldelta-tribe-events.page1.json")
    first = find(events, "4790")
    assert (first.location, first.address, first.postcode, first.city) == (
        "Hogeschool IJsseldelta, gebouw C",
        "Campus 2",
        "8017 CA",
        "Zwolle",
    )
    assert first.is_free is True and first.categories == ["Voorlichting"]
    assert find(events, "4801").title == "Open avond deeltijdopleidingen leraar 🎓"
    online = find(events, "4805")
    assert online.location is None and online.postcode is None
    page2 = read("json/ijsseldelta-tribe-events.page2.json")
    assert find(page2, "4830").start == date(2027, 4, 10) and find(page2, "4830").end == date(
        2027, 4, 11
    )
    assert "<script" in (find(page2, "4838").description_html or "")  # the normaliser sanitises


def test_schema_org_organizer_reference_and_city_only_address() -> None:
    banenmarkt = read("html/overstappunt/agenda/landelijke-onderwijsbanenmarkt-2027.html")[0]
    assert banenmarkt.organizer_name == "Overstappunt Onderwijs"
    groningen = read("html/overstappunt/agenda/voorlichting-zij-instroom-po-groningen.html")[0]
    assert groningen.city == "Groningen" and groningen.location == "Hogeschool Noorderland"
    assert groningen.start == datetime(2027, 2, 9, 19, 0, tzinfo=AMS)


def test_microdata_page() -> None:
    events = read("html/utrechtse-lerarenacademie-agenda.html")
    first = find(
        events,
        "https://www.lerarenacademie-utrecht.example.nl/agenda/informatiebijeenkomst-zij-instroom-vo-2027-01-25",
    )
    assert (first.location, first.address, first.postcode, first.city) == (
        "Utrechtse Lerarenacademie",
        "Heidelberglaan 15",
        "3584 CS",
        "Utrecht",
    )
    english = find(
        events,
        "https://www.lerarenacademie-utrecht.example.nl/agenda/teaching-in-utrecht-information-evening",
    )
    assert english.language == "en"


def test_selector_cards() -> None:
    events = read("html/co-gelderse-vallei-agenda.html")
    card = find(events, "Startersbijeenkomst nieuwe collega's en zij-instromers")
    assert card.location == "Dorpshuis Lunteren, Dorpsstraat 1, 6741 AA Lunteren"
    assert (
        card.url
        == "https://www.co-gv.example.nl/agenda/startersbijeenkomst-nieuwe-collega-s-en-zij-instromers"
    )
    assert "werken en leren tegelijk" in (
        find(events, "Informatieavond zij-instroom basisonderwijs FoodValley").description_html
        or ""
    )
