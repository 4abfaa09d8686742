"""Pings: ``POST /api/sources/{id}/ping`` with the source's token queues a harvest now.

The token comes from ``agenda ping-token`` (shown once, stored as a digest); wrong or
missing tokens get a clear JSON answer; a second ping within the debounce queues nothing
more; pings are rate-limited per address. End to end: a real ``agenda run`` with a
source on a loopback server shows a changed event in /calendar.ics soon after a ping.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from agenda import wiring
from agenda.settings import Settings
from agenda.web import create_app
from aggregator.models import SourcePush, SourceSchedule
from aggregator.push import token_digest
from aggregator.schedule import HarvestScheduler
from tests.cli import run_cli
from tests.conftest import config_for, write_sources
from tests.faultserver import ics_feed
from tests.feedserver import Answer, feed_server
from tests.test_scheduler_processes import _free_port, _wait_served

ENTRIES = [
    {"id": "twente", "name": "Twente", "kind": "ics", "region": "twente", "url": "t.ics"},
    {"id": "zonder", "name": "Zonder token", "kind": "ics", "region": "twente", "url": "z.ics"},
]


def _token(tmp_path: Path, database_url: str, source_id: str) -> str:
    result = run_cli(
        "ping-token",
        source_id,
        cwd=tmp_path,
        env={"DATABASE_URL": database_url, "AGENDA_CONFIG": str(tmp_path / "sources.yaml")},
    )
    assert result.returncode == 0, result.stderr
    assert "shown once" in result.stderr
    return result.stdout.strip()


def test_a_ping_needs_the_sources_token_and_is_debounced_and_limited(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    config = config_for(write_sources(tmp_path / "sources.yaml", ENTRIES))
    token = _token(tmp_path, database_url, "twente")
    with Session(engine) as session:
        push = session.get(SourcePush, "twente")
        assert push is not None and push.token_hash == token_digest(token) != token
    settings = Settings(WEB_SECRET_KEY="test-secret", PING_RATE_LIMIT=6)  # type: ignore[call-arg]
    app = create_app(settings=settings, config=config, engine=engine)
    with TestClient(app) as client:
        HarvestScheduler(  # the schedule rows of a running site
            engine=engine,
            config=config,
            pipeline=wiring.pipeline(settings, config),
            crawl_options=wiring.crawl_options(settings),
            make_fetcher=lambda: wiring.make_fetcher(settings),
            make_window=lambda now: wiring.harvest_window(settings, now),
        ).refresh_sources()
        with Session(engine) as session:
            row = session.get(SourceSchedule, "twente")
            assert row is not None and row.next_due > datetime.now(UTC)  # harvested later

        url = "/api/sources/twente/ping"
        missing = client.post(url)
        assert missing.status_code == 401 and "Bearer" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = client.post(url, headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 403 and "not the ping token" in wrong.json()["detail"]
        off = client.post("/api/sources/zonder/ping", headers={"Authorization": f"Bearer {token}"})
        assert off.status_code == 403 and "agenda ping-token" in off.json()["detail"]
        unknown = client.post("/api/sources/nope/ping", headers={"Authorization": "Bearer x"})
        assert unknown.status_code == 404

        queued = client.post(url, headers={"Authorization": f"Bearer {token}"})
        assert queued.status_code == 202 and queued.json() == {"queued": True, "source": "twente"}
        with Session(engine) as session:
            row = session.get(SourceSchedule, "twente")
            assert row is not None and row.request_reason == "ping"
            assert row.next_due <= datetime.now(UTC)  # due now: the next tick harvests it
        again = client.post(f"{url}?token={token}")  # the query form, for plain webhooks
        assert again.status_code == 202 and again.json()["queued"] is False
        assert "queued" in again.json()["detail"]

        # six requests from this address so far, right or wrong: the limit
        limited = client.post(url, headers={"Authorization": f"Bearer {token}"})
        assert limited.status_code == 429 and limited.json()["detail"].startswith("Too many")
        assert int(limited.headers["retry-after"]) > 0


def test_a_ping_makes_a_changed_event_visible_in_the_calendar_within_a_minute(
    tmp_path: Path,
) -> None:
    with feed_server() as server:
        server.set("/agenda.ics", Answer(ics_feed(2)))
        sources = write_sources(
            tmp_path / "sources.yaml",
            [
                {
                    "id": "twente",
                    "name": "Twente",
                    "kind": "ics",
                    "region": "twente",
                    "url": server.url("/agenda.ics"),
                }
            ],
        )
        database_url = f"sqlite:///{tmp_path / 'agenda.sqlite'}"
        token = _token(tmp_path, database_url, "twente")
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "AGENDA_CONFIG": str(sources),
            "WEB_SECRET_KEY": "test-secret",
            "HARVEST_CACHE_DIR": str(tmp_path / "cache"),
        }
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        with (tmp_path / "run.log").open("wb") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "agenda.cli", "run", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_served(port, child)
            calendar = f"{base}/calendar.ics?from=2027-01-01"
            assert "Informatieavond zij-instroom 0" in httpx.get(calendar).text
            hits = len(server.hits_of("/agenda.ics"))
            server.set("/agenda.ics", Answer(ics_feed(2, title="Gewijzigd: meeloopdag {i}")))
            pinged = time.monotonic()
            answer = httpx.post(
                f"{base}/api/sources/twente/ping", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 202 and answer.json()["queued"] is True
            while "Gewijzigd: meeloopdag 0" not in httpx.get(calendar).text:
                assert time.monotonic() - pinged < 60, "the change did not show within 60 s"
                time.sleep(0.2)
            latency = time.monotonic() - pinged
            assert len(server.hits_of("/agenda.ics")) == hits + 1  # one harvest for the ping
            print(f"ping to calendar: {latency:.1f} s")
        finally:
            child.send_signal(signal.SIGTERM)
            child.wait(timeout=60)
