"""Bounds on concurrent harvesting: sources at once overall, crawls at once, and per host.

One :class:`HarvestLimits` is shared by every caller of a process (``agenda harvest``, the
scheduler's jobs), so the bounds hold across them: different sites are read in parallel,
while one site never sees more than ``per_host`` of its sources read at a time. Crawled
sources have slots of their own (``crawls``): a crawl spends most of its time waiting for
the politeness delay of its site in the crawl process, and must not keep the feeds, which
need the CPU, waiting for a slot.
Also here: the write lock that keeps the harvest's write transactions on one database one
at a time (SQLite has a single writer; a deferred transaction that read before another
connection wrote would fail with "database is locked" instead of waiting).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import Engine

from crawlers.fetch import http_url, is_remote
from crawlers.source import SourceConfig

DEFAULT_CONCURRENCY = 8
DEFAULT_PER_HOST = 1
DEFAULT_CRAWLS = 16  # a crawl mostly waits on its site's delay: 16 sites at once cost little CPU

T = TypeVar("T")


def host_key(source: SourceConfig) -> str | None:
    """The site a source is read from (host and port, lower case); None for local files."""
    location = source.resolved_url()
    if not is_remote(location):
        return None
    parts = urlsplit(http_url(location))
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


@dataclass
class HarvestLimits:
    """At once: ``concurrency`` fetched sources, ``crawls`` crawled ones, ``per_host`` a site."""

    concurrency: int = DEFAULT_CONCURRENCY
    per_host: int = DEFAULT_PER_HOST
    crawls: int = DEFAULT_CRAWLS
    _busy: int = field(default=0, init=False, repr=False)
    _crawling: int = field(default=0, init=False, repr=False)
    _hosts: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _changed: threading.Condition = field(
        default_factory=threading.Condition, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host < 1 or self.crawls < 1:
            raise ValueError("harvest limits must be at least 1")

    def _free(self, host: str | None, crawl: bool) -> bool:
        if (self._crawling >= self.crawls) if crawl else (self._busy >= self.concurrency):
            return False
        return host is None or self._hosts.get(host, 0) < self.per_host

    def take_first(
        self,
        waiting: list[T],
        host_of: Callable[[T], str | None],
        *,
        eligible: Callable[[T], bool] = lambda _: True,
        stop: Callable[[], bool] = lambda: False,
        crawled: Callable[[T], bool] = lambda _: False,
    ) -> T | None:
        """Block until one of ``waiting`` may start; take its slot, remove and return it.

        The first eligible item (in list order) whose host has room wins, in a crawl slot
        when ``crawled(item)``; every caller sharing ``waiting`` uses this object, whose
        lock guards the list. Returns None when ``waiting`` is empty or ``stop()`` is true.
        Give the slot back with :meth:`release`.
        """
        with self._changed:
            while True:
                if stop() or not waiting:
                    return None
                for item in waiting:
                    host, crawl = host_of(item), crawled(item)
                    if eligible(item) and self._free(host, crawl):
                        if crawl:
                            self._crawling += 1
                        else:
                            self._busy += 1
                        if host is not None:
                            self._hosts[host] = self._hosts.get(host, 0) + 1
                        waiting.remove(item)
                        return item
                self._changed.wait(timeout=0.5)

    def release(self, host: str | None, *, crawl: bool = False) -> None:
        """Give back a slot taken by :meth:`take_first` for a source of ``host``."""
        with self._changed:
            if crawl:
                self._crawling -= 1
            else:
                self._busy -= 1
            if host is not None:
                left = self._hosts.get(host, 0) - 1
                if left > 0:
                    self._hosts[host] = left
                else:
                    self._hosts.pop(host, None)
            self._changed.notify_all()

    def wake(self) -> None:
        """Let waiting callers look at their candidates again (they changed)."""
        with self._changed:
            self._changed.notify_all()


_write_locks: weakref.WeakKeyDictionary[Engine, threading.RLock] = weakref.WeakKeyDictionary()
_write_locks_guard = threading.Lock()


def write_lock(engine: Engine) -> threading.RLock:
    """The lock every harvest write transaction on ``engine`` holds (one writer at a time)."""
    with _write_locks_guard:
        lock = _write_locks.get(engine)
        if lock is None:
            lock = _write_locks[engine] = threading.RLock()
        return lock
