"""The coverage, region and interest pages in Chromium (1280 and 390 px): axe-core clean,
no CSP violation, the copy buttons work. Screenshots go to test-artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agenda.web import create_app
from aggregator.db import make_engine
from tests.conftest import DatabaseTemplates, config_for
from tests.live_server import serve_in_thread
from tests.web.conftest import CHROMIUM, add_user, samples_seed, web_settings

audit = pytest.importorskip("tests.web.audit", reason="tests/web/audit.py (task webpub) not merged")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ADMIN = ("bureau@example.org", "correct horse battery")
WIDTHS = (1280, 390)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-coverage"),
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian's Chromium is not at /usr/bin/chromium"
    ),
]


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: DatabaseTemplates,
    web_sources: Path,
) -> Iterator[str]:
    """A real server on the harvested samples, with an admin account."""
    url = database_templates.copy(
        "sqlite", tmp_path_factory.mktemp("cover"), "web-samples", samples_seed(web_sources)
    )
    engine = make_engine(url)
    add_user(engine, ADMIN[0], "admin", password=ADMIN[1])
    app = create_app(settings=web_settings(), config=config_for(web_sources), engine=engine)
    with serve_in_thread(app) as base:
        yield base
    engine.dispose()


@pytest.fixture
def chromium(browser):  # type: ignore[no-untyped-def]
    """The process's shared Chromium (tests/web/conftest.py)."""
    return browser


def _open(chromium, width: int):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    return context, page, problems


def _check(page, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    audit.assert_axe_clean(page)
    audit.assert_nu_clean(page.content(), name)
    assert problems == [], problems
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_coverage_pages_are_clean(chromium, site: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context, page, problems = _open(chromium, width)
    try:
        page.goto(site + "/dekking?from=2027-01")
        assert page.locator("table.coverage th[scope=row] a", has_text="Twente").count() == 1
        _check(page, f"coverage-nl-{width}", problems)
        # the filter form leads to the region's view
        page.select_option("#cov-region", "twente")
        page.click("form.filters button[type=submit]")
        page.wait_for_url("**region=twente**")
        assert page.locator("h1").inner_text() == "Dekking in Twente"
        assert page.get_by_text("geen meeloopdag voor vo in Twente vóór maart").count() == 1
        _check(page, f"coverage-twente-nl-{width}", problems)
        page.goto(site + "/en/coverage?from=2027-01&region=twente")
        assert page.get_by_text("no job shadowing day for vo in Twente before March").count() == 1
        _check(page, f"coverage-twente-en-{width}", problems)
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_region_pages_are_clean_and_copy_the_address(chromium, site: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context, page, problems = _open(chromium, width)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    try:
        page.goto(site + "/regio")
        _check(page, f"regions-nl-{width}", problems)
        page.goto(site + "/regio/twente")
        button = page.locator("button[data-copy='ics-url']")
        assert button.is_visible()  # the script shows the buttons it runs
        button.click()
        page.wait_for_function("document.getElementById('ics-url-status').textContent !== ''")
        assert page.inner_text("#ics-url-status") == "Gekopieerd"
        assert page.evaluate("navigator.clipboard.readText()") == site + "/regions/twente.ics"
        _check(page, f"region-twente-nl-{width}", problems)
    finally:
        context.close()


def test_copy_falls_back_without_the_clipboard_api(chromium, site: str) -> None:  # type: ignore[no-untyped-def]
    context, page, problems = _open(chromium, 1280)
    # as on a plain-http site: no navigator.clipboard
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    try:
        page.goto(site + "/en/regio/twente")
        page.click("button[data-copy='webcal-url']")
        page.wait_for_function("document.getElementById('webcal-url-status').textContent !== ''")
        status = page.inner_text("#webcal-url-status")
        assert status in (
            "Copied",
            "Copying did not work: select the address and copy it yourself.",
        )
        # either way the address is selected, ready for the keyboard
        assert page.evaluate("document.activeElement.id") == "webcal-url"
        assert page.evaluate(
            "window.getSelection().toString() || document.activeElement.value."
            "substring(document.activeElement.selectionStart, "
            "document.activeElement.selectionEnd)"
        ).startswith("webcal://")
        assert problems == []
    finally:
        context.close()


def test_interest_page_is_clean(chromium, site: str) -> None:  # type: ignore[no-untyped-def]
    context, page, problems = _open(chromium, 1280)
    try:
        page.goto(site + "/regio/twente")  # a robot (HeadlessChrome): not counted
        page.goto(site + "/login")
        page.fill("#email", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("main button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)  # logged in, wherever it leads
        page.goto(site + "/interesse")
        assert page.locator("h1").inner_text() == "Belangstelling"
        _check(page, "interest-nl-1280", problems)
    finally:
        context.close()
