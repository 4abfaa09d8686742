"""Unit tests of the pipeline stages: normalise, classify, geocode (no database)."""

from __future__ import annotations

from datetime import datetime

import pytest

from aggregator.classify import Classifier
from aggregator.config import load_regions, load_taxonomy
from aggregator.draft import EventDraft
from aggregator.geocode import GeocodeStage
from aggregator.normalise import (
    Normaliser,
    detect_free,
    detect_language,
    find_registration_url,
    html_to_text,
)
from aggregator.stage import Drop
from config import bundled
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from tests.conftest import AMS

TAXONOMY = load_taxonomy(bundled("taxonomy.yaml"))
REGIONS = load_regions(bundled("regions.yaml"))
START = datetime(2027, 3, 9, 19, 30, tzinfo=AMS)


def _source(**extra) -> SourceConfig:  # type: ignore[no-untyped-def]
    values = {"id": "s", "name": "S", "kind": "ics", "url": "s.ics", "region": "foodvalley"}
    return SourceConfig.model_validate({**values, **extra})


def _run(title: str, source: SourceConfig | None = None, **raw) -> EventDraft:  # type: ignore[no-untyped-def]
    source = source or _source()
    draft = EventDraft.from_raw(
        RawEvent(source_id=source.id, uid="u", title=title, start=START, **raw)
    )
    for stage in (Normaliser(), Classifier(TAXONOMY), GeocodeStage(REGIONS)):
        draft = stage.process(draft, source)
    return draft


# --- normalise ---------------------------------------------------------------------------


def test_title_entities_whitespace_and_cancelled_prefix() -> None:
    draft = _run("  GEANNULEERD: Open avond deeltijdpabo &#8211; Ede&nbsp; ")
    assert draft.title == "Open avond deeltijdpabo – Ede" and draft.status == "cancelled"
    assert _run("Informatieavond &amp;amp; borrel").title == "Informatieavond & borrel"


def test_description_keeps_paragraphs_and_links_and_drops_scripts() -> None:
    text = html_to_text(
        '<p>Welkom!</p><script>alert("x")</script><p>Meld je aan via '
        '<a href="https://example.org/aanmelden">deze pagina</a>.</p>'
    )
    assert text == "Welkom!\n\nMeld je aan via deze pagina (https://example.org/aanmelden)."


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Information evening for internationals: working in Dutch schools", "en"),
        ("Wil je leraar worden? Kom naar de informatieavond voor zij-instromers.", "nl"),
        ("Teaching in Twente: info evening. This session is in English.", "en"),
        ("Meeloopdag", "nl"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "free"),
    [
        ("Deelname is gratis.", True),
        ("Kosten: € 0,-", True),
        ("Free of charge", True),
        ("Kosten: €25 inclusief lunch", False),
        ("De eigen bijdrage is 15 euro", False),
        ("Kom langs!", None),
    ],
)
def test_free_or_paid(text: str, free: bool | None) -> None:
    assert detect_free(text) is free


def test_registration_url_from_links_and_text() -> None:
    html = (
        '<a href="https://example.org/info">Meer info</a> '
        '<a href="https://example.org/form/123">Inschrijven</a>'
    )
    assert find_registration_url(html) == "https://example.org/form/123"
    assert find_registration_url("Aanmelden: https://example.org/x.") == "https://example.org/x"
    assert (
        find_registration_url("Zie https://example.org/tickets/9")
        == "https://example.org/tickets/9"
    )
    assert find_registration_url("Zie https://example.org/over-ons") is None


# --- attendance ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "raw", "attendance"),
    [
        ("Informatieavond", {"location": "Stadhuis, Stadsring 2, 3811 HR Amersfoort"}, "offline"),
        ("Informatieavond", {"location": "Online (Microsoft Teams)"}, "online"),
        ("Webinar zij-instroom", {}, "online"),
        ("Informatieavond (hybride)", {"location": "Brink 9, 9401 HS Assen"}, "mixed"),
        ("Voorlichting", {"location": "Pabo, lokaal A1.12; Microsoft Teams-vergadering"}, "mixed"),
        (
            "Informatieavond",
            {"location": "Forum, 9712 KN Groningen", "online_url": "https://zoom.us/j/1"},
            "mixed",
        ),
        (
            "Spreekuur",
            {"description": "Link: https://teams.microsoft.com/l/meetup-join/1"},
            "online",
        ),
    ],
)
def test_attendance(title: str, raw: dict, attendance: str) -> None:  # type: ignore[type-arg]
    assert _run(title, **raw).attendance == attendance


