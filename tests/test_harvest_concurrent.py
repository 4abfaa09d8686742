"""Concurrent harvest: the same result as one source after another, within the limits.

The bundled sample feeds are served by two loopback servers (two sites), each request
held back so that reads overlap and finish in the reverse of the configured order; the
bundled list+detail and The Events Calendar samples are crawled between them (they take
crawl slots of their own, and start before the feeds in front of them). The same two
harvests (the first, then one after a feed changed) go one source at a time (limits 1)
into one database and concurrently into another; events, ids, records, history and the
runs' outcomes must be equal, and no site may see more requests at once than allowed.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.db import make_engine
from aggregator.harvest import harvest
from aggregator.harvest_limits import HarvestLimits, host_key
from aggregator.models import Event, HarvestRun, Source, SourceRecord
from aggregator.pipeline import build_pipeline
from config import bundled
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from crawlers.source import SourceConfig
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.harvesting import UA

UTRECHT = "samples/nl-sample/ics/onderwijsregio-utrecht-amersfoort"


class Gauge:
    """Requests in flight, and the most there were at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        """A request came in."""
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        """A request was answered."""
        with self.lock:
            self.now -= 1


class Site:
    """A loopback site serving files of a folder with ETags, each answer held back.

    ``GET /<milliseconds>/<path>`` answers after that delay; ``gauge`` counts this site's
    requests in flight, ``shared`` (if given) those of every site holding it.
    """

    def __init__(self, folder: Path, shared: Gauge | None = None) -> None:
        self.gauge = Gauge()
        gauges = [self.gauge] if shared is None else [self.gauge, shared]

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                for gauge in gauges:
                    gauge.enter()
                try:
                    delay, _, name = self.path.lstrip("/").partition("/")
                    time.sleep(int(delay) / 1000)
                    body = (folder / name).read_bytes()
                    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        self.send_response(304)
                        self.send_header("ETag", etag)
                        self.end_headers()
                        return
                    self.send_response(200)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    for gauge in gauges:
                        gauge.leave()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def serving(folder: Path, count: int, shared: Gauge | None = None) -> Iterator[list[Site]]:
    """``count`` :class:`Site` s on loopback (different ports) for the duration of the block."""
    sites = [Site(folder, shared) for _ in range(count)]
    threads = [threading.Thread(target=s.server.serve_forever, daemon=True) for s in sites]
    for thread in threads:
        thread.start()
    try:
        yield sites
    finally:
        for site in sites:
            site.server.shutdown()
            site.server.server_close()


def sample_entries(sites: list[Site], folder: Path) -> list[dict[str, Any]]:
    """The bundled iCal and RSS sources on the sites (in turn), earlier ones slower.

    Utrecht starts at its previous version (v1). The bundled jsonld and tribe sources stay
    in their places, crawled from the bundled files.
    """
    entries = yaml.safe_load(bundled("sources.yaml").read_text(encoding="utf-8"))
    kept = [e for e in entries if e["kind"] in {"ics", "rss", "jsonld", "tribe"}]
    for entry in kept:
        if entry["kind"] in {"jsonld", "tribe"}:
            entry["url"] = str(bundled(entry["url"]))
    feeds = [e for e in kept if e["kind"] in {"ics", "rss"}]
    for position, entry in enumerate(feeds):
        name = Path(entry["url"]).name
        if entry["url"].startswith(UTRECHT):
            name = "utrecht.ics"
            shutil.copy(bundled(f"{UTRECHT}.v1.ics"), folder / name)
        else:
            shutil.copy(bundled(entry["url"]), folder / name)
        delay = 60 * (len(feeds) - position)
        entry["url"] = f"{sites[position % len(sites)].url}/{delay}/{name}"
    return kept


def harvest_with(engine: Engine, sources: Path, limits: HarvestLimits) -> list[tuple[Any, ...]]:
    """Harvest every source of the file once; return (source, outcome, counts) per source."""
    config = config_for(sources)
    with Fetcher(user_agent=UA, timeout=10) as fetcher:
        outcomes = harvest(
            engine=engine,
            config=config,
            fetcher=fetcher,
            pipeline=build_pipeline(config),
            crawl_options=CrawlOptions(user_agent=UA),
            now=SAMPLE_NOW,
            window=Window.around(SAMPLE_NOW),
            limits=limits,
        )
    return [(o.source_id, o.outcome, o.seen, o.new, o.updated, o.removed) for o in outcomes]


