"""Submission form, moderation queue, accounts and publishing into every feed."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from agenda.web import create_app
from aggregator.localtime import today_local
from aggregator.models import RateLimitHit, Submission
from aggregator.pipeline import Pipeline
from aggregator.stage import Drop
from tests.web.conftest import add_user, csrf_from, event_form, login, submit_event, web_settings


def _pending(engine) -> list[Submission]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        return list(session.exec(select(Submission).where(Submission.status == "pending")))


def _api_titles(client: TestClient, **params: str) -> list[str]:
    body = client.get("/api/events", params={"per_page": 200, **params}).json()
    return [item["title"] for item in body["items"]]


def _approve(client: TestClient, submission_id: int, **changes: object):  # type: ignore[no-untyped-def]
    page = client.get(f"/moderation/{submission_id}")
    assert page.status_code == 200
    data = {**event_form(), **changes, "csrf_token": csrf_from(page.text)}
    data.pop("submitter_email")
    return client.post(f"/moderation/{submission_id}/approve", data=data, follow_redirects=False)


def test_post_without_csrf_token_stores_nothing_and_keeps_the_input(client, harvested) -> None:  # type: ignore[no-untyped-def]
    client.get("/submit")
    response = client.post("/submit", data=event_form())
    assert response.status_code == 400
    assert "Je sessie was verlopen" in response.text
    assert 'value="Kijkje in de klas bij De Regenboog"' in response.text
    assert _pending(harvested) == []


def test_valid_submission_waits_for_moderation(client, harvested) -> None:  # type: ignore[no-untyped-def]
    response = submit_event(client)
    assert response.status_code == 200
    assert "Bedankt voor je aanmelding" in response.text
    edit = re.search(r'id="edit-url"[^>]*value="([^"]+)"', response.text)
    assert edit and "/submit/edit/" in edit.group(1) and "token=" in edit.group(1)
    (pending,) = _pending(harvested)
    assert pending.data["postcode"] == "7511 AB" and pending.submitter_email == "juf@example.org"
    assert pending.data["is_free"] is True and pending.data["sectors"] == ["po"]
    assert "Kijkje in de klas bij De Regenboog" not in _api_titles(client)


def test_validation_messages_in_dutch_and_english(client, harvested) -> None:  # type: ignore[no-untyped-def]
    yesterday = (today_local() - timedelta(days=1)).isoformat()
    bad = {
        "title": "",
        "start_date": yesterday,
        "postcode": "12345",
        "url": "javascript:alert(1)",
        "end_time": "08:00",
        "submitter_email": "nope",
        "region": "atlantis",
    }
    nl = submit_event(client, **bad)
    assert nl.status_code == 400
    for message in (
        "Vul dit veld in.",
        "Deze datum ligt in het verleden.",
        "Geef een postcode als 1234 AB.",
        "begint met https://",
        "Geef een geldig e-mailadres.",
        "Kies een van de mogelijkheden.",
    ):
        assert message in nl.text, message
    assert 'value="Enschede"' in nl.text  # what was typed stays
    assert 'aria-invalid="true"' in nl.text
    token = csrf_from(client.get("/en/submit").text)
    en = client.post("/en/submit", data={**event_form(**bad), "csrf_token": token})
    assert en.status_code == 400
    assert "This date is in the past." in en.text and "Give a postcode like 1234 AB." in en.text
    later = submit_event(client, start_time="14:00", end_time="13:00")
    assert "Het einde ligt vóór het begin." in later.text
    nowhere = submit_event(client, city="", address="", postcode="")
    assert "Geef voor een activiteit op locatie een plaats of adres." in nowhere.text
    assert _pending(harvested) == []


def test_honeypot_submission_is_silently_dropped(client, harvested) -> None:  # type: ignore[no-untyped-def]
    response = submit_event(client, homepage="http://spam.example")
    assert response.status_code == 200 and "Bedankt" in response.text
    assert _pending(harvested) == []


@pytest.mark.both_backends
def test_rate_limit_per_client_address(harvested, web_config) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        settings=web_settings(SUBMIT_RATE_LIMIT=2), config=web_config, engine=harvested
    )
    with TestClient(app) as client:
        assert submit_event(client).status_code == 200
        assert submit_event(client, title="Tweede activiteit in Twente").status_code == 200
        third = submit_event(client, title="Derde activiteit in Twente")
        assert third.status_code == 429 and "Probeer het over een uur opnieuw" in third.text
    assert len(_pending(harvested)) == 2
    with Session(harvested) as session:
        keys = session.exec(select(RateLimitHit.key)).all()
    assert keys and all("testclient" not in k for k in keys)  # only a digest is stored


def test_moderation_needs_login_and_the_right_region(client, harvested) -> None:  # type: ignore[no-untyped-def]
    submit_event(client)
    submit_event(
        client, title="Open dag Utrecht", region="regio-utrecht", city="Utrecht", postcode="3511 AB"
    )
    anonymous = client.get("/moderation", follow_redirects=False)
    assert (
        anonymous.status_code == 303
        and "/login?next=%2Fmoderation" in anonymous.headers["location"]
    )
    add_user(harvested, "editor@twente.example", "editor", region="twente")
    token = csrf_from(client.get("/login").text)
    wrong = client.post(
        "/login", data={"email": "editor@twente.example", "password": "nope", "csrf_token": token}
    )
    assert wrong.status_code == 400 and "klopt niet" in wrong.text
    login(client, "editor@twente.example")
    queue = client.get("/moderation").text
    assert "Kijkje in de klas" in queue and "Open dag Utrecht" not in queue
    utrecht = next(s for s in _pending(harvested) if s.region == "regio-utrecht")
    assert client.get(f"/moderation/{utrecht.id}").status_code == 404
    twente = next(s for s in _pending(harvested) if s.region == "twente")
    moved = _approve(client, twente.id, region="regio-utrecht")
    assert moved.status_code == 400 and "eigen regio" in moved.text


def test_approve_publishes_into_api_and_region_calendar(client, harvested) -> None:  # type: ignore[no-untyped-def]
    submit_event(client)
    submit_event(
        client,
        title="Informatieavond zij-instroom vo Hengelo",
        city="Hengelo",
        postcode="7551 AA",
        activity_type="voorlichting",
        sectors=["vo"],
    )
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    first, second = sorted(_pending(harvested), key=lambda s: s.id or 0)
    response = _approve(client, first.id, title="Kijkje in de klas bij De Regenboog (groep 5)")
    assert response.status_code == 303 and "done=approved" in response.headers["location"]
    titles = _api_titles(client, region="twente")
    assert "Kijkje in de klas bij De Regenboog (groep 5)" in titles
    response = _approve(
        client,
        second.id,
        title="Informatieavond zij-instroom vo Hengelo",
        city="Hengelo",
        postcode="7551 AA",
        activity_type="voorlichting",
        sectors=["vo"],
    )
    assert response.status_code == 303
    titles = _api_titles(client, region="twente")
    # approving the second did not remove the first
    assert "Kijkje in de klas bij De Regenboog (groep 5)" in titles
    assert "Informatieavond zij-instroom vo Hengelo" in titles
    items = client.get("/api/events", params={"region": "twente", "per_page": 200}).json()["items"]
    item = next(i for i in items if i["title"].startswith("Kijkje"))
    assert item["activity_type"] == "meeloopdag" and item["sectors"] == ["po"]
    assert item["sources"][0]["source"] == "submissions"
    assert item["location"]["postcode"] == "7511 AB" and item["registration_url"]
    ics = icalendar.Calendar.from_ical(client.get("/regions/twente.ics").content)
    summaries = {str(e["SUMMARY"]) for e in ics.walk("VEVENT")}
    assert "Kijkje in de klas bij De Regenboog (groep 5)" in summaries
    assert client.get(f"/events/{item['id']}").status_code == 200
    queue = client.get("/moderation?done=approved").text
    assert "Goedgekeurd en gepubliceerd." in queue and "Er wacht niets op moderatie." in queue


def test_reject_needs_a_reason(client, harvested) -> None:  # type: ignore[no-untyped-def]
    submit_event(client)
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    (pending,) = _pending(harvested)
    token = csrf_from(client.get(f"/moderation/{pending.id}").text)
    empty = client.post(
        f"/moderation/{pending.id}/reject", data={"csrf_token": token, "reason": " "}
    )
    assert empty.status_code == 400 and "Geef een reden" in empty.text
    done = client.post(
        f"/moderation/{pending.id}/reject",
        data={"csrf_token": token, "reason": "Geen activiteit voor overstappers"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with Session(harvested) as session:
        row = session.get(Submission, pending.id)
        assert row is not None and row.status == "rejected" and row.reason
    assert "Kijkje in de klas bij De Regenboog" not in _api_titles(client)


def test_trusted_submitter_skips_the_queue(client, harvested) -> None:  # type: ignore[no-untyped-def]
    add_user(harvested, "rap@twente.example", "submitter", trusted=True)
    login(client, "rap@twente.example")
    response = submit_event(client, submitter_email="")
    assert "Je activiteit staat direct in de agenda." in response.text
    assert "Kijkje in de klas bij De Regenboog" in _api_titles(client)
    assert _pending(harvested) == []


def test_changed_date_of_live_event_goes_back_to_the_queue(client, harvested) -> None:  # type: ignore[no-untyped-def]
    done = submit_event(client)
    edit_url = re.search(r'id="edit-url"[^>]*value="http://[^/]+([^"]+)"', done.text)
    assert edit_url
    edit_path = edit_url.group(1).replace("&amp;", "&")
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    (pending,) = _pending(harvested)
    _approve(client, pending.id)
    token_param = edit_path.split("token=")[1]
    page = client.get(edit_path)
    assert page.status_code == 200 and 'value="Kijkje in de klas bij De Regenboog"' in page.text
    assert client.get(edit_path.replace(token_param, "wrong")).status_code == 404
    form = {**event_form(), "csrf_token": csrf_from(page.text), "token": token_param}
    # a text change of a live event is published at once
    form["description"] = "Nu ook met een rondleiding."
    saved = client.post(edit_path.split("?")[0], data=form)
    assert "Je wijziging is opgeslagen." in saved.text
    items = client.get("/api/events", params={"region": "twente", "per_page": 200}).json()["items"]
    live = next(i for i in items if i["title"].startswith("Kijkje"))
    assert live["description"] == "Nu ook met een rondleiding."
    # a new date waits for moderation; the old date stays live meanwhile
    new_day = (today_local() + timedelta(days=40)).isoformat()
    form["start_date"] = new_day
    requeued = client.post(edit_path.split("?")[0], data=form)
    assert "de redactie kijkt de wijziging eerst na" in requeued.text
    assert [s.id for s in _pending(harvested)] == [pending.id]
    live = client.get(f"/api/events/{live['id']}").json()
    assert live["start"].startswith(event_form()["start_date"])  # type: ignore[arg-type]
    _approve(client, pending.id, start_date=new_day, description="Nu ook met een rondleiding.")
    assert client.get(f"/api/events/{live['id']}").json()["start"].startswith(new_day)


def test_similar_events_endpoint_warns_about_duplicates(client) -> None:  # type: ignore[no-untyped-def]
    items = client.get("/api/events", params={"from": "2027-01-01", "per_page": 5}).json()["items"]
    target = next(i for i in items if not i["all_day"])
    day = target["start"][:10]
    found = client.get("/submit/similar", params={"title": target["title"].upper(), "date": day})
    assert [i["id"] for i in found.json()["items"]][:1] == [target["id"]]
    other_day = client.get(
        "/submit/similar", params={"title": target["title"], "date": "2030-01-01"}
    )
    assert other_day.json()["items"] == []
    assert client.get("/submit/similar", params={"title": "x", "date": "morgen"}).json() == {
        "items": []
    }
    with Session(client.app.state.engine) as session:
        assert session.exec(select(func.count()).select_from(Submission)).one() == 0


def test_rejecting_a_published_event_takes_it_out_of_the_calendar(client, harvested) -> None:  # type: ignore[no-untyped-def]
    submit_event(client)
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    (pending,) = _pending(harvested)
    _approve(client, pending.id)
    assert "Kijkje in de klas bij De Regenboog" in _api_titles(client)
    token = csrf_from(client.get(f"/moderation/{pending.id}").text)
    client.post(
        f"/moderation/{pending.id}/reject", data={"csrf_token": token, "reason": "Gaat niet door"}
    )
    assert "Kijkje in de klas bij De Regenboog" not in _api_titles(client)
    with Session(harvested) as session:
        row = session.get(Submission, pending.id)
        assert row is not None and row.status == "rejected" and row.event_id
    assert client.get(f"/api/events/{row.event_id}").json()["removed_at"]


@pytest.mark.both_backends
def test_login_attempts_are_rate_limited(client, harvested) -> None:  # type: ignore[no-untyped-def]
    add_user(harvested, "admin@example.org", "admin")
    token = csrf_from(client.get("/login").text)
    statuses = [
        client.post(
            "/login",
            data={"email": "admin@example.org", "password": f"guess {i}", "csrf_token": token},
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    blocked = client.post(
        "/login",
        data={
            "email": "admin@example.org",
            "password": "correct horse battery",
            "csrf_token": token,
        },
    )
    assert blocked.status_code == 429 and "Te veel pogingen" in blocked.text


def test_moderator_can_save_edits_without_approving(client, harvested) -> None:  # type: ignore[no-untyped-def]
    submit_event(client)
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    (pending,) = _pending(harvested)
    saved = _approve(client, pending.id, title="Kijkje in de klas (nagekeken)", action="save")
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    (still,) = _pending(harvested)
    assert still.data["title"] == "Kijkje in de klas (nagekeken)"
    assert "Kijkje in de klas (nagekeken)" not in _api_titles(client)


def test_moving_a_live_event_to_another_region_needs_moderation(client, harvested) -> None:  # type: ignore[no-untyped-def]
    done = submit_event(client)
    edit_path = re.search(r'id="edit-url"[^>]*value="http://[^/]+([^"]+)"', done.text)[1]  # type: ignore[index]
    edit_path = edit_path.replace("&amp;", "&")
    add_user(harvested, "admin@example.org", "admin")
    login(client, "admin@example.org")
    (pending,) = _pending(harvested)
    _approve(client, pending.id)
    page = client.get(edit_path)
    form = {
        **event_form(region="regio-utrecht"),
        "csrf_token": csrf_from(page.text),
        "token": edit_path.split("token=")[1],
    }
    moved = client.post(edit_path.split("?")[0], data=form)
    assert "de redactie kijkt de wijziging eerst na" in moved.text
    (requeued,) = _pending(harvested)
    assert requeued.region == "regio-utrecht"
    assert "Kijkje in de klas bij De Regenboog" in _api_titles(client, region="twente")
    token = csrf_from(client.get(f"/moderation/{pending.id}").text)
    client.post(
        f"/moderation/{pending.id}/reject", data={"csrf_token": token, "reason": "Hoort bij Twente"}
    )
    with Session(harvested) as session:
        row = session.get(Submission, pending.id)
        assert row is not None and row.status == "approved" and row.region == "twente"
    assert "Kijkje in de klas bij De Regenboog" in _api_titles(client, region="twente")


class _RefuseAll:
    """A stage that drops every record (a configured pipeline may refuse a submission)."""

    def process(self, draft, source):  # type: ignore[no-untyped-def]
        raise Drop("refused by a configured stage")


def test_a_refused_submission_stays_in_the_queue(harvested, web_config) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        settings=web_settings(),
        config=web_config,
        engine=harvested,
        pipeline=Pipeline(stages=(_RefuseAll(),)),
    )
    with TestClient(app) as client:
        submit_event(client, title="Geweigerde activiteit in Twente")
        add_user(harvested, "admin@example.org", "admin")
        login(client, "admin@example.org")
        (pending,) = [s for s in _pending(harvested) if s.data["title"].startswith("Geweigerde")]
        response = _approve(client, pending.id, title="Geweigerde activiteit in Twente")
        assert response.status_code == 200 and "refused by a configured stage" in response.text
        assert "Geweigerde activiteit in Twente" not in _api_titles(client, region="twente")
    with Session(harvested) as session:
        again = session.get(Submission, pending.id)
        assert again is not None and again.status == "pending" and again.decided_at is None
        assert again.reason == "refused by a configured stage"
