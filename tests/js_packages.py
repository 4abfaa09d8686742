"""The npm packages of tests/js (independent implementations the tests check against)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

JS_DIR = Path(__file__).parent / "js"


def npm_package_problem(package: str) -> str | None:
    """None when node and ``package`` are there (``npm ci`` first if needed), else why not."""
    if shutil.which("node") is None:
        return f"node is not installed: {package} cannot run"
    if not (JS_DIR / "node_modules" / package).is_dir():
        npm = shutil.which("npm")
        if npm is None:
            return f"npm is not installed: cannot install {package}"
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=JS_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            return f"npm ci failed in tests/js: {result.stderr.strip()[:200]}"
    return None
