"""The README's configuration and command tables agree with the code (like Datasette's)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from agenda.cli import app
from agenda.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
_ENV_NAME = re.compile(r"`([A-Z][A-Z0-9_]+)`")
_OPTION = re.compile(r"(--[a-z][a-z-]*)")


def _section_table(heading: str) -> list[list[str]]:
    """The rows (cells) of the first table under a ``## heading`` of the README."""
    text = README.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 2, f"no table under ## {heading}"
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def _leaf_commands(group: Any, prefix: tuple[str, ...] = ()) -> dict[str, Any]:
    """Command path -> click command, for every command that is not a group."""
    commands: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            commands.update(_leaf_commands(command, (*prefix, name)))
        else:
            commands[" ".join((*prefix, name))] = command
    return commands


def test_every_setting_is_in_the_configuration_table_and_nothing_else() -> None:
    documented = {
        name
        for _, where, *_ in _section_table("Configuration")
        for name in _ENV_NAME.findall(where)
    }
    fields = {field.alias for field in Settings.model_fields.values()}
    assert None not in fields, "every setting has its environment name as alias"
    assert fields - documented == set(), "settings missing from the README's configuration table"
    assert documented - fields == set(), "documented settings that Settings does not have"


def _documented_commands() -> dict[str, str]:
    """Command path ("users add") -> the README's usage cell."""
    commands = {}
    for usage, *_ in _section_table("Command line"):
        words = usage.strip("`").split()
        assert words[0] == "agenda", usage
        path = []
        for word in words[1:]:
            if not re.fullmatch(r"[a-z][a-z-]*", word):
                break
            path.append(word)
        commands[" ".join(path)] = usage
    return commands


def test_the_command_table_lists_every_command_of_the_cli() -> None:
    leaves = _leaf_commands(typer.main.get_command(app))
    assert set(_documented_commands()) == set(leaves)


def test_documented_options_exist_and_every_command_takes_config() -> None:
    leaves = _leaf_commands(typer.main.get_command(app))
    for path, usage in _documented_commands().items():
        options = {opt for param in leaves[path].params for opt in param.opts}
        assert set(_OPTION.findall(usage)) <= options, path
        assert "--config" in options, f"agenda {path} does not take --config"
    assert "Every command takes `--config PATH`" in README.read_text(encoding="utf-8")
