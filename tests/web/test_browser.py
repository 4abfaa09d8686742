"""Browser tests: Playwright drives Debian's Chromium against a real uvicorn server.

The server runs in a thread on a free loopback port with a harvested SQLite database; a
second loopback server plays a regional website that embeds the widget. Screenshots of
the main pages (Dutch and English) go to test-artifacts/screenshots/ for a person to look at.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from agenda.web import create_app
from aggregator.db import make_engine
from aggregator.localtime import today_local
from tests.conftest import DatabaseTemplates, config_for
from tests.web.conftest import CHROMIUM, add_user, samples_seed, web_settings

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ADMIN = ("admin@example.org", "correct horse battery")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-pages"),  # one worker keeps the module's server
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: DatabaseTemplates,
    web_sources: Path,
) -> Iterator[str]:
    """A real uvicorn server with the harvested samples and an admin account."""
    tmp = tmp_path_factory.mktemp("live")
    config = config_for(web_sources)
    url = database_templates.copy("sqlite", tmp, "web-samples", samples_seed(web_sources))
    engine = make_engine(url)
    add_user(engine, ADMIN[0], "admin", password=ADMIN[1])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings=web_settings(AGENDA_BASE_URL=base), config=config, engine=engine)
    with serving(app, port):
        yield base
    engine.dispose()


@contextmanager
def serving(app: object, port: int) -> Iterator[None]:
    """Run an ASGI app under uvicorn in a thread on a loopback port for the block."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for(port)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the pages: {errors}"


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _count(page) -> int:  # type: ignore[no-untyped-def]
    heading = page.locator("#results-heading").inner_text()
    return int(re.search(r"\d+", heading)[0])  # type: ignore[index]


