"""Interest counts: what is counted (and what not), the counting redirect, batching, the
page for editors and /metrics. Counts are read back from the database after a flush."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect
from sqlmodel import Session, select

from aggregator.interest import InterestCounter, interest_report, is_robot, iso_week
from aggregator.models import Event, InterestCount
from tests.web.conftest import add_user, login

BOT = {"user-agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
BROWSER = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"}
REGISTER = "https://example.org/aanmelden?wie=iedereen"


def _event_id(engine: Engine, registration_url: str | None = REGISTER) -> str:
    """A Twente event of the samples, given this registration URL."""
    with Session(engine) as session:
        event = session.exec(select(Event).where(Event.region == "twente")).first()
        assert event is not None
        event.registration_url = registration_url
        session.add(event)
        session.commit()
        return event.id


def _stored(engine: Engine) -> list[InterestCount]:
    with Session(engine) as session:
        return list(session.exec(select(InterestCount)))


def test_counts_subscriptions_views_and_clicks_but_not_robots(
    client: TestClient, harvested: Engine
) -> None:
    event_id = _event_id(harvested)
    for _ in range(2):
        assert client.get("/regions/twente.ics", headers=BROWSER).status_code == 200
    # the same filter set in another order is the same subscription
    assert client.get("/calendar.ics?sector=po&region=twente", headers=BROWSER).status_code == 200
    assert (
        client.get("/calendar.ics?region=twente&sector=po&q=", headers=BROWSER).status_code == 200
    )
    first = client.get("/calendar.ics", headers=BROWSER)
    # a revalidation (304, possibly from the shortcut) is a fetch too
    again = client.get("/calendar.ics", headers={**BROWSER, "if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert client.get(f"/events/{event_id}", headers=BROWSER).status_code == 200
    assert client.get(f"/en/events/{event_id}", headers=BROWSER).status_code == 200
    assert client.get("/events/no-such-event", headers=BROWSER).status_code == 404
    click = client.get(f"/uit/{event_id}", headers=BROWSER, follow_redirects=False)
    assert click.status_code == 302
    assert click.headers["location"] == REGISTER
    assert "set-cookie" not in click.headers
    # robots and clients without a user agent: answered, not counted
    for headers in (BOT, {"user-agent": ""}, {"user-agent": "curl/8.5.0"}):
        assert client.get("/regions/twente.ics", headers=headers).status_code == 200
        assert client.get(f"/events/{event_id}", headers=headers).status_code == 200
        assert (
            client.get(f"/uit/{event_id}", headers=headers, follow_redirects=False).status_code
            == 302
        )
    counter: InterestCounter = client.app.state.interest  # type: ignore[attr-defined]
    assert counter.flush() == 2 + 2 + 2 + 2 + 1
    rows = {(r.kind, r.event_id, r.subject): r.count for r in _stored(harvested)}
    assert rows == {
        ("subscription", "", "/regions/twente.ics"): 2,
        ("subscription", "", "/calendar.ics?region=twente&sector=po"): 2,
        ("subscription", "", "/calendar.ics"): 2,
        ("view", event_id, ""): 2,
        ("click", event_id, ""): 1,
    }
    assert {r.week for r in _stored(harvested)} == {iso_week(datetime.now(UTC))}
    # nothing about the person: only these columns exist
    columns = {c["name"] for c in inspect(harvested).get_columns("interestcount")}
    assert columns == {"id", "kind", "week", "event_id", "subject", "count"}
    report = interest_report(
        session=Session(harvested),
        weeks=[iso_week(datetime.now(UTC))],
        regions=client.app.state.config.regions,  # type: ignore[attr-defined]
    )
    week = report.per_week[iso_week(datetime.now(UTC))]
    assert (week["subscriptions"], week["fetches"], week["views"], week["clicks"]) == (3, 6, 2, 1)
    assert report.per_region["twente"]["subscriptions"] == 2
    assert report.per_region["twente"]["views"] == 2
    assert report.events[0].event_id == event_id


@pytest.mark.parametrize(
    "target",
    [
        None,
        "javascript:alert(1)",
        "//evil.example/x",
        "/relative",
        "https://",
        "mailto:a@b.nl",
        "https://example.org/a b",
    ],
)
def test_the_counting_redirect_goes_only_to_a_stored_http_url(
    client: TestClient, harvested: Engine, target: str | None
) -> None:
    event_id = _event_id(harvested, target)
    response = client.get(f"/uit/{event_id}", headers=BROWSER, follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert (
        client.get("/uit/nope?next=https://evil.example", follow_redirects=False).status_code == 404
    )
    assert client.app.state.interest.pending == 0  # type: ignore[attr-defined]


def test_the_event_page_links_registration_through_the_counter(
    client: TestClient, harvested: Engine
) -> None:
    event_id = _event_id(harvested)
    assert f'href="/uit/{event_id}"' in client.get(f"/events/{event_id}").text
    _event_id(harvested, "mailto:aanmelden@example.org")
    assert 'href="mailto:aanmelden@example.org"' in client.get(f"/events/{event_id}").text


def test_a_failing_database_never_fails_the_request_and_loses_no_count(
    client: TestClient, harvested: Engine, tmp_path
) -> None:
    counter: InterestCounter = client.app.state.interest  # type: ignore[attr-defined]
    working = counter.engine
    counter.engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.sqlite")
    try:
        assert client.get("/regions/twente.ics", headers=BROWSER).status_code == 200
        assert counter.flush() == 0
        assert counter.failed_flushes == 1
        assert counter.pending == 1
        assert client.get("/regions/twente.ics", headers=BROWSER).status_code == 200
    finally:
        counter.engine = working
    assert counter.flush() == 2
    assert [r.count for r in _stored(harvested)] == [2]


@pytest.mark.both_backends
def test_batches_flush_in_the_background_and_add_up(engine: Engine) -> None:
    counter = InterestCounter(engine, batch=3, interval=3600)
    for subject in ("/calendar.ics", "/regions/twente.ics", "/calendar.ics"):
        counter.add("subscription", subject=subject)
    assert (counter.flushed, counter.pending) == (0, 3)  # two keys: below the batch
    counter.add("view", event_id="e1")  # the third key starts a flush in the background
    deadline = time.monotonic() + 10
    while counter.flushed < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (counter.flushed, counter.pending) == (4, 0)
    counter.add("subscription", subject="/calendar.ics")
    counter.flush()
    # a second process counting the same key adds to it
    InterestCounter(engine).add("subscription", subject="/calendar.ics")
    other = InterestCounter(engine)
    other.add("subscription", subject="/calendar.ics")
    other.flush()
    rows = {(r.kind, r.event_id, r.subject): r.count for r in _stored(engine)}
    assert rows == {
        ("subscription", "", "/calendar.ics"): 4,
        ("subscription", "", "/regions/twente.ics"): 1,
        ("view", "e1", ""): 1,
    }


def test_robots_by_user_agent() -> None:
    for agent in (
        "Googlebot/2.1",
        "bingbot",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0)",
        "python-requests/2.32",
        "HeadlessChrome/120",
        "",
        None,
    ):
        assert is_robot(agent), agent
    for agent in (
        "Google-Calendar-Importer",
        "Microsoft Outlook 16.0",
        "iOS/17.2 dataaccessd/1.0",
        BROWSER["user-agent"],
    ):
        assert not is_robot(agent), agent


def test_interest_page_for_editors_shows_small_counts_as_less_than_five(
    client: TestClient, harvested: Engine
) -> None:
    event_id = _event_id(harvested)
    assert client.get("/interesse", follow_redirects=False).status_code == 303  # login first
    for _ in range(6):
        client.get("/regions/twente.ics", headers=BROWSER)
    client.get(f"/events/{event_id}", headers=BROWSER)
    client.app.state.interest.flush()  # type: ignore[attr-defined]
    add_user(harvested, "redactie@example.org", "editor", region="twente")
    login(client, "redactie@example.org")
    page = client.get("/interesse")
    assert page.status_code == 200
    assert "<h1>Belangstelling in Twente</h1>" in page.text
    assert "<td>6</td>" in page.text  # the fetches of the week
    assert "<td>&lt; 5</td>" in page.text  # one subscription URL, one view
    assert "<td>1</td>" not in page.text
    english = client.get("/en/interest?region=")
    assert "<h1>Interest</h1>" in english.text
    assert client.get("/interesse?region=atlantis").status_code == 400


def test_metrics_carry_the_counts(client: TestClient, harvested: Engine) -> None:
    client.get("/regions/twente.ics", headers=BROWSER)
    client.get("/regions/twente.ics", headers=BROWSER)
    before = client.get("/metrics").text
    assert "agenda_interest_pending 2.0" in before
    client.app.state.interest.flush()  # type: ignore[attr-defined]
    text = client.get("/metrics").text
    assert 'agenda_interest_total{kind="subscription"} 2.0' in text
    assert 'agenda_interest_this_week{kind="subscription"} 2.0' in text
    assert "agenda_interest_pending 0.0" in text
