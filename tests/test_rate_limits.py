"""Rate limits hold under concurrency: 20 parallel attempts, exactly the allowed number pass."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from aggregator.db import session_scope
from aggregator.submissions import RateLimit, RateLimited, check_rate

ATTEMPTS = 20
LIMIT = RateLimit(limit=5, window=timedelta(hours=1))


def test_parallel_attempts_pass_exactly_the_limit(engine: Engine) -> None:
    now = datetime(2027, 1, 5, tzinfo=UTC)
    start = threading.Barrier(ATTEMPTS)

    def attempt(_: int) -> bool:
        start.wait()  # all at once
        try:
            with session_scope(engine) as session:
                check_rate(
                    session=session, client="203.0.113.7", action="submit", limit=LIMIT, now=now
                )
        except RateLimited:
            return False
        return True

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        passed = list(pool.map(attempt, range(ATTEMPTS)))
    assert passed.count(True) == LIMIT.limit


def test_login_attempts_are_limited_per_account_across_addresses(engine: Engine) -> None:
    from aggregator.accounts import create_user, log_in

    now = datetime(2027, 1, 5, tzinfo=UTC)
    with session_scope(engine) as session:
        create_user(
            session=session, email="ed@example.org", password="correct horse battery", role="admin"
        )
    answers = []
    for i in range(LIMIT.limit + 2):  # every attempt from another address
        try:
            with session_scope(engine) as session:
                user = log_in(
                    session=session,
                    email="Ed@Example.org",
                    password="wrong guess number one",
                    client=f"198.51.100.{i}",
                    limit=LIMIT,
                    now=now,
                )
            answers.append("refused" if user is None else "in")
        except RateLimited:
            answers.append("limited")
    assert answers == ["refused"] * LIMIT.limit + ["limited", "limited"]
