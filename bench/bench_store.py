"""The store: a 50,000-event listing in bulk, and the cost of new events as the store grows.

Drafts come from ``bench.synthetic`` (realistic titles, places and times; deterministic),
as the pipeline would hand them to ``aggregator.store.store_drafts``; each figure is one
call plus its commit, wall time and this process's CPU time. On each backend:

* ``listing 50k``: one source's 50,000-event listing into an empty store (target < 60 s);
  ``unchanged``: the same listing again (no write; the publish version must not move);
  ``5% changed``: the same listing with 2,500 titles changed;
* ``1k new, empty`` and ``1k new, 100k``: 1,000 new events of another source into an
  empty store and into one holding 100,000 events of 40 sources (inserted directly, with
  the fields and dedup slots ``store_drafts`` gives them); the CPU of the second must stay
  within 20 % of the first.

Run with ``python -m bench bench_store``. ``BENCH_BACKENDS=sqlite`` (or ``postgres``),
``BENCH_STORE_EVENTS`` (default 50000) and ``BENCH_STORE_STORE`` (default 100000) resize it.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text

from aggregator.bulk_sql import table_of
from aggregator.canonical import EVENT_FIELDS, record_fields
from aggregator.config import Regions, load_config
from aggregator.db import make_engine, session_scope, upgrade
from aggregator.dedup import slot_of
from aggregator.draft import EventDraft
from aggregator.models import Event, SourceRecord
from aggregator.store import store_drafts, sync_sources
from bench.bench_api import postgres_schema
from bench.synthetic import AMS, SOURCES, generate
from config import bundled
from crawlers.records import RawEvent, Window
from crawlers.source import SourceConfig

LISTING = int(os.environ.get("BENCH_STORE_EVENTS", "50000"))
STORE = int(os.environ.get("BENCH_STORE_STORE", "100000"))
NEW = 1000
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
TODAY = date(2027, 1, 5)
NOW = datetime(2027, 1, 5, 6, tzinfo=UTC)
LISTING_TARGET_S = 60.0
CPU_SPREAD = 0.20


def _source(source_id: str) -> SourceConfig:
    return SourceConfig(
        id=source_id, name=source_id, kind="ics", url=f"{source_id}.ics", region="landelijk"
    )


def _draft(event: dict[str, Any], source_id: str, uid: str) -> EventDraft:
    start = event["start_at"].astimezone(AMS)
    end = event["end_at"].astimezone(AMS)
    raw = RawEvent(
        source_id=source_id,
        uid=uid,
        title=event["title"],
        start=start,
        end=end,
        description=event["description"],
        url=event["url"],
        location=event["location_name"],
        sequence=event["sequence"],
    )
    draft = EventDraft(raw=raw, title=event["title"], start=start, end=end)
    for name in EVENT_FIELDS:
        setattr(draft, name, event[name])
    return draft


def drafts(
    count: int, *, regions: Regions, seed: int, source_of: Callable[[int], str]
) -> dict[str, list[EventDraft]]:
    """Synthetic drafts by source id, as the pipeline hands them to the store."""
    by_source: dict[str, list[EventDraft]] = {}
    for n, (event, _) in enumerate(generate(count, regions=regions, today=TODAY, seed=seed)):
        source_id = source_of(n)
        draft = _draft(event, source_id, f"{seed}-{n}@{source_id}")
        by_source.setdefault(source_id, []).append(draft)
    return by_source


def load_store(engine: Engine, count: int, *, regions: Regions) -> list[str]:
    """Fill a store with ``count`` synthetic events of 40 sources, one record each, with
    their fields and dedup slots (direct inserts: what ``store_drafts`` would leave, fast).
    Returns the source ids."""
    batch: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(table_of(Event)), [e for e, _ in batch])
            connection.execute(insert(table_of(SourceRecord)), [r for _, r in batch])
        batch.clear()

    for event, record in generate(count, regions=regions, today=TODAY, seed=42):
        fields = record_fields(_draft(event, record["source_id"], record["uid"]))
        bucket, place = slot_of(fields)
        batch.append(
            ({**event}, {**record, "fields": fields, "dedup_bucket": bucket, "dedup_place": place})
        )
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return [source_id for source_id, _, _ in SOURCES]


@dataclass
class Timing:
    """One measured store call."""

    label: str
    count: int
    wall: float
    cpu: float
    note: str = ""


def _store(engine: Engine, source_id: str, listing: list[EventDraft]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        counts = store_drafts(
            session=session,
            source=_source(source_id),
            drafts=listing,
            now=NOW,
            window=Window.around(NOW),
            created_in_run=set(),
        )
    return time.perf_counter() - wall, time.process_time() - cpu, counts


def _publish_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT version FROM publish_state")).scalar_one())


def _store_size(engine: Engine) -> int:
    """Bytes the store takes: the SQLite file (after a checkpoint), or the schema's tables
    with their indexes and TOAST on PostgreSQL."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            pages = connection.execute(text("PRAGMA page_count")).scalar_one()
            size = connection.execute(text("PRAGMA page_size")).scalar_one()
            return int(pages) * int(size)
        return int(
            connection.execute(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
                )
            ).scalar_one()
        )