# --- classify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "activity"),
    [
        ("Voorlichtingsavond deeltijd lerarenopleidingen", "voorlichting"),
        ("Online informatiemoment: het geschiktheidsonderzoek uitgelegd", "webinar"),
        ("Kijkje in de klas: praktijkonderwijs", "meeloopdag"),
        ("Open avond deeltijdpabo", "open-dag"),
        ("Open ochtend op de praktijkschool", "meeloopdag"),  # a school, not a training
        ("Proefstuderen bij de pabo", "proefles"),
        ("Onderwijsbanenmarkt Noord", "matching"),
        ("Intake- en assessmentdag", "selectie"),
        ("Startersdag nieuwe collega's", "voorbereiding"),
        ("Netwerkborrel zij-instromers", "netwerk"),
        ("Inloopspreekuur Onderwijsloket", "voorlichting"),
        ("Koffie met de wethouder", "overig"),
    ],
)
def test_activity_type(title: str, activity: str) -> None:
    assert _run(title).activity_type == activity


def test_online_information_session_is_a_webinar() -> None:
    assert _run("Informatiebijeenkomst", location="Online (Zoom)").activity_type == "webinar"


def test_sectors_audiences_phases_and_source_defaults() -> None:
    draft = _run("Informatieavond zij-instroom po/vo", description="Ook voor herintreders.")
    assert draft.sectors == ["po", "vo"]
    assert set(draft.audiences) == {"zij-instromers"}
    assert draft.phases == ["interesseren", "orienteren"]
    defaulted = _run("Meeloopdag", _source(defaults={"sectors": ["so"], "audiences": ["oop"]}))
    assert (defaulted.sectors, defaulted.audiences) == (["so"], ["oop"])


KEYWORDS = _source(relevance="keywords")


@pytest.mark.parametrize(
    ("title", "description"),
    [
        ("Ouderavond groep 8: de overstap naar het voortgezet onderwijs", ""),
        ("Kerstviering", "Alle ouders zijn welkom."),
        ("Open dag voor nieuwe leerlingen en hun ouders", "Kom kijken op onze basisscholen."),
        ("Banenmarkt Zorg & Welzijn", "Vacatures in de zorg."),
        ("Gemeenteraadsvergadering: onderwijshuisvesting", "Agenda van de raad."),
        ("Workshop LinkedIn voor werkzoekenden", "Maak je profiel sterker."),
        ("Informatieavond voor nieuwe ouders", "Over groep 1 en 2."),
    ],
)
def test_general_calendars_drop_what_is_not_about_working_in_education(
    title: str, description: str
) -> None:
    with pytest.raises(Drop):
        _run(title, KEYWORDS, description=description)


@pytest.mark.parametrize(
    ("title", "description"),
    [
        (
            "Meeloopdag speciaal onderwijs in Bennekom",
            "Speciaal voor belangstellenden voor zij-instroom.",
        ),
        ("Informatieochtend: instructeur in het mbo", "Kom kennismaken met het vak."),
        ("Informatieavond: juf of meester worden", ""),
        ("Onderwijsbanenmarkt 2027", ""),
    ],
)
def test_general_calendars_keep_events_about_switching_to_education(
    title: str, description: str
) -> None:
    assert _run(title, KEYWORDS, description=description).relevant


# --- geocode -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "municipality", "postcode"),
    [
        ({"location": "Gemeentehuis, 5211ab Den Bosch"}, "'s-Hertogenbosch", "5211 AB"),
        ({"location": "Stadhuis, 5211 AB 's-Hertogenbosch"}, "'s-Hertogenbosch", "5211 AB"),
        ({"location": "Hogeschool, Dokter Stolteweg 1, 8017&nbsp;CA Zwolle"}, "Zwolle", "8017 CA"),
        (
            {"address": "Kerkstraat 20", "postcode": "9751 BD", "city": "Haren"},
            "Groningen",
            "9751 BD",
        ),
        ({"location": "Dorpshuis, 6741 Lunteren"}, "Ede", "6741"),
        ({"city": "Den Bosch"}, "'s-Hertogenbosch", None),
        ({"city": "A'dam"}, "Amsterdam", None),
        ({"location": "Praktijkschool Zuidlaren"}, "Tynaarlo", None),
        ({"location": "Gemeentehuis, Drachten"}, "Smallingerland", None),
        ({"location": "Basisscholen in IJsselmuiden (adres volgt)"}, "Kampen", None),
        ({"location": "Brede school, Lent"}, "Nijmegen", None),
        ({"location": "Brink 1, Bennekom"}, "Ede", None),
        ({"location": "Zalencentrum De Bonte Hoek"}, None, None),  # Hoek is a word here
    ],
)
def test_geocode_postcodes_places_and_villages(raw: dict, municipality, postcode) -> None:  # type: ignore[no-untyped-def,type-arg]
    draft = _run("Informatieavond", **raw)
    assert draft.municipality == municipality
    assert draft.postcode == postcode
    if municipality:
        assert draft.lat and draft.lon


