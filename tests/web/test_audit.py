"""The page audit: the harness finds what it is there to find (tests/web/audit.py), and
every public and editor page passes axe-core (WCAG 2.1 AA) in Chromium at 1280 and 390 px
and the Nu HTML checker (0 errors), with a screenshot of each page at each width in
test-artifacts/screenshots/audit-{page}-{width}.png for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from aggregator.localtime import today_local
from tests.conftest import DatabaseTemplates
from tests.web.audit import assert_axe_clean, assert_nu_clean, axe_violations, nu_errors
from tests.web.conftest import add_user
from tests.web.public_samples import public_sources  # noqa: F401 (a fixture)
from tests.web.test_browser import ADMIN, CHROMIUM, SCREENSHOTS
from tests.web.test_public_browser import _tiles_load, public_site

_BAD = (
    "<!doctype html><html><head><title>x</title></head><body>"
    "<select required name=a><option value=x>x</option></select>"
    "<img src=a.png><a href=#><span></span></a></body></html>"
)
_GOOD = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Goed</title></head>'
    "<body><main><h1>Agenda</h1><p>Niets aan de hand.</p></main></body></html>"
)


def test_nu_checker_reports_errors_and_passes_a_clean_document() -> None:
    errors = nu_errors(_BAD)
    assert any("img" in e["message"] and "alt" in e["message"] for e in errors), errors
    assert_nu_clean(_GOOD)
    with pytest.raises(AssertionError, match="alt"):
        assert_nu_clean(_BAD)


def test_the_parts_cover_every_public_page() -> None:
    names = [name for part in PARTS.values() for name in part]
    assert sorted(names) == sorted(
        _public_pages({"series": "", "online": "", "cancelled": "", "removed": "", "past": ""})
    )


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed")
def test_axe_reports_violations_under_a_strict_csp(request: pytest.FixtureRequest) -> None:
    context = request.getfixturevalue("browser").new_context()
    page = context.new_page()
    # the page forbids every script of its own: axe still runs
    page.route(
        "http://audit.test/",
        lambda route: route.fulfill(
            body=_BAD,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'none'"},
        ),
    )
    page.goto("http://audit.test/")
    rules = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "html-has-lang", "link-name"} <= rules, rules
    page.set_content(_GOOD)
    assert axe_violations(page) == []
    context.close()


# --- every page of the site, as people see them -------------------------------------------

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
EDITOR = ("redactie@twente.example", "correct horse battery")


def _mark_removed_and_past(engine: Engine) -> dict[str, str]:
    """Make one confirmed event removed and another past, for their pages' states."""
    from sqlalchemy import text

    with engine.begin() as connection:
        ids = connection.execute(
            text(
                "SELECT id FROM event WHERE status = 'confirmed' AND removed_at IS NULL"
                " AND lat IS NOT NULL ORDER BY start_at, id LIMIT 2"
            )
        ).scalars()
        removed, past = list(ids)
        connection.execute(
            text("UPDATE event SET removed_at = start_at WHERE id = :id"), {"id": removed}
        )
        connection.execute(
            text(
                "UPDATE event SET start_at = '2025-03-04 09:00:00.000000',"
                " end_at = '2025-03-04 12:00:00.000000', start_date = NULL, end_date = NULL,"
                " all_day = 0 WHERE id = :id"
            ),
            {"id": past},
        )
    return {"removed": removed, "past": past}


def _prepare(engine: Engine) -> dict[str, str]:
    """A removed and a past event, an admin and a Twente editor."""
    add_user(engine, ADMIN[0], "admin", password=ADMIN[1])
    add_user(engine, EDITOR[0], "editor", region="twente", password=EDITOR[1])
    return _mark_removed_and_past(engine)


