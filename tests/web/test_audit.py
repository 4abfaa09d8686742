"""The audit harness itself finds what it is there to find (tests/web/audit.py)."""

from __future__ import annotations

import pytest

from tests.web.audit import assert_nu_clean, axe_violations, nu_errors

# browser: test_browser's Chromium fixture, asked for by name below
from tests.web.test_browser import CHROMIUM, browser  # noqa: F401

_BAD = (
    "<!doctype html><html><head><title>x</title></head><body>"
    "<select required name=a><option value=x>x</option></select>"
    "<img src=a.png><a href=#><span></span></a></body></html>"
)
_GOOD = (
    '<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Goed</title></head>'
    "<body><main><h1>Agenda</h1><p>Niets aan de hand.</p></main></body></html>"
)


def test_nu_checker_reports_errors_and_passes_a_clean_document() -> None:
    errors = nu_errors(_BAD)
    assert any("img" in e["message"] and "alt" in e["message"] for e in errors), errors
    assert_nu_clean(_GOOD)
    with pytest.raises(AssertionError, match="alt"):
        assert_nu_clean(_BAD)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed")
def test_axe_reports_violations_under_a_strict_csp(request: pytest.FixtureRequest) -> None:
    context = request.getfixturevalue("browser").new_context()
    page = context.new_page()
    # the page forbids every script of its own: axe still runs
    page.route(
        "http://audit.test/",
        lambda route: route.fulfill(
            body=_BAD,
            content_type="text/html",
            headers={"Content-Security-Policy": "default-src 'none'"},
        ),
    )
    page.goto("http://audit.test/")
    rules = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "html-has-lang", "link-name"} <= rules, rules
    page.set_content(_GOOD)
    assert axe_violations(page) == []
    context.close()
