"""The publisher stands alone: the forms app is an add-on the composition root installs
(that no import points up or around is tests/test_layers.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.options import PublishOptions
from tests.conftest import config_for, write_sources


def test_the_publisher_serves_pages_without_the_forms_app(tmp_path: Path, engine: Engine) -> None:
    options = PublishOptions(
        base_url=None, export_version_max_age=0, tile_url="", tile_attribution=""
    )
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    client = TestClient(create_app(options=options, config=config, engine=engine))
    page = client.get("/regio")
    assert page.status_code == 200 and "twente" in page.text
    assert 'action="/logout"' not in page.text  # no login state without the forms app
    assert client.get("/login").status_code == 404
    assert client.get("/submit").status_code == 404
