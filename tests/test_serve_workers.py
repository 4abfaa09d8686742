"""`agenda serve --workers 2` on one PostgreSQL: two worker processes that share only the database.

The test talks to each worker over a kept-alive connection of its own and asks the kernel
which process holds the server end of that connection (``/proc``), so every request is
known to be served by worker A or worker B. A session made by one worker is honoured by
the other (the CSRF token of a form too), an event submitted through one is read through
the other, ETags agree across workers, both answer /metrics with the database's figures,
and SIGTERM to ``agenda serve`` ends every worker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from agenda.settings import Settings
from aggregator.db import make_engine, upgrade
from tests.conftest import write_sources
from tests.test_scheduler_processes import _free_port, _wait_served
from tests.web.conftest import add_user, csrf_from, event_form

pytestmark = pytest.mark.postgres

WORKERS = 2
CALENDAR = "/calendar.ics"
TITLE = "Kijkje in de klas bij De Regenboog"
EMAIL = "rap@twente.example"
PASSWORD = "correct horse battery"
# what /metrics reads from the database: the same whichever worker answers
STORE_LINE = re.compile(r"^agenda_(events|source_state|harvest_runs)\{.*$", re.MULTILINE)


def _descendants(pid: int) -> set[int]:
    """The processes below ``pid`` (uvicorn's workers and whatever it spawned with them)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # ended while we looked
            continue
        # the command name (field 2) is in parentheses and may hold spaces
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        found |= frontier
    return found


def _server_socket(port: int, client_port: int) -> str:
    """The inode of the server end of the loopback connection from ``client_port``."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        ports = (int(local.split(":")[1], 16), int(remote.split(":")[1], 16))
        if state == "01" and ports == (port, client_port):  # 01: established
            return inode
    raise AssertionError(f"no server end of the connection from port {client_port}")


def served_by(response: httpx.Response, port: int, parent: int) -> int:
    """The pid of the worker process that holds the connection ``response`` came over."""
    client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    target = f"socket:[{_server_socket(port, client_port)}]"
    for pid in _descendants(parent):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


class Worker:
    """A client whose one kept-alive connection is served by one known worker process."""

    def __init__(self, client: httpx.Client, port: int, parent: int, pid: int) -> None:
        self.client = client
        self.port = port
        self.parent = parent
        self.pid = pid

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """Send a request and check that this worker answered it (not a new connection)."""
        response = self.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        assert served_by(response, self.port, self.parent) == self.pid
        return response


def _two_workers(stack: ExitStack, base: str, port: int, parent: int) -> list[Worker]:
    """Open connections until two are served by different workers (the kernel decides)."""
    found: dict[int, Worker] = {}
    deadline = time.monotonic() + 120  # a loaded machine starts the second worker late
    while len(found) < WORKERS:
        assert time.monotonic() < deadline, f"only worker(s) {sorted(found)} answered"
        client = httpx.Client(
            base_url=base,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            timeout=30,
        )
        response = client.get("/healthz")
        assert response.status_code == 200
        pid = served_by(response, port, parent)
        if pid in found:
            client.close()
            time.sleep(0.05)
            continue
        stack.callback(client.close)
        found[pid] = Worker(client, port, parent, pid)
    return list(found.values())


def _share_cookies(source: Worker, target: Worker) -> None:
    """Give ``target`` the cookies ``source`` holds (one browser, two workers)."""
    for cookie in source.client.cookies.jar:
        target.client.cookies.jar.set_cookie(cookie)


def _titles(worker: Worker) -> list[str]:
    items = worker.request("GET", "/api/events", params={"per_page": 200}).json()["items"]
    return [item["title"] for item in items]


@pytest.fixture
def serve_workers(
    postgres_url: str, tmp_path: Path
) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """`agenda serve --workers 2` on a migrated PostgreSQL schema with a trusted submitter:
    yields (base URL, port, the `agenda serve` process); stopped by the test, else here."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    add_user(engine, EMAIL, "submitter", trusted=True, password=PASSWORD)
    engine.dispose()
    sources = [
        {
            "id": "twente",
            "name": "Twents Onderwijsnetwerk",
            "kind": "ics",
            "region": "twente",
            "url": "http://127.0.0.1:9/agenda.ics",  # `agenda serve` never harvests
        }
    ]
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "WEB_SECRET_KEY"  # unset: the workers must still share one key
    }
    env |= {
        "DATABASE_URL": postgres_url,
        "AGENDA_CONFIG": str(write_sources(tmp_path / "sources.yaml", sources)),
    }
    port = _free_port()
    command = [sys.executable, "-m", "agenda.cli", "serve", "--port", str(port)]
    command += ["--workers", str(WORKERS)]
    with (tmp_path / "serve.log").open("wb") as log:
        parent = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_served(port, parent)
        yield f"http://127.0.0.1:{port}", port, parent
    finally:
        if parent.poll() is None:
            parent.send_signal(signal.SIGTERM)
            try:
                parent.wait(timeout=30)
            except subprocess.TimeoutExpired:
                parent.kill()
                parent.wait(timeout=10)


