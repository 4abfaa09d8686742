"""X-Forwarded-For is believed only from AGENDA_TRUSTED_PROXIES (real uvicorn on loopback)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from agenda.cli import proxy_options
from agenda.settings import Settings
from tests.web.test_browser import _free_port, _wait_for


async def echo_client(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that answers with the client address uvicorn decided on."""
    if scope["type"] != "http":
        return
    body = (scope.get("client") or ("?", 0))[0].encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@contextmanager
def served(settings: Settings) -> Iterator[str]:
    """uvicorn with the options `agenda serve` gives it, in a thread."""
    port = _free_port()
    config = uvicorn.Config(
        echo_client, host="127.0.0.1", port=port, log_level="warning", **proxy_options(settings)
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for(port)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "trusted,seen", [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.7"), ("10.0.0.1", "127.0.0.1")]
)
def test_forwarded_addresses_count_only_from_trusted_proxies(trusted: str, seen: str) -> None:
    settings = Settings(AGENDA_TRUSTED_PROXIES=trusted)  # type: ignore[call-arg]
    with served(settings) as url:
        answer = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.text == seen
