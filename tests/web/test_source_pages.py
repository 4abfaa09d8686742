"""/bronnen and /en/sources in a real browser: axe-clean (WCAG 2.1 AA), valid HTML (Nu
checker), every state and its text alternative shown, no page-wide scrolling on a phone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from agenda.web import create_app
from aggregator.db import make_engine
from config import bundled
from tests.conftest import DatabaseTemplates, config_for, write_sources
from tests.harvesting import harvest_once
from tests.web.audit import assert_axe_clean, assert_nu_clean
from tests.web.conftest import web_settings

# serving: test_browser's uvicorn helper
from tests.web.test_browser import CHROMIUM, _free_port, serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("browser-sources"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]


def _entry(source_id: str, url: str, region: str) -> dict[str, str]:
    return {
        "id": source_id,
        "name": f"Agenda {source_id}",
        "kind": "ics",
        "url": url,
        "region": region,
    }


@pytest.fixture(scope="module")
def health_server(
    tmp_path_factory: pytest.TempPathFactory, database_templates: DatabaseTemplates
) -> Iterator[str]:
    """A server whose sources are healthy, failing (a missing file) and never harvested."""
    tmp = tmp_path_factory.mktemp("health-pages")
    shutil.copy(bundled("samples/nl-sample/ics/twents-onderwijsnetwerk.ics"), tmp / "twente.ics")
    harvested = [
        _entry("twente", "twente.ics", "twente"),
        _entry("kapot", "missing.ics", "regio-utrecht"),
    ]
    url = database_templates.copy("sqlite", tmp, "migrated", None)
    engine = make_engine(url)
    harvest_once(engine, config_for(write_sources(tmp / "harvested.yaml", harvested)))
    harvest_once(engine, config_for(write_sources(tmp / "harvested.yaml", harvested)))
    config = config_for(
        write_sources(tmp / "sources.yaml", [*harvested, _entry("nieuw", "x.ics", "twente")])
    )
    port = _free_port()
    with serving(create_app(settings=web_settings(), config=config, engine=engine), port):
        yield f"http://127.0.0.1:{port}"
    engine.dispose()


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/bronnen", ("gezond", "mislukt", "nog niet opgehaald", "Activiteiten na de laatste 2")),
        ("/en/sources", ("healthy", "failing", "not harvested yet", "Events after the last 2")),
    ],
)
def test_the_sources_page_is_accessible_and_valid(
    browser,
    health_server: str,
    path: str,
    words: tuple[str, ...],  # type: ignore[no-untyped-def]
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    response = page.goto(health_server + path)
    assert response is not None and response.status == 200
    assert page.locator("#source-kapot").get_attribute("data-state") == "failing"
    assert page.locator("#source-kapot td.num").last.inner_text() == "2"  # failed twice
    assert page.locator("#source-nieuw").get_attribute("data-state") == "pending"
    text = page.content()
    for word in words:
        assert word in text, word
    assert page.locator("#source-twente svg.sparkline[role=img]").count() == 1
    # on a phone the table scrolls in its own region, the page does not
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert_axe_clean(page)
    assert_nu_clean(text, path)
    context.close()
