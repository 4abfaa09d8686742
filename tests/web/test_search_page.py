"""The search page: every filter, input errors at their field, chips, widening, series,
distances; the event page's extras; error pages for every status; the manifest."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.web import create_app
from aggregator.db import make_engine
from tests.conftest import Seed, config_for
from tests.web.conftest import web_settings
from tests.web.public_samples import KEY, public_seed, public_sources  # noqa: F401

BASE = "https://agenda.example.nl"
SERIES = "Inloopspreekuur Onderwijsloket Groningen"


@pytest.fixture
def site(
    seeded_engine: Callable[[str, Seed], Engine],
    public_sources: Path,  # noqa: F811
) -> Iterator[TestClient]:
    engine = seeded_engine(KEY, public_seed(public_sources))
    app = create_app(
        settings=web_settings(AGENDA_BASE_URL=BASE),
        config=config_for(public_sources),
        engine=engine,
    )
    with TestClient(app) as client:
        yield client


def _ids(html: str) -> list[str]:
    return re.findall(r'<h4><a href="(?:/en)?/events/([0-9a-f]+)[?"]', html)


def _api(site: TestClient, **params: object) -> list[dict]:  # type: ignore[type-arg]
    return site.get("/api/events", params={"per_page": 200, **params}).json()["items"]


def _field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{name}">([^<]+)</p>', html)
    assert found, f"no error next to {name}"
    return unescape(found.group(1))


def test_every_api_filter_is_on_the_page_and_gives_the_apis_answer(site: TestClient) -> None:
    html = site.get("/").text
    for name in ("q", "near", "region", "sector", "type", "audience", "phase", "attendance"):
        assert f'name="{name}"' in html, name
    for name in ("free", "lang", "from", "to", "km", "plus_online", "sort"):
        assert f'name="{name}"' in html, name
    assert '<details class="filter-drawer">' in html  # the drawer, folded on phones (CSS)
    cases = [
        {"attendance": "online"},
        {"free": "true"},
        {"lang": "en"},
        {"audience": "internationals"},
        {"phase": "orienteren"},
    ]
    for params in cases:
        page = site.get("/", params={"from": "2027-01-01", **params}).text
        expected = {e["id"] for e in _api(site, **{"from": "2027-01-01", **params})}
        assert expected, params
        shown = set(_ids(page)) | set(re.findall(r'href="/events/([0-9a-f]+)', page))
        assert shown and shown <= expected, params  # the first page of the same answer
        heading = re.search(r'id="results-heading"[^>]*>(\d+) activiteit', page)
        assert heading and int(heading.group(1)) == len(expected), params
    online = _api(site, **{"from": "2027-01-01", "attendance": "online"})
    assert {e["attendance"] for e in online} <= {"online", "mixed"}


def test_bad_input_is_explained_next_to_its_field(site: TestClient) -> None:
    page = site.get("/", params={"from": "notadate", "region": "atlantis", "sort": "x"}).text
    assert "&#39;notadate&#39; is geen datum" in page
    assert "atlantis" in _field_error(page, "region")
    assert 'aria-describedby="err-from" aria-invalid="true"' in page
    assert "x" in _field_error(page, "sort")
    assert 'role="alert"' in page and '<details class="filter-drawer" open>' in page
    backwards = site.get("/en/", params={"from": "2027-03-01", "to": "2027-02-01"}).text
    assert "'Until' (2027-02-01) is before 'From' (2027-03-01)" in _field_error(backwards, "to")
    far = site.get("/", params={"to": "9999-12-31"})
    assert far.status_code == 200 and "9999-12-31" in _field_error(far.text, "to")
    km = site.get("/", params={"near": "Enschede", "km": "veel"}).text
    assert "25 km" in _field_error(km, "km")
    lonely = site.get("/", params={"sort": "distance"}).text
    assert "plaats of postcode" in _field_error(lonely, "sort")


def test_series_are_one_entry_with_every_date(site: TestClient) -> None:
    occurrences = [e for e in _api(site, **{"from": "2027-01-01"}) if e["title"] == SERIES]
    assert len(occurrences) > 10
    page = site.get("/", params={"from": "2027-01-01", "region": "groningen-drenthe"}).text
    assert _ids(page).count(occurrences[0]["id"]) == 1
    assert f"elke dinsdag · {len(occurrences)} keer, eerstvolgende dinsdag 12 januari 2027" in page
    dates = re.search(r'<ul class="series-dates">(.*?)</ul>', page, re.S)
    assert dates
    assert set(re.findall(r"/events/([0-9a-f]+)", dates.group(1))) == {e["id"] for e in occurrences}
    english = site.get("/en/", params={"from": "2027-01-01", "q": "inloopspreekuur"}).text
    assert f"every Tuesday · {len(occurrences)} times" in english


def test_distance_sort_shows_distances_in_order(site: TestClient) -> None:
    page = site.get(
        "/", params={"from": "2027-01-01", "near": "Enschede", "km": "60", "sort": "distance"}
    ).text
    distances = [
        float(km.replace(",", "."))
        for km in re.findall(r'class="distance">.*?</span>([0-9]+,[0-9]) km', page)
    ]
    assert len(distances) >= 3
    assert distances == sorted(distances)
    assert 'class="day-heading"' not in page  # not grouped by day when sorted by distance


def test_nothing_found_suggests_widening_with_working_links(site: TestClient) -> None:
    params = {"from": "2027-01-01", "q": "geschiktheidsonderzoek", "region": "twente"}
    page = site.get("/", params=params).text
    assert "0 activiteiten gevonden" in page and "Probeer het ruimer" in page
    drop_region = re.search(r'<a href="([^"]+)">Filter Twente weghalen</a>', page)
    assert drop_region
    wider = site.get(unescape(drop_region.group(1))).text
    assert "region=twente" not in unescape(drop_region.group(1)) and _ids(wider)


def test_event_page_meta_share_route_and_back_link(site: TestClient) -> None:
    event = next(e for e in _api(site, **{"from": "2027-01-01"}) if e["title"] == SERIES)
    page = site.get(f"/events/{event['id']}", params={"terug": "region=groningen-drenthe&x=1"})
    html = page.text
    url = f"{BASE}/events/{event['id']}"
    assert f'<meta property="og:url" content="{url}">' in html
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:image" content="{BASE}/static/event-default.png">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    description = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert description and "dinsdag 12 januari 2027" in description.group(1)
    assert len(unescape(description.group(1))) <= 160
    assert f'hreflang="en" href="{BASE}/en/events/{event["id"]}' in html
    assert 'href="/?region=groningen-drenthe">← Terug naar de resultaten' in html  # no x=1
    assert "openstreetmap.org/directions?route=%3B53.2" in html
    assert 'id="share-url" class="copy-field" value="' + url in html
    assert 'src="/static/share.js"' in html and "Zet in je agenda" in html
    more = re.search(r'<ul class="more-list">(.*?)</ul>', html, re.S)
    assert more and SERIES not in more.group(1)  # not its own series


def test_cancelled_events_offer_no_calendar_or_registration(site: TestClient) -> None:
    cancelled = [e for e in _api(site, **{"from": "2027-01-01"}) if e["status"] == "cancelled"]
    assert cancelled
    html = site.get(f"/events/{cancelled[0]['id']}").text
    assert "Deze activiteit gaat niet door" in html
    assert "Zet in je agenda" not in html and "Route plannen" not in html
    past = _api(site, **{"from": "2026-01-01", "to": "2027-01-04"})
    if past:  # the window starts 30 days before the harvest's "now"
        old = site.get(f"/events/{past[0]['id']}").text
        assert "Deze activiteit is voorbij" in old and "Zet in je agenda" not in old


def test_error_pages_in_both_languages_and_in_the_embed(site: TestClient) -> None:
    html = {"accept": "text/html"}
    missing = site.get("/en/events/nope", headers=html)
    assert missing.status_code == 404 and "<h1>Not found</h1>" in missing.text
    assert "Error code 404" in missing.text
    wrong_method = site.post("/", headers=html)
    assert wrong_method.status_code == 405 and "Dat kan hier niet" in wrong_method.text
    # the iframe's own parameters are explained inside it (api/embed.py), in its language
    framed = site.get("/embed/list", params={"limit": 100, "lang": "en"}, headers=html)
    assert framed.status_code == 422 and "This list cannot be shown" in framed.text
    assert "<code>limit</code>" in framed.text
    assert 'class="site-header"' not in framed.text and '<base target="_top">' in framed.text
    # any other error under /embed/ is the bare error page, also without the site's frame
    gone = site.get("/embed/nope", params={"lang": "en"}, headers=html)
    assert gone.status_code == 404 and "Error code 404" in gone.text
    assert 'class="site-header"' not in gone.text and '<base target="_top">' in gone.text
    assert site.get("/api/events/nope", headers=html).json()["detail"]


def test_an_unexpected_error_is_a_500_page(tmp_path: Path, public_sources: Path) -> None:  # noqa: F811
    # a database without tables: every read fails inside the app
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    app = create_app(settings=web_settings(), config=config_for(public_sources), engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/en/", headers={"accept": "text/html"})
        assert page.status_code == 500 and "Something went wrong" in page.text
        assert "Traceback" not in page.text
        api = client.get("/api/events")
        assert api.status_code == 500 and api.json() == {"detail": "internal server error"}


def test_manifest_and_favicon(site: TestClient) -> None:
    manifest = site.get("/en/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["start_url"] == "/en/" and body["lang"] == "en"
    icon = site.get(body["icons"][0]["src"])
    assert icon.status_code == 200 and icon.text.startswith("<svg")
    page = site.get("/").text
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
