"""A loopback HTTP server whose answers a test sets per path, with a log of every request.

For the scheduler's tests: many feeds on one server, a feed that changes between
harvests, a 429 with Retry-After, a 500; ``hits`` tells when each path was fetched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Answer:
    """What the server sends for a path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/calendar; charset=utf-8"
    delay: float = 0.0  # seconds before answering (a slow source)


class FeedServer:
    """The server's state: answers by path and the request log."""

    def __init__(self) -> None:
        self.answers: dict[str, Answer] = {}
        self.hits: list[tuple[str, float]] = []  # (path, time.time())
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests answered at once
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True

    def url(self, path: str) -> str:
        """The full URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def set(self, path: str, answer: Answer) -> None:
        """Answer ``path`` with ``answer`` from now on."""
        with self._lock:
            self.answers[path] = answer

    def hits_of(self, path: str) -> list[float]:
        """When ``path`` was requested."""
        with self._lock:
            return [at for hit, at in self.hits if hit == path]

    def _answer(self, path: str) -> Answer:
        with self._lock:
            self.hits.append((path, time.time()))
            return self.answers.get(path, Answer(b"not here", status=404))


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            answer = server._answer(urlsplit(self.path).path)
            with server._lock:
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                time.sleep(answer.delay)
                self._send(answer)
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _send(self, answer: Answer) -> None:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    return Handler


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    """A running FeedServer on a free loopback port."""
    server = FeedServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
