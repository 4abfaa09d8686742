"""Fetching and harvesting iCal sources from a real local HTTP server (pytest-httpserver).

Conditional GET, DTSTAMP-only changes, a moving harvest window, gzip, webcal://, redirect
and time limits, size limits. Harvest tests run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine
from sqlmodel import Session, select
from werkzeug import Request, Response

from aggregator.config import AppConfig
from aggregator.harvest import HarvestOutcome
from aggregator.models import Event, SourceRecord
from aggregator.pipeline import build_pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher, FetchError, http_url
from crawlers.records import FeedError, Window
from tests.conftest import SAMPLE_NOW, config_for, write_sources
from tests.harvesting import harvest_once

UA = "overstap-agenda-tests"

# A weekly series from 12 Jan 2027 plus one single event; DTSTAMP is the export time.
FEED = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Onderwijsregio Test//Agenda//NL\r
BEGIN:VEVENT\r
UID:reeks-1@example.nl\r
DTSTAMP:{stamp}\r
DTSTART;TZID=Europe/Amsterdam:20270112T193000\r
DTEND;TZID=Europe/Amsterdam:20270112T210000\r
RRULE:FREQ=WEEKLY;COUNT=60\r
SUMMARY:Informatieavond zij-instroom\r
LOCATION:Stationsplein 1\\, Zwolle\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:los-1@example.nl\r
DTSTAMP:{stamp}\r
DTSTART;TZID=Europe/Amsterdam:20270210T100000\r
DTEND;TZID=Europe/Amsterdam:20270210T160000\r
SUMMARY:Meeloopdag basisonderwijs\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _feed(stamp: str = "20270104T080000Z") -> bytes:
    return FEED.format(stamp=stamp).encode()


def _config(tmp_path: Path, url: str) -> AppConfig:
    sources = write_sources(
        tmp_path / "sources.yaml",
        [{"id": "remote", "name": "Remote", "kind": "ics", "url": url, "region": "regio-zwolle"}],
    )
    return config_for(sources)


def _harvest(engine: Engine, config: AppConfig, now=SAMPLE_NOW) -> HarvestOutcome:  # type: ignore[no-untyped-def]
    [outcome] = harvest_once(engine, config, now=now)
    return outcome


def _snapshot(engine: Engine) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Everything a harvest may touch in events and source records."""
    with Session(engine) as session:
        events = sorted(
            (e.id, e.title, e.start_at, e.end_at, e.sequence, e.last_modified, e.removed_at)
            for e in session.exec(select(Event))
        )
        records = sorted(
            (r.uid, r.recurrence_id, r.content_hash, r.last_seen, r.harvested_at, r.removed_at)
            for r in session.exec(select(SourceRecord))
        )
    return events, records


class ConditionalFeed:
    """A feed that answers If-None-Match / If-Modified-Since with 304, like a good server."""

    etag = '"agenda-v1"'
    modified = "Mon, 04 Jan 2027 08:00:00 GMT"

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests: list[dict[str, str]] = []

    def __call__(self, request: Request) -> Response:
        self.requests.append(dict(request.headers))
        if request.headers.get("If-None-Match") == self.etag:
            return Response(status=304, headers={"ETag": self.etag})
        return Response(
            self.body,
            content_type="text/calendar; charset=utf-8",
            headers={"ETag": self.etag, "Last-Modified": self.modified},
        )


