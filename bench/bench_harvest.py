"""Harvest throughput: `agenda harvest` of N generated sources against floors of the same run.

Generates N sources (60 % iCal, 20 % RSS, 10 % schema.org list+detail sites with a
sitemap, 10 % The Events Calendar REST sites) on loopback sites of their own
(:mod:`bench.harvest_sites`, served by a child process), then runs the real harvest four
times into one database:

* ``full``: the first harvest into an empty database (every site sends validators);
* ``unchanged``: again, nothing changed: every document and list page answers 304;
* ``no-valid``: again, nothing changed, but no site sends validators (200s: the bodies'
  fingerprints and the crawls' list entries tell that nothing changed);
* ``changed``: again (with validators) after 5 sources changed (three events retitled,
  one moved): one of each kind, then iCal feeds.

Each run is one ``agenda harvest`` as a fresh process would run it, in a process of its
own (its crawl process started during the run and stopped at its end). Its wall time,
CPU (that process and the crawl process) and peak RSS (the largest VmHWM of its process
tree, not counting this one's floors) are printed with
ratios to floors measured in the same run: fetching every URL the harvest reads at
concurrency 8 (and the same conditionally, answered 304), and the parse libraries alone
on the same bytes (icalendar + recurring_ical_events, feedparser, extruct, json); and
the goals of issue 18 (full within 3× fetch + parse, unchanged ≤ 10 %, 5 changed ≤ 15 %
of the full run, peak RSS ≤ 400 MB). The unchanged, no-valid and changed runs are
repeated (``--repeat``, default 3) and the median shown, with the share of the full run's
CPU beside the share of its wall time. ``--curve`` does it for 25, 50, 100 and 200 sources
and prints one line for each.

    python -m bench harvest [--sources 100 | --curve] [--backend sqlite|postgresql] [--quick]
    python -m bench harvest --big 50000 [--backend sqlite|postgresql]

``--big N`` is one iCal feed of N VEVENTs (every tenth a weekly series of four), harvested
whole (byte limit and processing budget raised): wall, CPU and peak RSS of the full and the
unchanged run against the same floors (the fetch, icalendar + expansion of the same bytes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from agenda import wiring
from agenda.settings import Settings
from aggregator.db import make_engine, upgrade
from aggregator.harvest import harvest
from aggregator.models import HarvestRun
from bench.harvest_sites import (
    EVENTS,
    START_PATH,
    TRIBE_PATH,
    SiteSpec,
    build_sites,
    change_site,
)
from bench.memory import tree_peak_kb
from crawlers.crawl_worker import shared_worker

NOW = datetime(2027, 1, 5, 9, tzinfo=UTC)
FETCH_CONCURRENCY = 8
CHANGED = 5
# unchanged, no-valid and changed runs are repeated and their median wall time compared
# with the full run: a run of a second or two swings by half under the load of a shared
# machine; the CPU share beside it is steadier still
REPEAT = 3
CURVE = (25, 50, 100, 200)
QUICK_EVENTS = {"ics": 6, "rss": 4, "jsonld": 3, "tribe": 4}  # (a crawl alone takes seconds)
BIG_MAX_BYTES = 64 * 1024 * 1024  # --big: a 50,000-event feed is about 26 MB
BIG_BUDGET_S = 3600.0
# the goals of issue 18: full ÷ (fetch + parse floor), a run ÷ the full one, peak RSS
FULL_GOAL = 3.0
RUN_GOALS = {"unchanged": 0.10, "no-valid": 0.10, "changed": 0.15}
PEAK_GOAL_MB = 400


@dataclass(slots=True)
class Measured:
    """One run of `agenda harvest`: what it cost and what it did."""

    label: str
    wall: float
    cpu: float
    peak_mb: float
    records: int
    outcomes: dict[str, int]
    walls: tuple[float, ...] = ()  # every repeat's wall time (the median is ``wall``)


def median_run(runs: list[Measured]) -> Measured:
    """One row for the repeats of a run: median wall and CPU, the largest peak, the last
    repeat's records and outcomes (every repeat does the same)."""
    last = runs[-1]
    return Measured(
        last.label,
        statistics.median(r.wall for r in runs),
        statistics.median(r.cpu for r in runs),
        max(r.peak_mb for r in runs),
        last.records,
        last.outcomes,
        tuple(r.wall for r in runs),
    )


