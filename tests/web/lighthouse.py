"""`make audit`'s Lighthouse run: the public samples served on loopback (with a loopback
tile server, as in production the map has tiles), Lighthouse (npm, tests/js) on Debian's
Chromium with its default mobile settings on /, a search and an event page, and the four
category scores printed (target: 95 or more each); the full reports go to
test-artifacts/lighthouse/.

Run: ``.venv/bin/python -m tests.web.lighthouse`` (exit status 1 when a score is below the
target, 2 when Lighthouse cannot run).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx

from agenda.web import create_app
from aggregator.db import make_engine, upgrade
from config import bundled
from tests.conftest import config_for, write_sources
from tests.harvesting import harvest_once
from tests.js_packages import JS_DIR, npm_package_problem
from tests.web.conftest import sample_config, web_settings
from tests.web.test_browser import CHROMIUM, _free_port, serving

CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "lighthouse"
TARGET = 95


def _tile() -> bytes:
    from tests.web.test_public_browser import _tile_png

    return _tile_png()


def _tile_server() -> str:
    """A loopback tile server answering every tile with one plain PNG."""
    body = _tile()

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Cache-Control", "public, max-age=86400")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a browser that closes a tile's connection early is no error here

    server = QuietServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"


def _sources(folder: Path) -> Path:
    sample_config(folder, bundled("samples/nl-sample"))
    shutil.copy(
        bundled("samples/nl-sample") / "ics/onderwijsregio-groningen-drenthe.ics", folder / "gd.ics"
    )
    import yaml

    entries = yaml.safe_load((folder / "sources.yaml").read_text(encoding="utf-8"))
    entries.append({"id": "gd", "name": "Groningen", "kind": "ics", "url": "gd.ics",
                    "region": "groningen-drenthe"})  # fmt: skip
    return write_sources(folder / "sources.yaml", entries)


def lighthouse(url: str, out: Path) -> dict[str, int]:
    """Lighthouse's four category scores (0-100) for one page, mobile settings."""
    command = [
        str(JS_DIR / "node_modules" / ".bin" / "lighthouse"),
        url,
        "--only-categories=" + ",".join(CATEGORIES),
        "--output=json",
        f"--output-path={out}",
        "--quiet",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
    ]
    env = {**os.environ, "CHROME_PATH": str(CHROMIUM)}
    subprocess.run(command, check=True, env=env, timeout=300, capture_output=True)
    report = json.loads(out.read_text(encoding="utf-8"))
    return {name: round(report["categories"][name]["score"] * 100) for name in CATEGORIES}


def main() -> int:
    """Serve, run Lighthouse on three pages, print the scores."""
    problem = npm_package_problem("lighthouse")
    if problem or not CHROMIUM.exists():
        print(problem or "Debian's Chromium is not installed", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="agenda-audit-") as tmp:
        folder = Path(tmp)
        config = config_for(_sources(folder))
        url = f"sqlite:///{folder / 'agenda.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        harvest_once(engine, config)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        settings = web_settings(AGENDA_BASE_URL=base, WEB_TILE_URL=_tile_server())
        app = create_app(settings=settings, config=config, engine=engine)
        with serving(app, port):
            items = httpx.get(f"{base}/api/events?from=2027-01-01&per_page=50").json()["items"]
            placed = next(e["id"] for e in items if e["location"] and e["location"]["lat"])
            pages = {
                "/": "/",
                "search": "/?q=zij-instroom&region=groningen-drenthe",
                "event": f"/events/{placed}",
            }
            low = False
            print(f"{'page':8} " + " ".join(f"{c:>15}" for c in CATEGORIES))
            for name, path in pages.items():
                REPORTS.mkdir(parents=True, exist_ok=True)
                report = REPORTS / f"{name.strip('/') or 'home'}.json"
                scores = lighthouse(base + path, report)
                low = low or min(scores.values()) < TARGET
                print(f"{name:8} " + " ".join(f"{scores[c]:>15}" for c in CATEGORIES))
        engine.dispose()
    return 1 if low else 0


if __name__ == "__main__":
    sys.exit(main())