def test_two_workers_share_only_the_database_and_stop_on_sigterm(
    serve_workers: tuple[str, int, subprocess.Popen[bytes]],
) -> None:
    base, port, parent = serve_workers
    with ExitStack() as stack:
        a, b = _two_workers(stack, base, port, parent.pid)

        assert TITLE not in _titles(a)
        first = a.request("GET", CALENDAR)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert b.request("GET", CALENDAR, headers={"If-None-Match": etag}).status_code == 304

        # log in: the form's CSRF token from B, the login itself on A
        token = csrf_from(b.request("GET", "/login").text)
        _share_cookies(b, a)
        login = a.request(
            "POST",
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token, "next": "/submit"},
            follow_redirects=False,
        )
        assert login.status_code == 303, login.text
        _share_cookies(a, b)

        # submit through B with A's session: a trusted submitter's event is live at once
        token = csrf_from(b.request("GET", "/submit").text)
        done = b.request(
            "POST", "/submit", data={**event_form(submitter_email=""), "csrf_token": token}
        )
        assert done.status_code == 200 and "Je activiteit staat direct in de agenda." in done.text

        # ... and A reads it. Once each worker's store version is older than
        # EXPORT_VERSION_MAX_AGE, the old ETag is stale on both, the new one fresh on both.
        assert TITLE in _titles(a)
        time.sleep(Settings().export_version_max_age + 0.2)
        for worker in (a, b):
            again = worker.request("GET", CALENDAR, headers={"If-None-Match": etag})
            assert again.status_code == 200 and again.headers["etag"] != etag
            assert TITLE in again.text
        fresh = again.headers["etag"]
        assert a.request("GET", CALENDAR, headers={"If-None-Match": fresh}).status_code == 304

        metrics = [w.request("GET", "/metrics").text for w in (a, b)]
        store = [sorted(line.group(0) for line in STORE_LINE.finditer(m)) for m in metrics]
        assert store[0] and store[0] == store[1]
        assert any(line.startswith("agenda_events{") for line in store[0])
        # HTTP latency is each worker's own: A answered /api/events twice, B never
        assert [_count(m, "/api/events", "200") for m in metrics] == [2, 0]

    workers = _descendants(parent.pid)
    assert len(workers) >= WORKERS
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 0
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived SIGTERM"
        time.sleep(0.1)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/healthz", timeout=2)


def _count(metrics: str, route: str, status: str) -> int:
    """The number of GET requests of ``route`` answered with ``status``, as /metrics says."""
    labels = (f'route="{route}"', 'method="GET"', f'status="{status}"')
    for line in metrics.splitlines():
        name, _, rest = line.partition("{")
        found = rest.split("}")[0].split(",")
        if name == "agenda_http_request_duration_seconds_count" and all(
            label in found for label in labels
        ):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
