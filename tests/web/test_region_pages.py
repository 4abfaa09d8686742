"""/regio and /regio/{slug}: counts, every feed format of a region, the coverage link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient


def _count_on_list(html: str, slug: str) -> int:
    match = re.search(rf'href="(?:/en)?/regio/{slug}">[^<]+</a> <span class="count">\((\d+) ', html)
    assert match, slug
    return int(match.group(1))


def _total_on_page(html: str) -> int:
    match = re.search(r'<h2 id="up-heading">[^<(]+\((\d+)\)</h2>', html)
    assert match
    return int(match.group(1))


def test_region_list_counts_agree_with_the_region_pages(client: TestClient) -> None:
    listing = client.get("/regio").text
    for slug in ("twente", "regio-utrecht", "amersfoort", "achterhoek"):
        assert _count_on_list(listing, slug) == _total_on_page(client.get(f"/regio/{slug}").text)
    # the sample events lie ahead: Twente has some, Achterhoek none
    assert _count_on_list(listing, "twente") > 0
    assert _count_on_list(listing, "achterhoek") == 0
    assert "upcoming)" in client.get("/en/regio").text


def test_region_page_links_every_format_and_its_coverage(client: TestClient) -> None:
    html = client.get("/regio/twente").text
    links = re.findall(r'<li><a href="(http://testserver/[^"]+)">', html)
    paths = {urlsplit(link).path for link in links}
    assert paths == {
        "/regions/twente.ics",
        "/feeds/events.rss",
        "/feeds/events.atom",
        "/feeds/events.json",
        "/api/events",
        "/data/events.csv",
    }
    expected_types = {
        "/regions/twente.ics": "text/calendar",
        "/feeds/events.rss": "application/rss+xml",
        "/feeds/events.atom": "application/atom+xml",
        "/feeds/events.json": "application/feed+json",
        "/api/events": "application/json",
        "/data/events.csv": "text/csv",
    }
    for link in links:
        response = client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        assert response.headers["content-type"].startswith(expected_types[urlsplit(link).path])
        if "?" in link:
            assert "twente" in link
    # every copy button names a field on the page, and the script that runs it is ours
    for target in re.findall(r'data-copy="([^"]+)"', html):
        assert f'id="{target}"' in html
        assert f'id="{target}-status"' in html
    assert '<script src="/static/copy.js" defer></script>' in html
    assert client.get("/static/copy.js").status_code == 200
    coverage = re.search(r'<a href="(/dekking\?region=twente)">', html)
    assert coverage
    assert "Dekking in Twente" in client.get(coverage.group(1)).text
    english = client.get("/en/regio/twente").text
    assert '<a href="/en/coverage?region=twente">' in english