@pytest.fixture(scope="module")
def audited_site(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: DatabaseTemplates,
    public_sources: Path,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    """One uvicorn server for the whole audit: the public samples (a series, a cancelled,
    a removed and a past event), an admin and a Twente editor."""
    tmp = tmp_path_factory.mktemp("audit-live")
    with public_site(tmp, database_templates, public_sources, _prepare) as site:
        yield site


def _public_pages(site: dict[str, Any]) -> dict[str, str]:
    """Every public page by a short name (the screenshots' names)."""
    return {
        "home": "/",
        "search-filters": "/?q=zij-instroom&region=groningen-drenthe&sector=po&from=2027-01-01"
        "&attendance=offline&sort=date",
        "search-near-en": "/en/?near=Enschede&km=40&sort=distance",
        "search-bad-input": "/?from=notadate&region=atlantis&to=9999-12-31",
        "search-empty": "/?q=zzz-geen-treffer&region=twente",
        "event-series": f"/events/{site['series']}?terug=region%3Dgroningen-drenthe",
        "event-online": f"/events/{site['online']}",
        "event-cancelled-en": f"/en/events/{site['cancelled']}",
        "event-removed": f"/events/{site['removed']}",
        "event-past": f"/events/{site['past']}",
        "regions": "/regio",
        "region": "/regio/twente",
        "region-en": "/en/regio/groningen-drenthe",
        "sources": "/bronnen",
        "sources-en": "/en/sources",
        "coverage": "/dekking",
        "coverage-region": "/dekking?region=twente",
        "coverage-en": "/en/coverage",
        "submit": "/submit",
        "submit-en": "/en/submit",
        "submit-feed": "/submit/feed",
        "embed-builder": "/embed?region=twente&color=a11a1a&background=fffbe6&compact=1",
        "embed-builder-en": "/en/embed",
        "embed-list": "/embed/list?region=twente",
        "embed-list-422": "/embed/list?limit=100&lang=en",
        "login": "/login",
        "error-404": "/events/bestaat-niet",
        "error-404-en": "/en/nergens",
        "error-422": "/?page=abc",
        "docs": "/docs",
        "redoc": "/redoc",
    }


EDITOR_PAGES = {
    "dashboard": "/dashboard",
    "moderation": "/moderation",
    "interest": "/interesse",
    "password": "/account/password",
}
ADMIN_PAGES = {"users": "/moderation/users", "dashboard-admin-en": "/en/dashboard"}


def _settle(page: Any, path: str) -> None:
    """Wait until the page's scripts have drawn what axe should see."""
    if path.startswith("/docs"):
        page.wait_for_selector(".opblock")
        page.locator(".opblock-summary-control").first.click()  # an operation, open
        page.locator(".try-out__btn").first.click()
        page.wait_for_selector(".execute")
    elif path.startswith("/redoc"):
        page.wait_for_selector("[data-section-id^='operation/']")
    elif path.startswith(("/embed?", "/en/embed")):
        page.wait_for_selector("#preview-frame[data-resized]")
        page.wait_for_selector("#widget-preview overstap-agenda[data-count]")
    if page.locator("#map").count() and page.locator("#map-data").count():
        page.locator("#map").scroll_into_view_if_needed()  # Leaflet loads near the screen
        page.wait_for_selector("#map[data-markers]", state="attached")
        page.evaluate("window.scrollTo(0, 0)")


class _Audit:
    """Audits pages at one width: axe on each, Nu on each document once (at 1280 px),
    a full-page screenshot of each; findings collected, so one run lists them all."""

    def __init__(self, page: Any, width: int) -> None:
        self.page = page
        self.width = width
        self.findings: list[str] = []

    def visit(self, name: str, url: str) -> int:
        """Open a page, audit it and answer its HTTP status."""
        response = self.page.goto(url)
        assert response is not None and response.status < 500, url
        _settle(self.page, _path(url))
        self.here(name, response.text() if self.width == 1280 else None)
        return int(response.status)

    def here(self, name: str, html: str | None) -> None:
        """Audit the page as it is now (Nu too when its HTML is given), and take its picture."""
        try:
            assert_axe_clean(self.page)
        except AssertionError as error:
            self.findings.append(str(error))
        if html is not None:
            try:
                assert_nu_clean(html, name)
            except AssertionError as error:
                self.findings.append(str(error))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(
            path=str(SCREENSHOTS / f"audit-{name}-{self.width}.png"), full_page=True
        )


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _log_in(page: Any, base: str, account: tuple[str, str]) -> None:
    page.goto(base + "/login")
    page.fill("#email", account[0])
    page.fill("#password", account[1])
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard")


def _audit_public(audit: _Audit, site: dict[str, Any], names: tuple[str, ...]) -> None:
    """Audit these public pages; check the statuses of the error and gone pages among them."""
    pages = _public_pages(site)
    status = {name: audit.visit(name, site["base"] + pages[name]) for name in names}
    expected = {
        "event-removed": 410,
        "error-404": 404,
        "error-404-en": 404,
        "error-422": 422,
        "embed-list-422": 422,
    }
    for name, code in expected.items():
        if name in status:
            assert status[name] == code, (name, status[name])
    if "event-past" in status:
        audit.page.goto(site["base"] + f"/events/{site['past']}")
        assert "Deze activiteit is voorbij" in audit.page.content()  # the past event's state


def _audit_forms(audit: _Audit, site: dict[str, Any]) -> None:
    """The submission form with its messages, a submission and its thank-you page, a
    region editor's pages with the submission's moderation page, and the admin's pages."""
    page, base = audit.page, site["base"]
    page.goto(base + "/submit")
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    audit.here("submit-errors", page.content() if audit.width == 1280 else None)
    page.fill("#f-title", f"Proefles natuurkunde ({audit.width} px)")
    page.fill("#f-organizer_name", "Stichting Voortgezet Twente")
    page.fill("#f-start_date", (today_local() + timedelta(days=40)).isoformat())
    page.select_option("#f-region", "twente")
    page.fill("#f-city", "Enschede")
    page.fill("#f-submitter_email", "docent@example.org")
    page.click("#submit-form button[type=submit]")
    page.wait_for_selector("#edit-url")
    audit.here("submit-done", page.content() if audit.width == 1280 else None)
    _log_in(page, base, EDITOR)
    for name, path in EDITOR_PAGES.items():
        audit.visit(name, base + path)
    page.goto(base + "/moderation")
    page.click(f"text=Proefles natuurkunde ({audit.width} px) >> xpath=ancestor::tr//a")
    page.wait_for_selector("#approve-form")
    audit.here("moderation-item", page.content() if audit.width == 1280 else None)
    page.context.clear_cookies()
    _log_in(page, base, ADMIN)
    for name, path in ADMIN_PAGES.items():
        audit.visit(name, base + path)


# the audit in parts of about equal cost, so that the test processes can share them out
PARTS: dict[str, tuple[str, ...]] = {
    "search": ("home", "search-filters", "search-near-en", "search-bad-input", "search-empty"),
    "events-regions": (
        "event-series",
        "event-online",
        "event-cancelled-en",
        "event-removed",
        "event-past",
        "regions",
        "region",
        "region-en",
        "sources",
        "sources-en",
    ),
    "coverage-forms-errors": (
        "coverage",
        "coverage-region",
        "coverage-en",
        "submit",
        "submit-en",
        "submit-feed",
        "embed-builder",
        "embed-builder-en",
        "embed-list",
        "embed-list-422",
        "login",
        "error-404",
        "error-404-en",
        "error-422",
    ),
    "docs": ("docs", "redoc"),
}


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed")
@pytest.mark.parametrize("part", [*PARTS, "editors"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_every_page_passes_axe_and_nu(
    request: pytest.FixtureRequest,
    audited_site: dict[str, Any],
    viewport: dict[str, int],
    part: str,
) -> None:
    context = request.getfixturevalue("browser").new_context(viewport=viewport, locale="nl-NL")
    request.addfinalizer(context.close)
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _tiles_load(page)  # the map and its controls are audited too
    audit = _Audit(page, viewport["width"])
    if part == "editors":
        _audit_forms(audit, audited_site)
    else:
        _audit_public(audit, audited_site, PARTS[part])
    assert not audit.findings, "\n\n".join(audit.findings)
    assert errors == [], f"JavaScript errors on the pages: {errors}"
