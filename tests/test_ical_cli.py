"""`agenda parse` on iCal files: records on stdout, problems with their line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import CliResult, run_cli

ICS = Path(__file__).parent / "data" / "ics"


def _parse(path: Path, now: str, tmp_path: Path) -> CliResult:
    return run_cli("parse", str(path), "--now", now, cwd=tmp_path)


def test_truncated_file_prints_what_it_recovered_and_where_it_broke(tmp_path: Path) -> None:
    result = _parse(ICS / "schoolbestuur-agenda-broken.ics", "2027-01-05T00:00:00+01:00", tmp_path)
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["start"] == "2027-02-10T19:30:00+01:00"
    assert "line 11" in result.stderr and "no END:VEVENT" in result.stderr


def test_file_without_usable_events_exits_1_with_one_reason(tmp_path: Path) -> None:
    result = _parse(ICS / "multiple_vcalendar_blocks_one_file.ics", "2027-01-05", tmp_path)
    assert result.returncode == 1
    assert "none of the 2 VEVENT(s) can be read" in " ".join(result.stderr.split())


def test_huge_duration_is_a_problem_line_not_a_traceback(tmp_path: Path) -> None:
    result = _parse(ICS / "huge_duration.ics", "2027-03-01T00:00:00+01:00", tmp_path)
    assert result.returncode == 0, result.stderr
    [event] = [json.loads(line) for line in result.stdout.splitlines()]
    assert event["title"] == "Informatieavond"
    assert "Traceback" not in result.stderr
    assert "line 4 (uid huge-duration@overstappunt.example)" in result.stderr
