"""Hostile input through the web server: compression bombs proposed as feeds, and more."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.web import create_app
from aggregator.config import AppConfig
from tests.faultserver import FaultServer, running
from tests.web.conftest import csrf_from, web_settings


@pytest.fixture(scope="module")
def faults() -> Iterator[FaultServer]:
    """One fault server for the module."""
    with running() as server:
        yield server


def propose(client: TestClient, url: str) -> str:
    """Propose a feed through the form; return the page."""
    token = csrf_from(client.get("/submit/feed").text)
    data = {
        "url": url,
        "name": "Agenda",
        "kind": "ics",
        "region": "twente",
        "submitter_email": "rap@example.org",
        "csrf_token": token,
    }
    response = client.post("/submit/feed", data=data)
    assert response.status_code == 400, response.status_code
    return response.text


def test_a_proposed_gzip_bomb_stops_at_the_decoded_limit(
    harvested: Engine, web_config: AppConfig, faults: FaultServer
) -> None:
    settings = web_settings(SUBMIT_ALLOW_PRIVATE_FEEDS=True)
    with TestClient(create_app(settings=settings, config=web_config, engine=harvested)) as client:
        tracemalloc.start()
        try:
            page = propose(client, faults.url("/bomb.ics"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "De feed kon niet worden gelezen" in page
    assert "counted after decoding" in page
    assert peak < 50 * 1024 * 1024, peak  # the body stops at 5 MB of the 1 GiB it inflates to


@pytest.mark.parametrize(
    "query,words",
    [
        ("/?to=9999-12-31", "De datum &#39;9999-12-31&#39; ligt niet tussen 2000-01-01"),
        ("/?from=0001-01-01", "De datum &#39;0001-01-01&#39; ligt niet tussen"),
        ("/en/?from=9999-12-31", "The date &#39;9999-12-31&#39; is not between 2000-01-01"),
    ],
)
def test_dates_beyond_what_the_query_holds_are_left_out_with_a_notice(
    client: TestClient, query: str, words: str
) -> None:
    response = client.get(query, headers={"accept": "text/html"})
    assert response.status_code == 200  # was a 500: the page's filters are lenient
    assert words in response.text
