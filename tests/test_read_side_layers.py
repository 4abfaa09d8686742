"""The publisher is one-way and stands alone: api/ and feeds/ import nothing above them,
and the forms app is an add-on the composition root installs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from api.app import create_app
from api.options import PublishOptions
from tests.conftest import config_for, write_sources

ROOT = Path(__file__).resolve().parents[1]
# what each package may not import (the layers above it)
ABOVE = {"feeds": {"api", "forms", "agenda"}, "api": {"forms", "agenda"}, "forms": {"agenda"}}


def imported_packages(path: Path) -> set[str]:
    """The top-level packages a module imports, function-local imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_no_import_reaches_up(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert modules
    upward = {
        str(path.relative_to(ROOT)): sorted(imported_packages(path) & ABOVE[package])
        for path in modules
    }
    assert {path: names for path, names in upward.items() if names} == {}


def test_the_publisher_serves_pages_without_the_forms_app(tmp_path: Path) -> None:
    options = PublishOptions(
        base_url=None, export_version_max_age=0, tile_url="", tile_attribution=""
    )
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    client = TestClient(
        create_app(options=options, config=config, engine=create_engine("sqlite://"))
    )
    page = client.get("/regio")
    assert page.status_code == 200 and "twente" in page.text
    assert 'action="/logout"' not in page.text  # no login state without the forms app
    assert client.get("/login").status_code == 404
    assert client.get("/submit").status_code == 404
