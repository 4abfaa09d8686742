"""Benchmark: search API and region iCal at 100,000 events, on SQLite and PostgreSQL.

For each backend: load synthetic events (bench.synthetic, random.Random(42)), start the
real app under uvicorn, and time typical requests from a separate client process over
loopback. Baselines are measured in the same run: each search's own SQL run directly
(count + page, no HTTP), and the region .ics bytes served by a plain static-file server
(Starlette StaticFiles under the same uvicorn) for the full body and for its 304.

Measured in steady state: after the load, ANALYZE (and on PostgreSQL VACUUM and a
CHECKPOINT, so that writing out the load does not land in the first scenarios). The API
caches match counts per store version, as in production; the direct-SQL baseline counts
every time, so it also shows what the first request after a harvest costs.

Targets (2-core machine): search p95 <= 50 ms; .ics 304 p95 within 2x of the static 304;
full .ics p95 within 5x of the static file. Cold exports (no cached response: the first
after each change to the store, as a harvest causes): the whole calendar <= 1 s per 10,000
events, a region <= 50 ms; the first export of a fresh process is shown for information.
``BENCH_EVENTS`` changes the size (default 100000); ``TEST_DATABASE_URL`` points at the
PostgreSQL server (a scratch schema is made and dropped). For quicker iterations:
``BENCH_REPEAT`` (requests a scenario, default 150), ``BENCH_BACKENDS=sqlite`` or
``postgres``, and ``BENCH_SCENARIOS=text,near`` (search scenarios whose label contains one
of the words; the .ics rows are always measured).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, MetaData, Table, create_engine, insert, text, update
from sqlmodel import Session, col, select

from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from aggregator.models import Event, Source
from aggregator.query import longest_duration, select_page
from api.params import build_filters
from bench.synthetic import SOURCES, generate
from config import bundled

EVENTS = int(os.environ.get("BENCH_EVENTS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "150"))
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgres").split(",")
SCENARIOS = [w for w in os.environ.get("BENCH_SCENARIOS", "").split(",") if w]
ICS_REGION = "midden-utrecht"
SEARCH_TARGET_MS = 50.0
ROOT = Path(__file__).resolve().parents[1]


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def search_scenarios(today: date) -> dict[str, list[dict[str, str]]]:
    """Typical searches of the web page and widgets (upcoming events, first page of 50)."""
    upcoming = {"from": today.isoformat()}
    scenarios = {
        "search: text": [
            {**upcoming, "q": q}
            for q in (
                "informatieavond",
                "zij-instroom",
                "meeloopdag basisonderwijs",
                "speeddate",
                "open avond deeltijd",
                "proefstuderen mbo",
            )
        ],
        "search: region + sector": [
            {**upcoming, "region": region, "sector": sector}
            for region, sector in (
                ("rijk-van-nijmegen", "po"),
                ("groot-amsterdam", "vo"),
                ("twente", "mbo"),
                ("rijnmond", "po"),
                ("regio-utrecht", "vo"),
                ("zuid-limburg", "so"),
            )
        ],
        "search: near postcode 25 km": [
            {**upcoming, "near": pc, "km": "25"}
            for pc in ("6511", "3511 AB", "1012", "9711", "5611", "7511")
        ],
        "search: date range": [
            {
                "from": (today + timedelta(days=d)).isoformat(),
                "to": (today + timedelta(days=d + 14)).isoformat(),
            }
            for d in (0, 30, 60, 120, 200, 300)
        ],
    }
    if not SCENARIOS:
        return scenarios
    return {k: v for k, v in scenarios.items() if any(w in k for w in SCENARIOS)}


def load(engine: Engine, config: AppConfig, today: date) -> float:
    """Insert the synthetic events with one source record each; return seconds taken."""
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Source.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": sid,
                    "name": name,
                    "kind": "ics",
                    "url": url,
                    "region": "landelijk",
                    "last_success_at": datetime.combine(today, datetime.min.time()).astimezone(),
                }
                for sid, name, url in SOURCES
            ],
        )
    batch_events: list[dict] = []  # type: ignore[type-arg]
    batch_records: list[dict] = []  # type: ignore[type-arg]

    # the tables as the first schema has them (not as the models are now)
    tables = MetaData()
    event_table = Table("event", tables, autoload_with=engine)
    record_table = Table("sourcerecord", tables, autoload_with=engine)

    def flush() -> None:
        with engine.begin() as connection:
            connection.execute(insert(event_table), batch_events)
            connection.execute(insert(record_table), batch_records)
        batch_events.clear()
        batch_records.clear()

    # the load goes into the first schema (the later migrations then index it in bulk):
    # only the columns that schema has
    columns = set(event_table.c.keys())
    # sourcerecord.data (the raw record) exists until migration 0008 and may not be null
    raw_data = "data" in record_table.c
    for event, record in generate(EVENTS, regions=config.regions, today=today):
        batch_events.append({k: v for k, v in event.items() if k in columns})
        batch_records.append({**record, "data": {}} if raw_data else record)
        if len(batch_events) >= 5000:
            flush()
    if batch_events:
        flush()
    return time.perf_counter() - started


def direct_sql(engine: Engine, config: AppConfig, variants: list[dict[str, str]]) -> list[float]:
    """Latencies (ms) of the search's own statements, run directly on a connection.

    The same SQL as the API (``select_page``: the ids of the first page and the count,
    never cached here), then the rows of those ids, without HTTP, JSON, provenance or
    the ORM.
    """
    with Session(engine) as session:
        longest = longest_duration(session=session)
    searches = [
        build_filters(
            config,
            q=params.get("q"),
            date_from=date.fromisoformat(params["from"]) if "from" in params else None,
            date_to=date.fromisoformat(params["to"]) if "to" in params else None,
            region=[params["region"]] if "region" in params else None,
            sector=[params["sector"]] if "sector" in params else None,
            near=params.get("near"),
            km=float(params["km"]) if "km" in params else None,
        )
        for params in variants
    ]
    timings = []
    with engine.connect() as connection:
        for i in range(REPEAT + len(searches)):
            filters = searches[i % len(searches)]
            started = time.perf_counter()
            page = select_page(
                connection,
                filters=filters,
                regions=config.regions,
                longest=longest if filters.date_from else None,
            )
            connection.execute(select(Event).where(col(Event.id).in_(page.ids))).fetchall()
            if i >= len(searches):  # the first round warms up
                timings.append((time.perf_counter() - started) * 1000)
    return timings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_server(factory: str, env: dict[str, str]) -> Iterator[str]:
    """Run ``uvicorn --factory`` in its own process; yield its base URL."""
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{factory} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def run_client(scenarios: list[dict]) -> dict[str, list[float]]:  # type: ignore[type-arg]
    """Time the scenarios from a separate client process."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.client"],
        input=json.dumps({"scenarios": scenarios}),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"benchmark client failed: {result.stderr or result.stdout}")
    return json.loads(result.stdout)


