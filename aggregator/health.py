"""Source health: the one count of events per source, for `agenda sources`, `/api/sources`
and the metrics, and the overview lines of `agenda sources`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from aggregator.config import AppConfig
from aggregator.models import Event, Source, SourceRecord


@dataclass(slots=True)
class SourceHealth:
    """One line of the sources overview."""

    id: str
    kind: str
    region: str
    events: int
    last_success: str | None
    last_error: str | None
    next_run: str | None


def _fmt(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else None


def events_per_source(*, session: Session) -> dict[str, int]:
    """Source id -> number of events the calendar publishes from it.

    An event counts for a source when one of the source's records of it is live (not
    marked removed) and the event itself is live and relevant: what the calendar lists
    (cancelled events included, they are shown as cancelled). An event that several
    sources announce counts once for each of them. Sources without events are absent.
    """
    rows = session.exec(
        select(SourceRecord.source_id, func.count(func.distinct(SourceRecord.event_id)))
        .join(Event, col(Event.id) == SourceRecord.event_id)
        .where(
            col(SourceRecord.removed_at).is_(None),
            col(Event.removed_at).is_(None),
            col(Event.relevant).is_(True),
        )
        .group_by(SourceRecord.source_id)
    ).all()
    return {source_id: count for source_id, count in rows}


def source_health(*, engine: Engine, config: AppConfig) -> list[SourceHealth]:
    """Health of every configured source, from its stored state and live records."""
    with Session(engine) as session:
        counts = events_per_source(session=session)
        rows = []
        for source in config.sources:
            state = session.get(Source, source.id)
            next_run = None
            if state and state.last_attempt_at:
                next_run = state.next_run_at or state.last_attempt_at + source.interval
            rows.append(
                SourceHealth(
                    id=source.id,
                    kind=source.kind,
                    region=source.region,
                    events=counts.get(source.id, 0),
                    last_success=_fmt(state.last_success_at) if state else None,
                    last_error=state.last_error if state else None,
                    next_run=_fmt(next_run),
                )
            )
        return rows
