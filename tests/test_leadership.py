"""The scheduler's advisory lock on PostgreSQL: one holder per database and schema."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from aggregator.db import make_engine
from aggregator.leadership import AdvisoryLockLeader, application_name, scheduler_holders
from tests.conftest import _postgres_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def other_schema() -> Iterator[str]:
    """A second fresh schema on the same database (another test, another staging site)."""
    yield from _postgres_schema()


def _holders(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [name for _, name in scheduler_holders(connection)]


def test_one_holder_per_schema_and_a_lost_lock_is_noticed(
    postgres_url: str, other_schema: str
) -> None:
    engine, elsewhere = make_engine(postgres_url), make_engine(other_schema)
    first, second, third = (
        AdvisoryLockLeader(engine),
        AdvisoryLockLeader(engine),
        AdvisoryLockLeader(elsewhere),
    )
    try:
        assert first.hold() and not second.hold()
        assert third.hold()  # another schema's scheduler holds a lock of its own
        assert _holders(engine) == [application_name()] == _holders(elsewhere)
        assert first.hold()  # still held: the check finds this session's lock
        # the lock ends while its session lives (a pooler that switched backends,
        # pg_advisory_unlock_all): the holder must notice, not go on scheduling
        assert first._connection is not None
        first._connection.execute(text("SELECT pg_advisory_unlock_all()"))
        assert second.hold()
        assert not first.hold()
        assert len(_holders(engine)) == 1
        second.release()
        assert _holders(engine) == []
        assert first.hold()  # free again: taken at the next poll
    finally:
        for leader in (first, second, third):
            leader.release()
        engine.dispose()
        elsewhere.dispose()
