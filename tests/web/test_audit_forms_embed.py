"""The embed's and the forms' pages as the server renders them after a form post (errors,
thank-you, a bad colour) pass the Nu HTML checker with no error (tests/web/audit.py);
tests/web/test_audit.py audits every page in Chromium (axe-core, Nu, screenshots)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.web.audit import assert_nu_clean
from tests.web.conftest import add_user, csrf_from, login, submit_event

EDITOR = "redactie@twente.example"


def _pages(client: TestClient, harvested: Engine) -> dict[str, str]:
    """Every page of the embed and the forms as a browser gets it, by name."""
    submit_event(client)
    out = {
        "embed": client.get("/embed?region=twente&color=a11a1a&compact=1").text,
        "embed-en": client.get("/en/embed").text,
        "embed-bad-colour": client.get("/embed?color=ffff00").text,
        "embed-list": client.get("/embed/list?region=twente").text,
        "embed-list-error": client.get("/embed/list?region=atlantis&limit=99").text,
        "submit": client.get("/submit").text,
        "submit-errors": client.post(
            "/submit", data={"csrf_token": csrf_from(client.get("/submit").text), "title": "x"}
        ).text,
        "submit-done": submit_event(client, title="Webinar zij-instroom vo").text,
        "propose": client.get("/submit/feed").text,
        "login": client.get("/login").text,
    }
    add_user(harvested, EDITOR, "editor", region="twente")
    login(client, EDITOR)
    first = re.search(r'href="/moderation/(\d+)"', client.get("/moderation").text)[1]  # type: ignore[index]
    out["moderation"] = client.get("/moderation").text
    out["moderation-item"] = client.get(f"/moderation/{first}").text
    out["dashboard"] = client.get("/dashboard").text
    out["password"] = client.get("/account/password").text
    out["password-en"] = client.get("/en/account/password").text
    return out


def test_nu_checker_finds_no_error(client: TestClient, harvested: Engine) -> None:
    for name, html in _pages(client, harvested).items():
        assert_nu_clean(html, name)
