"""The page audit every page test uses: axe-core in the browser and the Nu HTML checker.

- ``assert_axe_clean(page)`` runs axe-core (npm ``axe-core`` in tests/js) inside a
  Playwright page, with the WCAG 2.0/2.1 A and AA rules, and fails listing each violation
  (rule, impact, the first elements). The script goes in through the DevTools protocol, so
  the page's Content-Security-Policy (no inline script) does not block it.
- ``assert_nu_clean(html)`` sends a document to the Nu HTML checker (npm ``vnu-jar``, run
  with java as a server on a loopback port, started once per test process and stopped
  when the process ends) and fails listing each error with its line and extract.

Both skip the test with the reason when node, npm's packages or java are missing.
"""

from __future__ import annotations

import atexit
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.js_packages import JS_DIR, npm_package_problem

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_AXE_RUN = """async (tags) => {
  const result = await window.axe.run(document, {
    runOnly: {type: "tag", values: tags},
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " :: " + n.failureSummary),
  }));
}"""


@cache
def _axe_source() -> str:
    problem = npm_package_problem("axe-core")
    if problem:
        pytest.skip(problem)
    return (JS_DIR / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Any, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """The axe-core violations of the page as it is now (WCAG 2.1 AA rules by default)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())  # Runtime.evaluate: not subject to the page's CSP
    return list(page.evaluate(_AXE_RUN, tags or WCAG_TAGS))


def assert_axe_clean(page: Any, tags: list[str] | None = None) -> None:
    """Fail when axe-core finds any WCAG 2.1 A/AA violation on the page as it is now."""
    violations = axe_violations(page, tags)
    lines = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    ]
    assert not violations, f"axe-core on {page.url}:\n" + "\n".join(lines)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NuServer:
    """The Nu HTML checker as a loopback HTTP service (one JVM start for all documents)."""

    def __init__(self, jar: Path, java: str) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [
                java,
                "-Xss8m",
                "-Xmx512m",
                "-XX:TieredStopAtLevel=1",  # quick start, no C2 compiler threads
                "-XX:+UseSerialGC",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(jar),
                "nu.validator.servlet.Main",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Nu HTML checker exited with {self.process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("the Nu HTML checker did not start within 90 s")

    def check(self, html: str) -> list[dict[str, Any]]:
        """The checker's messages for one document."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/?out=json",
            data=html.encode("utf-8"),
            headers={"Content-Type": "text/html; charset=utf-8"},
            method="POST",
        )
        for attempt in range(20):  # the servlet may still be warming up after the port opens
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return list(json.loads(response.read())["messages"])
            except (urllib.error.URLError, ConnectionError):
                if attempt == 19:
                    raise
                time.sleep(0.5)
        return []

    def stop(self) -> None:
        """End the checker's process."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@cache
def _nu_server() -> _NuServer:
    java = shutil.which("java")
    if java is None:
        pytest.skip("java is not installed: the Nu HTML checker cannot run")
    problem = npm_package_problem("vnu-jar")
    if problem:
        pytest.skip(problem)
    return _NuServer(JS_DIR / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar", java)


def nu_errors(html: str) -> list[dict[str, Any]]:
    """The Nu HTML checker's errors (not warnings or info) for one HTML document."""
    messages = _nu_server().check(html)
    return [m for m in messages if m.get("type") in ("error", "non-document-error")]


def assert_nu_clean(html: str, name: str = "the page") -> None:
    """Fail when the Nu HTML checker reports any error for the document."""
    errors = nu_errors(html)
    lines = [
        f"line {e.get('lastLine', '?')}: {e.get('message')}\n    {e.get('extract', '').strip()}"
        for e in errors
    ]
    assert not errors, f"Nu HTML checker on {name}:\n" + "\n".join(lines)
