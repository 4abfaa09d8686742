"""Regression tests for what subscribers, feed readers and search engines saw wrong (issue 12,
"Publishing"), each on the publisher fixtures or one real-producer file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import vobject
from fastapi.testclient import TestClient

from aggregator.models import Event, Source, SourceRecord
from config import bundled
from crawlers.ical import parse as parse_ics
from crawlers.records import Window
from crawlers.source import SourceConfig
from feeds.ical_export import render_ics
from feeds.jsonld import event_jsonld
from feeds.location import location_text
from feeds.syndication import FeedInfo, FeedItem, render_json_feed, render_rss
from tests.publishing_data import SPECS, build_event, seeded_app

FROM = {"from": "2027-01-01"}
BASE = "https://agenda.example"
EV = "{http://purl.org/rss/1.0/modules/event/}"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return TestClient(seeded_app(tmp_path_factory.mktemp("fixes")))


def _spec_event(key: str) -> Event:
    return build_event(next(s for s in SPECS if s.key == key))


# --- X-ALT-DESC --------------------------------------------------------------------------


def test_outlook_html_description_is_read_once_and_exported_once(client: TestClient) -> None:
    body = (bundled("samples/nl-sample") / "ics/friese-pabo-academie-voorlichting.ics").read_bytes()
    source = SourceConfig(id="fpa", name="FPA", kind="ics", url="x.ics", region="friesland")
    now = datetime(2027, 1, 5, tzinfo=UTC)
    records = parse_ics(body, source, now=now, window=Window.around(now)).events
    html = next(r.description_html for r in records if r.description_html)
    assert "\n<HTML>" in html and "\\n" not in html and "\\," not in html
    # the export escapes the stored HTML once: vobject decodes it back to the same text
    exported = client.get("/events/ev-nijmegen-info.ics").content
    vevent = vobject.readOne(exported.decode()).vevent
    expected = next(s for s in SPECS if s.key == "nijmegen-info").values["description_html"]  # type: ignore[index]
    assert vevent.x_alt_desc.value == expected


# --- all-day ends ------------------------------------------------------------------------


def test_all_day_end_is_inclusive_where_the_format_names_the_last_day(client: TestClient) -> None:
    rss = ET.fromstring(client.get("/feeds/events.rss", params=FROM).content)
    item = next(i for i in rss.iter("item") if i.findtext("guid", "").endswith("opendag"))
    assert item.findtext(f"{EV}startdate") == "2027-03-20"
    assert item.findtext(f"{EV}enddate") == "2027-03-20"  # a one-day event
    feed = client.get("/feeds/events.json", params=FROM).json()
    entry = next(i for i in feed["items"] if i["id"].endswith("opendag"))
    assert entry["_event"]["start"] == "2027-03-20"
    assert entry["_event"]["end"] == "2027-03-21"  # canonical: exclusive, as in iCal
    assert entry["_event"]["end_inclusive"] == "2027-03-20"
    ics = client.get("/events/ev-groningen-opendag.ics").text
    assert "DTEND;VALUE=DATE:20270321" in ics


# --- removed and cancelled ---------------------------------------------------------------


def test_a_removed_events_page_is_gone_with_a_clear_page(client: TestClient) -> None:
    response = client.get("/events/ev-nijmegen-removed")
    assert response.status_code == 410
    assert "niet meer in de agenda van de bron" in response.text
    assert "application/ld+json" not in response.text
    english = client.get("/en/events/ev-nijmegen-removed")
    assert english.status_code == 410 and "no longer in the source" in english.text
    live = client.get("/events/ev-nijmegen-info")
    assert live.status_code == 200 and "application/ld+json" in live.text


def test_removed_and_cancelled_are_visible_in_the_api_and_feeds(client: TestClient) -> None:
    removed = client.get("/api/events/ev-nijmegen-removed").json()
    assert removed["removed"] is True and removed["removed_at"].startswith("2027-01-03")
    live = client.get("/api/events/ev-nijmegen-info").json()
    assert live["removed"] is False and live["removed_at"] is None
    jsonld = client.get("/api/events/ev-nijmegen-removed/jsonld").json()
    assert jsonld["eventStatus"] == "https://schema.org/EventCancelled"
    feed = client.get("/feeds/events.json", params=FROM).json()
    cancelled = next(i for i in feed["items"] if i["id"].endswith("zwolle-cancelled"))
    assert cancelled["_event"]["status"] == "https://schema.org/EventCancelled"
    assert cancelled["title"].startswith("Geannuleerd: ")


# --- location text -----------------------------------------------------------------------


def _groningen() -> Event:
    event = _spec_event("groningen-opendag")
    event.location_name = "Zernike Campus, Nijenborgh 4, 9747 AG Groningen, Nederland"
    event.address = "Nijenborgh 4"
    event.postcode = "9747 AG"
    event.city = "Groningen"
    return event


def test_location_text_does_not_repeat_itself_in_any_format() -> None:
    event = _groningen()
    whole = "Zernike Campus, Nijenborgh 4, 9747 AG Groningen, Nederland"
    assert location_text(event) == whole
    ics = render_ics(
        [event], {}, {}, calendar_name="x", calendar_description="x", base_url=BASE
    ).decode()
    unfolded = ics.replace("\r\n ", "")
    assert (
        "LOCATION:Zernike Campus\\, Nijenborgh 4\\, 9747 AG Groningen\\, Nederland\r\n" in unfolded
    )
    info = FeedInfo("t", "d", BASE, f"{BASE}/feeds/events.rss", BASE, datetime.now(UTC))
    rss = ET.fromstring(render_rss([FeedItem(event, [], {})], info=info))
    assert rss.find(f".//{EV}location").text == whole  # type: ignore[union-attr]
    assert rss.findtext(".//item/description").count("9747 AG") == 1  # type: ignore[union-attr]
    feed = json.loads(render_json_feed([FeedItem(event, [], {})], info=info))
    assert feed["items"][0]["_event"]["location"] == whole
    split = _spec_event("nijmegen-info")
    assert location_text(split) == (
        "Hogeschool van Arnhem en Nijmegen, Kapittelweg 33, 6525 EN Nijmegen"
    )


# --- JSON-LD -----------------------------------------------------------------------------


def test_jsonld_organizer_mail_goes_to_email_and_a_place_is_always_given() -> None:
    event = _spec_event("utrecht-meeloop")
    event.organizer_name = "Twents Onderwijsnetwerk"
    event.organizer_email = "agenda@example.org"  # from a MAILTO: link (normalise)
    data = event_jsonld(event, [], {}, base_url=BASE)
    assert data["organizer"] == {
        "@type": "Organization",
        "name": "Twents Onderwijsnetwerk",
        "email": "agenda@example.org",
    }
    ics = render_ics([event], {}, {}, calendar_name="x", calendar_description="x", base_url=BASE)
    assert b'ORGANIZER;CN="Twents Onderwijsnetwerk":mailto:agenda@example.org' in ics
    nowhere = _spec_event("utrecht-meeloop")
    nowhere.city = nowhere.municipality = None
    place = event_jsonld(nowhere, [], {}, base_url=BASE, region_label="Midden-Utrecht")
    assert place["location"]["address"]["addressRegion"] == "Midden-Utrecht"


# --- Atom and JSON Feed ------------------------------------------------------------------


def test_atom_entries_have_their_own_updated_and_event_times(client: TestClient) -> None:
    atom = ET.fromstring(client.get("/feeds/events.atom", params=FROM).content)
    entries = atom.findall(f"{ATOM}entry")
    updated = [e.findtext(f"{ATOM}updated") for e in entries]
    # every fixture event was changed by one harvest, at one instant
    assert len(set(updated)) == len(updated) > 3
    assert all(u and u.startswith("2027-01-04T05:00:00.") for u in updated)
    nijmegen = next(e for e in entries if e.findtext(f"{ATOM}id", "").endswith("nijmegen-info"))
    assert nijmegen.findtext(f"{EV}startdate") == "2027-03-12T19:00:00+01:00"
    assert nijmegen.findtext(f"{EV}enddate") == "2027-03-12T21:00:00+01:00"
    content = nijmegen.find(f"{ATOM}content")
    assert content is not None and content.get("type") == "html"
    assert content.text and content.text.count("<p>") >= 3


def test_paged_feeds_link_their_neighbours(client: TestClient) -> None:
    params = {**FROM, "per_page": 3, "page": 2}
    atom = ET.fromstring(client.get("/feeds/events.atom", params=params).content)
    links = {link.get("rel"): link.get("href") for link in atom.findall(f"{ATOM}link")}
    assert links["first"].endswith("page=1") and links["previous"].endswith("page=1")
    assert links["next"].endswith("page=3") and "per_page=3" in links["next"]
    assert links["last"].startswith(f"{BASE}/feeds/events.atom?")
    rss = ET.fromstring(client.get("/feeds/events.rss", params=params).content)
    rels = {link.get("rel") for link in rss.iter(f"{ATOM}link")}
    assert rels == {"self", "first", "previous", "next", "last"}
    feed = client.get("/feeds/events.json", params=params).json()
    assert feed["next_url"].endswith("page=3")
    last = client.get("/feeds/events.json", params={**FROM, "per_page": 200}).json()
    assert "next_url" not in last


def test_rss_source_points_at_a_feed_or_is_left_out() -> None:
    event = _spec_event("arnhem-open")
    info = FeedInfo("t", "d", BASE, f"{BASE}/feeds/events.rss", BASE, datetime.now(UTC))
    record = SourceRecord(
        source_id="s",
        uid="u",
        event_id=event.id,
        title="t",
        content_hash="0",
        url="https://x.example/e",
    )

    def rendered(kind: str, url: str) -> ET.Element:
        source = Source(id="s", name="Bron", kind=kind, url=url, region="landelijk")
        body = render_rss([FeedItem(event, [record], {"s": source})], info=info)
        return ET.fromstring(body)

    feed = rendered("rss", "https://x.example/agenda.xml").find(".//source")
    assert feed is not None and feed.get("url") == "https://x.example/agenda.xml"
    assert rendered("ics", "https://x.example/agenda.ics").find(".//source") is None
    assert rendered("jsonld", "https://x.example/agenda.html").find(".//source") is None


# --- iCal --------------------------------------------------------------------------------


def test_one_event_download_carries_no_subscription_metadata(client: TestClient) -> None:
    body = client.get("/events/ev-nijmegen-info.ics").text
    for name in ("X-WR-CALNAME", "X-WR-CALDESC", "REFRESH-INTERVAL", "X-PUBLISHED-TTL", "METHOD"):
        assert f"\r\n{name}" not in body, name
    assert "BEGIN:VTIMEZONE" in body and "UID:ev-nijmegen-info@" in body
    subscription = client.get("/calendar.ics", params=FROM).text
    assert "\r\nX-WR-CALNAME:" in subscription and "\r\nMETHOD" not in subscription


def test_default_image_is_served(client: TestClient, tmp_path: Path) -> None:
    image = client.get("/api/events/ev-nijmegen-info/jsonld").json()["image"][0]
    response = client.get(image.removeprefix(BASE))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    width = int.from_bytes(response.content[16:20], "big")
    height = int.from_bytes(response.content[20:24], "big")
    assert (width, height) == (1200, 675)  # 16:9, over Google's 50,000-pixel minimum
