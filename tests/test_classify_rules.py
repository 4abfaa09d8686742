"""The taxonomy's rules on titles a person can judge at a glance (not the sample's titles)."""

from __future__ import annotations

from datetime import datetime

import pytest
import yaml

from aggregator.classify import Classifier
from aggregator.config import Taxonomy, load_taxonomy
from aggregator.draft import EventDraft
from config import bundled
from crawlers.records import RawEvent
from crawlers.source import SourceConfig
from tests.conftest import AMS

TAXONOMY = load_taxonomy(bundled("taxonomy.yaml"))
SOURCE = SourceConfig.model_validate(
    {"id": "s", "name": "S", "kind": "ics", "url": "s.ics", "region": "twente"}
)
CLASSIFIER = Classifier(TAXONOMY)


def classify(
    title: str, description: str = "", source: SourceConfig = SOURCE, location: str | None = None
) -> EventDraft:
    """Run the classify stage on a record with this title, description and location."""
    event = RawEvent(
        source_id="s",
        uid="u",
        title=title,
        start=datetime(2027, 4, 1, 19, tzinfo=AMS),
        description=description,
        location=location,
    )
    return CLASSIFIER.process(EventDraft.from_raw(event), source)


_run = classify


def test_a_job_fair_is_for_every_sector_and_everyone_unless_it_says_otherwise() -> None:
    fair = _run("Onderwijsbanenmarkt Achterhoek", "Kom langs en spreek schoolbesturen.")
    assert fair.activity_type == "matching"
    assert fair.sectors == ["po", "vo", "mbo", "so"]
    assert {"zij-instromers", "herintreders", "studenten"} <= set(fair.audiences)
    mbo = _run("Banenmarkt mbo-docenten", "Voor wie in het mbo wil lesgeven.")
    assert mbo.sectors == ["mbo"]


def test_enumerations_with_a_shared_noun_name_each_sector() -> None:
    text = "Besturen uit het primair, voortgezet, speciaal en middelbaar beroepsonderwijs."
    assert _run("Netwerkavond onderwijs", text).sectors == ["po", "vo", "mbo", "so"]


def test_schools_without_a_sector_are_primary_and_secondary() -> None:
    assert _run("Informatieavond werken in het onderwijs", "Scholen zoeken je.").sectors == [
        "po",
        "vo",
    ]
    nothing = _run("Informatieavond werken in het onderwijs", "Kom langs.")
    assert nothing.sectors == TAXONOMY.unspecified["sectors"]


def test_subject_teachers_are_secondary() -> None:
    assert _run("Proefcollege", "Bij de opleiding leraar Biologie.").sectors == ["vo"]


def test_the_mbo_training_for_assistants_is_not_the_mbo_sector() -> None:
    text = "Werk in het basisonderwijs met de mbo-opleiding onderwijsassistent (BBL)."
    assert _run("Informatieavond: onderwijsassistent worden", text).sectors == ["po"]


def test_open_day_adds_students_an_open_evening_does_not() -> None:
    assert "studenten" in _run("Open dag deeltijdpabo").audiences
    assert "studenten" not in _run("Open avond deeltijdpabo", "Op de open dag ...").audiences


def test_a_trial_lesson_is_not_for_returners() -> None:
    assert "herintreders" in _run("Informatieavond deeltijdpabo").audiences
    assert "herintreders" not in _run("Proefles deeltijdpabo").audiences


def test_instructeur_counts_in_the_title_only() -> None:
    assert _run("Informatieavond: instructeur in het mbo").audiences == ["oop"]
    text = "Ook interessant als je instructeur wilt worden."
    assert "oop" not in _run("Informatieavond zij-instroom", text).audiences


def test_a_shortened_route_is_for_graduates_and_career_changers() -> None:
    draft = _run("Voorlichting verkort traject lerarenopleiding")
    assert {"zij-instromers", "studenten"} <= set(draft.audiences)


def test_the_zij_instroom_subsidy_is_applied_for_by_the_school() -> None:
    draft = _run("Webinar: de zij-instroomregeling uitgelegd")
    assert set(draft.audiences) == {"zij-instromers", "schoolleiders"}


def test_implied_values_must_be_known() -> None:
    data = yaml.safe_load(bundled("taxonomy.yaml").read_text(encoding="utf-8"))
    data["implied"]["sectors"].append({"keywords": ["x"], "values": ["kinderopvang"]})
    with pytest.raises(ValueError, match="kinderopvang"):
        Taxonomy.model_validate(data)


@pytest.mark.parametrize(
    ("title", "activity"),
    [
        ("Vragenuur zij-instroom", "voorlichting"),
        ("Q&A: werken als leraar in het mbo", "voorlichting"),
        ("Kennismakingsavond werken in het onderwijs", "voorlichting"),
        ("Ontdek het onderwijs!", "voorlichting"),
        ("Bijeenkomst voor starters in het onderwijs", "voorbereiding"),
        ("Kennismakingsbijeenkomst nieuwe zij-instromers", "voorbereiding"),
        ("Zij-instroom in het onderwijs", "overig"),  # says nothing about its format
    ],
)
def test_sessions_named_by_their_format(title: str, activity: str) -> None:
    assert _run(title).activity_type == activity


def test_an_online_session_of_no_other_type_is_a_webinar() -> None:
    draft = _run("Zij-instroom in het onderwijs", location="Online via Teams")
    assert (draft.attendance, draft.activity_type) == ("online", "webinar")
    assert _run("Ontdek het onderwijs", "Wij ontdekken samen.").activity_type == "voorlichting"
    # "ontdek" counts in the title only
    assert _run("Zij-instroom in het onderwijs", "Ontdek of het past.").activity_type == "overig"
