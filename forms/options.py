"""What the forms app needs to know from the outside (built by the composition root)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aggregator.mail import LogMailer, Mailer
from aggregator.submissions import RateLimit


@dataclass(frozen=True, slots=True)
class FormsOptions:
    """Options of the forms app: sessions, rate limits, and how proposed feeds are read.

    ``secret_key`` signs the session cookie (None: a random key, so sessions end when the
    process restarts); ``submit_limit``: submissions per client address and window;
    ``allow_private_feeds`` lets proposed feed URLs point at private addresses (tests);
    ``user_agent`` and ``past_days`` are what a proposed feed is read with; ``mailer``
    sends the mail about submissions (by default it only logs).
    """

    secret_key: str | None
    cookie_secure: bool
    submit_limit: RateLimit
    allow_private_feeds: bool
    user_agent: str
    past_days: int
    mailer: Mailer = field(default_factory=LogMailer)
