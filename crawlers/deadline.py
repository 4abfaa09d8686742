"""The wall clock of one source's processing, as the readers and the stages see it.

The harvest gives each source a processing budget (``aggregator.budget``): seconds for
parsing and the pipeline stages together, of which one component (a VEVENT series being
expanded, a record going through the stages) may take a share. A reader cannot import
the aggregator, so the clock is handed down here: the harvest sets it around a source's
parse and stages (:func:`bounded`, per thread), and long loops ask :func:`overrun` between
their steps. Nothing is interrupted from outside: a step between two checks runs to its
end (each is bounded by the field limits and the occurrence limits).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# a component may take this part of the source's budget (at least MIN_SHARE_SECONDS)
SHARE = 0.1
MIN_SHARE_SECONDS = 0.05


class Deadline:
    """A source's processing budget: ``seconds`` from :meth:`start`, one component's share.

    The clock starts when the body is handed to its reader (``crawlers.read``), so the
    download does not count; :meth:`start` is idempotent (a crawl, parsed as it goes,
    starts it when the stages begin).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.share = max(MIN_SHARE_SECONDS, SHARE * seconds)
        self.ends: float | None = None

    def start(self) -> Deadline:
        """Start the clock (if it is not running yet)."""
        if self.ends is None:
            self.ends = time.monotonic() + self.seconds
        return self

    def expired(self) -> bool:
        """Whether the whole budget is spent (False before the clock starts)."""
        return self.ends is not None and time.monotonic() > self.ends

    def overrun(self, started: float) -> str | None:
        """Why a component begun at ``started`` must stop now, or None while it may go on."""
        now = time.monotonic()
        if self.ends is not None and now > self.ends:
            return f"the processing budget of {self.seconds:g} s is spent (HARVEST_PROCESS_BUDGET)"
        if now - started > self.share:
            return (
                f"stopped after {now - started:.2f} s, over its share of {self.share:g} s of"
                f" the processing budget ({SHARE:.0%} of HARVEST_PROCESS_BUDGET)"
            )
        return None


_current: ContextVar[Deadline | None] = ContextVar("processing_deadline", default=None)


@contextmanager
def bounded(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the clock of the processing in this block (this thread only)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    """The clock of the processing under way in this thread, if any."""
    return _current.get()


def overrun(started: float) -> str | None:
    """Why the component begun at ``started`` must stop (None without a clock)."""
    deadline = _current.get()
    return deadline.overrun(started) if deadline is not None else None


def start() -> None:
    """Start the clock of the processing under way in this thread (if there is one)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.start()
