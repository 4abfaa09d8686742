"""Logout ends the session on the server: a copied session cookie stops working."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.web import create_app
from aggregator.config import AppConfig
from tests.web.conftest import add_user, csrf_from, login, web_settings


def test_a_copied_cookie_stops_working_after_logout(
    harvested: Engine, web_config: AppConfig
) -> None:
    add_user(harvested, "ed@example.org", "admin")

    def app():  # type: ignore[no-untyped-def]
        # one app per client (an app starts once); the same secret signs both cookies
        return create_app(settings=web_settings(), config=web_config, engine=harvested)

    with TestClient(app()) as browser, TestClient(app()) as thief:
        login(browser, "ed@example.org")
        thief.cookies.update(dict(browser.cookies))  # the cookie, copied
        assert thief.get("/moderation", follow_redirects=False).status_code == 200
        token = csrf_from(browser.get("/moderation").text)
        out = browser.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
        replay = thief.get("/moderation", follow_redirects=False)
        assert replay.status_code in (302, 303, 307)  # sent to the login page
        assert "/login" in replay.headers["location"]
        login(browser, "ed@example.org")  # a new login works again
        assert browser.get("/moderation", follow_redirects=False).status_code == 200
