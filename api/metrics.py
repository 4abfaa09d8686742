"""Prometheus metrics: source health and event counts read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from aggregator.health import events_per_source
from aggregator.models import Event, HarvestRun, Source
from api.interest import InterestCollector

router = APIRouter(tags=["ops"])


class StoreCollector(Collector):
    """Reads the current state of sources and events on every scrape (nothing is cached)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        """Yield gauges for events by status and for each source's health."""
        events = GaugeMetricFamily(
            "agenda_events",
            "Canonical events by status (removed ones separately)",
            labels=["status"],
        )
        success = GaugeMetricFamily(
            "agenda_source_last_success_timestamp_seconds",
            "Unix time of the last successful harvest of a source",
            labels=["source"],
        )
        failing = GaugeMetricFamily(
            "agenda_source_failing",
            "1 when the last harvest of a source failed",
            labels=["source"],
        )
        per_source = GaugeMetricFamily(
            "agenda_source_events",
            "Events the calendar publishes from a source (aggregator.health.events_per_source)",
            labels=["source"],
        )
        runs = GaugeMetricFamily(
            "agenda_harvest_runs",
            "Harvest runs recorded, by source and outcome",
            labels=["source", "outcome"],
        )
        with Session(self.engine) as session:
            live = session.exec(
                select(Event.status, func.count())
                .where(col(Event.removed_at).is_(None), col(Event.relevant).is_(True))
                .group_by(Event.status)
            ).all()
            for status, count in live:
                events.add_metric([status], count)
            removed = session.exec(
                select(func.count()).select_from(Event).where(col(Event.removed_at).is_not(None))
            ).one()
            events.add_metric(["removed"], removed)
            counts = events_per_source(session=session)
            for source in session.exec(select(Source)):
                per_source.add_metric([source.id], counts.get(source.id, 0))
                if source.last_success_at:
                    success.add_metric([source.id], source.last_success_at.timestamp())
                failing.add_metric([source.id], 1.0 if source.last_error else 0.0)
            for source_id, outcome, count in session.exec(
                select(HarvestRun.source_id, HarvestRun.outcome, func.count()).group_by(
                    HarvestRun.source_id, HarvestRun.outcome
                )
            ).all():
                runs.add_metric([source_id, outcome], count)
        yield from (events, success, failing, per_source, runs)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Source health and event counts in the Prometheus text format."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(request.app.state.engine))
    registry.register(InterestCollector(request.app.state.interest))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
