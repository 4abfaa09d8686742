"""Check a feed URL that a region proposes as a new source: public address, fetches, parses.

The scheme must be http(s) (webcal:// is read as https://). The address guard
(:mod:`crawlers.guarded`) resolves the host once per connection, refuses private, loopback,
link-local, multicast, reserved and unspecified addresses (mapped forms included) and
connects to the address it checked; every redirect hop goes through it again. The same
guard fetches an approved proposal at every harvest. Tests that need a loopback server
switch the refusal off with ``allow_private=True`` (the ``SUBMIT_ALLOW_PRIVATE_FEEDS``
setting, off by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine

from aggregator.db import session_scope
from aggregator.localtime import LOCAL_TZ
from aggregator.pipeline import Pipeline
from aggregator.submissions import RateLimit, check_rate, create_submission
from crawlers.fetch import Fetcher, FetchError, http_url
from crawlers.guarded import (
    AddressGuard,
    AddressRefused,
    GuardedTransport,
    Resolver,
    is_public_address,
    resolve_host,
)
from crawlers.read import read_source
from crawlers.records import FeedError, Window
from crawlers.registry import KINDS
from crawlers.source import SourceConfig


class FeedRefused(Exception):
    """The proposed URL is refused; ``code`` names the reason for the UI (i18n key)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve_host) -> str:
    """Return the URL to fetch (webcal:// as https://), or raise FeedRefused.

    With ``allow_private=False`` the host is resolved and checked too (an early answer for
    the form; the fetch itself checks again, on the address it connects to).
    """
    url = http_url(url.strip())
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FeedRefused("err_feed_scheme", url)
    if not allow_private:
        check_host(parts.hostname, resolver=resolver)
    return url


def check_host(host: str, *, resolver: Resolver = resolve_host) -> None:
    """Refuse a host when any of its addresses is not public."""
    try:
        AddressGuard(resolver=resolver).addresses(host)
    except AddressRefused as exc:
        raise FeedRefused(exc.code, exc.detail) from exc


@dataclass(slots=True)
class FeedCheck:
    """The outcome of a test read of a proposed feed."""

    url: str
    kind: str
    events: int
    problems: int
    sample_titles: list[str]


def proposable_kinds() -> list[str]:
    """Kinds a proposed feed may have: every installed kind (a test read parses one page)."""
    return sorted(KINDS)


def try_feed(
    url: str,
    kind: str,
    *,
    region: str,
    allow_private: bool,
    user_agent: str,
    now: datetime,
    window: Window,
    timeout: float = 15.0,
    max_bytes: int = 5 * 1024 * 1024,
    resolver: Resolver = resolve_host,
) -> FeedCheck:
    """Fetch and parse a proposed feed. Raises FeedRefused, FetchError or FeedError."""
    # the scheme here; the host is resolved and checked once, by the guarded connection
    target = check_url(url, allow_private=True)
    if kind not in KINDS:
        raise FeedRefused("err_choice", kind)
    source = SourceConfig(id="proposal", name=url, kind=kind, url=target, region=region)  # type: ignore[arg-type]
    with Fetcher(
        user_agent=user_agent,
        timeout=timeout,
        max_bytes=max_bytes,
        guard=AddressGuard(resolver=resolver, allow_private=allow_private),
    ) as fetcher:
        try:
            # no crawl options: a crawled kind is checked by reading its start page only
            read = read_source(
                source, fetcher=fetcher, now=now, window=window, allow_truncated=True
            )
        except AddressRefused as exc:
            raise FeedRefused(exc.code, exc.detail) from exc
    assert read.result is not None  # no validators, no previous fingerprint: always read
    parsed = read.result
    return FeedCheck(
        url=target,
        kind=kind,
        events=len(parsed.events),
        problems=len(parsed.problems),
        sample_titles=[e.title for e in parsed.events[:5]],
    )


@dataclass(frozen=True, slots=True)
class FeedProposal:
    """A feed someone proposes as a new source (checked form fields)."""

    url: str
    name: str
    kind: str
    region: str
    email: str


@dataclass(frozen=True, slots=True)
class ProposalPolicy:
    """How proposals are limited and read: per-client rate limit, private addresses,
    the reader's user agent and how many past days a test read keeps."""

    rate: RateLimit
    allow_private: bool
    user_agent: str
    past_days: int


def propose_feed(
    *,
    engine: Engine,
    proposal: FeedProposal,
    client: str,
    policy: ProposalPolicy,
    pipeline: Pipeline,
    now: datetime,
) -> FeedCheck:
    """Test-read a proposed feed and, when it yields events, queue it for an editor.

    Raises RateLimited (the submission limit of ``client``, an address), FeedRefused,
    FetchError or FeedError. A feed without events is not queued (``FeedCheck.events == 0``). No
    database session is open while the feed is read.
    """
    with session_scope(engine) as session:
        check_rate(session=session, client=client, action="submit", limit=policy.rate, now=now)
    check = try_feed(
        proposal.url,
        proposal.kind,
        region=proposal.region,
        allow_private=policy.allow_private,
        user_agent=policy.user_agent,
        now=now.astimezone(LOCAL_TZ),
        window=Window.around(now, past_days=policy.past_days),
    )
    if check.events == 0:
        return check
    data = {
        "url": check.url,
        "name": proposal.name,
        "kind": check.kind,
        "events": check.events,
        "problems": check.problems,
        "sample_titles": check.sample_titles,
    }
    with session_scope(engine) as session:
        create_submission(
            session=session,
            data=data,
            region=proposal.region,
            email=proposal.email,
            user=None,
            pipeline=pipeline,
            now=now,
            kind="source",
        )
    return check


__all__ = [
    "FeedCheck",
    "FeedError",
    "FeedProposal",
    "FeedRefused",
    "FetchError",
    "GuardedTransport",
    "ProposalPolicy",
    "check_url",
    "is_public_address",
    "proposable_kinds",
    "propose_feed",
    "try_feed",
]