def test_search_filter_and_map(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    everything = _count(page)
    assert everything > 20
    page.wait_for_selector("#map[data-markers]", state="attached")
    assert int(page.get_attribute("#map", "data-markers")) > 0
    page.wait_for_selector("#map-no-tiles:not([hidden])")  # no tiles: a note says why
    assert not page.locator("#map").is_visible()  # instead of an empty grey box
    _shot(page, "search-nl")
    page.select_option("#region", "twente")
    page.select_option("#sector", "mbo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"region=twente"))
    filtered = _count(page)
    assert 0 < filtered < everything
    assert page.locator("#region").input_value() == "twente"
    page.fill("#q", "zzz-geen-treffer")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=zzz"))
    assert _count(page) == 0 and "Niets gevonden. Probeer het ruimer" in page.content()
    # keyboard: the first Tab reaches the skip link, which shows itself
    page.goto(live_server + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    assert page.evaluate("document.activeElement.getBoundingClientRect().left") >= 0


def test_english_pages_and_event_page(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    page.click("a.lang-switch")
    page.wait_for_url(re.compile(r"/en/"))
    assert page.get_attribute("html", "lang") == "en"
    assert "activities found" in page.inner_text("#results-heading")
    _shot(page, "search-en")
    page.locator(".event-card h4 a").first.click()
    page.wait_for_url(re.compile(r"/en/events/"))
    page.go_back()
    page.locator(".event-card", has_text="Twentepoort").first.locator("h4 a").click()
    page.wait_for_url(re.compile(r"/en/events/"))
    page.wait_for_selector("#map[data-markers='1']", state="attached")
    assert page.locator("h2#cal-heading").inner_text() == "Add to your calendar"
    _shot(page, "event-en")
    page.click("a.lang-switch")
    assert page.locator("h2#cal-heading").inner_text() == "Zet in je agenda"
    jsonld = page.locator('script[type="application/ld+json"]').text_content()
    assert '"@type": "Event"' in jsonld
    with page.expect_download() as download:
        page.click("text=Download (.ics)")
    assert download.value.suggested_filename.endswith(".ics")
    _shot(page, "event-nl")


def test_region_subscribe_links(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/regio/twente")
    host = live_server.split("://")[1]
    webcal = page.get_attribute("a.button", "href")
    assert webcal == f"webcal://{host}/regions/twente.ics"
    https = page.input_value("#ics-url")
    response = page.request.get(https)
    assert response.ok and response.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in response.text()
    _shot(page, "region-nl")
    page.goto(live_server + "/en/regio/twente")
    _shot(page, "region-en")


def test_submit_moderate_and_publish(page, live_server) -> None:  # type: ignore[no-untyped-def]
    title = "Meeloopdag techniek in het vmbo Almelo"
    day = (today_local() + timedelta(days=21)).isoformat()
    page.goto(live_server + "/submit")
    _shot(page, "submit-nl")
    page.click("button[type=submit]")  # empty form: messages, nothing stored
    assert page.locator(".error-summary").is_visible()
    assert "Vul dit veld in." in page.content()
    _shot(page, "submit-errors-nl")
    page.fill("#f-title", title)
    page.fill("#f-description", "Een dag meelopen met een docent techniek.")
    page.select_option("#f-activity_type", "meeloopdag")
    page.select_option("#f-region", "twente")
    page.fill("#f-organizer_name", "Scholengroep Almelo")
    page.fill("#f-start_date", day)
    page.fill("#f-start_time", "08:30")
    page.fill("#f-end_time", "15:00")
    page.fill("#f-city", "Almelo")
    page.fill("#f-postcode", "7607 AB")
    page.check("input[name=sectors][value=vo]")
    page.fill("#f-submitter_email", "docent@example.org")
    page.click("button[type=submit]")
    page.wait_for_selector("#edit-url")
    assert "Bedankt voor je aanmelding" in page.content()
    # log in as admin and approve
    page.goto(live_server + "/moderation")
    page.wait_for_url(re.compile(r"/login"))
    page.fill("#email", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/moderation$"))
    _shot(page, "moderation-nl")
    page.locator("tr", has_text=title).locator("a").click()
    page.wait_for_selector("#approve-form")
    _shot(page, "moderation-item-nl")
    page.click("#approve-form button[type=submit]")
    page.wait_for_url(re.compile(r"done=approved"))
    api = page.request.get(live_server + "/api/events?region=twente&per_page=200").json()
    assert title in [item["title"] for item in api["items"]]
    ics = page.request.get(live_server + "/regions/twente.ics").text()
    assert "Meeloopdag techniek in het vmbo Almelo" in ics.replace("\r\n ", "")
    # while typing the same title again, the form warns about the duplicate
    page.goto(live_server + "/submit")
    page.fill("#f-start_date", day)
    page.fill("#f-title", "meeloopdag techniek vmbo almelo")
    page.wait_for_selector("#similar:not([hidden])")
    assert title in page.inner_text("#similar")
    _shot(page, "submit-similar-nl")


class _HostSite(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


def test_embed_on_a_host_page_from_another_port(page, live_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Regio Twente</title>"
        "<style>body{font-family:serif} a{color:rgb(255, 0, 0)} li{background:yellow}</style>"
        "</head><body><h1>Onderwijsregio Twente</h1>"
        f"<script src='{live_server}/embed.js' data-region='twente' data-sector='mbo' "
        "data-limit='4'></script>"
        f"<iframe id='frame' src='{live_server}/embed/list?region=twente&limit=3' "
        "title='Agenda' style='width:100%;height:400px'></iframe>"
        "</body></html>",
        encoding="utf-8",
    )
    port = _free_port()

    def handler(*args, **kwargs):  # type: ignore[no-untyped-def]
        return _HostSite(*args, directory=str(tmp_path), **kwargs)

    host = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{port}/index.html")
        page.wait_for_selector("overstap-agenda[data-count]")
        count = page.get_attribute("overstap-agenda", "data-count")
        assert count not in (None, "error", "0")
        links = page.locator("overstap-agenda li a")
        assert links.count() == int(count) <= 4
        # the host's styles do not reach into the widget
        color = links.first.evaluate("el => getComputedStyle(el).color")
        assert color != "rgb(255, 0, 0)"
        assert links.first.get_attribute("href").startswith(live_server + "/events/")
        frame = page.frame_locator("#frame")
        assert frame.locator(".event-card").count() >= 1
        _shot(page, "embed-host-page")
    finally:
        host.shutdown()
        host.server_close()


def test_embed_builder_and_login_screens(page, live_server) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/embed?region=twente&sector=po")
    page.wait_for_selector("overstap-agenda[data-count]")
    assert 'data-region="twente"' in page.input_value("#snippet-script")
    _shot(page, "embed-builder-nl")
    page.goto(live_server + "/en/embed")
    _shot(page, "embed-builder-en")
    page.goto(live_server + "/en/submit")
    _shot(page, "submit-en")
    page.goto(live_server + "/login")
    _shot(page, "login-nl")
