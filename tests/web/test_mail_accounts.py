"""Mail about submissions (against a loopback SMTP server), an expired session that keeps
the form, changing one's password, and the editor's dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from agenda.web import create_app
from aggregator.config import AppConfig
from aggregator.models import Submission
from tests.mailserver import SmtpServer
from tests.web.conftest import (
    add_user,
    csrf_from,
    event_form,
    login,
    submit_event,
    web_settings,
)

EDITOR = "redactie@twente.example"
PASSWORD = "correct horse battery"
NEW_PASSWORD = "Zij-instroom 2027 Enschede"


@pytest.fixture
def mail_client(
    harvested: Engine, web_config: AppConfig, smtp_server: SmtpServer
) -> Iterator[TestClient]:
    """A client of an app that sends its mail to the loopback SMTP server."""
    settings = web_settings(
        SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, MAIL_FROM="agenda@example.org"
    )
    app = create_app(settings=settings, config=web_config, engine=harvested)
    with TestClient(app) as client:
        yield client


def _body(message: EmailMessage) -> str:
    return message.get_content()  # type: ignore[attr-defined,no-any-return]


def _submission(engine: Engine) -> Submission:
    with Session(engine) as session:
        return session.exec(select(Submission).order_by(Submission.id.desc())).first()  # type: ignore[union-attr,return-value]


def _edit_url(message: EmailMessage) -> str:
    match = re.search(r"http://testserver/submit/edit/\d+\?token=\S+", _body(message))
    assert match, _body(message)
    return match[0]


def test_editors_hear_of_a_submission_and_the_submitter_of_the_decision(
    mail_client: TestClient, harvested: Engine, smtp_server: SmtpServer
) -> None:
    add_user(harvested, EDITOR, "editor", region="twente")
    add_user(harvested, "ander@utrecht.example", "editor", region="regio-utrecht")
    add_user(harvested, "beheer@example.org", "admin")
    response = submit_event(mail_client)
    assert response.status_code == 200
    receipt, to_editors = smtp_server.inbox.wait_for(2)
    by_recipient = {m["To"]: m for m in (receipt, to_editors)}
    # the region's editor only: not the other region's editor, not the admin
    assert set(by_recipient) == {"juf@example.org", EDITOR}
    submission = _submission(harvested)
    editor_mail = by_recipient[EDITOR]
    assert "Kijkje in de klas bij De Regenboog" in editor_mail["Subject"]
    assert f"http://testserver/moderation/{submission.id}" in _body(editor_mail)
    # the receipt carries the private link, which opens the submission in the form
    receipt = by_recipient["juf@example.org"]
    link = _edit_url(receipt)
    assert f"token={submission.edit_token}" in link
    page = mail_client.get(link.replace("http://testserver", ""))
    assert page.status_code == 200 and 'value="Kijkje in de klas bij De Regenboog"' in page.text
    assert "wacht op een redacteur" in _body(receipt) and "waits for an editor" in _body(receipt)
    # the editor rejects it with a reason: the submitter hears why, with the link again
    login(mail_client, EDITOR)
    token = csrf_from(mail_client.get(f"/moderation/{submission.id}").text)
    out = mail_client.post(
        f"/moderation/{submission.id}/reject",
        data={"csrf_token": token, "reason": "Dubbel met de open dag van 12 maart"},
        follow_redirects=False,
    )
    assert out.status_code == 303
    decision = smtp_server.inbox.wait_for(3)[2]
    assert decision["To"] == "juf@example.org"
    assert decision["Subject"].startswith("Niet geplaatst")
    assert "Dubbel met de open dag van 12 maart" in _body(decision)
    assert _edit_url(decision) == link


def test_approval_mail_links_the_event_and_a_region_without_editors_goes_to_admins(
    mail_client: TestClient, harvested: Engine, smtp_server: SmtpServer
) -> None:
    add_user(harvested, "beheer@example.org", "admin")
    submit_event(mail_client)
    messages = smtp_server.inbox.wait_for(2)
    assert {m["To"] for m in messages} == {"juf@example.org", "beheer@example.org"}
    submission = _submission(harvested)
    login(mail_client, "beheer@example.org")
    token = csrf_from(mail_client.get(f"/moderation/{submission.id}").text)
    form = {**event_form(), "csrf_token": token, "action": "approve"}
    out = mail_client.post(
        f"/moderation/{submission.id}/approve", data=form, follow_redirects=False
    )
    assert out.status_code == 303
    decision = smtp_server.inbox.wait_for(3)[2]
    assert decision["Subject"].startswith("Goedgekeurd")
    event_id = _submission(harvested).event_id
    assert event_id and f"http://testserver/events/{event_id}" in _body(decision)
    assert mail_client.get(f"/events/{event_id}").status_code == 200
    assert "/submit/edit/" in _body(decision)


def test_a_failing_mail_server_does_not_fail_the_form(
    harvested: Engine, web_config: AppConfig
) -> None:
    from tests.mailserver import free_port

    settings = web_settings(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    app = create_app(settings=settings, config=web_config, engine=harvested)
    with TestClient(app) as client:
        response = submit_event(client)
    assert response.status_code == 200 and "/submit/edit/" in response.text


def test_an_expired_session_keeps_what_was_typed(harvested: Engine, web_config: AppConfig) -> None:
    typed = event_form(title="Proefles wiskunde voor zij-instromers", city="Hengelo")

    def app(secret: str):  # type: ignore[no-untyped-def]
        settings = web_settings(WEB_SECRET_KEY=secret)
        return create_app(settings=settings, config=web_config, engine=harvested)

    with TestClient(app("the key of yesterday")) as before:
        token = csrf_from(before.get("/submit").text)
        cookies = dict(before.cookies)
    # the server restarted with another key: yesterday's cookie means nothing now
    with TestClient(app("the key of today")) as after:
        after.cookies.update(cookies)
        response = after.post("/submit", data={**typed, "csrf_token": token})
        assert response.status_code == 400
        assert "Je sessie was verlopen" in response.text
        assert 'value="Proefles wiskunde voor zij-instromers"' in response.text
        assert 'value="Hengelo"' in response.text
        with Session(harvested) as session:
            assert session.exec(select(Submission)).first() is None
        # sent again from the page it got back, it is stored
        again = after.post("/submit", data={**typed, "csrf_token": csrf_from(response.text)})
        assert again.status_code == 200
    assert _submission(harvested).data["title"] == "Proefles wiskunde voor zij-instromers"


def _change(client: TestClient, current: str, new: str, again: str | None = None):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/account/password").text)
    return client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": current,
            "new_password": new,
            "new_password_again": new if again is None else again,
        },
    )


def test_password_change_checks_the_policy_and_ends_other_sessions(
    harvested: Engine, web_config: AppConfig
) -> None:
    add_user(harvested, EDITOR, "editor", region="twente")

    def app():  # type: ignore[no-untyped-def]
        return create_app(settings=web_settings(), config=web_config, engine=harvested)

    with TestClient(app()) as laptop, TestClient(app()) as phone, TestClient(app()) as thief:
        login(laptop, EDITOR)
        login(phone, EDITOR)
        thief.cookies.update(dict(laptop.cookies))
        wrong = _change(laptop, "not my password", NEW_PASSWORD)
        assert wrong.status_code == 400 and "huidige wachtwoord klopt niet" in wrong.text
        weak = _change(laptop, PASSWORD, "aaaaaaaaaaaa")
        assert weak.status_code == 400 and "verschillende tekens" in weak.text
        common = _change(laptop, PASSWORD, "password123")
        assert common.status_code == 400 and "meest gebruikte" in common.text
        differ = _change(laptop, PASSWORD, NEW_PASSWORD, again=NEW_PASSWORD + "!")
        assert differ.status_code == 400 and "verschillen" in differ.text
        assert phone.get("/dashboard", follow_redirects=False).status_code == 200
        done = _change(laptop, PASSWORD, NEW_PASSWORD)
        assert done.status_code == 200 and "Andere sessies zijn beëindigd" in done.text
        # this session goes on; the other device and the copied cookie are logged out
        assert laptop.get("/dashboard", follow_redirects=False).status_code == 200
        for other in (phone, thief):
            replay = other.get("/dashboard", follow_redirects=False)
            assert replay.status_code == 303 and "/login" in replay.headers["location"]
        token = csrf_from(phone.get("/login").text)
        old = phone.post(
            "/login", data={"email": EDITOR, "password": PASSWORD, "csrf_token": token}
        )
        assert old.status_code == 400
        login(phone, EDITOR, NEW_PASSWORD)
        assert phone.get("/dashboard", follow_redirects=False).status_code == 200
    english = None
    with TestClient(app()) as client:
        login(client, EDITOR, NEW_PASSWORD)
        token = csrf_from(client.get("/en/account/password").text)
        english = client.post(
            "/en/account/password",
            data={
                "csrf_token": token,
                "current_password": NEW_PASSWORD,
                "new_password": "short",
                "new_password_again": "short",
            },
        )
    assert english.status_code == 400 and "Use at least 10 characters." in english.text


def test_dashboard_shows_the_editors_region(client: TestClient, harvested: Engine) -> None:
    submit_event(client)
    submit_event(client, title="Open dag lerarenopleiding Utrecht", region="regio-utrecht")
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    add_user(harvested, EDITOR, "editor", region="twente")
    login(client, EDITOR)
    token = csrf_from(client.get("/login").text)
    landed = client.post(
        "/login",
        data={"email": EDITOR, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert landed.headers["location"] == "/dashboard"  # an editor lands on the dashboard
    page = client.get("/dashboard").text
    assert "Kijkje in de klas bij De Regenboog" in page
    assert "Open dag lerarenopleiding Utrecht" not in page
    # the region's source with its health, not the other region's
    sources = re.search(r'id="dash-sources".*?</table>', page, re.S)[0]  # type: ignore[index]
    assert "<td>twente" in sources and "<td>ua" not in sources
    assert 'href="/dekking?region=twente"' in page
    api_count = next(s for s in client.get("/api/sources").json() if s["id"] == "twente")
    assert api_count["events"] > 0
    assert f"<td>{api_count['events']}</td>" in sources
    assert "<td>gezond</td>" in sources  # the state in the page's language
    english = client.get("/en/dashboard")
    assert english.status_code == 200 and "<td>healthy</td>" in english.text


def test_a_moderators_edits_survive_a_login_that_has_gone(
    harvested: Engine, web_config: AppConfig
) -> None:
    add_user(harvested, EDITOR, "editor", region="twente")

    def app():  # type: ignore[no-untyped-def]
        return create_app(settings=web_settings(), config=web_config, engine=harvested)

    with TestClient(app()) as desk, TestClient(app()) as phone:
        submit_event(desk)
        submission = _submission(harvested)
        login(desk, EDITOR)
        token = csrf_from(desk.get(f"/moderation/{submission.id}").text)
        # meanwhile the editor logs out on another device: every session ends
        login(phone, EDITOR)
        phone.post("/logout", data={"csrf_token": csrf_from(phone.get("/dashboard").text)})
        edited = {**event_form(title="Kijkje in de klas (groep 5 en 6)"), "csrf_token": token}
        kept = desk.post(f"/moderation/{submission.id}/approve", data={**edited, "action": "save"})
        assert kept.status_code == 401 and "Log opnieuw in" in kept.text
        assert _submission(harvested).data["title"] == "Kijkje in de klas bij De Regenboog"
        draft = re.search(r'name="draft" value="([^"]+)"', kept.text)[1]  # type: ignore[index]
        # a forged or stale draft is ignored; the real one comes back after the login
        back = desk.post(
            "/login",
            data={
                "email": EDITOR,
                "password": PASSWORD,
                "csrf_token": csrf_from(kept.text),
                "next": f"/moderation/{submission.id}",
                "draft": draft,
            },
            follow_redirects=False,
        )
        assert back.status_code == 303
        assert back.headers["location"].startswith(f"/moderation/{submission.id}?draft=")
        page = desk.get(back.headers["location"]).text
        assert 'value="Kijkje in de klas (groep 5 en 6)"' in page
        assert "staat weer in het formulier" in page
        forged = desk.get(f"/moderation/{submission.id}", params={"draft": draft[:-3] + "abc"})
        assert 'value="Kijkje in de klas bij De Regenboog"' in forged.text
        # a post from another site is not kept (it cannot pre-fill an editor's form)
        with TestClient(app()) as stranger:
            stranger.get("/submit")
            cross = stranger.post(
                f"/moderation/{submission.id}/reject",
                data={"reason": "spam"},
                headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                follow_redirects=False,
            )
            assert cross.status_code == 303 and "/login" in cross.headers["location"]
    # nothing was saved by any of this
    assert _submission(harvested).status == "pending"


def test_a_draft_opens_only_on_its_own_page_with_its_own_key() -> None:
    from starlette.datastructures import FormData

    from forms.drafts import open_draft, seal_draft

    form = FormData(
        [("title", "Meeloopdag"), ("sectors", "po"), ("sectors", "vo"), ("csrf_token", "x")]
    )
    token = seal_draft("key one", page="/moderation/7", form=form)
    kept = open_draft("key one", token, page="/moderation/7")
    assert kept is not None and kept.getlist("sectors") == ["po", "vo"]
    assert "csrf_token" not in kept
    assert open_draft("key one", token, page="/moderation/8") is None
    assert open_draft("key two", token, page="/moderation/7") is None
