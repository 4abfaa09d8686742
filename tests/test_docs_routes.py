"""The route tables of the README (HTTP API) and docs/web.md (pages, forms) against the app.

Every route the app serves is in one of the tables, and every path a table names exists.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import create_engine
from starlette.routing import Route

from agenda.settings import Settings
from agenda.web import create_app
from tests.conftest import config_for, write_sources

ROOT = Path(__file__).resolve().parents[1]
# FastAPI's own documentation routes
FRAMEWORK = {"/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc"}
_SPAN = re.compile(r"`(?:(?:GET|POST|HEAD) )?(/[^`?\s]*)")
_PARAM = re.compile(r"\{[^}]*\}")


def _normal(path: str) -> str:
    return _PARAM.sub("{}", path)


def table_paths(markdown: str, heading: str) -> set[str]:
    """The paths in the first column of the first table under ``heading``."""
    section = markdown.split(heading, 1)[1]
    paths: set[str] = set()
    started = False
    for line in section.splitlines():
        if line.startswith("|"):
            started = True
            first = line.split("|")[1]
            paths |= {_normal(p) for p in _SPAN.findall(first)}
        elif started:
            break
    return paths


def _api_routes(routes: list[Any]) -> list[Route]:
    """The API routes, also those of included routers (FastAPI >= 0.165 keeps an included
    router as one entry; none of them is included with an extra prefix here), and plain
    ASGI routes (the MCP endpoint)."""
    found: list[Route] = []
    for route in routes:
        if isinstance(route, APIRoute | Route):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(_api_routes(route.original_router.routes))
    return found


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bool]:
    """Every path of the assembled app, and whether it is in the OpenAPI document."""
    sources = write_sources(tmp_path_factory.mktemp("docs") / "sources.yaml", [])
    app = create_app(
        settings=Settings(), config=config_for(sources), engine=create_engine("sqlite://")
    )
    found: dict[str, bool] = {}
    for route in _api_routes(app.routes):
        if route.path not in FRAMEWORK:
            path = _normal(route.path)
            found[path] = found.get(path, False) or route.include_in_schema
    return found


def test_readme_lists_the_http_api(routes: dict[str, bool]) -> None:
    documented = table_paths((ROOT / "README.md").read_text(encoding="utf-8"), "## HTTP API")
    assert documented, "no table found under '## HTTP API'"
    in_schema = {path for path, public in routes.items() if public}
    assert sorted(in_schema - documented) == []  # served but not in the README
    assert sorted(documented - routes.keys()) == []  # in the README but not served


def test_web_docs_list_every_page_and_form(routes: dict[str, bool]) -> None:
    documented = table_paths((ROOT / "docs/web.md").read_text(encoding="utf-8"), "## Routes")
    assert documented, "no table found under '## Routes' in docs/web.md"
    pages = {path for path, public in routes.items() if not public}
    assert sorted(pages - documented) == []
    assert sorted(documented - routes.keys()) == []
