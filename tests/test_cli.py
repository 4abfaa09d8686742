"""The `agenda` command in-process: usage errors exit 2, every command reads --config."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from agenda.cli import app
from config import bundled

SAMPLE = bundled("samples/nl-sample")


def test_parse_refuses_an_unknown_kind() -> None:
    result = CliRunner().invoke(app, ["parse", str(SAMPLE / "sources.yaml"), "--kind", "csv"])
    assert result.exit_code == 2 and "--kind 'csv' is not one of ics, rss" in result.output


def test_db_upgrade_takes_config(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    result = CliRunner().invoke(
        app,
        ["db", "upgrade", "--config", str(SAMPLE / "sources.yaml")],
        env={"DATABASE_URL": url},
    )
    assert result.exit_code == 0, result.output
    engine = create_engine(url)
    assert "event" in inspect(engine).get_table_names()
    engine.dispose()


def test_eval_refuses_two_different_sources_files(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "eval",
            str(SAMPLE / "labels.jsonl"),
            str(SAMPLE / "sources.yaml"),
            "--config",
            str(bundled("sources.yaml")),
        ],
    )
    assert result.exit_code == 2 and "two sources files" in result.output


def test_users_read_the_regions_of_config(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "users",
            "add",
            "e@example.org",
            "--region",
            "nergens",
            "--config",
            str(SAMPLE / "sources.yaml"),
        ],
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'u.sqlite'}",
            "AGENDA_USER_PASSWORD": "x" * 12,
        },
    )
    assert result.exit_code == 2 and "unknown region 'nergens'" in result.output
