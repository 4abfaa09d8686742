"""The harvest benchmark's quick mode as a smoke test: its four runs do what they say."""

from __future__ import annotations

import pytest

from bench import bench_harvest


def test_quick_bench_runs_full_unchanged_and_changed(capsys: pytest.CaptureFixture[str]) -> None:
    full, unchanged, no_validators, changed = bench_harvest.main(["--quick"])
    assert full.outcomes == {"success": 2} and full.records > 0
    assert unchanged.outcomes == {"unchanged": 2}  # 304s
    assert no_validators.outcomes == {"unchanged": 2}  # the same bytes again
    assert changed.outcomes == {"success": 1, "unchanged": 1}
    assert min(full.wall, full.cpu, full.peak_mb) > 0
    printed = capsys.readouterr().out
    assert "floors: fetch at concurrency 8" in printed and "; load " in printed
    rows = [line.split() for line in printed.splitlines()[-4:]]
    assert [row[0] for row in rows] == ["full", "unchanged", "no-valid", "changed"]
    assert all(row[10] in ("ok", "no") for row in rows)  # each row's goal, met or not
