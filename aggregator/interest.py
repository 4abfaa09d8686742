"""Interest counts without personal data: what was asked for, per ISO week, never by whom.

Three kinds are counted: ``subscription`` (an iCal subscription URL fetched; its subject
is the canonical filter set, so the number of distinct subjects a week is the number of
subscriptions in use, not of people), ``view`` (an event page) and ``click`` (a
registration link followed through the counting redirect). No address, cookie or user
agent is stored; requests from obvious robots are not counted at all (``is_robot``).

The read path must not wait for a write: requests only add to a counter in memory
(``InterestCounter.add``, a dictionary update under a lock); the counts go to the
database in batches (``flush``: one upsert a key, adding to what is stored, so several
processes may count at once), from a background thread when enough are pending or
enough time has passed, and when the app stops. A failed flush keeps the counts for the
next one (up to ``max_keys`` distinct keys; beyond that new keys are dropped and
counted in ``dropped``).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import Engine
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, func, select

from aggregator.config import Regions
from aggregator.localtime import LOCAL_TZ
from aggregator.models import Event, InterestCount

log = logging.getLogger(__name__)

KINDS = ("subscription", "view", "click")
SMALL = 5  # counts below this are shown as "< 5"
MAX_SUBJECT = 300

# Obvious robots by their user agent (crawlers, link previews, monitors, scripts). Calendar
# apps that fetch subscriptions (Google-Calendar-Importer, Microsoft Outlook, iOS
# dataaccessd, Thunderbird) are no robots here: their fetches are the subscriptions.
_ROBOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrapy|python-requests|python-urllib|aiohttp|httpx|"
    r"curl/|wget/|go-http-client|java/|okhttp|libwww|headless|lighthouse|pingdom|uptime|"
    r"monitor|preview|facebookexternalhit|embedly|validator|checker",
    re.IGNORECASE,
)

Key = tuple[str, str, str, str]  # kind, week, event_id, subject


def is_robot(user_agent: str | None) -> bool:
    """True for a missing user agent and for those of obvious robots and scripts."""
    return not user_agent or not user_agent.strip() or bool(_ROBOT.search(user_agent))


def iso_week(at: datetime) -> str:
    """The ISO week of a moment in the Netherlands: ``2027-W03``."""
    year, week, _ = at.astimezone(LOCAL_TZ).isocalendar()
    return f"{year}-W{week:02d}"


def subscription_subject(path: str, query: str) -> str:
    """The canonical form of a subscription URL: its path and its non-empty parameters,
    sorted, so that the same filter set in another order is the same subscription."""
    pairs = sorted((k, v) for k, v in parse_qsl(query, keep_blank_values=False) if v.strip())
    subject = path + ("?" + urlencode(pairs) if pairs else "")
    return subject[:MAX_SUBJECT]


def subject_filters(subject: str) -> dict[str, list[str]]:
    """The region, sector and type filters a subscription subject names (for grouping):
    ``/regions/twente.ics?sector=po`` -> region twente, sector po."""
    path, _, query = subject.partition("?")
    found: dict[str, list[str]] = {"region": [], "sector": [], "type": []}
    match = re.fullmatch(r"/regions/([^/]+)\.ics", path)
    if match:
        found["region"].append(match.group(1))
    for name, value in parse_qsl(query):
        if name in found:
            found[name].extend(v.strip().lower() for v in value.split(",") if v.strip())
    return found


class InterestCounter:
    """Counts in memory, flushed to the database in batches (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        *,
        batch: int = 500,
        interval: float = 30.0,
        max_keys: int = 50_000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.batch = batch
        self.interval = interval
        self.max_keys = max_keys
        self.dropped = 0
        self.flushed = 0
        self.failed_flushes = 0
        self._now = now
        self._pending: Counter[Key] = Counter()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._flushing = False

    @property
    def pending(self) -> int:
        """How many counts wait for the next flush."""
        with self._lock:
            return sum(self._pending.values())

    def add(self, kind: str, *, event_id: str = "", subject: str = "") -> None:
        """Count one request (cheap: no database; a flush starts in the background when due)."""
        key = (kind, iso_week(self._now()), event_id, subject[:MAX_SUBJECT])
        with self._lock:
            if key not in self._pending and len(self._pending) >= self.max_keys:
                self.dropped += 1
                return
            self._pending[key] += 1
            due = (
                len(self._pending) >= self.batch
                or time.monotonic() - self._last_flush >= self.interval
            )
            start = due and not self._flushing
            if start:
                self._flushing = True
        if start:
            threading.Thread(
                target=self._background_flush, name="interest-flush", daemon=True
            ).start()

    def _background_flush(self) -> None:
        try:
            self.flush()
        finally:
            with self._lock:
                self._flushing = False

    def flush(self) -> int:
        """Write the pending counts (adding to those stored); return how many were written.
        On a database error the counts stay pending for the next flush."""
        with self._flush_lock:
            with self._lock:
                taken, self._pending = self._pending, Counter()
                self._last_flush = time.monotonic()
            if not taken:
                return 0
            try:
                _upsert(self.engine, taken.items())
            except SQLAlchemyError as exc:
                log.warning("interest counts not written (kept for the next flush): %s", exc)
                self.failed_flushes += 1
                with self._lock:
                    for key, count in taken.items():
                        if key in self._pending or len(self._pending) < self.max_keys:
                            self._pending[key] += count
                        else:
                            self.dropped += count
                return 0
            written = sum(taken.values())
            self.flushed += written
            return written


def _upsert(engine: Engine, items: Iterable[tuple[Key, int]]) -> None:
    """Add counts to the stored ones: INSERT ... ON CONFLICT DO UPDATE (SQLite, PostgreSQL)."""
    rows = [
        {"kind": k, "week": w, "event_id": e, "subject": s, "count": n} for (k, w, e, s), n in items
    ]
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    table = InterestCount.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        for start in range(0, len(rows), 500):
            statement = insert(table).values(rows[start : start + 500])
            statement = statement.on_conflict_do_update(
                index_elements=["kind", "week", "event_id", "subject"],
                set_={"count": table.c.count + statement.excluded.count},
            )
            connection.execute(statement)


def shown(count: int) -> str:
    """A count as pages show it: below ``SMALL`` (but not 0) as "< 5"."""
    return f"< {SMALL}" if 0 < count < SMALL else str(count)


@dataclass(slots=True)
class EventInterest:
    """One event's views and clicks over the weeks asked for."""

    event_id: str
    title: str
    region: str
    views: int = 0
    clicks: int = 0


@dataclass(slots=True)
class InterestReport:
    """Interest counts over some weeks: totals per week and kind, per region, sector and
    type and kind, and per event. ``subscriptions`` counts distinct subscription URLs
    (filter sets): per week in ``per_week``, over all the weeks in the other tables;
    ``fetches`` counts their fetches, ``views`` and ``clicks`` the event pages and
    registration links."""

    weeks: list[str]
    per_week: dict[str, Counter[str]] = field(default_factory=dict)
    per_region: dict[str, Counter[str]] = field(default_factory=dict)
    per_sector: dict[str, Counter[str]] = field(default_factory=dict)
    per_type: dict[str, Counter[str]] = field(default_factory=dict)
    events: list[EventInterest] = field(default_factory=list)


def _bump(table: dict[str, Counter[str]], key: str, kind: str, count: int) -> None:
    table.setdefault(key, Counter())[kind] += count


def interest_report(
    *, session: Session, weeks: list[str], regions: Regions, region: str | None = None
) -> InterestReport:
    """The counts of ``weeks`` (ISO week strings), optionally of one region only (events of
    that region, subscriptions naming it). An event counts in the region of its
    municipality, else in the region it was given (as in the coverage report)."""
    report = InterestReport(weeks=weeks)
    for week in weeks:
        report.per_week[week] = Counter()
    members = regions.members(region) if region else frozenset()
    rows = session.exec(select(InterestCount).where(col(InterestCount.week).in_(weeks))).all()
    event_ids = {r.event_id for r in rows if r.event_id}
    events = {
        e.id: e for e in session.exec(select(Event).where(col(Event.id).in_(sorted(event_ids))))
    }
    per_event: dict[str, EventInterest] = {}
    seen: dict[tuple[int, str], set[str]] = {}
    kinds: tuple[tuple[str, int], ...]
    for row in rows:
        if row.kind == "subscription":
            named = subject_filters(row.subject)
            if region and region not in named["region"]:
                continue
            kinds = (("subscriptions", 1), ("fetches", row.count))
            regions_of, sectors, types = named["region"], named["sector"], named["type"]
        else:
            event = events.get(row.event_id)
            if event is None:
                continue
            home = regions.home_of.get(event.municipality_code or "") or event.region or ""
            if region and not (event.region == region or event.municipality_code in members):
                continue
            kinds = ((row.kind + "s", row.count),)
            regions_of = [region or home]
            sectors, types = list(event.sectors or []), [event.activity_type or ""]
            item = per_event.setdefault(
                event.id, EventInterest(event_id=event.id, title=event.title, region=home)
            )
            if row.kind == "view":
                item.views += row.count
            else:
                item.clicks += row.count
        for kind, count in kinds:
            report.per_week[row.week][kind] += count
            for table, slugs in (
                (report.per_region, regions_of),
                (report.per_sector, sectors),
                (report.per_type, types),
            ):
                for slug in slugs or [""]:
                    if kind == "subscriptions":  # distinct over the weeks, not per week
                        seen.setdefault((id(table), slug), set()).add(row.subject)
                    else:
                        _bump(table, slug, kind, count)
    for table in (report.per_region, report.per_sector, report.per_type):
        for (table_id, slug), subjects in seen.items():
            if table_id == id(table):
                _bump(table, slug, "subscriptions", len(subjects))
    report.events = sorted(
        per_event.values(), key=lambda e: (-(e.views + e.clicks), e.title.casefold())
    )
    return report


def totals(*, session: Session, week: str | None = None) -> dict[str, int]:
    """The stored counts summed per kind (of one ISO week, or of all weeks), for /metrics."""
    statement = select(InterestCount.kind, func.sum(InterestCount.count)).group_by(
        InterestCount.kind
    )
    if week is not None:
        statement = statement.where(InterestCount.week == week)
    return {kind: int(total or 0) for kind, total in session.exec(statement)}
