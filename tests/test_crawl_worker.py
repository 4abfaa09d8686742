"""The long-lived crawl process: reused, safe from threads, per-host order, dies with its parent.

Real crawls of real loopback sites (pytest-httpserver) and of the bundled sample pages;
the process is the real ``python -m crawlers.crawl_child``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from crawlers.crawl import CrawlOptions, CrawlProcessFailed, crawl_source, warm_up
from crawlers.crawl_worker import CrawlWorker, shared_worker
from crawlers.records import ParseResult, Window
from crawlers.source import SourceConfig
from tests.conftest import SAMPLE_NOW

UA = "overstap-agenda-tests"
SAMPLE = Path(__file__).resolve().parents[1] / "config" / "samples" / "nl-sample"
LOCAL = SAMPLE / "html" / "utrechtse-lerarenacademie-agenda.html"  # 10 events


@pytest.fixture
def worker() -> CrawlWorker:
    """The test process's shared crawl process (the one every crawl test uses)."""
    return shared_worker()


def options(worker: CrawlWorker, **changes: Any) -> CrawlOptions:
    values: dict[str, Any] = {"user_agent": UA, "delay": 0.0, "retries": 0, "worker": worker}
    return CrawlOptions(**(values | changes))


def source(url: str, ident: str = "site") -> SourceConfig:
    return SourceConfig(id=ident, name=ident, kind="jsonld", url=url, region="landelijk")


def crawl(src: SourceConfig, opts: CrawlOptions) -> ParseResult:
    result, _ = crawl_source(src, now=SAMPLE_NOW, window=Window.around(SAMPLE_NOW), options=opts)
    return result


def serve_list(server: HTTPServer, prefix: str, stamps: list[tuple[str, float]]) -> None:
    """A list page below ``prefix`` with two detail pages; each request is stamped."""
    page = SAMPLE / "html" / "overstappunt" / "agenda" / "banenmarkt-onderwijs-twente.html"
    body = page.read_bytes()

    def listing(request: Request) -> Response:
        stamps.append((prefix, time.monotonic()))
        links = "".join(f'<li><a href="{prefix}/agenda/{n}.html">{n}</a></li>' for n in (1, 2))
        return Response(f"<html><body><ul>{links}</ul></body></html>", content_type="text/html")

    def detail(request: Request) -> Response:
        stamps.append((prefix, time.monotonic()))
        return Response(body, content_type="text/html")

    server.expect_request(f"{prefix}/agenda.html").respond_with_handler(listing)
    for n in (1, 2):
        server.expect_request(f"{prefix}/agenda/{n}.html").respond_with_handler(detail)


def test_one_process_serves_every_crawl_also_from_threads_that_end(worker: CrawlWorker) -> None:
    first = crawl(source(str(LOCAL)), options(worker))
    pid = worker.pid
    results: list[ParseResult] = []
    thread = threading.Thread(
        target=lambda: results.append(crawl(source(str(LOCAL)), options(worker)))
    )
    thread.start()
    thread.join()
    again = crawl(source(str(LOCAL)), options(worker))  # the thread that asked has ended
    assert len(first.events) == len(results[0].events) == len(again.events) == 10
    assert worker.pid == pid is not None


def test_sites_crawl_side_by_side_and_one_host_in_turn(worker: CrawlWorker) -> None:
    servers = [HTTPServer(host="127.0.0.1", threaded=True) for _ in range(2)]
    for server in servers:
        server.start()
    try:
        stamps: list[tuple[str, float]] = []
        serve_list(servers[0], "/a", stamps)
        serve_list(servers[0], "/b", stamps)  # the same host as /a
        serve_list(servers[1], "/c", stamps)  # another host
        srcs = [
            source(servers[0].url_for("/a/agenda.html"), "a"),
            source(servers[0].url_for("/b/agenda.html"), "b"),
            source(servers[1].url_for("/c/agenda.html"), "c"),
        ]
        delay = 0.6  # 3 requests a site: at least 1.2 s of politeness each
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda s: crawl(s, options(worker, delay=delay)), srcs))
        assert [len(r.events) for r in results] == [2, 2, 2]
        spans = {
            site: (min(t for s, t in stamps if s == site), max(t for s, t in stamps if s == site))
            for site in ("/a", "/b", "/c")
        }
        (a0, a1), (b0, b1), (c0, c1) = spans["/a"], spans["/b"], spans["/c"]
        assert a1 - a0 >= 2 * delay * 0.5 and c1 - c0 >= 2 * delay * 0.5  # delays held
        # one host: one crawl after the other, the politeness delay between them
        first, second = sorted([(a0, a1), (b0, b1)])
        assert second[0] >= first[1] + delay * 0.9
        # another host: at the same time as the first host's crawl
        assert c0 < first[1] and first[0] < c1
    finally:
        for server in servers:
            server.clear()
            server.stop()


def test_a_killed_process_fails_its_crawls_and_a_warm_up_starts_another(
    worker: CrawlWorker,
) -> None:
    arrived = threading.Event()

    def slow(request: Request) -> Response:
        arrived.set()
        time.sleep(2)
        return Response("<html></html>", content_type="text/html")

    httpserver = HTTPServer(host="127.0.0.1")  # its own: the slow answer ends after the test
    httpserver.expect_request("/agenda").respond_with_handler(slow)
    httpserver.start()
    starts = worker.starts
    errors: list[BaseException] = []

    def run() -> None:
        try:
            crawl(source(httpserver.url_for("/agenda")), options(worker, timeout=10.0))
        except Exception as exc:  # the test looks at it
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert arrived.wait(60)
    pid = worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    thread.join(30)
    assert len(errors) == 1 and isinstance(errors[0], CrawlProcessFailed)
    assert "crawl process ended" in str(errors[0])
    warm_up(options(worker))  # returns at once; the process starts in the background
    deadline = time.monotonic() + 60
    while worker.pid in (None, pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(crawl(source(str(LOCAL)), options(worker)).events) == 10
    assert worker.pid not in (None, pid) and worker.starts == starts + 1
    httpserver.clear()
    httpserver.stop()


def test_the_crawl_process_dies_with_its_parent(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import time
        from crawlers.crawl_worker import CrawlWorker  # only what starting the child needs
        print(CrawlWorker().start(), flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(child, 0)  # running
        parent.kill()  # kill -9: no chance to close anything
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False
