"""Embedding: the widget script, the iframe list and the snippet builder."""

from __future__ import annotations

import re
from html import unescape


def test_widget_script_is_javascript_with_both_languages(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["access-control-allow-origin"] == "*"
    body = response.text
    assert 'customElements.define("overstap-agenda"' in body and "attachShadow" in body
    assert "Activiteiten laden" in body and "Loading activities" in body
    assert "{{" not in body


def test_api_allows_cross_origin_reads_for_the_widget(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events", headers={"Origin": "https://regio.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_iframe_list_is_filtered_and_bare(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/embed/list", params={"region": "twente", "sector": "mbo", "limit": 3}).text
    ids = re.findall(r'href="/events/([0-9a-f]+)"', html)
    assert 1 <= len(ids) <= 3
    assert '<base target="_top">' in html and "site-header" not in html
    items = client.get("/api/events", params={"region": "twente", "per_page": 200}).json()["items"]
    mbo = {i["id"] for i in items if "mbo" in i["sectors"]}
    assert set(ids) <= mbo
    english = client.get("/embed/list", params={"region": "twente", "lang": "en"}).text
    assert '<html lang="en">' in english and 'href="/en/events/' in english
    assert client.get("/embed/list", params={"limit": 500}).status_code == 422


def test_builder_makes_script_and_iframe_snippets(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/embed", params={"region": "twente", "sector": "po", "limit": 5}).text
    script = unescape(re.search(r'id="snippet-script"[^>]*>(.*?)</textarea>', html, re.S)[1])
    assert script == (
        '<script src="http://testserver/embed.js" data-region="twente" '
        'data-sector="po" data-limit="5"></script>'
    )
    iframe = unescape(re.search(r'id="snippet-iframe"[^>]*>(.*?)</textarea>', html, re.S)[1])
    assert 'src="http://testserver/embed/list?region=twente&amp;sector=po&amp;limit=5"' in iframe
    # unknown values are left out rather than copied into the snippet
    odd = client.get("/embed", params={"region": '"><script>alert(1)</script>'}).text
    assert "alert(1)" not in unescape(
        re.search(r'id="snippet-script"[^>]*>(.*?)</textarea>', odd, re.S)[1]
    )
    assert 'data-auto=""' in odd
