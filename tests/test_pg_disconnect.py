"""After PostgreSQL ends the pool's connections, one request fails, not one per connection."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from agenda.web import create_app
from aggregator.db import make_engine, upgrade
from config import bundled
from tests.conftest import PG_URL
from tests.web.conftest import sample_config, web_settings

pytestmark = pytest.mark.postgres
POOLED = 8
ROUTES = ["/api/events", "/calendar.ics", "/", "/feeds/events.rss"]  # every reader of the store


def test_terminated_backends_cost_at_most_one_request(postgres_url: str, tmp_path: Path) -> None:
    upgrade(postgres_url)
    # every reused connection counts as idle here: the backends are ended right away
    engine = make_engine(postgres_url, ping_idle_after=0.0)
    config = sample_config(tmp_path, bundled("samples/nl-sample"))
    app = create_app(settings=web_settings(), config=config, engine=engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/api/events").status_code == 200
        with ExitStack() as stack:  # fill the pool with several open connections
            connections = [stack.enter_context(engine.connect()) for _ in range(POOLED)]
            pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in connections]
        admin = create_engine(PG_URL)
        with admin.begin() as connection:  # only our own backends: others share the server
            for pid in pids:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()
        with ThreadPoolExecutor(max_workers=POOLED) as pool:  # as many as the pool holds
            statuses = list(pool.map(lambda i: client.get(ROUTES[i % 4]).status_code, range(20)))
    engine.dispose()
    assert statuses.count(200) >= 19, statuses
    assert set(statuses) <= {200, 500}, statuses