def urls_of(spec: SiteSpec, base: str) -> list[str]:
    """Every URL a harvest of this site reads (the fetch floor fetches the same)."""
    if spec.kind == "jsonld":
        pages = [f"/agenda/e-{n}.html" for n in range(len(spec.events))]
        return [f"{base}/sitemap.xml", f"{base}/agenda.html", *(base + p for p in pages)]
    if spec.kind == "tribe":
        count = -(-len(spec.events) // 50)
        return [f"{base}{TRIBE_PATH}?page={n}&per_page=50" for n in range(1, count + 1)]
    return [base + START_PATH[spec.kind]]


def fetch_floor(urls: list[str], bodies: dict[str, bytes] | None = None) -> float:
    """Wall seconds to GET every URL at concurrency 8; conditionally when given the bodies."""
    validators: dict[str, dict[str, str]] = {}
    got: dict[str, bytes] = {}

    def get(client: httpx.Client, url: str) -> None:
        response = client.get(url, headers=validators.get(url, {}))
        got[url] = response.content
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        validators[url] = headers

    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(FETCH_CONCURRENCY) as pool:
        list(pool.map(lambda u: get(client, u), urls))  # warm: connections and validators
        if bodies is not None:
            bodies.update(got)
        else:
            validators.clear()
        started = time.monotonic()
        list(pool.map(lambda u: get(client, u), urls))
        return time.monotonic() - started


def parse_floor(bodies: dict[str, bytes], kinds: dict[str, str]) -> tuple[float, int]:
    """CPU seconds of the parse libraries alone on the same bytes; occurrences/items read."""
    import extruct
    import feedparser
    import icalendar
    import recurring_ical_events

    window = (datetime(2026, 12, 6, tzinfo=UTC), datetime(2028, 1, 5, tzinfo=UTC))
    started = time.process_time()
    count = 0
    for url, body in bodies.items():
        kind = kinds[url]
        if kind == "ics":
            calendar = icalendar.Calendar.from_ical(body)
            count += len(recurring_ical_events.of(calendar).between(*window))
        elif kind == "rss":
            count += len(feedparser.parse(body).entries)
        elif url.endswith("/sitemap.xml"):
            continue  # (read by lxml in a millisecond)
        elif kind == "jsonld":
            found = extruct.extract(body.decode(), base_url=url, syntaxes=["json-ld"])
            count += sum(1 for item in found["json-ld"] if item.get("@type") == "Event")
        else:
            count += len(json.loads(body)["events"])
    return time.process_time() - started, count


def run_harvest(label: str, settings: Settings) -> Measured:
    """Harvest every source once as ``agenda harvest`` does, in a fresh (spawned) process.

    Not in this process: it holds the floors' bodies and what the parse libraries left,
    and resident memory freed by Python is not always given back, so its high-water mark
    would start from there. The child's start (imports) is not counted (see
    :func:`_harvest_here`).
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_harvest_here, label, settings).result()


def _harvest_here(label: str, settings: Settings) -> Measured:
    """Harvest every source once as ``agenda harvest`` does (same wiring, same function).

    The command's start (imports, migration check) is not counted: wall time, CPU of this
    process and its crawl children, and the peak RSS of either (this process's high-water
    mark is reset first, through /proc/self/clear_refs). The crawl process is stopped at
    the end, as the command's exit stops it: every run starts its own (and its CPU is
    counted in the run).
    """
    config = wiring.load_app_config(settings)
    pipeline = wiring.pipeline(settings, config)
    engine = make_engine(settings.database_url)
    last_run = _last_run(engine)
    watch = PeakWatch()
    cpu = _cpu_now()
    started = time.monotonic()
    with watch, wiring.make_fetcher(settings) as fetcher:
        harvest(
            engine=engine,
            config=config,
            fetcher=fetcher,
            pipeline=pipeline,
            crawl_options=wiring.crawl_options(settings),
            now=NOW,
            window=wiring.harvest_window(settings, NOW),
            process_budget=settings.harvest_process_budget,
            limits=wiring.harvest_limits(settings),
        )
        shared_worker().close()
    wall, cpu = time.monotonic() - started, _cpu_now() - cpu
    with Session(engine) as session:
        runs = session.exec(select(HarvestRun).where(HarvestRun.id > last_run)).all()  # type: ignore[operator]
    engine.dispose()
    outcomes: dict[str, int] = {}
    for run in runs:
        outcomes[run.outcome] = outcomes.get(run.outcome, 0) + 1
        if run.outcome == "failed":
            print(f"  {label}: {run.source_id} failed: {run.error}")
    records = sum(run.records_seen for run in runs)
    return Measured(label, wall, cpu, watch.peak_kb / 1024, records, outcomes)


def _cpu_now() -> float:
    """CPU seconds of this process and its ended children (the crawls)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class PeakWatch:
    """The largest VmHWM of this process and its children while the block runs.

    (``ru_maxrss`` cannot be reset and carries a parent's mark into its children.)
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> PeakWatch:
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")  # reset this process's VmHWM
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, tree_peak_kb(os.getpid()))

    def _poll(self) -> None:
        while not self._done.wait(0.05):
            self.peak_kb = max(self.peak_kb, tree_peak_kb(os.getpid()))


def _last_run(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.coalesce(func.max(HarvestRun.id), 0))).one() or 0)


class Sites:
    """The sites under a folder, served by a child process (:mod:`bench.harvest_sites`)."""

    def __init__(self, server: subprocess.Popen[str]) -> None:
        assert server.stdout is not None and server.stdin is not None
        self.server = server
        self.ports: dict[str, int] = json.loads(server.stdout.readline())

    def validators(self, mode: str) -> None:
        """Make every site send validators (``all``), none, or each its own (``site``)."""
        assert self.server.stdin is not None and self.server.stdout is not None
        self.server.stdin.write(f"validators {mode}\n")
        self.server.stdin.flush()
        if self.server.stdout.readline().strip() != "ok":
            raise RuntimeError(f"the site server did not switch to validators {mode}")


@contextmanager
def serving(folder: Path) -> Iterator[Sites]:
    """The sites under ``folder`` served by a child process until the block ends."""
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.harvest_sites", str(folder)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdin is not None
    try:
        yield Sites(server)
    finally:
        server.stdin.close()
        server.wait(timeout=10)


@contextmanager
def database(backend: str, work: Path) -> Iterator[str]:
    """A fresh, migrated database: a SQLite file in ``work`` or a scratch PostgreSQL schema."""
    if backend == "sqlite":
        upgrade(f"sqlite:///{work / 'bench.sqlite'}")
        yield f"sqlite:///{work / 'bench.sqlite'}"
        return
    from bench.bench_api import postgres_schema

    with postgres_schema() as url:
        if url is None:
            raise SystemExit("PostgreSQL is not reachable (TEST_DATABASE_URL)")
        upgrade(url)
        yield url


@dataclass(slots=True)
class Report:
    """One measurement: the mix, the floors of the same run, and the harvests."""

    sources: int
    kinds: dict[str, int]
    urls: int
    megabytes: float
    items: int
    fetch: float  # wall seconds, every URL answered 200
    fetch_conditional: float  # the same URLs answered 304
    parse: float  # CPU seconds of the parse libraries
    runs: list[Measured]

    @property
    def floor(self) -> float:
        """Fetch and parse the same bytes: the floor of a full harvest."""
        return self.fetch + self.parse


def measure(count: int, args: argparse.Namespace) -> Report:
    """Generate ``count`` sources, measure the floors and the four harvests."""
    with tempfile.TemporaryDirectory(prefix="bench-harvest-") as folder:
        work = Path(folder)
        sizes = QUICK_EVENTS if args.quick else {**EVENTS, "ics": args.big} if args.big else None
        specs = build_sites(count, work / "sites", today=NOW.date(), per_source=sizes)
        specs = [s for s in specs if s.kind in args.kinds.split(",")]
        with serving(work / "sites") as sites, database(args.backend, work) as url:
            sites.validators("all")
            bases = {s.name: f"http://127.0.0.1:{sites.ports[s.name]}" for s in specs}
            _write_sources(work / "sources.yaml", specs, bases)
            urls = {u: s.kind for s in specs for u in urls_of(s, bases[s.name])}
            bodies: dict[str, bytes] = {}
            fetch_full = fetch_floor(list(urls), bodies)
            fetch_unchanged = fetch_floor(list(urls))
            parse_cpu, items = parse_floor(bodies, urls)
            env: dict[str, Any] = {
                "DATABASE_URL": url,
                "AGENDA_CONFIG": work / "sources.yaml",
                "HARVEST_CACHE_DIR": work / "http-cache",
            }
            if args.concurrency:
                env["HARVEST_CONCURRENCY"] = args.concurrency
            if args.crawl_delay is not None:
                env["HARVEST_CRAWL_DELAY"] = args.crawl_delay
            if args.big:  # the whole feed, however slow the machine: the figure is its cost
                env["HARVEST_MAX_BYTES"] = BIG_MAX_BYTES
                env["HARVEST_PROCESS_BUDGET"] = BIG_BUDGET_S
            settings = Settings(**env)
            repeat = range(max(1, args.repeat))
            runs = [run_harvest("full", settings)]
            runs.append(median_run([run_harvest("unchanged", settings) for _ in repeat]))
            if not args.big:
                sites.validators("none")
                runs.append(median_run([run_harvest("no-valid", settings) for _ in repeat]))
                sites.validators("all")
                changed = []
                for _ in repeat:  # each repeat changes the same sources once more
                    for spec in _changing(specs, 1 if args.quick else CHANGED):
                        change_site(spec, work / "sites")
                    changed.append(run_harvest("changed", settings))
                runs.append(median_run(changed))
    kinds = {k: sum(1 for s in specs if s.kind == k) for k in ("ics", "rss", "jsonld", "tribe")}
    size = sum(map(len, bodies.values())) / 1e6
    return Report(
        len(specs), kinds, len(urls), size, items, fetch_full, fetch_unchanged, parse_cpu, runs
    )


def main(argv: list[str] | None = None) -> list[Measured]:
    """Measure (one size, or the curve) and print the tables; return the runs measured."""
    parser = argparse.ArgumentParser(prog="python -m bench harvest", description=__doc__)
    parser.add_argument("--sources", type=int, default=100, help="sources (25/50/100/200)")
    parser.add_argument(
        "--curve", action="store_true", help=f"every size of {'/'.join(map(str, CURVE))}"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, help="HARVEST_CONCURRENCY (default: its)")
    parser.add_argument("--crawl-delay", type=float, help="HARVEST_CRAWL_DELAY (default: its)")
    parser.add_argument(
        "--kinds", default="ics,rss,jsonld,tribe", help="only these kinds of the mix (a part)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: one tiny iCal and one RSS source"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help=f"runs of unchanged, no-valid and changed, median shown (default {REPEAT}; quick 1)",
    )
    parser.add_argument(
        "--big",
        type=int,
        metavar="EVENTS",
        help="one iCal feed of EVENTS VEVENTs (50000: about 26 MB), full and unchanged runs",
    )
    args = parser.parse_args(argv if argv is not None else [])
    if args.repeat is None:
        args.repeat = 1 if args.quick else REPEAT
    sizes = (
        [2] if args.quick else [1] if args.big else list(CURVE) if args.curve else [args.sources]
    )
    reports = []
    for count in sizes:
        report = measure(count, args)
        print_report(report, args.backend)
        reports.append(report)
    if len(reports) > 1:
        print_curve(reports)
    return [run for report in reports for run in report.runs]


def print_report(report: Report, backend: str) -> None:
    """The mix, the floors, then one row a run (see :func:`print_table`)."""
    mix = ", ".join(f"{n} {k}" for k, n in report.kinds.items())
    print(
        f"{report.sources} sources ({mix}), {report.urls} URLs, {report.megabytes:.1f} MB, "
        f"{report.items} items; backend {backend}; load {_load()}"
    )
    print(
        f"floors: fetch at concurrency {FETCH_CONCURRENCY} {report.fetch:.2f} s "
        f"(conditional {report.fetch_conditional:.2f} s); parse libraries {report.parse:.2f} s"
        f" CPU; fetch + parse {report.floor:.2f} s"
    )
    print_table(report.runs, report.floor)


def print_curve(reports: list[Report]) -> None:
    """One line a size: records, the full run against its floor, the other runs' shares."""
    print(
        f"{'sources':>7} {'records':>8} {'floor s':>8} {'full s':>8} {'÷ floor':>8} "
        f"{'CPU s':>7} {'ms/rec':>7} {'unch.':>6} {'no-val.':>7} {'changed':>7} {'peak MB':>8}"
    )
    for report in reports:
        full, *others = report.runs
        shares = {run.label: f"{run.wall / full.wall:.0%}" for run in others}
        per_record = 1000 * full.cpu / full.records if full.records else 0.0
        print(
            f"{report.sources:7d} {full.records:8d} {report.floor:8.2f} {full.wall:8.2f} "
            f"{full.wall / report.floor:8.2f} {full.cpu:7.2f} {per_record:7.1f} "
            f"{shares.get('unchanged', '-'):>6} {shares.get('no-valid', '-'):>7} "
            f"{shares.get('changed', '-'):>7} {max(r.peak_mb for r in report.runs):8.0f}"
        )


