"""Polls of an unchanged export are answered before routing; the served app starts lean."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.models import Event
from tests.conftest import config_for, write_sources

# the dialect matters (the store version each poll reads): see tests/conftest.py; all but
# the collector test, which is about the process, not the database
both_backends = pytest.mark.both_backends

EXPORTS = ["/regions/rijk-van-nijmegen.ics", "/calendar.ics", "/feeds/events.rss"]
FROM = {"from": "2027-01-01"}


@pytest.fixture
def engine(published_engine: Engine) -> Engine:
    """Every test here reads the stored events of tests/publishing_data.py."""
    return published_engine


def _client(engine: Engine, tmp_path: Path, max_age: float = 5.0) -> TestClient:
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    settings = Settings(EXPORT_VERSION_MAX_AGE=max_age)
    return TestClient(create_app(settings=settings, config=config, engine=engine))


def _refuse_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the request reached the export routes")

    monkeypatch.setattr("api.routes_calendar._export", refuse)


@both_backends
@pytest.mark.parametrize("path", EXPORTS)
def test_a_repeated_poll_is_answered_before_routing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    client = _client(engine, tmp_path)
    first = client.get(path, params=FROM)
    assert first.status_code == 200
    etag = first.headers["etag"]
    _refuse_routes(monkeypatch)
    again = client.get(path, params=FROM, headers={"If-None-Match": etag, "Origin": "https://x.nl"})
    assert again.status_code == 304
    assert again.headers["etag"] == etag and again.headers["cache-control"]
    assert again.headers["access-control-allow-origin"] == "*"  # CORS still applies
    assert again.content == b""


@both_backends
def test_anything_else_goes_on_to_the_routes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(engine, tmp_path)
    path = EXPORTS[0]
    etag = client.get(path, params=FROM).headers["etag"]
    _refuse_routes(monkeypatch)
    for params, headers in (
        ({"from": "2027-01-02"}, {"If-None-Match": etag}),  # another address
        (FROM, {"If-None-Match": '"other"'}),  # another ETag
        (FROM, {"If-None-Match": etag, "Host": "agenda.example.nl"}),  # links would differ
    ):
        with pytest.raises(AssertionError, match="reached the export routes"):
            client.get(path, params=params, headers=headers)


@both_backends
def test_a_write_is_seen_once_the_version_is_old(engine: Engine, tmp_path: Path) -> None:
    client = _client(engine, tmp_path, max_age=0.3)
    path = EXPORTS[0]
    etag = client.get(path, params=FROM).headers["etag"]
    with Session(engine) as session:
        event = session.get(Event, "ev-nijmegen-info")
        assert event is not None
        event.title = "Informatieavond (verplaatst)"
        event.sequence += 1
        session.add(event)
        session.commit()
    time.sleep(0.35)
    changed = client.get(path, params=FROM, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert b"verplaatst" in changed.content


@both_backends
def test_no_shortcut_without_a_version_max_age(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(engine, tmp_path, max_age=0)
    path = EXPORTS[0]
    etag = client.get(path, params=FROM).headers["etag"]
    _refuse_routes(monkeypatch)
    with pytest.raises(AssertionError, match="reached the export routes"):
        client.get(path, params=FROM, headers={"If-None-Match": etag})


def test_startup_moves_long_lived_objects_out_of_the_collector(
    engine: Engine, tmp_path: Path
) -> None:
    gc.unfreeze()
    try:
        with _client(engine, tmp_path):  # runs the lifespan
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


@both_backends
@pytest.mark.parametrize("path", EXPORTS)
def test_head_gives_the_headers_of_get(engine: Engine, tmp_path: Path, path: str) -> None:
    client = _client(engine, tmp_path)
    get = client.get(path, params=FROM)
    head = client.head(path, params=FROM)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-type"] == get.headers["content-type"]
    again = client.head(path, params=FROM, headers={"If-None-Match": get.headers["etag"]})
    assert again.status_code == 304