def test_unchanged_source_costs_one_304_and_changes_nothing(
    engine: Engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = ConditionalFeed(_feed())
    httpserver.expect_request("/agenda.ics").respond_with_handler(feed)
    config = _config(tmp_path, httpserver.url_for("/agenda.ics"))
    first = _harvest(engine, config)
    assert first.outcome == "success" and first.new > 0
    before = _snapshot(engine)
    second = _harvest(engine, config)
    assert (second.outcome, second.http_status, second.bytes) == ("unchanged", 304, 0)
    assert feed.requests[1]["If-None-Match"] == feed.etag
    assert feed.requests[1]["If-Modified-Since"] == feed.modified
    assert _snapshot(engine) == before


def test_dtstamp_only_change_counts_as_unchanged(
    engine: Engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    bodies = iter([_feed("20270104T080000Z"), _feed("20270105T063000Z")])
    httpserver.expect_request("/agenda.ics").respond_with_handler(
        lambda request: Response(next(bodies), content_type="text/calendar")
    )
    config = _config(tmp_path, httpserver.url_for("/agenda.ics"))
    assert _harvest(engine, config).outcome == "success"
    before = _snapshot(engine)
    assert _harvest(engine, config).outcome == "unchanged"
    assert _snapshot(engine) == before


def test_new_window_day_reads_the_same_body_again(
    engine: Engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    feed = ConditionalFeed(_feed())
    httpserver.expect_request("/agenda.ics").respond_with_handler(feed)
    config = _config(tmp_path, httpserver.url_for("/agenda.ics"))
    first = _harvest(engine, config)
    # a week later the window reaches one more weekly occurrence: no validators are sent,
    # so the server answers 200 and the series is expanded again
    later = _harvest(engine, config, now=SAMPLE_NOW + timedelta(days=7))
    assert "If-None-Match" not in feed.requests[1]
    assert later.outcome == "success" and later.new == 1 and later.seen == first.seen + 1


def test_gzip_encoded_response_is_decoded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/agenda.ics").respond_with_data(
        gzip.compress(_feed()), headers={"Content-Encoding": "gzip"}, content_type="text/calendar"
    )
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        fetched = fetcher.fetch(httpserver.url_for("/agenda.ics"))
    assert fetched.body == _feed()
    assert "gzip" in httpserver.log[0][0].headers["Accept-Encoding"]


def test_gzip_bomb_stops_at_the_size_limit(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/bomb.ics").respond_with_data(
        gzip.compress(b"X" * 5_000_000), headers={"Content-Encoding": "gzip"}
    )
    with (
        Fetcher(user_agent=UA, timeout=5, max_bytes=100_000) as fetcher,
        pytest.raises(FeedError, match=r"limit of 100000 bytes \(HARVEST_MAX_BYTES\)"),
    ):
        fetcher.fetch(httpserver.url_for("/bomb.ics"))


def test_too_large_file_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "groot.ics"
    path.write_bytes(_feed() * 10)
    with (
        Fetcher(user_agent=UA, max_bytes=1000) as fetcher,
        pytest.raises(FeedError, match=r"over the limit of 1000 bytes \(HARVEST_MAX_BYTES\)"),
    ):
        fetcher.fetch(str(path))


def test_webcal_is_https_in_production_and_testable_over_http(httpserver: HTTPServer) -> None:
    assert http_url("webcal://example.nl/agenda.ics") == "https://example.nl/agenda.ics"
    assert http_url("WEBCAL://example.nl/a.ics", "http") == "http://example.nl/a.ics"
    httpserver.expect_request("/agenda.ics").respond_with_data(_feed())
    webcal = httpserver.url_for("/agenda.ics").replace("http://", "webcal://")
    with Fetcher(user_agent=UA, timeout=5, webcal_scheme="http") as fetcher:
        assert fetcher.fetch(webcal).body == _feed()


def test_redirects_are_followed_up_to_the_limit(httpserver: HTTPServer) -> None:
    for hop in range(6):
        httpserver.expect_request(f"/r{hop}").respond_with_data(
            "", status=302, headers={"Location": httpserver.url_for(f"/r{hop + 1}")}
        )
    httpserver.expect_request("/r6").respond_with_data(_feed())
    with Fetcher(user_agent=UA, timeout=5, max_redirects=6) as fetcher:
        fetched = fetcher.fetch(httpserver.url_for("/r0"))
        assert fetched.body == _feed() and fetched.url.endswith("/r6")
    with (
        Fetcher(user_agent=UA, timeout=5, max_redirects=3) as fetcher,
        pytest.raises(FetchError, match="too many redirects"),
    ):
        fetcher.fetch(httpserver.url_for("/r0"))


def _trickle(request: Request) -> Response:
    def chunks() -> Iterator[bytes]:
        for line in _feed().splitlines(keepends=True):
            time.sleep(0.1)  # each read is quick; the whole download is slow
            yield line

    return Response(chunks(), content_type="text/calendar")


def test_slow_server_times_out(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/stil.ics").respond_with_handler(
        lambda request: (time.sleep(1.5), Response(_feed()))[1]
    )
    httpserver.expect_request("/druppel.ics").respond_with_handler(_trickle)
    with Fetcher(user_agent=UA, timeout=0.5) as fetcher:
        for path in ("/stil.ics", "/druppel.ics"):
            started = time.monotonic()
            with pytest.raises(FetchError, match="timed out"):
                fetcher.fetch(httpserver.url_for(path))
            assert time.monotonic() - started < 1.4


def test_not_a_calendar_response_fails_the_source(
    engine: Engine, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/agenda.ics").respond_with_data(
        "<html><body>Deze pagina bestaat niet meer</body></html>", content_type="text/html"
    )
    outcome = _harvest(engine, _config(tmp_path, httpserver.url_for("/agenda.ics")))
    assert outcome.outcome == "failed" and "not an iCalendar file" in (outcome.error or "")


def _file_config(tmp_path: Path, body: bytes) -> AppConfig:
    (tmp_path / "agenda.ics").write_bytes(body)
    return _config(tmp_path, "agenda.ics")


def _titles(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(e.title for e in session.exec(select(Event)) if e.removed_at is None)


def _version(sequence: int, title: str, modified: str = "20270101T000000Z") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//NL\r\nBEGIN:VEVENT\r\n"
        "UID:versie@example.nl\r\nDTSTART;TZID=Europe/Amsterdam:20270210T190000\r\n"
        f"SEQUENCE:{sequence}\r\nLAST-MODIFIED:{modified}\r\nSUMMARY:{title}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.both_backends
def test_newer_version_replaces_and_older_never_overwrites(engine: Engine, tmp_path: Path) -> None:
    config = _file_config(tmp_path, _version(2, "Informatieavond"))
    assert _harvest(engine, config).new == 1
    (tmp_path / "agenda.ics").write_bytes(_version(1, "Oude informatieavond"))
    assert _harvest(engine, config).updated == 0
    assert _titles(engine) == ["Informatieavond"]
    (tmp_path / "agenda.ics").write_bytes(
        _version(2, "Informatieavond (verplaatst)", "20270102T000000Z")
    )
    assert _harvest(engine, config).updated == 1
    assert _titles(engine) == ["Informatieavond (verplaatst)"]


@pytest.mark.both_backends
def test_truncated_download_fails_and_keeps_what_was_stored(engine: Engine, tmp_path: Path) -> None:
    config = _file_config(tmp_path, _feed())
    first = _harvest(engine, config)
    before = _snapshot(engine)
    (tmp_path / "agenda.ics").write_bytes(_feed()[: len(_feed()) * 3 // 4])
    outcome = _harvest(engine, config)
    assert outcome.outcome == "failed" and "truncated" in (outcome.error or "")
    assert first.new > 0 and _snapshot(engine) == before


@pytest.mark.both_backends
def test_every_corpus_file_harvests_into_the_database(engine: Engine, tmp_path: Path) -> None:
    """Each file in the window of its case in test_ical_corpus: stored as the reader read it."""
    from aggregator.db import session_scope
    from aggregator.harvest import harvest_source
    from aggregator.store import sync_sources
    from tests.test_ical_corpus import CASES, ICS, _moment

    entries = [
        {
            "id": f"c{n}",
            "name": c.file,
            "kind": "ics",
            "url": str(ICS / c.file),
            "region": "landelijk",
        }
        for n, c in enumerate(CASES)
    ]
    config = config_for(write_sources(tmp_path / "sources.yaml", entries))
    with session_scope(engine) as session:
        sync_sources(session=session, sources=config.sources)
    pipeline = build_pipeline(config)
    with Fetcher(user_agent=UA, timeout=5) as fetcher:
        for case, source in zip(CASES, config.sources, strict=True):
            window = Window(_moment(case.window[0]), _moment(case.window[1]))
            outcome = harvest_source(
                engine=engine,
                source=source,
                fetcher=fetcher,
                pipeline=pipeline,
                crawl_options=CrawlOptions(user_agent=UA),
                now=window.start,
                window=window,
            )
            if case.error or not case.reversible:  # unusable, or truncated: fails, stores nothing
                assert outcome.outcome == "failed", case.file
                continue
            assert (outcome.outcome, outcome.new) == ("success", case.count), case.file
    with Session(engine) as session:
        stored = len(session.exec(select(SourceRecord)).all())
    assert stored == sum(c.count for c in CASES if not c.error and c.reversible)


@pytest.mark.parametrize("slug", ["huge_duration", "rrule_interval_zero"])
def test_pathological_event_is_a_problem_of_its_own_in_a_harvest(
    engine: Engine, tmp_path: Path, slug: str
) -> None:
    """A DURATION past the year 9999 or INTERVAL=0 costs that event, never the source."""
    from tests.test_ical_regressions import ICS

    config = _file_config(tmp_path, (ICS / f"{slug}.ics").read_bytes())
    now = SAMPLE_NOW.replace(year=2027, month=3, day=1)
    started = time.monotonic()
    outcome = _harvest(engine, config, now=now)
    assert time.monotonic() - started < 10
    expected = {"huge_duration": (1, 2), "rrule_interval_zero": (4, 0)}[slug]
    assert (outcome.outcome, outcome.new, outcome.problems) == ("success", *expected)
