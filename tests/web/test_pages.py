"""Public pages: search with filters and map, event detail, region subscription, languages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

import icalendar


def _event_ids(html: str) -> list[str]:
    return re.findall(r'<h4><a href="(?:/en)?/events/([0-9a-f]+)[?"]', html)


def test_search_page_groups_results_by_day_in_dutch(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/", params={"from": "2027-01-01"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="nl">' in html
    assert "28 activiteiten gevonden" in html
    headings = re.findall(r'class="day-heading">([^<]+)<', html)
    assert headings and headings[0].split()[0] in {
        "maandag",
        "dinsdag",
        "woensdag",
        "donderdag",
        "vrijdag",
        "zaterdag",
        "zondag",
    }
    assert len(headings) == len(set(headings))  # one heading a day
    assert len(_event_ids(html)) == 25  # first page
    assert 'rel="next"' in html and 'href="/en/?from=2027-01-01"' in html


def test_english_version_and_language_switch(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/en/", params={"from": "2027-01-01"}).text
    assert '<html lang="en">' in html and "28 activities found" in html
    assert 'href="/?from=2027-01-01"' in html and ">Nederlands<" in html
    assert 'href="/en/submit"' in html


def test_filters_region_sector_type_keywords(client) -> None:  # type: ignore[no-untyped-def]
    everything = set(_event_ids(client.get("/", params={"from": "2027-01-01"}).text))
    twente = client.get("/", params={"from": "2027-01-01", "region": "twente"}).text
    # the Deventer event in Twente's calendar belongs to Deventer's region, not Twente
    in_twente = client.get("/api/events", params={"from": "2027-01-01", "region": "twente"})
    assert in_twente.json()["total"] == 15
    assert "15 activiteiten gevonden" in twente
    webinars = client.get("/", params={"from": "2027-01-01", "type": "webinar"}).text
    api = client.get("/api/events", params={"from": "2027-01-01", "per_page": 200}).json()
    expected = {e["id"] for e in api["items"] if e["activity_type"] == "webinar"}
    assert expected and set(_event_ids(webinars)) == expected
    mbo = client.get("/", params={"from": "2027-01-01", "sector": "mbo", "region": "twente"}).text
    mbo_expected = {
        e["id"] for e in api["items"] if "mbo" in e["sectors"] and e["region"] == "twente"
    }
    assert set(_event_ids(mbo)) == mbo_expected
    words = client.get("/", params={"from": "2027-01-01", "q": "Zij-instroom Utrecht"}).text
    found = set(_event_ids(words))
    assert found and found < everything
    assert 'value="Zij-instroom Utrecht"' in words  # the form shows the search back


def test_near_filter_by_coordinates_and_unknown_postcode(client) -> None:  # type: ignore[no-untyped-def]
    enschede = client.get("/", params={"from": "2027-01-01", "near": "52.22,6.89", "km": "15"})
    ids = set(_event_ids(enschede.text))
    api = client.get("/api/events", params={"from": "2027-01-01", "per_page": 200}).json()
    placed = {e["id"] for e in api["items"] if e["location"] and e["location"]["lat"]}
    assert ids and ids < placed
    unknown = client.get("/", params={"near": "1000 ZZ"}).text  # a PO-box range, no area
    assert "We kennen de plaats of postcode &#39;1000 ZZ&#39; niet" in unknown
    by_postcode = client.get("/", params={"from": "2027-01-01", "near": "7513 AB", "km": "15"})
    assert set(_event_ids(by_postcode.text)) == ids  # Enschede by postcode, as by coordinates
    by_name = client.get("/", params={"from": "2027-01-01", "near": "Enschede", "km": "15"})
    assert set(_event_ids(by_name.text)) == ids  # and by its name
    ambiguous = client.get("/", params={"near": "Bergen"}).text
    assert "Bergen (Noord-Holland); Bergen (Limburg)" in ambiguous


def test_map_gets_points_and_configured_tiles(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/", params={"from": "2027-01-01"}).text
    raw = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert raw
    points = json.loads(raw.group(1))
    assert points and all(p["lat"] and p["lon"] for p in points)
    assert 'data-tiles="http://127.0.0.1:9/{z}/{x}/{y}.png"' in html
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
    assert (
        "BSD" in client.get("/static/vendor/leaflet/LICENSE").text
        or client.get("/static/vendor/leaflet/LICENSE").status_code == 200
    )


def test_event_page_has_facts_sources_jsonld_and_calendar_links(client) -> None:  # type: ignore[no-untyped-def]
    api = client.get("/api/events", params={"from": "2027-01-01", "per_page": 200}).json()
    event = next(
        e
        for e in api["items"]
        if e["location"] and e["location"]["name"] and e["attendance"] == "offline"
    )
    html = client.get(f"/events/{event['id']}").text
    assert f"<h1>{event['title']}</h1>" in unescape(html)
    assert event["location"]["name"] in unescape(html)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert raw
    data = json.loads(raw.group(1))
    assert data["@type"] == "Event" and data["name"] == event["title"]
    assert data["startDate"] == event["start"]
    assert "Bronnen" in html and event["sources"][0]["name"] in unescape(html)
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    ics = client.get(f"/events/{event['id']}.ics")
    assert ics.status_code == 200 and "attachment" in ics.headers["content-disposition"]
    vevents = icalendar.Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(vevents) == 1 and str(vevents[0]["SUMMARY"]) == event["title"]
    english = client.get(f"/en/events/{event['id']}").text
    assert "Add to your calendar" in english and "Sources" in english


def test_region_page_offers_webcal_and_https_subscription(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/regio/twente").text
    assert 'href="webcal://testserver/regions/twente.ics"' in html
    assert 'value="http://testserver/regions/twente.ics"' in html
    for app_name in ("Google Agenda", "Outlook", "Apple Agenda"):
        assert app_name in html
    assert client.get("/regions/twente.ics").status_code == 200
    english = client.get("/en/regio/twente").text
    assert "Subscribe to this region" in english


def test_unknown_pages_are_404_pages(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/events/doesnotexist", "/regio/atlantis", "/en/regio/atlantis"):
        response = client.get(path)
        assert response.status_code == 404 and "<h1>" in response.text
    assert client.get("/events/doesnotexist.ics").status_code == 404


def test_pages_work_without_javascript_basics(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/").text
    # every form control has a label, the search is a GET form, there is a skip link
    ids = re.findall(r'<(?:input|select) [^>]*id="([^"]+)"', html)
    for control in ids:
        assert f'for="{control}"' in html, control
    assert '<form method="get"' in html and 'class="skip" href="#main"' in html


def test_public_pages_set_no_cookie_but_forms_do(client) -> None:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    assert "set-cookie" not in client.get("/").headers
    assert "set-cookie" not in client.get("/regio/twente").headers
    assert "agenda_session=" in client.get("/submit").headers["set-cookie"]


def test_region_index_links_every_region(client, web_config) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/regio").text
    for region in web_config.regions:
        assert f'href="/regio/{region.slug}"' in html
    assert 'href="/en/regio/twente"' in client.get("/en/regio").text


def test_browsers_get_html_errors_and_the_api_keeps_json(client) -> None:  # type: ignore[no-untyped-def]
    html = {"Accept": "text/html,application/xhtml+xml"}
    page = client.get("/submit/edit/999?token=x", headers=html)
    assert page.status_code == 404 and "<h1>Niet gevonden</h1>" in page.text
    english = client.get("/en/submit/edit/999?token=x", headers=html)
    assert "<h1>Not found</h1>" in english.text
    api = client.get("/api/events/nope", headers=html)
    assert api.status_code == 404 and api.json()["detail"]
    assert client.get("/submit/edit/999?token=x").json()["detail"]
    client.get("/submit/feed")
    refused = client.post("/submit/feed", data={"url": "x"}, headers=html)
    assert refused.status_code == 403 and "Je sessie is verlopen" in refused.text


def test_security_headers_and_framing(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy and "script-src 'self';" in policy
    listing = client.get("/embed/list").headers["content-security-policy"]
    assert "frame-ancestors *" in listing and "script-src 'self';" in listing


def test_hostile_titles_cannot_break_out_of_script_elements(client, harvested) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session, col, select

    from aggregator.models import Event

    hostile = "Open dag</script><script>alert(1)</script><!--"
    with Session(harvested) as session:
        event = session.exec(select(Event).where(col(Event.lat).is_not(None))).first()
        assert event is not None
        event.title = hostile
        session.add(event)
        session.commit()
        event_id = event.id
    for path in ("/?from=2027-01-01", f"/events/{event_id}", "/embed/list?limit=50"):
        html = client.get(path).text
        assert "<script>alert(1)" not in html, path
    data = re.search(r'id="map-data">(.*?)</script>', client.get(f"/events/{event_id}").text)
    assert data and json.loads(data.group(1))[0]["title"] == hostile


def test_event_page_shows_a_small_map_when_the_place_is_known(client) -> None:  # type: ignore[no-untyped-def]
    items = client.get("/api/events", params={"from": "2027-01-01", "per_page": 200}).json()
    placed = next(
        i
        for i in items["items"]
        if i["location"] and i["location"]["lat"] and i["attendance"] != "online"
    )
    assert 'id="map"' in client.get(f"/events/{placed['id']}").text
    online = next(i for i in items["items"] if i["attendance"] == "online")
    assert 'id="map"' not in client.get(f"/events/{online['id']}").text


def test_place_lines_do_not_repeat_what_the_venue_says() -> None:
    from aggregator.models import Event
    from api.pages import place_lines

    whole = Event(
        id="x",
        title="t",
        start_at=datetime.now(UTC),
        location_name="Hogeschool Twentepoort, M.H. Tromplaan 28, Enschede, 7513 AB",
        postcode="7513 AB",
        city="Enschede",
    )
    assert place_lines(whole) == ["Hogeschool Twentepoort, M.H. Tromplaan 28, Enschede, 7513 AB"]
    split = Event(
        id="y",
        title="t",
        start_at=datetime.now(UTC),
        location_name="Stadhuis",
        address="Markt 1",
        postcode="7511 AB",
        city="Enschede",
    )
    assert place_lines(split) == ["Stadhuis", "Markt 1", "7511 AB Enschede"]


def test_plus_online_checkbox_widens_the_search_and_the_subscription(client) -> None:  # type: ignore[no-untyped-def]
    params = {"from": "2027-01-01", "near": "7513 AB", "km": "5"}
    near_only = set(_event_ids(client.get("/", params=params).text))
    page = client.get("/", params={**params, "plus_online": "true"}).text
    widened = set(_event_ids(page))
    online = {
        e["id"]
        for e in client.get("/api/events", params={"from": "2027-01-01", "per_page": 200}).json()[
            "items"
        ]
        if e["attendance"] in ("online", "mixed")
    }
    assert online and widened == near_only | online
    assert 'id="plus_online" name="plus_online" value="true" checked' in page
    assert "plus_online=true" in page  # the iCal subscription of this search carries it


def test_configured_public_address_wins_over_the_request(harvested, web_config) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from agenda.web import create_app
    from tests.web.conftest import web_settings

    settings = web_settings(AGENDA_BASE_URL="https://agenda.example.nl/")
    client = TestClient(create_app(settings=settings, config=web_config, engine=harvested))
    html = client.get("/regio/twente").text
    assert 'href="webcal://agenda.example.nl/regions/twente.ics"' in html
    ics = client.get("/regions/twente.ics").text
    assert "URL:https://agenda.example.nl/events/" in ics


def test_a_bad_page_parameter_is_a_page_in_the_visitors_language(client) -> None:  # type: ignore[no-untyped-def]
    dutch = client.get("/", params={"page": "abc"})
    assert dutch.status_code == 422
    assert dutch.headers["content-type"].startswith("text/html")
    assert "Dat lukte niet" in dutch.text and "page" in dutch.text
    english = client.get("/en/embed/list", params={"limit": 500})
    assert english.status_code == 422 and "This list cannot be shown" in english.text
    assert "limit" in english.text
    api = client.get("/api/events", params={"page": "abc"})
    assert api.status_code == 422
    assert api.json()["detail"].startswith("invalid request: page:")
