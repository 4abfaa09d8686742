"""The address guard for URLs the operator did not write: real servers on loopback.

Loopback, a hosts-file name, an injected DNS answer, numeric spellings and a redirect from
an allowed server to another local port are all refused before a byte is sent to them; an
allowed name is resolved once and the connection goes to the checked address, with the
name kept in ``Host``. At harvest time an approved proposal goes through the same guard.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from crawlers.fetch import Fetcher, FetchError
from crawlers.guarded import AddressGuard, AddressRefused
from tests.conftest import config_for, write_sources
from tests.faultserver import FaultServer, running
from tests.harvesting import harvest_once

UA = "overstap-agenda-tests"


@pytest.fixture(scope="module")
def inside() -> Iterator[FaultServer]:
    """An internal server the guard must never reach (127.0.0.1)."""
    with running("127.0.0.1") as server:
        yield server


@pytest.fixture(scope="module")
def outside() -> Iterator[FaultServer]:
    """A server standing in for a public one (127.0.0.2, which the test guard allows)."""
    with running("127.0.0.2") as server:
        yield server


def only(address: str) -> AddressGuard:
    """A guard that allows exactly one address (the stand-in for the public internet)."""
    return AddressGuard(allowed=lambda candidate: candidate == address)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "2130706433", "0177.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]"],
)
def test_loopback_in_any_spelling_is_refused_before_any_request(
    inside: FaultServer, host: str
) -> None:
    before = len(inside.hits)
    with (
        Fetcher(user_agent=UA, timeout=3, guard=AddressGuard()) as fetcher,
        # refused by the guard, or already by httpx's URL parser (an "invalid URL")
        pytest.raises((AddressRefused, FetchError), match=r"refused address|invalid URL"),
    ):
        fetcher.fetch(inside.url("/feed.ics", host=host))
    assert len(inside.hits) == before


def test_a_name_resolving_to_an_internal_address_is_refused(inside: FaultServer) -> None:
    guard = AddressGuard(resolver=lambda host: ["10.0.0.7", "127.0.0.1"])
    with (
        Fetcher(user_agent=UA, timeout=3, guard=guard) as fetcher,
        pytest.raises(AddressRefused, match=r"agenda\.example resolves to 10\.0\.0\.7"),
    ):
        fetcher.fetch(inside.url("/feed.ics", host="agenda.example"))


def test_a_redirect_to_another_local_port_is_refused(
    inside: FaultServer, outside: FaultServer
) -> None:
    target = inside.url("/feed.ics")
    before = len(inside.hits)
    with Fetcher(user_agent=UA, timeout=3, guard=only("127.0.0.2")) as fetcher:
        assert fetcher.fetch(outside.url("/feed.ics?n=1")).status == 200  # the guard lets it in
        with pytest.raises(AddressRefused, match=r"127\.0\.0\.1 is not public"):
            fetcher.fetch(outside.url(f"/redirect?to={target}"))
    assert len(inside.hits) == before


def test_the_checked_address_is_the_one_connected_to(outside: FaultServer) -> None:
    answers: list[str] = []

    def resolver(host: str) -> list[str]:
        answers.append(host)
        return ["127.0.0.2"]  # a rebinding resolver would answer otherwise the next time

    guard = AddressGuard(resolver=resolver, allowed=lambda a: a == "127.0.0.2")
    with Fetcher(user_agent=UA, timeout=3, guard=guard) as fetcher:
        fetched = fetcher.fetch(outside.url("/feed.ics?n=2", host="calendar.example"))
    assert fetched.body.count(b"BEGIN:VEVENT") == 2
    assert answers == ["calendar.example"]  # resolved once, for the one connection
    assert outside.hosts[-1] == f"calendar.example:{outside.port}"  # Host stays the name


def test_a_guarded_fetcher_reads_no_files(tmp_path: Path) -> None:
    (tmp_path / "secret.ics").write_text("BEGIN:VCALENDAR")
    with (
        Fetcher(user_agent=UA, guard=AddressGuard()) as fetcher,
        pytest.raises(FetchError, match="only http"),
    ):
        fetcher.fetch(str(tmp_path / "secret.ics"))


@pytest.mark.parametrize("kind", ["ics", "jsonld"])
def test_an_approved_proposal_is_fetched_through_the_guard_at_harvest(
    engine: Engine, tmp_path: Path, inside: FaultServer, kind: str
) -> None:
    url = inside.url(f"/redirect?to={inside.url('/feed.ics')}")
    entry = {"id": "voorgesteld-1", "name": "Voorstel", "kind": kind, "url": url}
    config = config_for(
        write_sources(tmp_path / "sources.yaml", [{**entry, "region": "twente", "guarded": True}])
    )
    before = len(inside.hits)
    [outcome] = harvest_once(engine, config)
    assert outcome.outcome == "failed"
    assert outcome.error == "refused address: 127.0.0.1 is not public"
    assert len(inside.hits) == before  # neither crawled nor fetched
