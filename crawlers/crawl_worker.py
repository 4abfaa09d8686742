"""The parent's end of the long-lived crawl child process (:mod:`crawlers.crawl_child`).

One :class:`CrawlWorker` starts the child once and sends it every crawl: starting a
Scrapy process costs seconds (imports, reactor), a job on a running one milliseconds.
It is thread-safe: threads of a concurrent harvest may call :meth:`CrawlWorker.crawl` at
once; the child runs crawls of different hosts side by side. A child that dies (or is
killed after a time limit left it unresponsive) is started again by the next crawl.

The child dies with its parent: the kernel kills it when the thread that started it
ends (``PR_SET_PDEATHSIG``; a keeper thread that lives exactly as long as the child
starts it), and it leaves by itself when its stdin closes.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

READY_TIMEOUT = 120.0  # a cold start on a loaded machine takes seconds, not minutes
PING_TIMEOUT = 10.0


class WorkerFailed(Exception):
    """The crawl child could not be started (its stderr's last lines say why)."""


@dataclass(slots=True)
class CrawlRun:
    """What one crawl job gave: its items, and how it ended.

    ``timed_out``: the time limit passed (the job was cancelled); ``lost``: the child died
    before the job ended; ``error``: the crawl ended with an exception in the child.
    """

    items: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    timed_out: bool = False
    lost: bool = False
    done: threading.Event = field(default_factory=threading.Event)


@dataclass(slots=True)
class _Child:
    process: subprocess.Popen[bytes]
    stdin: IO[bytes]
    ready: threading.Event = field(default_factory=threading.Event)
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    keeper: threading.Thread | None = None

    def tail(self) -> str:
        return " | ".join(list(self.stderr)[-3:])


class CrawlWorker:
    """A long-lived crawl child process that runs many crawls; a context manager.

    ``idle_timeout``: the child is stopped after this many seconds without a crawl (its
    memory is given back; the next crawl starts it again). None keeps it until close().
    """

    def __init__(self, *, idle_timeout: float | None = 600.0) -> None:
        self.idle_timeout = idle_timeout
        self._lock = threading.RLock()
        self._write = threading.Lock()
        self._child: _Child | None = None
        self._owner = os.getpid()
        self._ids = itertools.count(1)
        self._runs: dict[int, tuple[_Child, CrawlRun]] = {}
        self._pongs: dict[int, threading.Event] = {}
        self._last_used = time.monotonic()
        self._reaper: threading.Timer | None = None
        self.starts = 0  # how many child processes this worker started

    def __enter__(self) -> CrawlWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The running child's process id, or None when no child runs."""
        child = self._child
        return child.process.pid if child is not None and child.process.poll() is None else None

    def start(self) -> int:
        """Start the child now, unless it runs (a harvest may pay the start-up early); its pid."""
        with self._lock:
            return self._running_child().process.pid

    def start_soon(self) -> None:
        """Start the child in the background (a harvest's other sources go on meanwhile)."""

        def start() -> None:
            with contextlib.suppress(WorkerFailed):  # the first crawl tries again and says why
                self.start()

        threading.Thread(target=start, name="crawl-worker-start", daemon=True).start()

    def crawl(self, job: dict[str, Any], *, timeout: float) -> CrawlRun:
        """Run one crawl job and wait for its end, at most ``timeout`` seconds.

        Past the time limit the job is cancelled in the child; if the child then does
        not answer a ping, it is killed (every other job on it ends ``lost``).
        """
        run = CrawlRun()
        with self._lock:
            child = self._running_child()
            ident = next(self._ids)
            self._runs[ident] = (child, run)
            self._send(child, {"op": "crawl", "id": ident, "job": job})
        try:
            if not run.done.wait(timeout):
                run.timed_out = True
                self._send(child, {"op": "cancel", "id": ident})
                if not self.ping(child):
                    self._kill(child)
        finally:
            with self._lock:
                self._runs.pop(ident, None)
                self._last_used = time.monotonic()
                self._schedule_reaper()
        return run

    def ping(self, child: _Child | None = None, timeout: float = PING_TIMEOUT) -> bool:
        """Whether the child's reactor answers within ``timeout`` seconds."""
        child = child or self._child
        if child is None or child.process.poll() is not None:
            return False
        answered = threading.Event()
        with self._lock:
            ident = next(self._ids)
            self._pongs[ident] = answered
        try:
            self._send(child, {"op": "ping", "id": ident})
            return answered.wait(timeout)
        finally:
            with self._lock:
                self._pongs.pop(ident, None)

    def close(self) -> None:
        """Stop the child (it leaves when its stdin closes; killed if it lingers)."""
        with self._lock:
            child, self._child = self._child, None
            if self._reaper is not None:
                self._reaper.cancel()
                self._reaper = None
        if child is None:
            return
        with contextlib.suppress(OSError):
            child.stdin.close()
        try:
            child.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._kill(child)
        if child.keeper is not None and child.keeper is not threading.current_thread():
            child.keeper.join(timeout=5)

    # the child process

    def _running_child(self) -> _Child:
        if os.getpid() != self._owner:  # forked: the child belongs to the other process
            self._child, self._owner, self._runs = None, os.getpid(), {}
        child = self._child
        if child is None or child.process.poll() is not None:
            child = self._child = self._start()
        return child

    def _start(self) -> _Child:
        started: list[_Child | BaseException] = []
        handed = threading.Event()
        keeper = threading.Thread(
            target=self._keep, args=(started, handed), name="crawl-worker", daemon=True
        )
        keeper.start()
        handed.wait()
        first = started[0]
        if isinstance(first, BaseException):
            raise WorkerFailed(f"cannot start the crawl process: {first}") from first
        child = first
        child.keeper = keeper
        if not child.ready.wait(READY_TIMEOUT) or child.process.poll() is not None:
            self._kill(child)
            raise WorkerFailed(f"the crawl process did not start: {child.tail()}")
        self.starts += 1
        return child

    def _keep(self, started: list[_Child | BaseException], handed: threading.Event) -> None:
        """Keeper thread: start the child, read its answers, notice its end."""
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "crawlers.crawl_child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                preexec_fn=_kill_me_with_parent(),
            )
        except OSError as exc:
            started.append(exc)
            handed.set()
            return
        assert process.stdin and process.stdout and process.stderr
        child = _Child(process=process, stdin=process.stdin)
        started.append(child)
        handed.set()
        threading.Thread(
            target=_drain, args=(process.stderr, child.stderr), name="crawl-stderr", daemon=True
        ).start()
        for line in process.stdout:
            self._dispatch(child, json.loads(line))
        code = process.wait()
        time.sleep(0.05)  # the stderr reader gets the last lines
        self._lost(child, code)

    def _dispatch(self, child: _Child, message: dict[str, Any]) -> None:
        if message.get("ready"):
            child.ready.set()
            return
        ident = int(message.get("id", 0))
        with self._lock:
            _, run = self._runs.get(ident, (child, None))
            pong = self._pongs.get(ident)
        if pong is not None and message.get("pong"):
            pong.set()
        elif run is not None and "item" in message:
            run.items.append(message["item"])
        elif run is not None and message.get("done"):
            run.error = message.get("error")
            run.done.set()

    def _lost(self, child: _Child, code: int) -> None:
        """The child ended: every job still waiting on it ends as lost."""
        with self._lock:
            if self._child is child:
                self._child = None
            waiting = [run for owner, run in self._runs.values() if owner is child]
        child.ready.set()
        for run in waiting:
            if run.done.is_set():
                continue
            run.lost = True
            run.error = f"crawl process ended (exit {code}): {child.tail()}"
            run.done.set()

    def _send(self, child: _Child, message: dict[str, Any]) -> None:
        data = (json.dumps(message, default=str) + "\n").encode("utf-8")
        with self._write:
            try:
                child.stdin.write(data)
                child.stdin.flush()
            except (OSError, ValueError):  # the child is gone: _lost() ends its jobs
                pass

    def _kill(self, child: _Child) -> None:
        with contextlib.suppress(OSError):
            child.process.kill()
        child.process.wait()

    def _schedule_reaper(self) -> None:
        if self.idle_timeout is None or self._runs:
            return
        if self._reaper is not None:
            self._reaper.cancel()
        self._reaper = threading.Timer(self.idle_timeout, self._reap)
        self._reaper.daemon = True
        self._reaper.start()

    def _reap(self) -> None:
        with self._lock:
            idle = time.monotonic() - self._last_used
            if self._runs or self.idle_timeout is None or idle < self.idle_timeout - 0.01:
                return
            self._reaper = None
        self.close()


def _drain(stream: IO[bytes], lines: deque[str]) -> None:
    for line in stream:
        text = line.decode("utf-8", "replace").rstrip()
        if text:
            lines.append(text)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _kill_me_with_parent() -> Callable[[], None] | None:
    """A pre-exec hook that asks the kernel to SIGKILL the child when its parent dies.

    A ``kill -9`` of the harvest gives its crawl no chance to be stopped otherwise. Linux
    only (``prctl(PR_SET_PDEATHSIG)``); None elsewhere. The library is loaded here, in the
    parent, so the hook between fork and exec only makes one system call.
    """
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


_shared: CrawlWorker | None = None
_shared_lock = threading.Lock()


def shared_worker() -> CrawlWorker:
    """The process's own crawl worker, started on first use and closed at exit."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CrawlWorker()
            atexit.register(_shared.close)
        return _shared
