"""The crawl worker's child process: one Twisted reactor that runs crawl jobs as they come.

Scrapy's reactor cannot be restarted within a process, and starting a process costs
seconds; so one child keeps the reactor running and takes crawl jobs as JSON lines on
stdin (``{"op": "crawl" | "cancel" | "ping", "id": n, ...}``). Each job is its own Scrapy
``Crawler`` (its own settings, HTTP cache and downloader slots); every item, the end of
each job and the answers to pings go back as JSON lines on the output pipe
(:class:`crawlers.crawl_worker.CrawlWorker` is the other end).

Crawls of different hosts run side by side; crawls of one host run one after another,
the next one ``delay`` seconds after the previous one's last request to the site (at
once when it asked the site nothing: every answer came from the cache), so the
politeness delay holds per host across sources too. The child stops as soon as its stdin closes: the
parent closed it, or the parent is gone.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
from typing import IO, Any


def _send(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message, default=str) + "\n")
    out.flush()


class _Job:
    """One crawl job: forwards its crawler's items to the parent, tagged with the job id."""

    def __init__(self, ident: int, out: IO[str]) -> None:
        self.ident = ident
        self.out = out
        self.crawler: Any = None
        self.cancelled = False
        self.last_request: float | None = None  # monotonic end of its last request to a site

    def item_scraped(self, item: Any, **_: Any) -> None:
        _send(self.out, {"id": self.ident, "item": dict(item)})

    def request_left_downloader(self, **_: Any) -> None:
        self.last_request = time.monotonic()

    def hold(self, delay: float) -> float:
        """How long the host must wait before its next crawl."""
        if self.last_request is None:
            return 0.0
        return max(0.0, self.last_request + delay - time.monotonic())


class Jobs:
    """The jobs running in this process and the per-host order between them."""

    def __init__(self, out: IO[str]) -> None:
        from scrapy.crawler import CrawlerRunner

        self.out = out
        self.runner = CrawlerRunner({"LOG_LEVEL": "WARNING"})
        self.jobs: dict[int, _Job] = {}
        self.hosts: dict[str, Any] = {}  # host -> twisted DeferredLock

    def handle(self, message: dict[str, Any]) -> None:
        """Act on one message from the parent (called in the reactor thread)."""
        op, ident = message.get("op"), int(message.get("id", 0))
        if op == "crawl":
            self.start(ident, message["job"])
        elif op == "cancel":
            self.cancel(ident)
        elif op == "ping":
            _send(self.out, {"id": ident, "pong": True})

    def start(self, ident: int, job: dict[str, Any]) -> None:
        """Queue a crawl behind the crawls of the same host, then run it."""
        from twisted.internet import defer

        entry = self.jobs[ident] = _Job(ident, self.out)
        host = job.get("host")
        lock = self.hosts.setdefault(host, defer.DeferredLock()) if host else None
        started = lock.acquire() if lock is not None else defer.succeed(None)
        started.addCallback(lambda _: self.run(entry, job))
        started.addBoth(self.finish, entry, lock, float(job.get("delay") or 0.0))

    def run(self, entry: _Job, job: dict[str, Any]) -> Any:
        """Build the job's crawler with its own settings and start it."""
        from scrapy import signals
        from scrapy.crawler import Crawler

        from crawlers.registry import source_kind

        if entry.cancelled:
            return None
        spider_path = source_kind(job["kind"]).spider
        assert spider_path is not None  # the parent only sends crawls of crawled kinds
        module, _, name = spider_path.rpartition(".")
        spider = getattr(importlib.import_module(module), name)
        crawler = Crawler(spider, job["settings"])
        crawler.signals.connect(entry.item_scraped, signal=signals.item_scraped, weak=False)
        crawler.signals.connect(
            entry.request_left_downloader, signal=signals.request_left_downloader, weak=False
        )
        entry.crawler = crawler
        return self.runner.crawl(crawler, job=job)

    def cancel(self, ident: int) -> None:
        """Stop a job (its time limit has passed): queued, it never starts; running, it stops."""
        from scrapy.utils.defer import deferred_from_coro

        entry = self.jobs.get(ident)
        if entry is None:
            return
        entry.cancelled = True
        if entry.crawler is not None and entry.crawler.crawling:
            deferred_from_coro(entry.crawler.stop_async())

    def finish(self, result: Any, entry: _Job, lock: Any, delay: float) -> None:
        """Tell the parent the job ended; let the host's next crawl start when polite."""
        from twisted.python.failure import Failure

        reactor = _reactor()

        self.jobs.pop(entry.ident, None)
        error = None
        if isinstance(result, Failure):
            error = f"{result.type.__name__}: {result.getErrorMessage()}"
        _send(self.out, {"id": entry.ident, "done": True, "error": error})
        if lock is not None:
            reactor.callLater(entry.hold(delay), lock.release)


def _reactor() -> Any:
    """The installed Twisted reactor (typed loosely: its module attribute is a stub)."""
    from twisted.internet import reactor

    return reactor


def _read_stdin(reactor: Any, jobs: Jobs) -> None:
    """Feed the parent's messages to the reactor; leave at once when stdin closes."""
    for line in sys.stdin.buffer:
        if line.strip():
            reactor.callFromThread(jobs.handle, json.loads(line))
    os._exit(0)  # the parent closed the pipe or died: nothing is waiting for our answers


def main() -> None:
    """Run the reactor and take jobs until stdin closes."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever else prints goes to stderr, not into the answers
    from scrapy.utils.log import configure_logging
    from scrapy.utils.reactor import install_reactor

    install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
    reactor = _reactor()
    configure_logging({"LOG_LEVEL": "WARNING"})
    jobs = Jobs(out)
    threading.Thread(target=_read_stdin, args=(reactor, jobs), daemon=True).start()
    reactor.callWhenRunning(_send, out, {"ready": True, "pid": os.getpid()})
    reactor.run()


if __name__ == "__main__":
    main()
