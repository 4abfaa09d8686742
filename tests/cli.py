"""Run the `agenda` command inside the test process: its exit status, stdout and stderr.

A child process costs seconds of imports per call on a small machine; the command's own
code is the same either way. A few tests still start the real console script (see
tests/test_foundation.py) so the entry point itself stays covered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from agenda.cli import app


@dataclass(frozen=True)
class CliResult:
    """What a run of the command left: named as on ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path, env: Mapping[str, str | None] | None = None) -> CliResult:
    """Run ``agenda ARGS`` in ``cwd`` with these environment changes (None removes a variable).

    Exceptions the command does not handle propagate, so a bug fails the test with its
    traceback rather than as an unexpected exit status.
    """
    runner = CliRunner()
    with contextlib.chdir(cwd):
        result = runner.invoke(app, list(args), env=dict(env or {}), catch_exceptions=False)
    return CliResult(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)