def test_geocode_from_title_only_with_location_context() -> None:
    assert _run("Meeloopdag speciaal onderwijs in Bennekom").municipality == "Ede"
    assert _run("Informatiebijeenkomst herintreders (Haren)").municipality == "Groningen"
    # words that are place names elsewhere do not count without such context
    assert _run("Kijkje in de klas voor Best practices").municipality is None


def test_ambiguous_place_prefers_the_source_region() -> None:
    assert _run("Open dag", city="Zwolle").municipality == "Zwolle"  # the city, not the hamlet
    # three places are called Elst: the biggest, unless one lies in the source's region
    assert _run("Open dag", _source(region="twente"), city="Elst").municipality == "Overbetuwe"
    assert _run("Open dag", _source(region="foodvalley"), city="Elst").municipality == "Rhenen"


def test_region_from_municipality_else_source_else_landelijk() -> None:
    assert _run("Open dag", city="Deventer").region == "veluwe-stedendriehoek"
    assert _run("Open dag").region == "foodvalley"
    national = _source(region="landelijk")
    online = _run("Webinar zij-instroom in Utrecht", national, location="Online")
    assert (online.region, online.municipality) == ("landelijk", None)


@pytest.mark.parametrize(
    ("title", "phases"),
    [
        ("Webinar: het geschiktheidsonderzoek uitgelegd", ["besluiten"]),
        ("Startersbijeenkomst zij-instromers", ["voorbereiden", "starten"]),
        ("Inloopspreekuur Onderwijsloket", ["orienteren", "besluiten"]),
        ("Voorlichting deeltijd lerarenopleidingen", ["orienteren"]),
        ("Informatieavond zij-instroom", ["interesseren", "orienteren"]),
        ("Speeddate onderwijs", ["matchen"]),
    ],
)
def test_phases_from_title_rules_then_activity(title: str, phases: list[str]) -> None:
    assert _run(title).phases == phases


@pytest.mark.parametrize(
    "location",
    ["Sporthal De Horst", "Zaal De Linden, 1e verdieping", "Kantoor van mevrouw De Vries"],
)
def test_venue_names_are_not_places(location: str) -> None:
    assert _run("Informatieavond", location=location).municipality is None


def test_a_place_after_a_venue_still_counts() -> None:
    assert _run("Open avond", location="Sportcentrum De Horst, Enschede").municipality == (
        "Enschede"
    )


def test_country_and_region_names_are_not_places() -> None:
    text = "Werken in Nederland als leraar? Kom naar onze avond in Twente."
    assert _run("Informatieavond", description=text).municipality is None


@pytest.mark.parametrize(
    ("raw", "email", "urls"),
    [
        (  # an organiser given as a mailto: link: the address is kept, the link is not
            {"organizer_url": "MAILTO:Agenda@Example.org?subject=Vraag"},
            "Agenda@Example.org",
            {"organizer_url": None},
        ),
        (  # registration by mail
            {"registration_url": "mailto:aanmelden%40school.nl"},
            "aanmelden@school.nl",
            {"registration_url": None},
        ),
        (  # an address the reader found beats one in a link, and web links stay
            {
                "organizer_email": "info@school.nl",
                "organizer_url": "https://school.nl",
                "registration_url": "mailto:other@school.nl",
            },
            "info@school.nl",
            {"organizer_url": "https://school.nl", "registration_url": None},
        ),
        (  # not an address: nothing kept, and no header or recipient smuggled in
            {"organizer_url": "mailto:a@b.nl%0d%0aBcc:x@y.nl", "organizer_email": "Name <c@d.nl>"},
            None,
            {"organizer_url": None},
        ),
        ({"organizer_url": "javascript:alert(1)//@example.org"}, None, {"organizer_url": None}),
    ],
)
def test_mailto_links_go_to_the_organisers_email(raw, email, urls) -> None:  # type: ignore[no-untyped-def]
    draft = _run("Informatieavond", **raw)
    assert draft.organizer_email == email
    for name, value in urls.items():
        assert getattr(draft, name) == value


def test_mentors_are_staff_and_do_not_hide_the_switchers_beside_them() -> None:
    draft = _run("Netwerkavond zij-instromers en werkplekbegeleiders")
    assert draft.audiences == ["zij-instromers", "zittend-personeel"]
    assert _run("Training voor werkplekbegeleiders").audiences == ["zittend-personeel"]


def test_a_meet_and_match_is_for_returners_too() -> None:
    assert _run("Meet & Match Onderwijs Amersfoort").audiences == ["zij-instromers", "herintreders"]
