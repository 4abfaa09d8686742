"""Counting interest on the read path: subscription fetches, event-page views, and the
counting redirect /uit/{event_id} to an event's registration page.

Nothing personal is read or kept: the path, the status and whether the user agent is an
obvious robot (``aggregator.interest.is_robot``). Counting is an update of a counter in
memory (``InterestCounter.add``); it never waits for the database, and a count that cannot
be made never changes the response.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.interest import InterestCounter, is_robot, iso_week, subscription_subject, totals
from api.deps import SnapshotDep
from api.error_pages import error_page, error_texts
from api.web import request_lang

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

_EVENT_PAGE = re.compile(r"(?:/en)?/events/([A-Za-z0-9_-]{1,40})")
_SUBSCRIPTION = re.compile(r"/calendar\.ics|/regions/[a-z0-9-]{1,100}\.ics")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _counted(scope: Scope, status: int) -> tuple[str, str, str] | None:
    """What a finished GET counts as: (kind, event_id, subject), or None."""
    path: str = scope["path"]
    if _SUBSCRIPTION.fullmatch(path) and status in (200, 304):
        query = scope.get("query_string", b"").decode("latin-1")
        return "subscription", "", subscription_subject(path, query)
    match = _EVENT_PAGE.fullmatch(path)
    if match and status == 200:
        return "view", match.group(1), ""
    return None


class InterestMiddleware:
    """Count subscription fetches (200 and 304: a revalidation is a fetch too) and event
    pages shown (200), after the response has started; robots are not counted."""

    def __init__(self, app: ASGIApp, counter: InterestCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        self._count(scope, status)

    def _count(self, scope: Scope, status: int) -> None:
        try:
            what = _counted(scope, status)
            if what is None or is_robot(Headers(scope=scope).get("user-agent")):
                return
            kind, event_id, subject = what
            self.counter.add(kind, event_id=event_id, subject=subject)
        except Exception:  # a count must never fail the request it counts
            log.exception("interest count failed for %s", scope.get("path"))


def registration_target(url: str | None) -> str | None:
    """The registration URL when it is a plain http(s) address, else None (never a
    redirect to another scheme, a relative path or a URL with spaces or control codes)."""
    if not url or _CONTROL.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url


@router.get("/uit/{event_id}")
def registration_redirect(event_id: str, request: Request, snapshot: SnapshotDep) -> Response:
    """Count a click on an event's registration link and send the browser there (302).

    Only to the registration URL stored for that event, so this is no open redirect: an
    unknown event, or one without an http(s) registration URL, is a 404.
    """
    page = snapshot.event(event_id)
    target = registration_target(page.items[0].registration_url) if page else None
    if page is None or target is None:
        return error_page(request, 404, *error_texts(404, request_lang(request)))
    if not is_robot(request.headers.get("user-agent")):
        counter: InterestCounter = request.app.state.interest
        try:
            counter.add("click", event_id=page.items[0].id)
        except Exception:  # a count must never fail the redirect
            log.exception("interest count failed for /uit/%s", event_id)
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


class InterestCollector(Collector):
    """The interest counts for /metrics: stored totals per kind, this week's per kind, and
    how many wait in memory (per process) for the next flush."""

    def __init__(self, counter: InterestCounter) -> None:
        self.counter = counter

    def collect(self) -> Iterator[Metric]:
        """Yield the counters (all weeks), this ISO week's gauges and the pending gauge."""
        total = CounterMetricFamily(
            "agenda_interest",
            "Interest counted (stored): subscription fetches, event-page views, "
            "registration clicks; no person or address is stored",
            labels=["kind"],
        )
        week = GaugeMetricFamily(
            "agenda_interest_this_week",
            "Interest counted (stored) in the current ISO week (Europe/Amsterdam)",
            labels=["kind"],
        )
        with Session(self.counter.engine) as session:
            for kind, count in sorted(totals(session=session).items()):
                total.add_metric([kind], count)
            this_week = iso_week(datetime.now(UTC))
            for kind, count in sorted(totals(session=session, week=this_week).items()):
                week.add_metric([kind], count)
        pending = GaugeMetricFamily(
            "agenda_interest_pending",
            "Interest counts in this process's memory, not yet written to the database",
            value=self.counter.pending,
        )
        yield from (total, week, pending)
