"""URL fields accept absolute http(s) URLs only, however a hostile source spells them."""

from __future__ import annotations

import pytest

from aggregator.normalise import safe_url


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        " \x01javascript:alert(1)",
        "&#x6a;avascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "mailto:info@example.org",
        "//evil.example/x",
        "http:///no-host",
        "http://[::1",
    ],
)
def test_other_schemes_and_broken_urls_are_dropped(value: str) -> None:
    assert safe_url(value) is None


def test_http_and_https_urls_are_kept_as_given() -> None:
    assert safe_url(" https://example.org/a?b=1&copy=2 ") == "https://example.org/a?b=1&copy=2"
    assert safe_url("HTTP://Example.org/") == "HTTP://Example.org/"
