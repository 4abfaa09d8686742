"""Push freshness: a source's ping token, and a ping that queues a harvest, debounced.

A token is 32 random bytes shown once when it is made; the database keeps only its
SHA-256 digest (a random token needs no slow hash: it cannot be guessed from a list).
A ping with the right token makes the source due now (``schedule_state.request_harvest``)
unless one was accepted less than the debounce ago.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from sqlmodel import Session

from aggregator import schedule_state
from aggregator.models import Source, SourcePush


class PingAnswer(Enum):
    """What became of a ping."""

    QUEUED = "queued"
    DEBOUNCED = "debounced"  # a harvest was queued less than the debounce ago
    UNKNOWN_SOURCE = "unknown_source"
    NO_TOKEN = "no_token"  # the source has no token: pings are off for it
    WRONG_TOKEN = "wrong_token"


@dataclass(frozen=True, slots=True)
class PingResult:
    """A ping's answer; ``last_ping_at`` is when the last accepted ping came."""

    answer: PingAnswer
    last_ping_at: datetime | None = None


def token_digest(token: str) -> str:
    """The stored form of a ping token (SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(*, session: Session, source_id: str, now: datetime) -> str:
    """Make (or replace) a source's ping token and return it; only its digest is stored.

    Raises KeyError for a source that is not in the database.
    """
    if session.get(Source, source_id) is None:
        raise KeyError(source_id)
    token = secrets.token_urlsafe(32)
    push = session.get(SourcePush, source_id) or SourcePush(source_id=source_id)
    push.token_hash = token_digest(token)
    push.token_created_at = now
    session.add(push)
    return token


def accept_ping(
    *, session: Session, source_id: str, token: str, now: datetime, debounce: timedelta
) -> PingResult:
    """Check a ping's token and queue a harvest of the source, at most one per ``debounce``."""
    if session.get(Source, source_id) is None:
        return PingResult(PingAnswer.UNKNOWN_SOURCE)
    push = session.get(SourcePush, source_id, with_for_update=True)
    if push is None or push.token_hash is None:
        return PingResult(PingAnswer.NO_TOKEN)
    if not hmac.compare_digest(push.token_hash, token_digest(token)):
        return PingResult(PingAnswer.WRONG_TOKEN)
    last = push.last_ping_at
    if last is not None and now - last < debounce:
        return PingResult(PingAnswer.DEBOUNCED, last)
    # a source no scheduler has seen yet has no schedule row: it is due at its first tick
    schedule_state.request_harvest(session=session, source_id=source_id, now=now, reason="ping")
    push.last_ping_at = now
    session.add(push)
    return PingResult(PingAnswer.QUEUED, now)
