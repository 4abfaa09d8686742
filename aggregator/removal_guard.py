"""The removal guard: a listing that suddenly lost most of its events is held, not believed.

A feed that answers with a valid but empty (or nearly empty) listing is more often a
broken export, a maintenance page or a half-migrated CMS than a region that cancelled
every activity at once. Such a harvest stores what it read (new and changed events) but
marks nothing removed, and the source is recorded as ``held`` (needing attention). The
next harvest that reads the listing again confirms it: if the previous run of the source
was held, the removals go ahead.

Thresholds (counted over the source's live records that a harvest could remove, i.e.
those starting inside the harvest window):

- a listing with **no** events where at least one is stored is held;
- a listing that would remove more than ``MAX_REMOVED_FRACTION`` (80 %) of the stored
  events is held, when at least ``MIN_STORED`` (5) are stored (below that, a change of
  a few events is normal for a small calendar).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from aggregator.models import Event, HarvestRun, SourceRecord
from crawlers.records import Window

MIN_STORED = 5
MAX_REMOVED_FRACTION = 0.8


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a listing is held: how many live events it would remove of how many."""

    listed: int
    live: int
    removing: int

    def reason(self) -> str:
        """One line for the harvest output and the source's health."""
        return (
            f"held: the listing has {self.listed} event(s) and would remove {self.removing} of"
            f" {self.live} stored; nothing removed until the next harvest confirms it"
        )


def suspicious(*, listed: int, live: int, removing: int) -> bool:
    """Whether a listing shrank too much to be believed at once (see the thresholds above)."""
    if live == 0 or removing == 0:
        return False
    if listed == 0:
        return True
    return live >= MIN_STORED and removing > MAX_REMOVED_FRACTION * live


def check_listing(
    *,
    session: Session,
    source_id: str,
    keys: Iterable[tuple[str, str]],
    window: Window,
) -> Hold | None:
    """A Hold when this listing (record keys) would remove too much at once, else None.

    A hold already recorded by the source's previous run is confirmed: None.
    """
    listed = set(keys)
    live_keys = {
        (record.uid, record.recurrence_id)
        for record, start in session.exec(
            select(SourceRecord, Event.start_at)
            .join(Event, col(Event.id) == col(SourceRecord.event_id))
            .where(SourceRecord.source_id == source_id, col(SourceRecord.removed_at).is_(None))
        )
        if start is None or start >= window.start
    }
    removing = len(live_keys - listed)
    if not suspicious(listed=len(listed), live=len(live_keys), removing=removing):
        return None
    if previous_outcome(session=session, source_id=source_id) == "held":
        return None  # the second listing in a row that says so: believe it
    return Hold(listed=len(listed), live=len(live_keys), removing=removing)


def previous_outcome(*, session: Session, source_id: str) -> str | None:
    """The outcome of the source's last finished harvest run, if any."""
    return session.exec(
        select(HarvestRun.outcome)
        .where(HarvestRun.source_id == source_id, col(HarvestRun.finished_at).is_not(None))
        .order_by(col(HarvestRun.id).desc())
        .limit(1)
    ).first()
