"""Address-first geocoding: an address line decides the place; loose words only without one."""

from __future__ import annotations

from datetime import datetime

import pytest

from aggregator.classify import Classifier
from aggregator.config import load_regions, load_taxonomy
from aggregator.draft import EventDraft
from aggregator.geocode import GeocodeStage
from aggregator.normalise import Normaliser
from config import bundled
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from tests.conftest import AMS

TAXONOMY = load_taxonomy(bundled("taxonomy.yaml"))
REGIONS = load_regions(bundled("regions.yaml"))
START = datetime(2027, 3, 9, 19, 30, tzinfo=AMS)
STAGES = (Normaliser(), Classifier(TAXONOMY), GeocodeStage(REGIONS))


def _run(title: str, region: str = "west-brabant", **raw) -> EventDraft:  # type: ignore[no-untyped-def]
    source = SourceConfig.model_validate(
        {"id": "s", "name": "S", "kind": "rss", "url": "s.xml", "region": region}
    )
    draft = EventDraft.from_raw(
        RawEvent(source_id=source.id, uid="u", title=title, start=START, **raw)
    )
    for stage in STAGES:
        draft = stage.process(draft, source)
    return draft


@pytest.mark.parametrize(
    ("description", "municipality", "postcode"),
    [
        # street, number, PC6 and city: the whole address decides
        ("Locatie: ROC Mondriaan, Spui 70, 2511 BT Den Haag.", "'s-Gravenhage", "2511 BT"),
        # street and city, no postcode
        ("We ontvangen je aan de Laan van Meerdervoort 55, Den Haag.", "'s-Gravenhage", None),
        # the address over two lines, a house-number letter
        ("Adres:\nHoofdstraat 12a\n9401 HS Assen", "Assen", "9401 HS"),
        # a number range and a multi-word city
        ("Kom naar de Grote Markt 1-3, 4611 NT Bergen op Zoom", "Bergen op Zoom", "4611 NT"),
        # "'s-" names and a postcode without its space
        ("Stadhuis, Wolvenhoek 1, 5211HH 's-Hertogenbosch", "'s-Hertogenbosch", "5211 HH"),
    ],
)
def test_an_address_in_the_text_outranks_a_stray_place_word(
    description: str, municipality: str, postcode: str | None
) -> None:
    # "Breda" in the title would win as a loose word; the region also prefers West-Brabant
    draft = _run("Informatieavond zij-instroom Breda e.o.", description=description)
    assert (draft.municipality, draft.postcode) == (municipality, postcode)


def test_a_po_box_is_the_organisers_mail_address_not_the_venue() -> None:
    text = "Informatieavond in Tilburg.\nPost: Postbus 1234, 2500 AA Den Haag"
    assert _run("Informatieavond zij-instroom", description=text).municipality == "Tilburg"


def test_words_in_running_text_count_only_without_an_address() -> None:
    text = "Een avond voor overstappers in Ede, met koffie."
    assert _run("Informatieavond zij-instroom", description=text).municipality == "Ede"
    text += " Adres: Stationsplein 1, 3818 LE Amersfoort"
    assert _run("Informatieavond zij-instroom", description=text).municipality == "Amersfoort"


def test_an_address_field_outranks_the_venue_words() -> None:
    draft = _run(
        "Open dag", location="Hogeschool Utrecht, Heidelberglaan 15, Utrecht", city="Utrecht"
    )
    assert draft.municipality == "Utrecht"
    draft = _run("Open avond", location="Praktijkschool Houten", address="Kerkstraat 5, Zeist")
    assert draft.municipality == "Zeist"


@pytest.mark.parametrize(
    "description",
    [
        "Open dag 2027 Utrecht en omgeving",  # a year is no house number
        "Informatieavond 2027 in de aula",
        "Wij verwelkomen 12 Nieuwe collega's",
    ],
)
def test_things_that_look_like_addresses_are_not(description: str) -> None:
    from aggregator.gazetteer import load_gazetteer
    from aggregator.geocode import Locator

    assert Locator(load_gazetteer()).address(description) is None


def test_bergen_op_zoom_is_a_place_not_an_online_meeting() -> None:
    draft = _run(
        "Informatieavond zij-instroom Bergen op Zoom",
        description="Van harte welkom op Grote Markt 1, 4611 NT Bergen op Zoom.",
    )
    assert draft.attendance == "offline" and draft.activity_type == "voorlichting"
    assert draft.municipality == "Bergen op Zoom"
    online = _run("Informatieavond zij-instroom", description="De avond is online via Zoom.")
    assert online.attendance == "online"


def test_a_huge_description_is_located_in_bounded_time() -> None:
    import time

    from aggregator.gazetteer import load_gazetteer
    from aggregator.geocode import Locator

    locator = Locator(load_gazetteer())
    # a million words of place-like and address-like text, then the real address
    text = "Kom naar Bbbb 12 in Cccc, of Dddd 7 te Eeee. " * 50_000 + "Spui 70, 2511 BT Den Haag"
    raw = RawEvent(source_id="s", uid="u", title="Informatieavond", start=START, description=text)
    draft = EventDraft.from_raw(raw)
    draft.description = text
    started = time.perf_counter()
    hit = locator.locate(draft, frozenset())
    assert time.perf_counter() - started < 3.0
    # a PC6 followed by its place is found by one scan, even at the very end
    assert hit is not None and hit.municipality_code == "GM0518"
    text = text.replace("2511 BT ", "")  # a bare "street number, city" that far is not tried
    draft.description = text
    started = time.perf_counter()
    assert locator.locate(draft, frozenset()) is None
    assert time.perf_counter() - started < 3.0
