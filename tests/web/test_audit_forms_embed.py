# ruff: noqa: F811 (the shared fixtures are imported by name, then asked for as arguments)
"""The embed's and the forms' pages pass axe-core (WCAG 2.1 AA, in Chromium at 1280 and
390 px) and the Nu HTML checker with no error (tests/web/audit.py)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from aggregator.localtime import today_local
from tests.web.audit import assert_axe_clean, assert_nu_clean
from tests.web.conftest import add_user, csrf_from, login, submit_event
from tests.web.test_browser import (  # noqa: F401 (pytest fixtures, used by name)
    ADMIN,
    CHROMIUM,
    browser,
    live_server,
)

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


PATHS = (
    "/embed",
    "/embed?region=twente&color=a11a1a&background=fffbe6&compact=1",
    "/embed/list?region=twente",
    "/embed/list?region=atlantis",
    "/submit",
    "/submit/feed",
    "/login",
    "/en/embed",
)
LOGGED_IN = ("/dashboard", "/moderation", "/account/password")


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.browser
@pytest.mark.xdist_group("browser")
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed")
def test_axe_finds_no_violation(browser, live_server, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        for path in PATHS:
            page.goto(live_server + path)
            if path.startswith("/embed?") or path == "/embed":
                page.wait_for_selector("#preview-frame[data-resized]")
                page.wait_for_selector("#widget-preview overstap-agenda[data-count]")
            assert_axe_clean(page)
        # a submission, to audit the thank-you page and the moderation form
        day = (today_local() + timedelta(days=40)).isoformat()
        page.goto(live_server + "/submit")
        page.fill("#f-title", f"Proefles natuurkunde ({width} px)")
        page.fill("#f-organizer_name", "Stichting Voortgezet Twente")
        page.fill("#f-start_date", day)
        page.select_option("#f-region", "twente")
        page.fill("#f-city", "Enschede")
        page.fill("#f-submitter_email", "docent@example.org")
        page.click("#submit-form button[type=submit]")
        page.wait_for_selector("#edit-url")
        assert_axe_clean(page)
        page.goto(live_server + "/login")
        page.fill("#email", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("main button[type=submit]")
        page.wait_for_url("**/dashboard")
        for path in LOGGED_IN:
            page.goto(live_server + path)
            assert_axe_clean(page)
        page.goto(live_server + "/moderation")
        page.click(f"text=Proefles natuurkunde ({width} px) >> xpath=ancestor::tr//a")
        page.wait_for_selector("#approve-form")
        assert_axe_clean(page)
    finally:
        context.close()