def snapshot(engine: Engine) -> dict[str, list[Any]]:
    """Everything a harvest writes, but the wall-clock times and ids of its runs."""
    with Session(engine) as session:
        events = session.exec(select(Event).order_by(Event.id)).all()  # type: ignore[arg-type]
        records = session.exec(select(SourceRecord).order_by(SourceRecord.id)).all()  # type: ignore[arg-type]
        sources = session.exec(select(Source).order_by(Source.id)).all()  # type: ignore[arg-type]
        runs = session.exec(select(HarvestRun).order_by(HarvestRun.id)).all()  # type: ignore[arg-type]
        wall_clock = {"last_attempt_at", "last_success_at", "last_error_at", "next_run_at"}
        run_fields = ["source_id", "outcome", "http_status", "bytes", "records_seen"]
        run_fields += ["records_new", "records_updated", "records_removed", "records_skipped"]
        return {
            "events": [e.model_dump() for e in events],
            "records": [r.model_dump() for r in records],
            "sources": [s.model_dump(exclude=wall_clock) for s in sources],
            "runs": sorted(tuple(str(getattr(r, f)) for f in (*run_fields, "error")) for r in runs),
        }


@pytest.mark.both_backends
def test_concurrent_harvest_equals_sequential(
    database_copy: Callable[..., str], tmp_path: Path
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    with serving(folder, 2) as sites:
        entries = sample_entries(sites, folder)
        sources = write_sources(tmp_path / "sources.yaml", entries)
        engines = {
            "sequential": (make_engine(database_copy()), HarvestLimits(concurrency=1, crawls=1)),
            "concurrent": (make_engine(database_copy()), HarvestLimits(concurrency=8)),
        }
        rounds: dict[str, list[list[tuple[Any, ...]]]] = {name: [] for name in engines}
        try:
            for version in ("v1", "v2"):
                shutil.copy(bundled(f"{UTRECHT}.{version}.ics"), folder / "utrecht.ics")
                for name, (engine, limits) in engines.items():
                    rounds[name].append(harvest_with(engine, sources, limits))
            sequential, concurrent = (snapshot(engine) for engine, _ in engines.values())
        finally:
            for engine, _ in engines.values():
                engine.dispose()
    assert [site.gauge.most for site in sites] == [1, 1]  # one request at a time per site
    assert rounds["concurrent"] == rounds["sequential"]
    first_round, second_round = rounds["sequential"]
    crawled = {e["id"] for e in entries if e["kind"] in {"jsonld", "tribe"}}
    assert len(crawled) >= 2 and crawled <= {source for source, *_ in first_round}
    assert all(outcome == "success" for _, outcome, *_ in first_round)
    assert {outcome for _, outcome, *_ in second_round} == {"success", "unchanged"}
    assert any(updated for *_, updated, _ in second_round)  # v1 -> v2 changed events
    assert sequential["events"] and any(e["sequence"] > 0 for e in sequential["events"])
    assert len({r["event_id"] for r in sequential["records"]}) < len(sequential["records"])
    for part in ("events", "records", "sources", "runs"):
        assert concurrent[part] == sequential[part], part


@pytest.mark.parametrize(("concurrency", "per_host", "most"), [(2, 2, 2), (8, 1, 3)])
def test_sites_are_read_in_parallel_within_the_limits(
    database_copy: Callable[..., str], tmp_path: Path, concurrency: int, per_host: int, most: int
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "feed.ics").write_bytes(bundled(f"{UTRECHT}.v2.ics").read_bytes())
    engine = make_engine(database_copy())
    everywhere = Gauge()
    try:
        with serving(folder, 3, everywhere) as sites:
            entries = [
                {
                    "id": f"bron-{n}",
                    "name": f"Bron {n}",
                    "kind": "ics",
                    "url": f"{site.url}/500/feed.ics",
                    "region": "regio-utrecht",
                }
                for n, site in enumerate(sites * 3)
            ]
            sources = write_sources(tmp_path / "sources.yaml", entries)
            limits = HarvestLimits(concurrency=concurrency, per_host=per_host)
            outcomes = harvest_with(engine, sources, limits)
        assert [o[1] for o in outcomes] == ["success"] * 9
        assert [o[0] for o in outcomes] == [e["id"] for e in entries]  # in configured order
        assert max(site.gauge.most for site in sites) <= per_host
        assert everywhere.most == most  # parallel, up to the global bound and no further
    finally:
        engine.dispose()


def test_host_key_names_the_site() -> None:
    def key(url: str) -> str | None:
        return host_key(SourceConfig(id="x", name="x", kind="ics", url=url, region="landelijk"))

    assert key("https://Agenda.Example.nl/a.ics") == "agenda.example.nl"
    assert key("webcal://agenda.example.nl:8443/a.ics") == "agenda.example.nl:8443"
    assert key("http://127.0.0.1:8001/x") != key("http://127.0.0.1:8002/x")
    assert key("/srv/feeds/a.ics") is None