@contextmanager
def _url(backend: str, work: Path, name: str) -> Iterator[str | None]:
    if backend == "sqlite":
        yield f"sqlite:///{work / (name + '.sqlite')}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def _database(backend: str, work: Path, name: str) -> Iterator[Engine | None]:
    """A fresh migrated database on a backend (None when PostgreSQL is unreachable)."""
    with _url(backend, work, name) as url:
        if url is None:
            yield None
            return
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def _register(engine: Engine, source_ids: list[str]) -> None:
    with session_scope(engine) as session:
        sync_sources(session=session, sources=[_source(s) for s in source_ids])


def _changed(listing: list[EventDraft], every: int) -> list[EventDraft]:
    """A copy of the listing with one title in ``every`` changed."""
    out = []
    for n, draft in enumerate(listing):
        if n % every == 0:
            draft = EventDraft(**{name: getattr(draft, name) for name in draft.__slots__})
            draft.title = f"{draft.title} (gewijzigd)"
        out.append(draft)
    return out


def bench_listing(backend: str, work: Path, regions: Regions) -> list[Timing]:
    """One source's big listing: new, unchanged, 5 % changed."""
    listing = drafts(LISTING, regions=regions, seed=7, source_of=lambda n: "groot")["groot"]
    rows: list[Timing] = []
    with _database(backend, work, "listing") as engine:
        if engine is None:
            return rows
        _register(engine, ["groot"])
        wall, cpu, counts = _store(engine, "groot", listing)
        verdict = "ok" if wall < LISTING_TARGET_S else f"over {LISTING_TARGET_S:.0f} s"
        verdict += f"; store {_store_size(engine) / counts.new / 1024:.1f} kB/event"
        rows.append(
            Timing(f"listing {LISTING // 1000}k, empty store", counts.new, wall, cpu, verdict)
        )
        version = _publish_version(engine)
        wall, cpu, counts = _store(engine, "groot", listing)
        moved = _publish_version(engine) - version
        note = "no write" if moved == 0 else f"publish version moved by {moved}"
        rows.append(Timing("  same listing again", counts.unchanged, wall, cpu, note))
        wall, cpu, counts = _store(engine, "groot", _changed(listing, 20))
        rows.append(Timing("  5% of it changed", counts.updated, wall, cpu))
    return rows


def bench_growth(backend: str, work: Path, regions: Regions) -> list[Timing]:
    """1,000 new events into an empty store and into a store of ``STORE`` events."""
    new = drafts(NEW, regions=regions, seed=11, source_of=lambda n: "nieuw")["nieuw"]
    rows: list[Timing] = []
    with _database(backend, work, "empty") as engine:
        if engine is None:
            return rows
        _register(engine, ["nieuw"])
        wall, cpu, counts = _store(engine, "nieuw", new)
        rows.append(Timing("1k new, empty store", counts.new, wall, cpu))
    with _database(backend, work, "full") as engine:
        assert engine is not None
        _register(engine, ["nieuw", *(source_id for source_id, _, _ in SOURCES)])
        load_wall, load_cpu = time.perf_counter(), time.process_time()
        stored = load_store(engine, STORE, regions=regions)
        rows.append(
            Timing(
                f"  (load {STORE // 1000}k events of {len(stored)} sources, direct)",
                STORE,
                time.perf_counter() - load_wall,
                time.process_time() - load_cpu,
            )
        )
        wall, cpu, counts = _store(engine, "nieuw", new)
        ratio = cpu / rows[0].cpu
        verdict = "ok" if abs(ratio - 1) <= CPU_SPREAD else "outside +-20%"
        rows.append(
            Timing(
                f"1k new, {STORE // 1000}k store",
                counts.new,
                wall,
                cpu,
                f"CPU {ratio:.2f}x {verdict}",
            )
        )
    return rows


def main() -> None:
    """Run both scenarios on SQLite and (when reachable) PostgreSQL; print the table."""
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    print(f"store benchmark, {os.cpu_count()} CPUs; wall and CPU (this process) in seconds")
    header = ("backend", "scenario", "records", "wall s", "CPU s", "records/s", "note")
    table: list[tuple[str, ...]] = [header]
    with tempfile.TemporaryDirectory(prefix="agenda-bench-store-") as tmp:
        for backend in BACKENDS:
            for run in (bench_listing, bench_growth):
                for t in run(backend, Path(tmp), config.regions):
                    table.append(
                        (
                            backend,
                            t.label,
                            str(t.count),
                            f"{t.wall:.2f}",
                            f"{t.cpu:.2f}",
                            f"{t.count / t.wall:.0f}" if t.wall else "-",
                            t.note,
                        )
                    )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
