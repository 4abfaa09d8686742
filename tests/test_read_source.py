"""crawlers.read.read_source: the one fetch-or-crawl-then-parse path, over a loopback server."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from pytest_httpserver import HTTPServer

from crawlers.fetch import Fetcher, Validators
from crawlers.read import TruncatedFeed, read_source, same_window_day
from crawlers.records import FeedError, Window
from crawlers.registry import KINDS, UnsupportedKind, guess_kind
from crawlers.source import SourceConfig, SourceKind
from tests.conftest import SAMPLE_NOW

DATA = Path(__file__).parent / "data"
WINDOW = Window.around(SAMPLE_NOW)
ICS = (DATA / "ics" / "schoolbestuur-agenda-broken.ics").read_bytes()


def _source(url: str, kind: str = "ics") -> SourceConfig:
    return SourceConfig(id="s", name="S", kind=kind, url=url, region="landelijk")  # type: ignore[arg-type]


def test_validators_and_fingerprint_make_a_read_unchanged(httpserver: HTTPServer) -> None:
    body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    httpserver.expect_request("/a.ics", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/a.ics").respond_with_data(body, headers={"ETag": '"v1"'})
    source = _source(httpserver.url_for("/a.ics"))
    with Fetcher(user_agent="t", timeout=5) as fetcher:
        first = read_source(source, fetcher=fetcher, now=SAMPLE_NOW, window=WINDOW)
        assert first.result is not None and first.fetched is not None
        assert first.fetched.etag == '"v1"' and same_window_day(first.fingerprint, WINDOW)
        same = read_source(
            source,
            fetcher=fetcher,
            now=SAMPLE_NOW,
            window=WINDOW,
            previous_fingerprint=first.fingerprint,
        )
        assert same.unchanged and same.http_status == 200
        not_modified = read_source(
            source, fetcher=fetcher, now=SAMPLE_NOW, window=WINDOW, validators=Validators('"v1"')
        )
        assert not_modified.unchanged and not_modified.http_status == 304


def test_a_truncated_document_fails_unless_a_preview_asks_for_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/broken.ics").respond_with_data(ICS)
    source = _source(httpserver.url_for("/broken.ics"))
    with Fetcher(user_agent="t", timeout=5) as fetcher:
        with pytest.raises(TruncatedFeed, match="nothing stored"):
            read_source(source, fetcher=fetcher, now=SAMPLE_NOW, window=WINDOW)
        preview = read_source(
            source, fetcher=fetcher, now=SAMPLE_NOW, window=WINDOW, allow_truncated=True
        )
    assert preview.result is not None and preview.result.truncated
    assert len(preview.result.events) == 1


def test_without_crawl_options_a_crawled_kind_reads_its_start_page() -> None:
    page = DATA / "html" / "schemaorg_event_microdata_offer.html"
    with Fetcher(user_agent="t", timeout=5) as fetcher:
        read = read_source(
            _source(str(page), kind="jsonld"), fetcher=fetcher, now=SAMPLE_NOW, window=WINDOW
        )
    assert read.result is not None and len(read.result.events) == 1


def test_kinds_come_from_the_one_table() -> None:
    assert set(get_args(SourceKind)) == set(KINDS)  # sources.yaml accepts exactly the table
    assert issubclass(UnsupportedKind, FeedError)
    assert guess_kind("x", b"\xef\xbb\xbfBEGIN:VCALENDAR") == "ics"
    assert guess_kind("feed.xml", b"<?xml version='1.0'?><feed xmlns='...'>") == "atom"
    assert guess_kind("agenda.json", b'{"events": []}') == "tribe"
    assert guess_kind("page", b"<!DOCTYPE html><html>") == "jsonld"
