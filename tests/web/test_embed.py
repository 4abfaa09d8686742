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
    # unknown values are named next to their field rather than copied into the snippet
    odd = client.get("/embed", params={"region": '"><script>alert(1)</script>'}).text
    snippet = unescape(re.search(r'id="snippet-script"[^>]*>(.*?)</textarea>', odd, re.S)[1])
    assert "alert(1)" not in snippet
    # no region chosen: the snippet says so in words, not with an empty marker
    assert 'data-region="all"' in snippet and "data-auto" not in snippet
    assert 'id="e-region-error"' in odd and "onbekende waarde" in odd


def _frame_error(client, **params):  # type: ignore[no-untyped-def]
    response = client.get("/embed/list", params=params, headers={"Accept": "*/*"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "frame-ancestors *" in response.headers["content-security-policy"]
    assert "site-header" not in response.text  # a bare message that fits inside the iframe
    return response.text


def test_iframe_answers_bad_parameters_with_a_message_in_its_language(client) -> None:  # type: ignore[no-untyped-def]
    html = _frame_error(client, region="atlantis", limit="100", color="blauw")
    assert "Deze lijst kan zo niet getoond worden" in html
    for name in ("region", "limit", "color"):
        assert f"<code>{name}</code>" in html
    assert "atlantis" in html and "1 tot en met 50" in html and "geen kleur" in html
    english = _frame_error(client, lang="en", limit="abc")
    assert '<html lang="en">' in english and "a number from 1 to 50" in english
    assert "detail" not in english  # not the API's JSON body


def test_iframe_refuses_a_theme_without_contrast(client) -> None:  # type: ignore[no-untyped-def]
    # light grey links on white fail WCAG AA
    html = _frame_error(client, color="cccccc")
    assert "te weinig contrast" in html


def test_iframe_theme_and_compact_mode(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(
        "/embed/list", params={"region": "twente", "color": "#A11A1A", "compact": "1"}
    ).text
    body = re.search(r"<body([^>]*)>", html)[1]  # type: ignore[index]
    assert 'class="embed compact"' in body and "--brand:#a11a1a" in body
    assert "--ink:#1b1b1b" in body  # dark text on the default white background
    dark = client.get("/embed/list", params={"background": "073763", "color": "ffd166"}).text
    body = re.search(r"<body([^>]*)>", dark)[1]  # type: ignore[index]
    assert "--bg:#073763" in body and "--ink:#ffffff" in body
    assert "embed-list.js" in html  # the script that reports the list's height


def test_builder_snippets_carry_the_theme(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get(
        "/embed",
        params={"region": "twente", "color": "a11a1a", "background": "fffbe6", "compact": "1"},
    ).text
    iframe = unescape(re.search(r'id="snippet-iframe"[^>]*>(.*?)</textarea>', html, re.S)[1])
    assert "color=a11a1a&amp;background=fffbe6&amp;compact=1" in iframe
    assert '<script src="http://testserver/static/embed-resize.js" async></script>' in iframe
    script = unescape(re.search(r'id="snippet-script"[^>]*>(.*?)</textarea>', html, re.S)[1])
    assert 'data-color="#a11a1a" data-background="#fffbe6" data-compact="1"' in script
    # the snippet's iframe address is one the iframe list accepts
    src = unescape(re.search(r'<iframe src="([^"]+)"', iframe)[1])  # type: ignore[index]
    assert client.get(src.replace("http://testserver", "")).status_code == 200
    bad = client.get("/embed", params={"color": "ffff00"}).text
    assert "te weinig contrast" in bad and 'aria-invalid="true"' in bad
