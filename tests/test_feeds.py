"""RSS, Atom and JSON Feed exports (validated with feedparser) and schema.org JSON-LD."""

from __future__ import annotations

import json

import feedparser
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.settings import Settings
from aggregator.models import Event
from feeds.jsonld import event_jsonld, jsonld_script
from tests.publishing_data import SPECS, build_event

FROM = {"from": "2027-01-01"}
BASE = "https://agenda.example"


@pytest.fixture
def engine(published_engine: Engine) -> Engine:
    """Every test here reads the stored events of tests/publishing_data.py."""
    return published_engine


@pytest.fixture
def client(published_client) -> TestClient:  # type: ignore[no-untyped-def]
    """The app on the publishing data (shared by the tests that only read)."""
    return published_client(Settings(AGENDA_BASE_URL=BASE))


def api_items(client: TestClient, **params) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    return client.get("/api/events", params={**FROM, **params}).json()["items"]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_xml_feeds_parse_cleanly_and_match_the_api(client, kind) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/feeds/events.{kind}", params=FROM)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(f"application/{kind}+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == ("rss20" if kind == "rss" else "atom10")
    assert feed.feed.title == "Overstap Agenda"
    items = api_items(client)
    assert len(feed.entries) == len(items)
    for entry, item in zip(feed.entries, items, strict=True):
        assert entry.link == f"{BASE}/events/{item['id']}"
        assert entry.id.endswith(f":event:{item['id']}")
        assert entry.title.endswith(item["title"])
        assert "Bron: " in entry.summary
        assert item["sources"][0]["url"] in entry.summary
        # the summary keeps its paragraphs: HTML in RSS, text beside HTML content in Atom
        html_summary = entry.summary if kind == "rss" else entry.content[0].value
        assert html_summary.startswith("<p>") and html_summary.count("<p>") >= 3
        if kind == "atom":
            assert "<" not in entry.summary
    if kind == "rss":
        nijmegen = next(e for e in feed.entries if e.id.endswith("ev-nijmegen-info"))
        assert nijmegen["ev_startdate"] == "2027-03-12T19:00:00+01:00"
        assert nijmegen["ev_location"].startswith("Hogeschool van Arnhem en Nijmegen")


def test_json_feed_carries_the_canonical_event(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/feeds/events.json", params=FROM)
    assert response.headers["content-type"].startswith("application/feed+json")
    feed = response.json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"].startswith(f"{BASE}/feeds/events.json")
    items = api_items(client)
    assert [i["_overstap_agenda"] for i in feed["items"]] == items
    for entry in feed["items"]:
        assert entry["url"].startswith(f"{BASE}/events/")
        assert "Bron: " in entry["content_text"]


@pytest.mark.parametrize("kind", ["rss", "atom", "json"])
@pytest.mark.parametrize(
    "params",
    [
        {"q": "speeddate"},
        {"near": "6511", "km": "30"},
        {"sector": "po", "type": "matching"},
        {"region": "twente,groningen"},
        {"lang": "en", "attendance": "online"},
        {"free": "false"},
        {"phase": "orienteren", "audience": "zij-instromers"},
        {"to": "2027-02-10"},
    ],
)
def test_every_filter_works_in_every_feed(client, kind, params) -> None:  # type: ignore[no-untyped-def]
    expected = [i["id"] for i in api_items(client, **params)]
    body = client.get(f"/feeds/events.{kind}", params={**FROM, **params}).content
    if kind == "json":
        got = [i["_overstap_agenda"]["id"] for i in json.loads(body)["items"]]
    else:
        got = [e.id.rsplit(":", 1)[-1] for e in feedparser.parse(body).entries]
    assert got == expected


def test_feeds_default_to_upcoming_and_have_etags(client) -> None:  # type: ignore[no-untyped-def]
    # the seeded events lie in 2027, after today: all upcoming
    response = client.get("/feeds/events.atom")
    assert len(feedparser.parse(response.content).entries) == len(api_items(client))
    again = client.get("/feeds/events.atom", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_feed_paging(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/feeds/events.json", params={**FROM, "per_page": 3, "page": 2}).json()
    assert [i["_overstap_agenda"]["id"] for i in body["items"]] == [
        i["id"] for i in api_items(client)[3:6]
    ]


def test_jsonld_describes_the_event_and_its_provenance(client) -> None:  # type: ignore[no-untyped-def]
    data = client.get("/api/events/ev-nijmegen-info/jsonld").json()
    assert data["@context"] == "https://schema.org" and data["@type"] == "Event"
    assert data["startDate"] == "2027-03-12T19:00:00+01:00"
    assert data["endDate"] == "2027-03-12T21:00:00+01:00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["location"]["@type"] == "Place"
    assert data["location"]["address"]["postalCode"] == "6525 EN"
    assert data["location"]["geo"]["latitude"] == 51.8226
    assert data["organizer"]["name"] == "RAP Rijk van Nijmegen"
    assert data["organizer"]["url"] == "https://example.org/rap"
    assert data["isAccessibleForFree"] is True and data["offers"]["price"] == 0
    assert data["offers"]["priceCurrency"] == "EUR"
    assert data["image"] == [f"{BASE}/static/event-default.png"]
    # only Event properties: provenance is on the page and in the API
    assert "isBasedOn" not in data and "dateModified" not in data
    assert data["sameAs"] == "https://example.org/rap-nijmegen.ics#nijmegen-info"


def test_jsonld_status_and_attendance_variants(client) -> None:  # type: ignore[no-untyped-def]
    cancelled = client.get("/api/events/ev-zwolle-cancelled/jsonld").json()
    assert cancelled["eventStatus"] == "https://schema.org/EventCancelled"
    online = client.get("/api/events/ev-webinar-mbo/jsonld").json()
    assert online["location"]["@type"] == "VirtualLocation"
    assert online["eventAttendanceMode"].endswith("OnlineEventAttendanceMode")
    mixed = client.get("/api/events/ev-enschede-speeddate/jsonld").json()
    assert [loc["@type"] for loc in mixed["location"]] == ["Place", "VirtualLocation"]
    all_day = client.get("/api/events/ev-groningen-opendag/jsonld").json()
    # schema.org's endDate is the last day: a one-day event ends the day it starts
    assert all_day["startDate"] == "2027-03-20" and all_day["endDate"] == "2027-03-20"
    removed = client.get("/api/events/ev-nijmegen-removed/jsonld").json()
    assert removed["eventStatus"] == "https://schema.org/EventCancelled"


def test_jsonld_script_cannot_close_its_element() -> None:
    spec = SPECS[0]
    event: Event = build_event(spec)
    event.title = "</script><script>alert(1)</script>"
    text = jsonld_script(event_jsonld(event, [], {}, base_url=BASE))
    assert "</script" not in text and "<" not in text
    assert json.loads(text)["name"] == event.title
