"""Prometheus metrics: source health, event counts and harvest durations read from the
database at scrape time, HTTP latency per route and the scheduler's queue in this process.

Harvest figures come from the database (every process that harvests records its runs
there), so any process answers /metrics with all of them. HTTP latency is per process:
with several workers each keeps its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case
from sqlmodel import Session, col, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.config import AppConfig
from aggregator.health import STATES, events_per_source, known_sources, source_statuses
from aggregator.models import Event, HarvestRun, Source
from aggregator.queue_gauge import scheduler_queue_length

router = APIRouter(tags=["ops"])

HARVEST_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
NO_ROUTE = "(none)"  # answered before routing: a 404, the exports' 304 shortcut


class StoreCollector(Collector):
    """Reads the current state of sources, events and runs on every scrape (nothing cached)."""

    def __init__(self, engine: Engine, config: AppConfig) -> None:
        self.engine = engine
        self.config = config

    def collect(self) -> Iterator[Metric]:
        """Yield gauges for events and source health, and the harvest duration histograms."""
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
        states = GaugeMetricFamily(
            "agenda_source_state",
            "1 for the state a source is in (aggregator.health: healthy, degraded, failing,"
            " held, pending), 0 for the others",
            labels=["source", "state"],
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
            known = known_sources(session=session, config=self.config)
            for health in source_statuses(session=session, sources=known):
                for state in STATES:
                    states.add_metric([health.id, state], 1.0 if state == health.state else 0.0)
            durations = harvest_durations(session=session)
        yield from (events, success, failing, per_source, runs, states, durations)


def harvest_durations(*, session: Session) -> HistogramMetricFamily:
    """The duration of every recorded harvest run, as a histogram per source kind.

    Counted in SQL (one CASE per bucket), so a scrape reads no run row.
    """
    duration = col(HarvestRun.duration_seconds)
    columns = [func.sum(case((duration <= bound, 1), else_=0)) for bound in HARVEST_BUCKETS]
    rows = session.exec(
        select(Source.kind, func.count(), func.sum(duration), *columns)  # type: ignore[call-overload]
        .join(Source, col(Source.id) == HarvestRun.source_id)
        .where(duration.is_not(None))
        .group_by(Source.kind)
    ).all()
    family = HistogramMetricFamily(
        "agenda_harvest_duration_seconds",
        "Wall time of harvest runs (fetch, read, pipeline, store), by source kind",
        labels=["kind"],
    )
    for row in rows:
        kind, count, total = row[0], row[1], row[2]
        cumulative: list[int | None] = list(row[3:])
        pairs = zip(HARVEST_BUCKETS, cumulative, strict=True)
        buckets = [(f"{bound:g}", float(n or 0)) for bound, n in pairs]
        buckets.append(("+Inf", float(count)))
        family.add_metric([kind], buckets, float(total or 0.0))
    return family


class SchedulerCollector(Collector):
    """The scheduler's queue length in this process (absent when none runs here)."""

    def collect(self) -> Iterator[Metric]:
        """Yield the queue gauge when a scheduler has set it."""
        length = scheduler_queue_length()
        if length is None:
            return
        gauge = GaugeMetricFamily(
            "agenda_scheduler_queue_length", "Sources due and waiting for a harvest slot"
        )
        gauge.add_metric([], float(length))
        yield gauge


class HttpLatencyMiddleware:
    """Time every HTTP request and count it under its route template, never its raw path
    (``/api/events/{event_id}``, not one series per event)."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception before the response started

        async def keep_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, keep_status)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or NO_ROUTE
            self.histogram.labels(label, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )


def install_metrics(app: FastAPI, *, engine: Engine, config: AppConfig) -> None:
    """Give ``app`` its metrics registry, the HTTP latency middleware and ``/metrics``.

    Call before the language middleware is added (``install_web``): it copies the scope,
    and the route is recorded in the scope the router sees.
    """
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine, config))
    registry.register(SchedulerCollector())
    histogram = Histogram(
        "agenda_http_request_duration_seconds",
        "HTTP request latency by route template, method and status",
        labelnames=["route", "method", "status"],
        buckets=HTTP_BUCKETS,
        registry=registry,
    )
    app.state.metrics_registry = registry
    app.add_middleware(HttpLatencyMiddleware, histogram=histogram)
    app.include_router(router)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Source health, event counts, harvest durations and HTTP latency (Prometheus text)."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
