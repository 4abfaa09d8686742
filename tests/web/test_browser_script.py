"""No script from a source runs in a real browser (Chromium via Playwright, real uvicorn).

A source whose links are ``javascript:`` URLs is harvested next to the samples; its events
are published without those links, and the pages' CSP (``script-src 'self'``) refuses
inline script, while the map and the embed preview still work under it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from agenda.web import create_app
from aggregator.db import make_engine, upgrade
from aggregator.models import Event, SourceRecord
from config import bundled
from tests.conftest import config_for, write_sources
from tests.faultserver import rss_feed
from tests.web import test_browser as browser_tests
from tests.web.conftest import harvest_samples, sample_config, web_settings
from tests.web.test_browser import _free_port, serving

pytestmark = browser_tests.pytestmark
page = browser_tests.page  # a page per test (a fixture)

HOSTILE_LINK = "javascript:window.__pwned=1//{i}"


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """The samples plus a source with javascript: links; yields the base URL and its events."""
    tmp = tmp_path_factory.mktemp("hostile")
    samples = sample_config(tmp, bundled("samples/nl-sample"))
    (tmp / "hostile.rss").write_bytes(rss_feed(3, link=HOSTILE_LINK))
    entries = [s.model_dump(mode="json", exclude_defaults=True) for s in samples.sources]
    entries.append(
        {
            "id": "hostile",
            "name": "Hostile",
            "kind": "rss",
            "url": "hostile.rss",
            "region": "twente",
        }
    )
    config = config_for(write_sources(tmp / "sources.yaml", entries))
    url = f"sqlite:///{tmp / 'agenda.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    harvest_samples(engine, config)
    with Session(engine) as session:
        records = session.exec(select(SourceRecord).where(SourceRecord.source_id == "hostile"))
        ids = sorted({r.event_id for r in records})
        urls = [session.get(Event, i).url for i in ids]  # type: ignore[union-attr]
    assert len(ids) == 3 and urls == [None, None, None]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings=web_settings(AGENDA_BASE_URL=base), config=config, engine=engine)
    with serving(app, port):
        yield base, ids
    engine.dispose()


def _script_links(tab) -> list[str]:  # type: ignore[no-untyped-def]
    return tab.evaluate(
        "[...document.querySelectorAll('a[href]')].map(a => a.href)"
        ".filter(h => !/^(https?:|mailto:|webcal:|data:text\\/calendar)/i.test(h) && h !== '')"
    )


def test_javascript_links_are_not_published_and_inline_script_is_refused(
    page,  # type: ignore[no-untyped-def]
    hostile_server: tuple[str, list[str]],
) -> None:
    base, ids = hostile_server
    for event_id in ids:
        page.goto(f"{base}/events/{event_id}")
        assert "Informatieavond zij-instroom" in page.locator("h1").inner_text()
        assert _script_links(page) == []
        for link in page.locator("a[href]").all():
            assert "javascript" not in (link.get_attribute("href") or "").lower()
    # the policy itself: an inline script injected into the page does not run
    with contextlib.suppress(Exception):  # Playwright may report the refused script
        page.add_script_tag(content="window.__pwned = 1")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    # the API and the feeds do not carry the links either
    api = page.request.get(f"{base}/api/events/{ids[0]}").json()
    assert api["url"] is None and api.get("registration_url") is None
    rss = page.request.get(f"{base}/feeds/events.rss?from=2027-01-01").text()
    assert "javascript:" not in rss.lower()


def test_map_and_embed_preview_work_under_the_policy(
    page,  # type: ignore[no-untyped-def]
    hostile_server: tuple[str, list[str]],
) -> None:
    base, _ = hostile_server
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{base}/")
    # Leaflet is loaded by map.js (a script element of our own origin); with no tiles
    # the map then hides itself, so it is attached rather than visible
    page.wait_for_selector("#map[data-markers]", state="attached")
    assert int(page.get_attribute("#map", "data-markers")) > 0
    page.goto(f"{base}/embed?region=twente")
    page.wait_for_selector("overstap-agenda[data-count]")
    assert page.get_attribute("overstap-agenda", "data-count") not in (None, "error", "0")
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert violations == []
