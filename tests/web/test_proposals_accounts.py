"""Feed proposals (fetch, parse, address guard), password hashing and the users CLI."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from agenda.web import create_app
from aggregator.accounts import (
    AccountError,
    authenticate,
    create_user,
    hash_password,
    verify_password,
)
from aggregator.db import make_engine, session_scope, upgrade
from aggregator.feed_proposals import (
    FeedRefused,
    GuardedTransport,
    check_url,
    is_public_address,
)
from aggregator.models import Submission, User
from aggregator.submissions import approved_feed_sources, with_approved_feeds
from crawlers.guarded import AddressRefused
from tests.cli import run_cli
from tests.web.conftest import add_user, csrf_from, login, web_settings


def _propose(client: TestClient, url: str, kind: str = "ics", **extra: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/submit/feed").text)
    data = {
        "url": url,
        "name": "Agenda",
        "kind": kind,
        "region": "twente",
        "submitter_email": "rap@example.org",
        "csrf_token": token,
        **extra,
    }
    return client.post("/submit/feed", data=data)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "172.16.5.4",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(address)


def test_public_addresses_pass() -> None:
    assert is_public_address("145.100.10.10") and is_public_address("2a00:1450:400e::200e")


@pytest.mark.parametrize(
    "url,code",
    [
        ("file:///etc/passwd", "err_feed_scheme"),
        ("ftp://example.org/agenda.ics", "err_feed_scheme"),
        ("gopher://example.org", "err_feed_scheme"),
        ("http://127.0.0.1:8000/calendar.ics", "err_feed_private"),
        ("http://[::1]/calendar.ics", "err_feed_private"),
        ("http://169.254.169.254/latest/meta-data", "err_feed_private"),
        ("webcal://intranet.example/agenda.ics", "err_feed_private"),
        ("https://split.example/agenda.ics", "err_feed_private"),
    ],
)
def test_check_url_refuses_schemes_and_internal_hosts(url: str, code: str) -> None:
    names = {"intranet.example": ["10.0.0.7"], "split.example": ["93.184.216.34", "192.168.1.1"]}
    with pytest.raises(FeedRefused) as refused:
        check_url(url, allow_private=False, resolver=lambda host: names[host])
    assert refused.value.code == code


def test_check_url_accepts_public_hosts_and_turns_webcal_into_https() -> None:
    url = check_url(
        "webcal://agenda.example/a.ics",
        allow_private=False,
        resolver=lambda host: ["93.184.216.34"],
    )
    assert url == "https://agenda.example/a.ics"


def test_guarded_transport_refuses_each_hop_to_an_internal_address() -> None:
    with httpx.Client(transport=GuardedTransport()) as client, pytest.raises(AddressRefused):
        client.get("http://127.0.0.1:9/agenda.ics")


def test_proposing_a_loopback_feed_is_refused_by_default(client, httpserver, sample_dir) -> None:  # type: ignore[no-untyped-def]
    body = (sample_dir / "ics/twents-onderwijsnetwerk.ics").read_bytes()
    httpserver.expect_request("/agenda.ics").respond_with_data(body, content_type="text/calendar")
    response = _propose(client, httpserver.url_for("/agenda.ics"))
    assert response.status_code == 400
    assert "intern of lokaal netwerk" in response.text
    assert len(httpserver.log) == 0  # not even one request went out
    scheme = _propose(client, "file:///etc/passwd")
    assert scheme.status_code == 400 and "Alleen http://, https:// en webcal://" in scheme.text


def test_proposed_feed_must_fetch_and_parse(harvested, web_config, httpserver, sample_dir) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        settings=web_settings(SUBMIT_ALLOW_PRIVATE_FEEDS=True), config=web_config, engine=harvested
    )
    body = (sample_dir / "ics/twents-onderwijsnetwerk.ics").read_bytes()
    httpserver.expect_request("/agenda.ics").respond_with_data(body, content_type="text/calendar")
    httpserver.expect_request("/kapot.ics").respond_with_data("<html>onderhoud</html>")
    httpserver.expect_request("/weg.ics").respond_with_data("weg", status=404)
    with TestClient(app) as client:
        broken = _propose(client, httpserver.url_for("/kapot.ics"))
        assert broken.status_code == 400 and "De feed kon niet worden gelezen" in broken.text
        gone = _propose(client, httpserver.url_for("/weg.ics"))
        assert gone.status_code == 400 and "De feed kon niet worden opgehaald" in gone.text
        good = _propose(client, httpserver.url_for("/agenda.ics"))
        assert good.status_code == 200 and "wacht op een redacteur" in good.text
        with Session(harvested) as session:
            (row,) = session.exec(select(Submission).where(Submission.kind == "source")).all()
            assert row.status == "pending" and row.data["events"] > 0
        add_user(harvested, "admin@example.org", "admin")
        login(client, "admin@example.org")
        page = client.get(f"/moderation/{row.id}")
        assert "Proefgelezen" in page.text
        approved = client.post(
            f"/moderation/{row.id}/approve",
            data={"csrf_token": csrf_from(page.text)},
            follow_redirects=False,
        )
        assert approved.status_code == 303
    with Session(harvested) as session:
        (entry,) = approved_feed_sources(session=session)
        merged = with_approved_feeds(web_config, session=session)
    assert entry["url"] == httpserver.url_for("/agenda.ics") and entry["region"] == "twente"
    assert merged.source(entry["id"]).url == entry["url"]
    assert len(merged.sources) == len(web_config.sources) + 1
    # the next harvest (CLI or scheduler) reads the approved feed like a configured source
    from aggregator.models import SourceRecord
    from tests.harvesting import harvest_once

    # at every harvest the approved URL goes through the address guard again
    refused = {o.source_id: o for o in harvest_once(harvested, web_config)}[entry["id"]]
    assert refused.outcome == "failed" and "refused address" in (refused.error or "")
    outcomes = harvest_once(harvested, web_config, allow_private=True)
    proposed = {o.source_id: o for o in outcomes}[entry["id"]]
    assert proposed.outcome == "success" and proposed.seen == 16
    with Session(harvested) as session:
        records = session.exec(select(SourceRecord).where(SourceRecord.source_id == entry["id"]))
        assert len(records.all()) == 16


def test_password_hashing_and_account_rules(engine) -> None:  # type: ignore[no-untyped-def]
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "wrong") and not verify_password("garbage", "x")
    with session_scope(engine) as session:
        with pytest.raises(AccountError, match="region"):
            create_user(session=session, email="e@x.nl", password="long enough pw", role="editor")
        with pytest.raises(AccountError, match="at least"):
            create_user(session=session, email="e@x.nl", password="short", role="admin")
        create_user(session=session, email="A@X.nl", password="long enough pw", role="admin")
    with session_scope(engine) as session, pytest.raises(AccountError, match="already exists"):
        create_user(session=session, email="a@x.nl", password="long enough pw", role="admin")


def test_login_rehashes_a_password_hashed_at_other_costs(engine) -> None:  # type: ignore[no-untyped-def]
    # the suite hashes at the lowest costs (tests/conftest.py); hashes made at others still work
    assert "$m=8,t=1,p=1$" in hash_password("correct horse battery")
    other = PasswordHasher(time_cost=2, memory_cost=64, parallelism=2)
    production = other.hash("correct horse battery")
    with session_scope(engine) as session:
        user = create_user(
            session=session, email="a@x.nl", password="placeholder-Kw8", role="admin"
        )
        user.password_hash = production
    with session_scope(engine) as session:
        assert authenticate(session=session, email="a@x.nl", password="wrong one") is None
        user = authenticate(session=session, email="a@x.nl", password="correct horse battery")
        assert user is not None and "$m=8,t=1,p=1$" in user.password_hash
    with session_scope(engine) as session:
        assert authenticate(session=session, email="A@x.nl", password="correct horse battery")


def test_cli_create_admin_reads_password_from_environment(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {"DATABASE_URL": url, "AGENDA_ADMIN_PASSWORD": "a very good secret"}
    result = run_cli("users", "create-admin", "Beheer@Example.org", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "Created admin account beheer@example.org" in " ".join(result.stderr.split())
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        user = session.exec(select(User)).one()
        assert user.role == "admin" and verify_password(user.password_hash, "a very good secret")
    engine.dispose()
    no_password = {**env, "AGENDA_ADMIN_PASSWORD": None, "AGENDA_USER_PASSWORD": None}
    again = run_cli("users", "create-admin", "x@example.org", cwd=tmp_path, env=no_password)
    assert again.returncode == 2 and "AGENDA_ADMIN_PASSWORD" in again.stderr


def test_admin_adds_and_trusts_accounts_editors_may_not(client, harvested) -> None:  # type: ignore[no-untyped-def]
    add_user(harvested, "admin@example.org", "admin")
    add_user(harvested, "editor@twente.example", "editor", region="twente")
    login(client, "admin@example.org")
    page = client.get("/moderation/users")
    assert page.status_code == 200 and "editor@twente.example" in page.text
    token = csrf_from(page.text)
    weak = client.post(
        "/moderation/users",
        data={"csrf_token": token, "email": "x@y.nl", "role": "submitter", "password": "short"},
    )
    assert weak.status_code == 400 and "at least" in weak.text
    added = client.post(
        "/moderation/users",
        data={
            "csrf_token": token,
            "email": "rap@twente.example",
            "role": "submitter",
            "password": "long enough password",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    with Session(harvested) as session:
        rap = session.exec(select(User).where(User.email == "rap@twente.example")).one()
        assert not rap.trusted
    client.post(f"/moderation/users/{rap.id}", data={"csrf_token": token, "action": "trust"})
    with Session(harvested) as session:
        assert session.get(User, rap.id).trusted  # type: ignore[union-attr]
        admin = session.exec(select(User).where(User.email == "admin@example.org")).one()
    nowhere = client.post(
        "/moderation/users",
        data={
            "csrf_token": token,
            "email": "far@away.example",
            "role": "editor",
            "region": "atlantis",
            "password": "long enough password",
        },
    )
    assert nowhere.status_code == 400 and "unknown region" in nowhere.text
    block = {"csrf_token": token, "action": "block"}
    assert client.post(f"/moderation/users/{admin.id}", data=block).status_code == 400  # oneself
    assert client.post("/moderation/users/999999", data=block).status_code == 404
    client.post(f"/moderation/users/{rap.id}", data=block)
    with Session(harvested) as session:
        assert not session.get(User, rap.id).active  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": token})
    login(client, "editor@twente.example")
    assert client.get("/moderation/users").status_code == 403


def test_scheduler_picks_up_approved_feeds(harvested, web_config) -> None:  # type: ignore[no-untyped-def]
    from agenda import wiring
    from aggregator.schedule import HarvestScheduler

    with Session(harvested) as session:
        session.add(
            Submission(
                kind="source",
                status="approved",
                region="twente",
                data={
                    "url": "https://example.org/agenda.ics",
                    "kind": "ics",
                    "name": "Voorgestelde agenda",
                },
                submitter_email="a@example.org",
                edit_token="t",
            )
        )
        session.commit()
    settings = web_settings()
    scheduler = HarvestScheduler(
        engine=harvested,
        config=web_config,
        pipeline=wiring.pipeline(settings, web_config),
        crawl_options=wiring.crawl_options(settings),
        make_fetcher=lambda: wiring.make_fetcher(settings),
        make_window=lambda now: wiring.harvest_window(settings, now),
    )
    added = scheduler.refresh_sources()
    assert any(a.startswith("voorgesteld-") for a in added)
    assert scheduler.refresh_sources() == []  # scheduled once
