# ruff: noqa: F811 (the shared fixtures are imported by name, then asked for as arguments)
"""Browser tests of the embed builder and the self-sizing iframe (1280 and 390 px wide).

They share test_browser's server, browser and host-site helpers: a real uvicorn server on a
loopback port and a second loopback server playing the regional website.
"""

from __future__ import annotations

import html
import http.server
import threading
import time
from pathlib import Path

import pytest

from tests.web.test_browser import (  # noqa: F401 (pytest fixtures, used by name)
    CHROMIUM,
    _free_port,
    _HostSite,
    _shot,
    live_server,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-embed"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]
WIDTHS = (1280, 390)


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def wide_page(request, browser):  # type: ignore[no-untyped-def]
    """A page at each width, granted the clipboard; JavaScript errors fail the test."""
    width = request.param
    context = browser.new_context(
        viewport={"width": width, "height": 900},
        locale="nl-NL",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.width = width  # type: ignore[attr-defined]
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the pages: {errors}"


def _server_snippets(page, base: str, query: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """The snippets the server writes for these options (the page without JavaScript)."""
    import re
    import urllib.request

    with urllib.request.urlopen(f"{base}/embed?{query}", timeout=10) as response:
        text = response.read().decode()
    found = {
        name: html.unescape(re.search(rf'id="snippet-{name}"[^>]*>(.*?)</textarea>', text, re.S)[1])  # type: ignore[index]
        for name in ("script", "iframe")
    }
    return found["script"], found["iframe"]


def _frame_height(page, selector: str = "#preview-frame") -> int:  # type: ignore[no-untyped-def]
    return round(page.eval_on_selector(selector, "f => f.getBoundingClientRect().height"))


def _settled(page, selector: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The iframe's height and its list's height, once they agree (or after 10 s)."""
    frame = page.frame_locator(selector)
    deadline = time.monotonic() + 10
    while True:
        inner = frame.locator("html").evaluate("el => Math.ceil(el.getBoundingClientRect().height)")
        outer = _frame_height(page, selector)
        if abs(outer - inner) <= 2 or time.monotonic() > deadline:
            return outer, inner
        page.wait_for_timeout(100)


def test_builder_preview_follows_the_options_and_copies(wide_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = wide_page
    page.goto(live_server + "/embed")
    page.wait_for_selector("#preview-frame[data-resized]")
    page.wait_for_selector("#widget-preview overstap-agenda[data-count]")
    all_regions = _frame_height(page)
    first_size = page.get_attribute("#preview-frame", "data-resized")
    # choose a region, a sector and a theme: preview, widget and snippets follow at once
    page.select_option("#region", "twente")
    page.select_option("#sector", "mbo")
    page.fill("#limit", "3")
    page.fill("#color", "#a11a1a")
    page.check("#compact")
    frame = page.frame_locator("#preview-frame")
    frame.locator("body.compact").wait_for()
    src = page.get_attribute("#preview-frame", "src")
    assert src == "/embed/list?region=twente&sector=mbo&limit=3&color=a11a1a&compact=1"
    assert 1 <= frame.locator(".event-card").count() <= 3
    link = frame.locator(".event-card a").first
    assert link.evaluate("a => getComputedStyle(a).color") == "rgb(161, 26, 26)"
    # the iframe takes the list's height (it was sized for the longer list before)
    # (waits use selectors: wait_for_function's polling needs eval, which the CSP forbids)
    page.wait_for_selector(f'#preview-frame[data-resized]:not([data-resized="{first_size}"])')
    outer, inner = _settled(page, "#preview-frame")
    assert abs(outer - inner) <= 2 and outer != all_regions
    # the snippets in the page are exactly those the server writes for the same options
    script, iframe = _server_snippets(
        page, live_server, "region=twente&sector=mbo&limit=3&color=a11a1a&compact=1"
    )
    assert page.input_value("#snippet-script") == script
    assert page.input_value("#snippet-iframe") == iframe
    widget = page.locator("#widget-preview overstap-agenda")
    assert widget.get_attribute("region") == "twente"
    page.wait_for_selector("#widget-preview overstap-agenda[data-count]")
    # copy buttons put the snippet on the clipboard and say so
    page.click("#copy-iframe")
    page.wait_for_selector("#copy-iframe-status:not(:empty)")
    assert page.evaluate("navigator.clipboard.readText()") == iframe
    assert page.inner_text("#copy-iframe-status") == "Gekopieerd."
    page.click("#copy-script")
    page.wait_for_selector("#copy-script-status:not(:empty)")
    assert page.evaluate("navigator.clipboard.readText()") == script
    # the address keeps the choices, so a reload shows the same builder
    assert "region=twente" in page.url and "compact=1" in page.url
    _shot(page, f"embed-builder-live-{page.width}")
    # a link colour without contrast is refused next to the field; copying waits
    page.fill("#color", "#ffff66")
    page.wait_for_selector("#e-color-live:not([hidden])")
    assert "te weinig contrast" in page.inner_text("#e-color-live")
    assert page.is_disabled("#copy-iframe")
    assert page.input_value("#snippet-iframe") == iframe


def test_iframe_snippet_sizes_itself_on_a_host_page(wide_page, live_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, iframe = _server_snippets(wide_page, live_server, "region=twente&limit=2")
    _, long_iframe = _server_snippets(wide_page, live_server, "limit=12")
    (tmp_path / "index.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Regio</title></head><body>"
        f"<h1>Onderwijsregio</h1><div id='short'>{iframe}</div><div id='long'>{long_iframe}</div>"
        "</body></html>",
        encoding="utf-8",
    )
    port = _free_port()
    host = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port),
        lambda *a, **k: _HostSite(*a, directory=str(tmp_path), **k),  # type: ignore[misc]
    )
    threading.Thread(target=host.serve_forever, daemon=True).start()
    page = wide_page
    try:
        page.goto(f"http://127.0.0.1:{port}/index.html")
        page.wait_for_selector("#short iframe[data-resized]")
        page.wait_for_selector("#long iframe[data-resized]")
        heights = {}
        for box in ("short", "long"):
            frame = page.frame_locator(f"#{box} iframe")
            outer, inner = _settled(page, f"#{box} iframe")
            assert abs(outer - inner) <= 2, (box, outer, inner)
            # nothing is cut off: the list does not scroll inside the iframe
            assert frame.locator("html").evaluate("el => el.scrollHeight <= el.clientHeight + 2")
            heights[box] = outer
        assert heights["short"] < heights["long"]
        assert heights["short"] != 480 and heights["long"] != 480
        _shot(page, f"embed-host-resized-{page.width}")
    finally:
        host.shutdown()
        host.server_close()


def test_bad_parameter_shows_a_message_inside_the_iframe(wide_page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = wide_page
    page.goto(f"{live_server}/embed/list?region=atlantis&color=blauw")
    assert page.locator("h1").inner_text() == "Deze lijst kan zo niet getoond worden"
    assert "atlantis" in page.inner_text("main")
    assert page.locator(".site-header").count() == 0
