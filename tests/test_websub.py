"""WebSub: a feed that advertises a hub is subscribed, verified and harvested on a push.

A small hub runs on loopback (``http.server`` in a thread): it accepts the subscription,
verifies the intent at the callback with a challenge (as a hub does, from its own
connection), and pushes content signed with the subscription's secret. The site runs
for real (uvicorn in a thread), so the hub reaches its callback over HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from agenda import wiring
from agenda.settings import Settings
from agenda.web import create_app
from aggregator import websub
from aggregator.models import SourcePush, SourceSchedule
from aggregator.schedule import HarvestScheduler
from aggregator.schedule_policy import SchedulePolicy
from tests.conftest import config_for, write_sources
from tests.faultserver import rss_feed
from tests.feedserver import Answer, feed_server
from tests.live_server import serve_in_thread


@dataclass
class Hub:
    """What the hub was asked and what its verification got back."""

    subscriptions: list[dict[str, str]] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def publish(self, body: bytes, *, secret: str | None = None) -> int:
        """Push ``body`` to the subscriber, signed with ``secret`` (default: the one asked)."""
        sub = self.subscriptions[-1]
        key = (secret if secret is not None else sub["hub.secret"]).encode()
        signature = hmac.new(key, body, hashlib.sha256).hexdigest()
        answer = httpx.post(
            sub["hub.callback"],
            content=body,
            headers={
                "Content-Type": "application/rss+xml",
                "X-Hub-Signature": f"sha256={signature}",
            },
        )
        return answer.status_code


@pytest.fixture
def hub() -> Iterator[Hub]:
    state = Hub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            state.subscriptions.append(form)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=verify, args=(form,), daemon=True).start()

    def verify(form: dict[str, str]) -> None:  # section 5.3, after the 202
        challenge = secrets.token_urlsafe(16)
        answer = httpx.get(
            form["hub.callback"],
            params={
                "hub.mode": "subscribe",
                "hub.topic": form["hub.topic"],
                "hub.challenge": challenge,
                "hub.lease_seconds": "86400",
            },
            timeout=60,  # the suite shares two cores: the callback may answer late
        )
        state.verified.append(answer.status_code == 200 and answer.text == challenge)
        state.done.set()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hub"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _feed(hub: str, topic: str, n: int) -> bytes:
    return rss_feed(n).replace(
        b'<rss version="2.0"><channel>',
        b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        + f'<atom:link rel="hub" href="{hub}"/><atom:link rel="self" href="{topic}"/>'.encode(),
    )


def test_a_feed_with_a_hub_is_subscribed_and_harvested_on_a_signed_push(
    engine: Engine, tmp_path: Path, hub: Hub
) -> None:
    with feed_server() as feeds:
        topic = feeds.url("/agenda.rss")
        feeds.set(
            "/agenda.rss", Answer(_feed(hub.url, topic, 2), content_type="application/rss+xml")
        )
        sources = write_sources(
            tmp_path / "sources.yaml",
            [{"id": "twente", "name": "Twente", "kind": "rss", "region": "twente", "url": topic}],
        )
        config = config_for(sources)
        settings = Settings(WEB_SECRET_KEY="test-secret")  # type: ignore[call-arg]
        scheduler = HarvestScheduler(
            engine=engine,
            config=config,
            pipeline=wiring.pipeline(settings, config),
            crawl_options=wiring.crawl_options(settings),
            make_fetcher=lambda: wiring.make_fetcher(settings),
            make_window=lambda now: wiring.harvest_window(settings, now),
            policy=SchedulePolicy(jitter=0),
        )
        scheduler.refresh_sources()
        app = create_app(settings=settings, config=config, engine=engine)
        with (
            serve_in_thread(app) as site,
            httpx.Client() as http,
            wiring.make_fetcher(settings) as fetcher,
        ):
            subscribed = websub.upkeep(
                engine=engine,
                subscriber=websub.Subscriber(callback_base=site, http=http),
                sources=config.sources,
                fetcher=fetcher,
                now=datetime.now(UTC),
            )
            assert subscribed == ["twente"]
            assert hub.done.wait(60) and hub.verified == [True]
            (asked,) = hub.subscriptions
            assert asked["hub.topic"] == topic and asked["hub.callback"] == f"{site}/websub/twente"
            with Session(engine) as session:
                push = session.get(SourcePush, "twente")
                assert push is not None and push.websub_state == "verified"
                assert push.websub_lease_until is not None
            # a verification the subscriber never asked for is refused
            stranger = httpx.get(
                f"{site}/websub/twente",
                params={
                    "hub.mode": "subscribe",
                    "hub.topic": "http://elsewhere/",
                    "hub.challenge": "x",
                },
            )
            assert stranger.status_code == 404

            # the source was harvested a moment ago: not due for hours
            scheduler.tick_once()
            _settle(scheduler)
            hits = len(feeds.hits_of("/agenda.rss"))
            assert scheduler.tick_once() == []

            # a push with a wrong signature changes nothing
            assert hub.publish(_feed(hub.url, topic, 3), secret="not-the-secret") == 202
            assert scheduler.tick_once() == []
            # a signed push makes it due now: the next tick harvests it
            feeds.set(
                "/agenda.rss", Answer(_feed(hub.url, topic, 3), content_type="application/rss+xml")
            )
            assert hub.publish(_feed(hub.url, topic, 3)) == 202
            with Session(engine) as session:
                row = session.get(SourceSchedule, "twente")
                assert row is not None and row.request_reason == "websub"
            assert scheduler.tick_once() == ["twente"]
            _settle(scheduler)
            assert len(feeds.hits_of("/agenda.rss")) == hits + 1
        scheduler.shutdown()


def _settle(scheduler: HarvestScheduler) -> None:
    with scheduler._idle:
        assert scheduler._idle.wait_for(lambda: scheduler._running == 0, timeout=30)
