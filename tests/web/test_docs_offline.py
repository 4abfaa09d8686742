"""/docs (Swagger UI) and /redoc (ReDoc) work with no network: every asset is ours.

The plain tests read the pages' HTML and CSP; the browser tests load them in Debian's
Chromium with every request off loopback refused and count the operations drawn against
the operations in /openapi.json.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from agenda.web import create_app
from aggregator.db import make_engine, upgrade
from tests.web.conftest import sample_config, web_settings
from tests.web.test_browser import CHROMIUM, _free_port, serving

_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


class _Assets(HTMLParser):
    """The URLs a page loads: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.urls.append(values["src"] or "")
            else:
                self.inline_scripts += 1
        elif tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")
        elif tag == "img" and values.get("src"):
            self.urls.append(values["src"] or "")


def _operations(openapi: dict) -> int:  # type: ignore[type-arg]
    return sum(1 for item in openapi["paths"].values() for method in item if method in _METHODS)


@pytest.fixture(scope="module")
def make_app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Build web apps over one empty, migrated SQLite file (docs need no events); each
    server gets its own app, as an app's lifespan runs once."""
    from config import bundled

    tmp = tmp_path_factory.mktemp("docs")
    config = sample_config(tmp, bundled("samples/nl-sample"))
    url = f"sqlite:///{tmp / 'agenda.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    yield lambda: create_app(settings=web_settings(), config=config, engine=engine)
    engine.dispose()


@pytest.fixture(scope="module")
def docs_client(make_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(make_app()) as test_client:
        yield test_client


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_reference_only_local_assets(docs_client: TestClient, path: str) -> None:
    response = docs_client.get(path)
    assert response.status_code == 200
    parser = _Assets()
    parser.feed(response.text)
    assert parser.urls, "the page loads no assets at all"
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        asset = docs_client.get(url)
        assert asset.status_code == 200 and asset.content, url
    assert "http://" not in response.text.replace("http://127.0.0.1", "")
    assert "https://" not in response.text
    assert "/openapi.json" in response.text


def test_docs_pages_keep_the_sites_csp(docs_client: TestClient) -> None:
    site = docs_client.get("/healthz").headers["content-security-policy"]
    for path in ("/docs", "/redoc"):
        page = docs_client.get(path)
        parser = _Assets()
        parser.feed(page.text)
        assert parser.inline_scripts == 0, path  # each viewer starts from a file of ours
        assert '<html lang="en">' in page.text and "/static/docs.css" in page.text
        policy = page.headers["content-security-policy"]
        assert re.search(r"script-src 'self';", policy), policy
        assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    assert docs_client.get("/docs").headers["content-security-policy"] == site
    # ReDoc alone may start its search worker from a blob: URL
    assert docs_client.get("/redoc").headers["content-security-policy"] == (
        site + "; worker-src 'self' blob:"
    )


def test_openapi_document_stays_at_openapi_json(docs_client: TestClient) -> None:
    document = docs_client.get("/openapi.json").json()
    assert document["info"]["title"] == "Overstap Agenda API"
    assert "/docs" not in document["paths"] and "/redoc" not in document["paths"]
    assert _operations(document) > 10


@pytest.fixture(scope="module")
def live_docs(make_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = _free_port()
    with serving(make_app(), port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def offline_page(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """A page whose requests off 127.0.0.1 are aborted; refused requests, page errors and
    CSP reports are checked to be none when the test ends."""
    chromium = request.getfixturevalue("browser")
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    refused: list[str] = []
    problems: list[str] = []

    def only_loopback(route) -> None:  # type: ignore[no-untyped-def]
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda message: problems.extend(_csp_refusals(message.text)))
    yield page
    context.close()
    assert refused == [], f"requests off the machine: {refused}"
    assert problems == [], f"errors or CSP refusals: {problems}"


def _csp_refusals(text: str) -> list[str]:
    """A console message if it reports a CSP refusal, except ReDoc's "by Redocly" logo: a
    decorative image its bundle always links from cdn.redoc.ly, which the CSP rightly drops."""
    if "Content Security Policy" not in text:
        return []
    if text.startswith("Loading the image 'https://cdn.redoc.ly/redoc/logo-mini.svg'"):
        return []
    return [text]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_swagger_ui_renders_offline(offline_page, live_docs, docs_client) -> None:  # type: ignore[no-untyped-def]
    expected = _operations(docs_client.get("/openapi.json").json())
    offline_page.goto(live_docs + "/docs")
    offline_page.wait_for_selector(".opblock")
    assert offline_page.locator(".opblock").count() == expected
    assert "Overstap Agenda API" in offline_page.inner_text(".info .title")
    _shot(offline_page, "docs-swagger")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_redoc_renders_offline(offline_page, live_docs, docs_client) -> None:  # type: ignore[no-untyped-def]
    document = docs_client.get("/openapi.json").json()
    expected = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in _METHODS
    }
    offline_page.goto(live_docs + "/redoc")
    offline_page.wait_for_selector("[data-section-id^='operation/']")
    drawn = offline_page.eval_on_selector_all(
        "[data-section-id^='operation/']", "nodes => nodes.map(n => n.dataset.sectionId)"
    )
    assert {section.removeprefix("operation/") for section in drawn} == expected
    assert "Overstap Agenda API" in offline_page.inner_text("h1")
    _shot(offline_page, "docs-redoc")


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    screenshots = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshots / f"{name}.png"))
