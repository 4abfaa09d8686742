"""The stage contract shared by the pipeline and every stage (no stage imports the pipeline).

A stage takes an EventDraft and returns it (changed or not), or raises ``Drop`` with a
reason when the record must not become an event. Stages are pure: no database, no clock.
A stage that remembers answers between runs (the online geocoder) keeps them in a
``StageCache`` that the caller loads before a run and saves after it, in its own
transaction.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from aggregator.draft import EventDraft
from crawlers.source import SourceConfig


class Drop(Exception):
    """A stage decided that a record is not an event for this calendar."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stage(Protocol):
    """One step of the pipeline."""

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Return the draft (possibly changed) or raise Drop."""
        ...


class StageCache(Protocol):
    """Answers a stage keeps in memory, read from and written to the database by the caller."""

    def load(self, *, session: Session) -> None:
        """Read the stored answers (once; later calls may do nothing)."""
        ...

    def save(self, *, session: Session) -> None:
        """Write the answers found since the last save; the caller commits."""
        ...