def percentiles(timings: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 in ms."""
    q = statistics.quantiles(timings, n=100, method="inclusive")
    return q[49], q[94], q[98]


def bench_backend(
    name: str, url: str, config: AppConfig, today: date, work: Path
) -> list[list[str]]:
    """Load, serve and measure one backend; return table rows."""
    # Load into the initial schema, then let migration 0002 build the search indexes in
    # bulk (much faster than maintaining them row by row, and it exercises the backfill).
    upgrade(url, "0001")
    engine = make_engine(url)
    seconds = load(engine, config, today)
    started = time.perf_counter()
    upgrade(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        # what autovacuum does after a bulk load (index-only scans need the visibility map)
        connection.execute(
            text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE")
        )
        if engine.dialect.name == "postgresql":
            # write the load out now, not during the first measured scenarios (a checkpoint
            # of a 100k-row load and its indexes took seconds of the machine's I/O and CPU)
            connection.execute(text("CHECKPOINT"))
    print(
        f"[{name}] loaded {EVENTS} events in {seconds:.1f} s, "
        f"indexed in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rows: list[list[str]] = []
    scenarios = search_scenarios(today)
    baselines = {
        label: direct_sql(engine, config, variants) for label, variants in scenarios.items()
    }
    static_dir = work / f"static-{name}"
    static_dir.mkdir()
    with uvicorn_server("bench.server:api", {"BENCH_DATABASE_URL": url}) as base:
        ics_path = f"/regions/{ICS_REGION}.ics"
        cold = cold_exports(engine, base, ics_path)
        first = httpx.get(base + ics_path, headers={"Accept-Encoding": "identity"}, timeout=300)
        first.raise_for_status()
        etag = first.headers["etag"]
        (static_dir / "region.ics").write_bytes(first.content)
        events_in_ics = first.content.count(b"BEGIN:VEVENT")
        jobs = [
            {
                "name": label,
                "base": base,
                "requests": [[f"/api/events?{urlencode(p)}", {}] for p in variants],
                "repeat": REPEAT,
            }
            for label, variants in scenarios.items()
        ]
        identity = {"Accept-Encoding": "identity"}
        jobs += [
            {
                "name": "ics full",
                "base": base,
                "requests": [[ics_path, identity]],
                "repeat": REPEAT,
            },
            {
                "name": "ics full gzip",
                "base": base,
                "requests": [[ics_path, {"Accept-Encoding": "gzip"}]],
                "repeat": REPEAT,
            },
            {
                "name": "ics 304",
                "base": base,
                "requests": [[ics_path, {**identity, "If-None-Match": etag}]],
                "repeat": REPEAT,
                "expect": 304,
            },
        ]
        measured = run_client(jobs)
    with uvicorn_server("bench.server:static", {"BENCH_STATIC_DIR": str(static_dir)}) as base:
        static_etag = httpx.get(base + "/region.ics").headers["etag"]
        identity = {"Accept-Encoding": "identity"}
        measured.update(
            run_client(
                [
                    {
                        "name": "static full",
                        "base": base,
                        "requests": [["/region.ics", identity]],
                        "repeat": REPEAT,
                    },
                    {
                        "name": "static 304",
                        "base": base,
                        "requests": [["/region.ics", {**identity, "If-None-Match": static_etag}]],
                        "repeat": REPEAT,
                        "expect": 304,
                    },
                ]
            )
        )
    engine.dispose()

    def fmt(values: tuple[float, float, float]) -> list[str]:
        return [f"{v:.2f}" for v in values]

    for label in scenarios:
        ours = percentiles(measured[label])
        base_p = percentiles(baselines[label])
        ok = ours[1] <= SEARCH_TARGET_MS
        rows.append(
            [
                name,
                label,
                *fmt(ours),
                "direct SQL",
                *fmt(base_p),
                f"{ours[1] / base_p[1]:.1f}x",
                f"p95<={SEARCH_TARGET_MS:.0f}ms",
                "PASS" if ok else "FAIL",
            ]
        )
    # per-query p50 of the text searches (their match counts differ by orders of magnitude)
    text_variants = scenarios.get("search: text", [])
    for i, params in enumerate(text_variants):
        timings = measured["search: text"][i :: len(text_variants)]
        rows.append(
            [
                name,
                f"  q={params['q']!r}",
                f"{statistics.median(timings):.2f}",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "info (p50)",
            ]
        )
    size = f"{len(first.content) / 1e6:.2f} MB, {events_in_ics} events"
    for label, static, limit in (("ics full", "static full", 5), ("ics 304", "static 304", 2)):
        ours = percentiles(measured[label])
        base_p = percentiles(measured[static])
        ratio = ours[1] / base_p[1]
        rows.append(
            [
                name,
                f"{label} ({size})" if label == "ics full" else label,
                *fmt(ours),
                static.replace("full", "file"),
                *fmt(base_p),
                f"{ratio:.1f}x",
                f"p95<={limit}x",
                "PASS" if ratio <= limit else "FAIL",
            ]
        )
    for label, (timings, count) in cold.items():
        limit = COLD_MS_PER_10K * count / 10_000 if label.startswith("ics cold: full") else None
        if label.startswith("ics cold: region"):
            limit = COLD_REGION_MS
        median = statistics.median(timings)
        rows.append(
            [
                name,
                f"{label} ({count} events)",
                f"{median:.2f}",
                f"{max(timings):.2f}",
                "",
                "-",
                "",
                "",
                "",
                "",
                f"p50<={limit:.0f}ms" if limit else "",
                ("PASS" if median <= limit else "FAIL") if limit else "info",
            ]
        )
    gz = percentiles(measured["ics full gzip"])
    rows.append([name, "ics full, gzip", *fmt(gz), "-", "", "", "", "", "", "info"])
    return rows


COLD_MS_PER_10K = 1000.0  # a full calendar rendered after a change: <= 1 s per 10k events
COLD_REGION_MS = 50.0  # a region's calendar after a change
COLD_CHANGES = 5  # changes measured (the median counts)


def _touch_one_event(engine: Engine, region: str) -> None:
    """Change one event of ``region`` as a harvest would (title, SEQUENCE, LAST-MODIFIED)."""
    with engine.begin() as connection:
        event_id = connection.execute(
            select(Event.id).where(col(Event.region) == region).limit(1)
        ).scalar_one()
        connection.execute(
            update(Event)
            .where(col(Event.id) == event_id)
            .values(
                title=Event.title + " ",
                sequence=Event.sequence + 1,
                last_modified=datetime.now().astimezone(),
            )
        )


def _get_ms(url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = httpx.get(url, headers={"Accept-Encoding": "identity"}, timeout=300)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, response.content.count(b"BEGIN:VEVENT")


def cold_exports(engine: Engine, base: str, region_path: str) -> dict[str, tuple[list[float], int]]:
    """Exports that cannot be answered from a cached response: the first one of a fresh
    process, and the first after each change to the store (what every harvest that
    changes something causes). Measured on a server that has served nothing yet."""
    fresh, count = _get_ms(base + "/calendar.ics")
    full: list[float] = []
    region: list[float] = []
    region_count = 0
    for _ in range(COLD_CHANGES):
        _touch_one_event(engine, ICS_REGION)
        ms, count = _get_ms(base + "/calendar.ics")
        full.append(ms)
        _touch_one_event(engine, ICS_REGION)
        ms, region_count = _get_ms(base + region_path)
        region.append(ms)
    return {
        "ics cold: full, fresh process": ([fresh], count),
        "ics cold: full, after a change": (full, count),
        "ics cold: region, after a change": (region, region_count),
    }


@contextmanager
def postgres_schema() -> Iterator[str | None]:
    """A scratch schema on the test PostgreSQL (None when unreachable), dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any driver or network error: PostgreSQL is not available
        print(f"[postgres] skipped: {str(exc).splitlines()[0]}")
        yield None
        return
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def print_table(rows: list[list[str]]) -> None:
    """Print the results as a fixed-width table (milliseconds)."""
    header = [
        "backend",
        "scenario",
        "p50",
        "p95",
        "p99",
        "baseline",
        "b.p50",
        "b.p95",
        "b.p99",
        "p95 ratio",
        "target",
        "result",
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def main() -> None:
    """Run the benchmark on SQLite and (when reachable) PostgreSQL and print the table."""
    today = _today()
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    print(f"{EVENTS} events, {REPEAT} requests a scenario, {os.cpu_count()} CPUs; times in ms")
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="agenda-bench-") as tmp:
        work = Path(tmp)
        if "sqlite" in BACKENDS:
            url = f"sqlite:///{work / 'bench.sqlite'}"
            rows += bench_backend("sqlite", url, config, today, work)
        if "postgres" in BACKENDS:
            with postgres_schema() as pg_url:
                if pg_url:
                    rows += bench_backend("postgres", pg_url, config, today, work)
    print_table(rows)
