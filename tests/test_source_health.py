"""Source health end to end: a source that starts failing on the fault server is failing on
/bronnen, /api/sources and /metrics, and its owners get one mail; one more when it recovers.

Against real parts: the fault server (tests/faultserver.py), a loopback SMTP server
(aiosmtpd, tests/mailserver.py), the harvest with the notifier that ``agenda.wiring``
builds for ``agenda harvest`` and ``agenda run``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from agenda.settings import Settings
from agenda.web import create_app
from agenda.wiring import health_notifier
from aggregator.accounts import create_user
from aggregator.config import AppConfig, ConfigError
from aggregator.db import session_scope
from aggregator.harvest import HarvestOutcome, harvest
from aggregator.health import RunFacts, judge
from aggregator.mail import SmtpMailer, SmtpSettings
from aggregator.notify import notify_source_health
from aggregator.pipeline import build_pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from tests import faultserver
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.mailserver import SmtpServer

UA = "overstap-agenda-tests"
CONTACT = "agenda-beheer@zwolle.example.nl"
EDITOR = "redacteur@zwolle.example.nl"


@pytest.fixture
def fault() -> Iterator[faultserver.FaultServer]:
    with faultserver.running() as server:
        yield server


def _config(tmp_path: Path, url: str) -> AppConfig:
    return config_for(
        write_sources(
            tmp_path / "sources.yaml",
            [
                {
                    "id": "zwolle",
                    "name": "Onderwijsregio Zwolle",
                    "kind": "ics",
                    "url": url,
                    "region": "regio-zwolle",
                    "contacts": [CONTACT],
                },
                {
                    "id": "steady",
                    "name": "Altijd goed",
                    "kind": "ics",
                    "url": url.replace("/flaky.ics", "/feed.ics"),
                    "region": "twente",
                },
            ],
        )
    )


def _harvest(engine: Engine, config: AppConfig, settings: Settings | None) -> list[HarvestOutcome]:
    """One harvest of every source, each outcome handed to the wired health notifier (none
    without ``settings``)."""
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        return harvest(
            engine=engine,
            config=config,
            fetcher=fetcher,
            pipeline=build_pipeline(config),
            crawl_options=CrawlOptions(user_agent=UA),
            now=SAMPLE_NOW,
            window=Window.around(SAMPLE_NOW),
            on_done=health_notifier(settings, config, engine) if settings else None,
        )


def _states(client: TestClient) -> dict[str, dict]:
    return {row["id"]: row for row in client.get("/api/sources").json()}


def _page_state(client: TestClient, path: str, source_id: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(rf'<tr id="source-{source_id}" data-state="(\w+)">', page.text)
    assert match, page.text[:500]
    return match[1]


def _metric_state(client: TestClient, source_id: str) -> str:
    text = client.get("/metrics").text
    on = re.findall(
        rf'^agenda_source_state\{{source="{source_id}",state="(\w+)"\}} 1\.0$', text, re.M
    )
    assert len(on) == 1, text
    return on[0]


@pytest.mark.both_backends  # the health queries (window function, CASE sums) on both
def test_a_failing_source_is_shown_and_its_owners_told_once_then_of_recovery(
    engine: Engine, tmp_path: Path, fault: faultserver.FaultServer, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, fault.url("/flaky.ics?n=6"))
    settings = Settings(
        SMTP_HOST=smtp_server.host, SMTP_PORT=smtp_server.port, MAIL_FROM="agenda@example.nl"
    )  # type: ignore[call-arg]
    with session_scope(engine) as session:
        create_user(
            session=session,
            email=EDITOR,
            password="Zw0lle-redactie!",
            role="editor",
            region="regio-zwolle",
        )
        create_user(  # another region's editor hears nothing of Zwolle
            session=session,
            email="twente@example.nl",
            password="Tw3nte-redactie!",
            role="editor",
            region="twente",
        )
    client = TestClient(create_app(settings=settings, config=config, engine=engine))
    assert _states(client)["zwolle"]["state"] == "pending"

    _harvest(engine, config, settings)
    assert _states(client)["zwolle"]["state"] == "healthy"
    assert smtp_server.inbox.messages == []  # healthy from the start: nothing to say

    fault.broken = True
    for attempt in (1, 2):  # failing twice: still one mail
        outcomes = {o.source_id: o for o in _harvest(engine, config, settings)}
        assert outcomes["zwolle"].outcome == "failed"
        row = _states(client)["zwolle"]
        assert row["state"] == "failing" and row["consecutive_failures"] == attempt
        assert "503" in row["state_reason"] and row["last_failure"]
    (mail,) = smtp_server.inbox.wait_for(1)
    assert smtp_server.inbox.envelopes[0][1] == [CONTACT, EDITOR]
    assert "Onderwijsregio Zwolle" in mail["Subject"] and "mislukt" in mail["Subject"]
    body = mail.get_content()
    assert "HTTP 503" in body and "Wat te controleren" in body and "What to check" in body
    assert _page_state(client, "/bronnen", "zwolle") == "failing"
    assert _page_state(client, "/en/sources", "zwolle") == "failing"
    assert _metric_state(client, "zwolle") == "failing"
    assert _metric_state(client, "steady") == "healthy"
    assert _states(client)["zwolle"]["trend"] == [6, 6, 6]  # failed runs keep what is stored

    fault.broken = False
    _harvest(engine, config, settings)
    _first, recovered = smtp_server.inbox.wait_for(2)
    assert "weer" in recovered["Subject"] and "recovered" in recovered["Subject"]
    assert _states(client)["zwolle"]["state"] == "healthy"
    assert _page_state(client, "/bronnen", "zwolle") == "healthy"
    assert _metric_state(client, "zwolle") == "healthy"

    fault.broken = True  # failing again the same day: no second problem mail
    _harvest(engine, config, settings)
    fault.broken = False
    _harvest(engine, config, settings)
    assert len(smtp_server.inbox.messages) == 2
    assert all(len(m.get_content()) > 0 for m in smtp_server.inbox.messages)
    metrics = client.get("/metrics").text
    assert re.search(r'^agenda_harvest_duration_seconds_count\{kind="ics"\} 12\.0$', metrics, re.M)
    assert 'agenda_http_request_duration_seconds_count{method="GET",route="/api/sources"' in metrics
    assert client.get("/api/events/no-such-event").status_code == 404
    metrics = client.get("/metrics").text
    assert 'route="/api/events/{event_id}",status="404"' in metrics  # the template, not the path
    assert "no-such-event" not in metrics


def test_a_day_later_a_new_failure_is_told_again(
    engine: Engine, tmp_path: Path, fault: faultserver.FaultServer, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, fault.url("/flaky.ics?n=3"))
    fault.broken = True
    failed = {o.source_id: o for o in _harvest(engine, config, None)}["zwolle"]
    mailer = SmtpMailer(
        SmtpSettings(host=smtp_server.host, port=smtp_server.port, sender="agenda@example.nl")
    )
    now = datetime.now(UTC)
    good = HarvestOutcome("zwolle", "success")
    steps = [
        (failed, now),
        (good, now),
        (failed, now + timedelta(hours=23)),  # flapping: quiet until a day has passed
        (good, now + timedelta(hours=23, minutes=30)),  # nothing was said, nothing to recover
        (failed, now + timedelta(hours=25)),
        (failed, now + timedelta(hours=50)),  # still failing: told already
    ]
    kinds = [
        notify_source_health(outcome, engine=engine, config=config, mailer=mailer, now=moment)
        for outcome, moment in steps
    ]
    assert kinds == ["failing", "recovered", None, None, "failing", None]
    assert len(smtp_server.inbox.wait_for(3)) == 3


def test_contacts_must_be_single_addresses(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"contact .a@b\.nl, c@d\.nl. is not one e-mail address"):
        config_for(
            write_sources(
                tmp_path / "sources.yaml",
                [
                    {
                        "id": "x",
                        "name": "X",
                        "kind": "ics",
                        "url": "x.ics",
                        "region": "regio-zwolle",
                        "contacts": ["a@b.nl, c@d.nl"],
                    }
                ],
            )
        )


def test_a_shrunk_listing_is_held_then_degraded_once_confirmed(
    engine: Engine, tmp_path: Path, fault: faultserver.FaultServer
) -> None:
    client = TestClient(
        create_app(
            settings=Settings(),
            config=_config(tmp_path, fault.url("/flaky.ics?n=8")),
            engine=engine,
        )
    )
    for n, state in ((8, "healthy"), (8, "healthy"), (0, "held"), (0, "degraded")):
        config = _config(tmp_path, fault.url(f"/flaky.ics?n={n}"))
        client.app.state.config = config  # type: ignore[attr-defined]
        _harvest(engine, config, None)
        row = _states(client)["zwolle"]
        assert row["state"] == state, row
    assert row["trend"] == [8, 8, 8, 0]  # the hold kept the 8; the confirmation removed them
    assert row["state_reason"] == "shrunk: 0 events, usually 8"
    assert (
        'aria-label="Activiteiten na de laatste 4 keer ophalen: van 8 naar 0'
        in client.get("/bronnen").text
    )


def _run(outcome: str = "success", **facts: object) -> RunFacts:
    return RunFacts(outcome=outcome, finished_at=None, **facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("runs", "kind", "relevance", "now", "state", "reason"),
    [
        ([], "ics", "all", 0, "pending", None),
        ([_run("interrupted")], "ics", "all", 0, "pending", None),
        ([_run("interrupted"), _run("failed", error="HTTP 500"), _run()], "ics", "all", 3,
         "failing", "HTTP 500"),
        ([_run(events=10), _run(events=10), _run(events=10)], "ics", "all", 4, "degraded",
         "shrunk: 4 events, usually 10"),
        ([_run(events=10), _run(events=10)], "ics", "all", 5, "healthy", None),
        ([_run(seen=20, skipped=8)], "rss", "all", 20, "degraded", "many skipped: 8 of 28 records"),
        ([_run(seen=20, skipped=8)], "rss", "keywords", 20, "healthy", None),
        ([_run(seen=20, skipped=4)], "rss", "all", 20, "healthy", None),
        ([_run(duration=45.0)], "ics", "all", 1, "degraded",
         "slow: the last harvest took 45 s (more than 20 s)"),
        ([_run(duration=45.0)], "jsonld", "all", 1, "healthy", None),
        ([_run("unchanged"), _run(seen=3, skipped=9)], "ics", "all", 3, "degraded",
         "many skipped: 9 of 12 records"),
    ],
)  # fmt: skip
def test_the_state_rules(
    runs: list[RunFacts], kind: str, relevance: str, now: int, state: str, reason: str | None
) -> None:
    verdict = judge(runs, kind=kind, relevance=relevance, events_now=now)
    assert (verdict.state, verdict.reason) == (state, reason)


def test_consecutive_failures_skip_interrupted_runs() -> None:
    runs = [_run("failed"), _run("interrupted"), _run("failed"), _run(), _run("failed")]
    assert judge(runs, kind="ics", events_now=0).consecutive_failures == 2
