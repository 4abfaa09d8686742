"""WebSub subscriber (W3C Recommendation 2018): subscribe, answer the hub, check pushes.

For RSS/Atom sources whose feed advertises a hub: :func:`upkeep` (run by the scheduling
process) subscribes with a callback ``{WEBSUB_CALLBACK_URL}/websub/{source id}`` and a
fresh secret, and renews before the lease ends. The hub then verifies the intent (a GET
with ``hub.challenge``: :func:`verify_intent`) and later POSTs new content signed with
the secret (``X-Hub-Signature: sha256=...``: :func:`accept_notification`); a valid push
makes the source due now, like a ping. The content pushed is not stored as such: the
harvest reads the feed itself, through the usual path.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from aggregator import schedule_state
from aggregator.db import session_scope
from aggregator.models import SourcePush
from crawlers.fetch import Fetcher, FetchError
from crawlers.hub_links import hub_links
from crawlers.records import FeedError
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)
FEED_KINDS = frozenset({"rss", "atom"})
LEASE = timedelta(days=7)  # asked for; the hub decides
RENEW_BEFORE = timedelta(days=1)
CHECK_EVERY = timedelta(hours=24)  # how often a feed is read again for its hub link
_DIGESTS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
            "sha512": hashlib.sha512}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Where hubs call back, and the HTTP client that talks to hubs."""

    callback_base: str
    http: httpx.Client

    def callback(self, source_id: str) -> str:
        """The callback URL of one source."""
        return f"{self.callback_base.rstrip('/')}/websub/{source_id}"


def subscribe(
    *, engine: Engine, subscriber: Subscriber, source_id: str, hub: str, topic: str,
    now: datetime,
) -> bool:  # fmt: skip
    """Ask ``hub`` to push ``topic`` to this source's callback; True when it accepted (202).

    The subscription is stored as pending (and committed: a hub may verify before it
    answers) until the hub verifies it (``verify_intent``).
    """
    secret = secrets.token_hex(32)
    with session_scope(engine) as session:
        push = session.get(SourcePush, source_id) or SourcePush(source_id=source_id)
        push.hub_url, push.topic_url, push.websub_secret = hub, topic, secret
        push.websub_state, push.websub_checked_at = "pending", now
        session.add(push)
    try:
        answer = subscriber.http.post(
            hub,
            data={
                "hub.mode": "subscribe",
                "hub.topic": topic,
                "hub.callback": subscriber.callback(source_id),
                "hub.secret": secret,
                "hub.lease_seconds": str(int(LEASE.total_seconds())),
            },
        )
    except httpx.HTTPError as exc:
        log.warning("websub: subscribing %s at %s failed: %s", source_id, hub, exc)
        return False
    if answer.status_code != 202:
        log.warning("websub: hub %s answered %s for %s", hub, answer.status_code, source_id)
        return False
    return True


def verify_intent(
    *, session: Session, source_id: str, mode: str, topic: str, challenge: str,
    lease_seconds: str | None, now: datetime,
) -> str | None:  # fmt: skip
    """The challenge to echo when the hub's verification matches what was asked, else None.

    A ``denied`` from the hub (section 5.2) is recorded and answered with nothing.
    """
    push = session.get(SourcePush, source_id)
    if push is None or push.topic_url != topic or push.websub_secret is None:
        return None
    if mode == "denied":
        push.websub_state = "denied"
        session.add(push)
        return None
    if mode == "unsubscribe":
        return challenge if push.websub_state != "verified" else None
    if mode != "subscribe" or push.websub_state not in ("pending", "verified"):
        return None
    lease = int(lease_seconds) if lease_seconds and lease_seconds.isdigit() else None
    push.websub_state = "verified"
    push.websub_lease_until = now + timedelta(seconds=lease) if lease else now + LEASE
    session.add(push)
    return challenge


def accept_notification(
    *, session: Session, source_id: str, body: bytes, signature: str | None, now: datetime
) -> bool:
    """Whether a push is signed with this source's secret; if so the source is due now.

    ``signature`` is the ``X-Hub-Signature`` header, ``method=hexdigest`` (section 8).
    """
    push = session.get(SourcePush, source_id)
    if push is None or push.websub_secret is None or push.websub_state != "verified":
        return False
    method, _, sent = (signature or "").partition("=")
    digest = _DIGESTS.get(method.strip().lower())
    if digest is None or not sent:
        return False
    expected = hmac.new(push.websub_secret.encode(), body, digest).hexdigest()
    if not hmac.compare_digest(expected, sent.strip().lower()):
        return False
    schedule_state.request_harvest(session=session, source_id=source_id, now=now, reason="websub")
    return True


def upkeep(
    *, engine: Engine, subscriber: Subscriber, sources: Iterable[SourceConfig],
    fetcher: Fetcher, now: datetime,
) -> list[str]:  # fmt: skip
    """Subscribe the RSS/Atom sources that advertise a hub and need it; return their ids.

    A source is (re)subscribed when it has no verified subscription, its hub or topic
    changed, or its lease ends within a day. Feeds are read for their hub links at most
    once a day per source.
    """
    subscribed = []
    for source in sources:
        if source.kind not in FEED_KINDS or source.guarded:
            continue
        with session_scope(engine) as session:
            push = session.get(SourcePush, source.id)
        lasting = (
            push is not None
            and push.websub_state == "verified"
            and push.websub_lease_until is not None
            and push.websub_lease_until - now > RENEW_BEFORE
        )
        checked = push.websub_checked_at if push is not None else None
        if lasting and checked is not None and now - checked < CHECK_EVERY:
            continue
        try:
            links = hub_links(fetcher.fetch(source.resolved_url()).body)
        except (FetchError, FeedError) as exc:
            log.info("websub: cannot read %s for its hub: %s", source.id, exc)
            continue
        if links.hub is None:
            continue
        topic = links.topic or source.resolved_url()
        with session_scope(engine) as session:
            if (
                lasting
                and push is not None
                and (push.hub_url, push.topic_url) == (links.hub, topic)
            ):
                row = session.get(SourcePush, source.id)
                if row is not None:  # the same hub and topic, lease still long: note the look
                    row.websub_checked_at = now
                    session.add(row)
                continue
        subscribe(
            engine=engine, subscriber=subscriber, source_id=source.id,
            hub=links.hub, topic=topic, now=now,
        )  # fmt: skip
        subscribed.append(source.id)
    return subscribed
