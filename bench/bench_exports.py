"""The sitemap and the open-data downloads on a large store: time, size and peak memory.

``BENCH_EXPORT_EVENTS`` synthetic events (default 20,000) in a fresh SQLite file; each
download is read as a stream. Peak memory is what Python allocated (tracemalloc) while
one download ran, which stays flat when the response is streamed; the body size is the
baseline it is compared with.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

from fastapi.testclient import TestClient

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import load_config
from aggregator.db import make_engine, upgrade
from aggregator.localtime import today_local
from bench.synthetic import SOURCES, generate
from config import bundled

EVENTS = int(os.environ.get("BENCH_EXPORT_EVENTS", "20000"))
PATHS = ("/sitemap.xml", "/data/events.jsonl", "/data/events.csv")


def _load(url: str) -> None:
    from sqlalchemy import insert

    from aggregator.models import Event, Source, SourceRecord

    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    engine = make_engine(url)
    rows = list(generate(EVENTS, regions=config.regions, today=today_local()))
    with engine.begin() as connection:
        connection.execute(
            insert(Source.__table__),  # type: ignore[attr-defined]
            [
                {"id": s, "name": n, "kind": "ics", "url": u, "region": "landelijk"}
                for s, n, u in SOURCES
            ],
        )
        for start in range(0, len(rows), 5000):
            chunk = rows[start : start + 5000]
            connection.execute(insert(Event.__table__), [e for e, _ in chunk])  # type: ignore[attr-defined]
            connection.execute(insert(SourceRecord.__table__), [r for _, r in chunk])  # type: ignore[attr-defined]
    engine.dispose()


def main() -> None:
    """Print, per download: MB, seconds, and peak Python memory in MB and as a share of it."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        upgrade(url)
        _load(url)
        config = load_config(
            bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml")
        )
        engine = make_engine(url)
        app = create_app(settings=Settings(WEB_SECRET_KEY="bench"), config=config, engine=engine)  # type: ignore[call-arg]
        print(f"{EVENTS} events")
        with TestClient(app) as client:
            for path in PATHS:
                tracemalloc.start()
                started = time.perf_counter()
                size = 0
                with client.stream("GET", path) as response:
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                took = time.perf_counter() - started
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                print(
                    f"{path}: {size / 1e6:.1f} MB in {took:.1f} s; peak Python memory "
                    f"{peak / 1e6:.1f} MB ({peak / max(size, 1):.0%} of the body)"
                )
        engine.dispose()


if __name__ == "__main__":
    main()
