"""Dedup rules on their own: the same event in other words, and look-alikes that are not."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from aggregator.dedup import Fingerprint, is_reminted, record_rank, same_event
from tests.conftest import AMS


def _fp(title: str, start: str, municipality: str | None = None, **extra) -> Fingerprint:  # type: ignore[no-untyped-def]
    moment = (
        datetime.fromisoformat(start).replace(tzinfo=AMS)
        if "T" in start
        else date.fromisoformat(start)
    )
    return Fingerprint(title=title, start=moment, municipality_code=municipality, **extra)


VOORLICHTING = {"activity_type": "voorlichting", "attendance": "offline"}
WEBINAR = {"activity_type": "webinar", "attendance": "online"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # different titles, same time, place and kind (EXPECTED.md G01)
        (
            _fp(
                "Voorlichting zij-instroom PO – Groningen",
                "2027-02-09T19:00",
                "GM0014",
                sectors=frozenset({"po"}),
                **VOORLICHTING,
            ),
            _fp(
                "Informatieavond zij-instroom basisonderwijs",
                "2027-02-09T19:00",
                "GM0014",
                sectors=frozenset({"po"}),
                **VOORLICHTING,
            ),
        ),
        # the same instant written in UTC and local time
        (
            _fp("Lunchwebinar zij-instroom MBO", "2027-02-02T12:00", **WEBINAR),
            Fingerprint(
                "Lunchwebinar: zij-instroom in het mbo",
                datetime.fromisoformat("2027-02-02T11:00:00+00:00"),
                **WEBINAR,
            ),
        ),
        # online, English, different words (L03)
        (
            _fp(
                "Teaching in the Netherlands: online info session for internationals",
                "2027-03-10T19:00",
                **WEBINAR,
            ),
            _fp(
                "Working in Dutch education: information session for internationals",
                "2027-03-10T19:00",
                **WEBINAR,
            ),
        ),
        # one record gives no place, the titles say the same (F02)
        (
            _fp("Open dag deeltijdpabo", "2027-03-06T10:00", "GM0080", activity_type="open-dag"),
            _fp(
                "Open dag deeltijdpabo Friese Pabo Academie",
                "2027-03-06T10:00",
                activity_type="open-dag",
            ),
        ),
        (
            _fp("Week van de zij-instromer", "2027-03-15"),
            _fp("Week van de zij-instromer!", "2027-03-15"),
        ),
    ],
)
def test_same_event(a: Fingerprint, b: Fingerprint) -> None:
    assert same_event(a, b) and same_event(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # same date and hours, nearly the same title, another town
        (
            _fp(
                "Open dag deeltijdopleidingen leraar",
                "2027-03-13T10:00",
                "GM0268",
                activity_type="open-dag",
            ),
            _fp(
                "Open dag deeltijd lerarenopleidingen",
                "2027-03-13T10:00",
                "GM0344",
                activity_type="open-dag",
            ),
        ),
        # deeltijd evenings on one day: Groningen 18:30, Deventer 19:00
        (
            _fp("Open avond deeltijd lerarenopleidingen Groningen", "2027-01-28T18:30", "GM0014"),
            _fp(
                "Voorlichting deeltijd lerarenopleidingen (Deventer)", "2027-01-28T19:00", "GM0150"
            ),
        ),
        # two webinars half an hour apart
        (
            _fp("Webinar deeltijdpabo & zij-instroom", "2027-03-10T19:30", **WEBINAR),
            _fp("Working in Dutch education: information session", "2027-03-10T19:00", **WEBINAR),
        ),
        # pabo evenings in Enschede 19:00 and Drachten 19:30
        (
            _fp("Open avond deeltijdpabo Enschede", "2027-02-16T19:00", "GM0153"),
            _fp("Informatiebijeenkomst zij-instroom Drachten", "2027-02-16T19:30", "GM0090"),
        ),
        # same title, same day, different towns
        (
            _fp("Ouderavond groep 8", "2027-01-20T19:30", "GM0228"),
            _fp("Ouderavond groep 8", "2027-01-20T19:30", "GM0090"),
        ),
        # an online event is not an event with a place
        (
            _fp("Informatieavond zij-instroom", "2027-02-09T19:00", **WEBINAR),
            _fp("Informatieavond zij-instroom", "2027-02-09T19:00", "GM0014", **VOORLICHTING),
        ),
        # same time and place, different kinds of event
        (
            _fp("Matchingsavond mbo", "2027-05-27T18:30", "GM0344", activity_type="matching"),
            _fp("Informatiebijeenkomst herintreders", "2027-05-27T18:30", "GM0344", **VOORLICHTING),
        ),
    ],
)
def test_look_alikes_are_not_duplicates(a: Fingerprint, b: Fingerprint) -> None:
    assert not same_event(a, b) and not same_event(b, a)


def test_reminted_needs_same_start_title_and_place() -> None:
    old = _fp("Informatieavond zij-instroom", "2027-02-09T19:00", "GM0014")
    assert is_reminted(old, _fp("Informatieavond zij-instroom ", "2027-02-09T19:00", "GM0014"))
    assert not is_reminted(old, _fp("Informatieavond zij-instroom", "2027-02-10T19:00", "GM0014"))
    assert not is_reminted(old, _fp("Proefles pabo", "2027-02-09T19:00", "GM0014"))


def test_record_rank_prefers_regional_then_specific() -> None:
    rich = {"postcode": "9747 AS", "municipality_code": "GM0014", "end_at": "x"}
    regional = record_rank(source_region="groningen", fields={}, source_id="b", uid="1")
    national = record_rank(source_region="landelijk", fields=rich, source_id="a", uid="1")
    assert regional < national
    assert record_rank(source_region="twente", fields=rich, source_id="z", uid="1") < regional


def test_same_organiser_stands_in_for_a_missing_place() -> None:
    a = _fp(
        "Meeloopochtend zij-instroom",
        "2027-03-18T08:15",
        "GM0090",
        organizer="SPO De Wâlden",
        activity_type="meeloopdag",
    )
    b = _fp(
        "Meeloopochtend bij een basisschool",
        "2027-03-18T08:15",
        organizer="SPO De Walden",
        activity_type="meeloopdag",
    )
    assert same_event(a, b)
    assert not same_event(
        a,
        _fp(
            "Meeloopochtend bij een basisschool",
            "2027-03-18T08:15",
            organizer="Iemand anders",
            activity_type="meeloopdag",
        ),
    )
