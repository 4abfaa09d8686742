"""Found by search engines and reusers: sitemap (checked with the sitemap 0.9 XSD), robots.txt,
llms.txt, the schema.org ItemList on list pages, and the open-data downloads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from lxml import etree, html
from sqlalchemy import Engine

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from aggregator.query import EventFilters
from api.open_data import CSV_COLUMNS, open_records
from config import bundled
from tests.conftest import _postgres_schema, _require_postgres
from tests.publishing_data import SPECS, event_id, seed

DATA = Path(__file__).parent / "data"
BASE = "https://agenda.example.nl"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
# what /api/events lists without filters: relevant and not removed (cancelled ones stay)
LIVE = {
    event_id(s.key)
    for s in SPECS
    if not (s.values or {}).get("removed_at") and (s.values or {}).get("relevant", True)
}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """The publisher test events in a SQLite file, then in a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('discovery') / 'agenda.sqlite'}"
    else:
        url = request.getfixturevalue("module_postgres_url")
    upgrade(url)
    engine = make_engine(url)
    seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def module_postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this module (skipped, or failed in CI, when unreachable)."""
    _require_postgres()
    yield from _postgres_schema()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))


@pytest.fixture(scope="module")
def client(store: Engine, config: AppConfig) -> Iterator[TestClient]:
    settings = Settings(WEB_SECRET_KEY="test-secret", AGENDA_BASE_URL=BASE)  # type: ignore[call-arg]
    with TestClient(create_app(settings=settings, config=config, engine=store)) as test_client:
        yield test_client


def _api_ids(client: TestClient, **params: str) -> list[str]:
    body = client.get("/api/events", params={**params, "per_page": "200"}).json()
    assert body["total"] <= 200
    return [item["id"] for item in body["items"]]


def test_sitemap_validates_and_lists_exactly_the_live_events(
    client: TestClient, config: AppConfig
) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    schema = etree.XMLSchema(etree.parse(str(DATA / "xml/sitemap-0.9.xsd")))
    document = etree.fromstring(response.content)
    schema.assertValid(document)
    urls = {u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod") for u in document.iter(f"{SM}url")}
    events = {loc.rsplit("/", 1)[1]: stamp for loc, stamp in urls.items() if "/events/" in loc}
    assert set(events) == LIVE
    assert set(events) == set(_api_ids(client))
    for event, stamp in events.items():
        api_modified = client.get(f"/api/events/{event}").json()["last_modified"]
        assert datetime.fromisoformat(stamp) == datetime.fromisoformat(api_modified).replace(
            microsecond=0
        )
    others = {loc for loc in urls if "/events/" not in loc}
    assert others == {f"{BASE}/", f"{BASE}/en/", f"{BASE}/regio"} | {
        f"{BASE}/regio/{r.slug}" for r in config.regions
    }
    assert all(loc.startswith(BASE + "/") for loc in urls)


def test_a_large_sitemap_becomes_an_index_of_valid_parts(store: Engine, config: AppConfig) -> None:
    settings = Settings(WEB_SECRET_KEY="test-secret", AGENDA_BASE_URL=BASE)  # type: ignore[call-arg]
    app = create_app(settings=settings, config=config, engine=store)
    app.state.sitemap_max_urls = 3  # the protocol's 50,000, scaled down to the test data
    schema = etree.XMLSchema(etree.parse(str(DATA / "xml/sitemap-0.9.xsd")))
    with TestClient(app) as client:
        index = etree.fromstring(client.get("/sitemap.xml").content)
        assert index.tag == f"{SM}sitemapindex"
        parts = [loc.text for loc in index.iter(f"{SM}loc")]
        assert parts[0] == f"{BASE}/sitemaps/pages.xml"
        assert len(parts) == 1 + -(-len(LIVE) // 3)
        events: list[str] = []
        for part in parts:
            document = etree.fromstring(client.get(part.removeprefix(BASE)).content)
            schema.assertValid(document)
            locs = [loc.text for loc in document.iter(f"{SM}loc")]
            if part.endswith("pages.xml"):
                assert not any("/events/" in loc for loc in locs)
            else:
                assert 0 < len(locs) <= 3
                events += [loc.rsplit("/", 1)[1] for loc in locs]
        assert len(events) == len(set(events)) and set(events) == LIVE
        assert client.get(f"/sitemaps/events-{len(parts)}.xml").status_code == 404


def test_robots_points_at_the_sitemap(client: TestClient) -> None:
    text = client.get("/robots.txt").text
    assert f"Sitemap: {BASE}/sitemap.xml" in text.splitlines()
    assert "Disallow: /moderation" in text
    assert "Disallow: /events" not in text


def test_llms_txt_describes_api_feeds_and_mcp(client: TestClient) -> None:
    response = client.get("/llms.txt")
    assert response.status_code == 200
    text = response.text
    assert text.startswith("# Overstap Agenda\n\n> ")
    for path in ("/mcp", "/api/events", "/calendar.ics", "/feeds/events.rss", "/data/events.jsonl"):
        assert f"{BASE}{path}" in text, path
    assert "search_events" in text and "CC-BY-4.0" in text
    # every link it gives (without a placeholder) answers
    for link in {part.split(")")[0] for part in text.split("](")[1:]}:
        if "{" not in link and not link.endswith("/mcp"):
            assert client.get(link.removeprefix(BASE)).status_code == 200, link


def _item_lists(page: str) -> list[dict]:
    scripts = html.fromstring(page).xpath('//script[@type="application/ld+json"]/text()')
    return [d for d in map(json.loads, scripts) if d.get("@type") == "ItemList"]


@pytest.mark.parametrize(
    "path", ["/?from=2027-01-01", "/regio/rijk-van-nijmegen", "/en/?sector=po"]
)
def test_list_pages_carry_an_item_list_by_googles_rules(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    [item_list] = _item_lists(response.text)
    items = item_list["itemListElement"]
    assert item_list["@context"] == "https://schema.org"
    assert items and item_list["numberOfItems"] == len(items)
    assert [i["position"] for i in items] == list(range(1, len(items) + 1))
    assert all(i["@type"] == "ListItem" and set(i) == {"@type", "position", "url"} for i in items)
    urls = [i["url"] for i in items]
    assert len(set(urls)) == len(urls)
    assert {urlsplit(u).netloc for u in urls} == {urlsplit(BASE).netloc}
    # the list is what the page shows, in its order
    # (each result's heading link; a series' other dates sit folded under it, and a
    # search's links carry the way back in ?terug=)
    shown = html.fromstring(response.text).xpath('//main//h4/a[contains(@href, "/events/")]/@href')
    shown_ids = list(dict.fromkeys(urlsplit(h).path.rsplit("/", 1)[1] for h in shown))
    assert [u.rsplit("/", 1)[1] for u in urls] == shown_ids
    # each item's page has its own Event markup with the same URL
    for url in urls:
        page = client.get(urlsplit(url).path).text
        scripts = html.fromstring(page).xpath('//script[@type="application/ld+json"]/text()')
        assert any(json.loads(s).get("url") == url for s in scripts), url


def test_empty_list_page_has_no_item_list(client: TestClient) -> None:
    response = client.get("/", params={"q": "onvindbaarwoord"})
    assert _item_lists(response.text) == []


def test_open_data_jsonl_has_every_event_with_licence_and_provenance(client: TestClient) -> None:
    response = client.get("/data/events.jsonl")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert 'rel="license"' in response.headers["link"]
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["id"] for r in records] == _api_ids(client)
    assert {r["id"] for r in records} == LIVE
    for record in records:
        assert record["licence"] == "CC-BY-4.0"
        assert record["licence_url"].startswith("https://creativecommons.org/")
        assert record["page_url"] == f"{BASE}/events/{record['id']}"
        assert record["sources"] == client.get(f"/api/events/{record['id']}").json()["sources"]
        assert record["sources"] and record["sources"][0]["name"]


def test_open_data_csv_has_the_same_records(client: TestClient) -> None:
    response = client.get("/data/events.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    records = [json.loads(line) for line in client.get("/data/events.jsonl").text.splitlines()]
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert row["title"] == record["title"]
        assert row["description"] == record["description"]  # newlines survive quoting
        assert row["sectors"].split(";") == (record["sectors"] or [""])
        assert json.loads(row["sources"]) == record["sources"]
        assert row["licence"] == "CC-BY-4.0"
        assert row["is_free"] in {"true", "false", ""}


def test_open_data_takes_the_api_filters(client: TestClient) -> None:
    for params in ({"region": "twente"}, {"sector": "vo", "from": "2027-02-01"}):
        lines = client.get("/data/events.jsonl", params=params).text.splitlines()
        assert [json.loads(line)["id"] for line in lines] == _api_ids(client, **params)
    bad = client.get("/data/events.csv", params={"sector": "xx"}, headers={"accept": "text/html"})
    assert bad.status_code == 400
    assert "unknown sector" in bad.json()["detail"]


def test_open_data_pages_never_skip_or_repeat(store: Engine, config: AppConfig) -> None:
    licence = {"licence": "x", "licence_url": "y"}
    paged = open_records(
        engine=store,
        config=config,
        filters=EventFilters(),
        base_url=BASE,
        licence=licence,
        page_size=3,
    )
    whole = open_records(
        engine=store,
        config=config,
        filters=EventFilters(),
        base_url=BASE,
        licence=licence,
    )
    assert [r["id"] for r in paged] == [r["id"] for r in whole]
