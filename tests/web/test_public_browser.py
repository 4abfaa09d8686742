"""The public pages in Debian's Chromium at 1280 and 390 px: the phone layout, the filter
drawer, series, the map with and without tiles, sharing and the way back to the results
(tests/web/test_audit.py audits every page with axe-core and the Nu HTML checker).

Screenshots go to test-artifacts/screenshots/public-*.png for a person to look at.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from agenda.web import create_app
from aggregator.db import make_engine
from tests.conftest import DatabaseTemplates, config_for
from tests.web.conftest import web_settings
from tests.web.public_samples import KEY, public_seed, public_sources  # noqa: F401
from tests.web.test_browser import CHROMIUM, SCREENSHOTS, _free_port, serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-public"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]
TILES = "http://127.0.0.1:9/"  # web_settings' tile server: nothing listens there
SERIES = "Inloopspreekuur Onderwijsloket Groningen"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _tile_png() -> bytes:
    """A plain 256 px map tile, so that a test can let tiles load (offline)."""
    rows = b"".join(b"\x00" + b"\xdd\xe6\xee" * 256 for _ in range(256))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@contextmanager
def public_site(
    tmp: Path,
    database_templates: DatabaseTemplates,
    sources: Path,
    prepare: Callable[[Engine], dict[str, str]] | None = None,
) -> Iterator[dict[str, Any]]:
    """A real uvicorn server with the public samples (a copy of their database in ``tmp``,
    first changed by ``prepare``, whose answer joins the result): its base URL and the ids
    of a series, a cancelled and an online event."""
    config = config_for(sources)
    engine = make_engine(database_templates.copy("sqlite", tmp, KEY, public_seed(sources)))
    extra = prepare(engine) if prepare else {}
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings=web_settings(AGENDA_BASE_URL=base), config=config, engine=engine)
    try:
        with serving(app, port):
            import httpx

            items = httpx.get(f"{base}/api/events?from=2027-01-01&per_page=200").json()["items"]
            yield {
                "base": base,
                "series": next(e["id"] for e in items if e["title"] == SERIES),
                "cancelled": next(e["id"] for e in items if e["status"] == "cancelled"),
                "online": next(e["id"] for e in items if e["attendance"] == "online"),
                **extra,
            }
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
    database_templates: DatabaseTemplates,
    public_sources: Path,  # noqa: F811
) -> Iterator[dict[str, Any]]:
    """A real uvicorn server with the public samples, and a few of their event ids."""
    with public_site(
        tmp_path_factory.mktemp("public-live"), database_templates, public_sources
    ) as s:
        yield s


def _page(request: pytest.FixtureRequest, viewport: dict[str, int], **options: Any) -> Any:
    context = request.getfixturevalue("browser").new_context(
        viewport=viewport, locale="nl-NL", **options
    )
    request.addfinalizer(context.close)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    request.addfinalizer(lambda: _no_errors(errors))
    return page


def _no_errors(errors: list[str]) -> None:
    assert errors == [], f"JavaScript errors on the pages: {errors}"


def _tiles_load(page: Any) -> None:
    body = _tile_png()
    page.route(TILES + "**", lambda route: route.fulfill(body=body, content_type="image/png"))


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"public-{name}.png"), full_page=True)


def test_phone_first_result_drawer_and_series(
    request: pytest.FixtureRequest, site: dict[str, Any]
) -> None:
    page = _page(request, PHONE)
    page.goto(site["base"] + "/?from=2027-01-01")
    first = page.locator(".event-card").first.bounding_box()
    assert first and first["y"] + first["height"] <= PHONE["height"]  # on the first screen
    assert not page.locator("#audience").is_visible()  # the drawer is folded
    page.click(".filter-drawer summary")
    page.select_option("#audience", "internationals")
    page.select_option("#attendance", "online")
    page.locator(".drawer-grid button[type=submit]").click()
    page.wait_for_url(re.compile(r"audience=internationals"))
    assert "attendance=online" in page.url
    assert page.locator(".chip").count() == 3  # from, audience, online only
    page.goto(site["base"] + "/?from=2027-01-01&region=groningen-drenthe")
    series = page.locator(".event-card", has_text=SERIES).locator("details.series")
    assert "elke dinsdag" in series.locator("summary").inner_text()
    assert not series.locator(".series-dates a").first.is_visible()
    series.locator("summary").click()
    dates = series.locator(".series-dates a")
    assert dates.first.is_visible() and dates.count() > 10
    _shot(page, "phone-series")


def test_wide_screen_shows_the_drawer_open(
    request: pytest.FixtureRequest, site: dict[str, Any]
) -> None:
    page = _page(request, DESKTOP)
    page.goto(site["base"] + "/")
    assert page.locator("#audience").is_visible()  # no click needed on a wide screen
    assert not page.locator(".filter-drawer summary").is_visible()


def test_map_with_tiles_and_without(request: pytest.FixtureRequest, site: dict[str, Any]) -> None:
    page = _page(request, DESKTOP)
    _tiles_load(page)
    page.goto(site["base"] + "/?from=2027-01-01")
    page.wait_for_selector("#map .leaflet-tile-loaded")
    assert page.locator("#map").is_visible()
    assert page.get_attribute("#map", "role") == "region"
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Inzoomen"
    assert "OpenStreetMap-bijdragers" in page.inner_text("#map .leaflet-control-attribution")
    assert page.locator("#map-no-tiles").is_hidden()
    _shot(page, "map-tiles")
    english = _page(request, DESKTOP)
    _tiles_load(english)
    english.goto(site["base"] + "/en/?from=2027-01-01")
    english.wait_for_selector("#map .leaflet-tile-loaded")
    assert english.get_attribute(".leaflet-control-zoom-in", "title") == "Zoom in"
    credit = english.inner_text("#map .leaflet-control-attribution")
    assert "OpenStreetMap contributors" in credit and "bijdragers" not in credit
    offline = _page(request, DESKTOP)
    offline.goto(site["base"] + f"/events/{site['series']}")
    offline.wait_for_selector("#map-no-tiles:not([hidden])")
    assert not offline.locator("#map").is_visible()  # no empty grey box


def test_share_copy_and_back_to_the_results(
    request: pytest.FixtureRequest, site: dict[str, Any]
) -> None:
    page = _page(request, DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page.goto(site["base"] + "/?from=2027-01-01&region=groningen-drenthe&sector=po")
    page.locator(".event-card h4 a").first.click()
    page.wait_for_url(re.compile(r"/events/"))
    page.click("#share-copy")
    page.wait_for_selector("#share-status:has-text('Link gekopieerd')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.input_value("#share-url") and "/events/" in copied
    page.click("text=Terug naar de resultaten")
    page.wait_for_url(re.compile(r"region=groningen-drenthe"))
    assert page.locator("#region").input_value() == "groningen-drenthe"
    assert page.locator("#sector").input_value() == "po"