def _load() -> str:
    """The load averages now (1, 5, 15 minutes): timings are only comparable beside them."""
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "?"


def _changing(specs: list[SiteSpec], count: int) -> list[SiteSpec]:
    """The sources the changed run changes: one of each kind first, then iCal feeds."""
    order = ("ics", "rss", "tribe", "jsonld")
    firsts: dict[str, SiteSpec] = {}
    for spec in specs:
        firsts.setdefault(spec.kind, spec)
    picked = [firsts[kind] for kind in order if kind in firsts]
    rest = [s for s in specs if s not in picked and s.kind == "ics"]
    return (picked + rest)[:count]


def _write_sources(path: Path, specs: list[SiteSpec], bases: dict[str, str]) -> None:
    entries = [
        {
            "id": spec.name,
            "name": f"Bench {spec.name}",
            "kind": spec.kind,
            "url": bases[spec.name] + START_PATH[spec.kind],
            "region": "landelijk",
            "interval": "6h",
            "relevance": "all",
        }
        for spec in specs
    ]
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")


def print_table(runs: list[Measured], floor: float) -> None:
    """One row a run: wall, CPU, peak RSS, records, ratios to the floor and the full run.

    A repeated run shows the median of its repeats (wall and CPU) and the spread of its
    wall times. ``÷ full`` compares wall times, ``CPU ÷ full`` CPU times (steadier under
    load). The goal column says whether the run meets its goal of issue 18 (the full
    run: within 3× the floor; the others: a share of the full run's wall time, on the
    median; each: peak RSS ≤ 400 MB).
    """
    full, full_cpu = runs[0].wall, runs[0].cpu
    print(
        f"{'run':<10} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'records':>8} "
        f"{'ms CPU/rec':>10} {'÷ floor':>8} {'÷ full':>7} {'CPU ÷ full':>10} {'goal':>10}  "
        "outcomes"
    )
    for run in runs:
        per_record = f"{1000 * run.cpu / run.records:.1f}" if run.records else "-"
        outcomes = ", ".join(f"{n} {o}" for o, n in sorted(run.outcomes.items()))
        if len(run.walls) > 1:
            outcomes += f"; {len(run.walls)} runs {min(run.walls):.2f}-{max(run.walls):.2f} s"
        if run.label in RUN_GOALS:
            goal, met = f"≤{RUN_GOALS[run.label]:.0%}", run.wall <= RUN_GOALS[run.label] * full
        else:
            goal, met = f"≤{FULL_GOAL:g}×", run.wall <= FULL_GOAL * floor
        met = met and run.peak_mb <= PEAK_GOAL_MB
        print(
            f"{run.label:<10} {run.wall:8.2f} {run.cpu:8.2f} {run.peak_mb:8.0f} "
            f"{run.records:8d} {per_record:>10} {run.wall / floor:8.2f} "
            f"{run.wall / full:6.0%} {run.cpu / full_cpu:10.0%} "
            f"{goal + (' ok' if met else ' no'):>10}  {outcomes}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
