"""What the forms app needs to know from the outside (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from aggregator.mail import LogMailer, Mailer
from aggregator.submissions import RateLimit

PING_LIMIT = RateLimit(limit=60, window=timedelta(hours=1))  # pings per address per hour


@dataclass(frozen=True, slots=True)
class FormsOptions:
    """Options of the forms app: sessions, rate limits, and how proposed feeds are read.

    ``secret_key`` signs the session cookie (None: a random key, so sessions end when the
    process restarts); ``submit_limit``: submissions per client address and window;
    ``allow_private_feeds`` lets proposed feed URLs point at private addresses (tests);
    ``user_agent`` and ``past_days`` are what a proposed feed is read with; ``mailer``
    sends the mail about submissions (by default it only logs); ``ping_limit``: pings per
    client address and window, ``ping_debounce``: seconds within which a second ping of a
    source queues nothing more.
    """

    secret_key: str | None
    cookie_secure: bool
    submit_limit: RateLimit
    allow_private_feeds: bool
    user_agent: str
    past_days: int
    mailer: Mailer = field(default_factory=LogMailer)
    ping_limit: RateLimit = PING_LIMIT
    ping_debounce: float = 30.0
