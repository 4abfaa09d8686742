"""iCal subscriptions: RFC 5545 validity, client quirks, round trips, ETag/304, gzip, removals."""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from agenda.settings import Settings
from agenda.web import create_app
from aggregator import query
from aggregator.models import Event, Source
from crawlers.ical import parse as parse_ics
from crawlers.records import Window
from crawlers.source import SourceConfig
from feeds.ical_export import CANCELLED_PREFIX, event_uid
from tests.conftest import config_for, write_sources
from tests.publishing_data import Spec, build_event
from tests.validators.ical_checks import ical_js_problem

JS_DIR = Path(__file__).parent / "js"
FROM = {"from": "2027-01-01"}


@pytest.fixture
def engine(published_engine: Engine) -> Engine:
    """Every test here reads the stored events of tests/publishing_data.py."""
    return published_engine


@pytest.fixture
def client(published_client) -> TestClient:  # type: ignore[no-untyped-def]
    """The app on the publishing data (shared by the tests that only read)."""
    return published_client(Settings(AGENDA_BASE_URL="https://agenda.example"))


def api_items(client: TestClient, **params) -> dict[str, dict]:  # type: ignore[no-untyped-def,type-arg]
    body = client.get("/api/events", params={"per_page": 200, **FROM, **params}).json()
    return {item["id"]: item for item in body["items"]}


def vevents(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(v["UID"]).split("@")[0]: v for v in calendar.walk("VEVENT")}


def _value(prop) -> str | None:  # type: ignore[no-untyped-def]
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime):
        return value.isoformat()
    return value.isoformat()


def test_export_round_trips_to_the_api(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/calendar.ics", params=FROM)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    exported = vevents(response.content)
    items = api_items(client)
    # every API event, plus the event removed at its source (kept as cancelled)
    assert set(exported) == set(items) | {"ev-nijmegen-removed"}
    for event_id, item in items.items():
        vevent = exported[event_id]
        summary = str(vevent["SUMMARY"])
        if item["status"] == "cancelled":
            assert summary == CANCELLED_PREFIX + item["title"]
            assert vevent["STATUS"] == "CANCELLED"
        else:
            assert summary == item["title"]
        start = vevent["DTSTART"].dt
        if item["all_day"]:
            assert isinstance(start, date) and not isinstance(start, datetime)
            assert start.isoformat() == item["start"]
            assert vevent["DTEND"].dt.isoformat() == item["end"]
        else:
            assert start == datetime.fromisoformat(item["start"])
            assert str(start.tzinfo) == "Europe/Amsterdam"
            assert vevent["DTEND"].dt == datetime.fromisoformat(item["end"])
        assert str(vevent["URL"]) == f"https://agenda.example/events/{event_id}"
        assert int(vevent["SEQUENCE"]) == item["sequence"]
        assert vevent["LAST-MODIFIED"].dt == datetime.fromisoformat(item["last_modified"])
        description = str(vevent.get("DESCRIPTION", ""))
        assert "Bron: " in description
        assert item["sources"][0]["url"] in description
        if item["location"] and item["location"]["city"]:
            assert item["location"]["city"] in str(vevent["LOCATION"])
        if item["location"] and item["location"]["lat"] is not None:
            assert vevent["GEO"].latitude == pytest.approx(item["location"]["lat"])


def test_export_reimported_by_the_ical_reader_gives_the_same_events(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/calendar.ics", params=FROM).content
    source = SourceConfig(
        id="reimport", name="Reimport", kind="ics", url="x.ics", region="landelijk"
    )
    now = datetime(2027, 1, 5, tzinfo=UTC)
    result = parse_ics(body, source, now=now, window=Window.around(now))
    assert not result.problems
    items = api_items(client)
    records = {r.uid.split("@")[0]: r for r in result.events}
    assert set(records) >= set(items)
    for event_id, item in items.items():
        record = records[event_id]
        expected_title = item["title"]
        if item["status"] == "cancelled":
            expected_title = CANCELLED_PREFIX + expected_title
            assert record.status == "cancelled"
        assert record.title == expected_title
        start = record.start.isoformat()
        assert start == item["start"] or datetime.fromisoformat(start) == datetime.fromisoformat(
            item["start"]
        )
        assert (record.description or "").startswith(item["description"].split("\n")[0])


def test_rfc5545_and_client_quirks(client) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/calendar.ics", params=FROM).content
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b""), "bare LF"
    assert all(len(line) <= 75 for line in lines), "line longer than 75 octets"
    for line in lines:
        line.decode("utf-8")  # folding never splits a UTF-8 sequence
    text = body.decode()
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    # every TZID used has its VTIMEZONE
    used = set(re.findall(r";TZID=([^:;]+)[:;]", unfolded))
    defined = {line[5:] for line in unfolded.split("\r\n") if line.startswith("TZID:")}
    assert used and used <= defined
    for name in (
        "X-WR-CALNAME:Overstap Agenda",
        "X-WR-CALDESC:",
        "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
        "X-PUBLISHED-TTL:PT6H",
        "VERSION:2.0",
        "PRODID:",
    ):
        assert f"\r\n{name}" in unfolded, name
    # not an iTIP message: METHOD would oblige an ORGANIZER on every VEVENT (RFC 5546)
    assert "\r\nMETHOD:" not in unfolded
    calendar = icalendar.Calendar.from_ical(body)
    for vevent in calendar.walk("VEVENT"):
        for required in ("UID", "DTSTAMP", "DTSTART", "SEQUENCE", "LAST-MODIFIED", "SUMMARY"):
            assert required in vevent, required
        assert vevent["DTSTAMP"].dt.tzinfo is not None
        assert vevent["DTSTAMP"].to_ical().endswith(b"Z")
        assert "<" not in str(vevent.get("DESCRIPTION", "")), "HTML in DESCRIPTION"
    # escaped commas, semicolons and newlines in the raw text
    blocks = {
        re.search(r"\r\nUID:([^@]+)@", block)[1]: block  # type: ignore[index]
        for block in unfolded.split("BEGIN:VEVENT")[1:]
    }
    nijmegen = blocks["ev-nijmegen-info"]
    assert r"aanmelden?event=12\,maart\;po" in nijmegen
    assert r"\n" in nijmegen and "Café 'De Hoek'" in nijmegen
    assert (
        r"X-ALT-DESC;FMTTYPE=text/html:<p>Wil je leraar worden?</p>\n"
        r"<p><strong>Kom langs</strong>\," in nijmegen
    )
    # all-day: DATE values with an exclusive end
    groningen = blocks["ev-groningen-opendag"]
    assert "DTSTART;VALUE=DATE:20270320" in groningen
    assert "DTEND;VALUE=DATE:20270321" in groningen


@pytest.mark.both_backends
def test_uids_are_stable_and_sequence_follows_history(client, engine) -> None:  # type: ignore[no-untyped-def]
    first = vevents(client.get("/calendar.ics", params=FROM).content)
    with Session(engine) as session:
        event = session.get(Event, "ev-utrecht-meeloop")
        assert event is not None
        event.start_at += timedelta(hours=1)
        event.sequence += 1
        event.last_modified = datetime.now(UTC).replace(microsecond=0)
        session.add(event)
        session.commit()
    second = vevents(client.get("/calendar.ics", params=FROM).content)
    assert set(first) == set(second)
    assert str(second["ev-utrecht-meeloop"]["UID"]) == event_uid("ev-utrecht-meeloop")
    assert int(second["ev-utrecht-meeloop"]["SEQUENCE"]) == 1
    assert second["ev-utrecht-meeloop"]["DTSTART"].dt == first["ev-utrecht-meeloop"][
        "DTSTART"
    ].dt + timedelta(hours=1)


@pytest.mark.both_backends
def test_removed_events_are_cancelled_for_a_grace_period(client, engine) -> None:  # type: ignore[no-untyped-def]
    exported = vevents(client.get("/calendar.ics", params=FROM).content)
    removed = exported["ev-nijmegen-removed"]
    assert removed["STATUS"] == "CANCELLED" and int(removed["SEQUENCE"]) == 1
    assert str(removed["SUMMARY"]).startswith(CANCELLED_PREFIX)
    assert "ev-nijmegen-removed" not in api_items(client)
    with Session(engine) as session:
        event = session.get(Event, "ev-nijmegen-removed")
        assert event is not None
        event.removed_at = datetime.now(UTC) - timedelta(days=40)
        session.add(event)
        session.commit()
    assert "ev-nijmegen-removed" not in vevents(client.get("/calendar.ics", params=FROM).content)


def test_region_calendar(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/regions/rijk-van-nijmegen.ics", params=FROM)
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Overstap Agenda – Rijk van Nijmegen"
    assert set(vevents(response.content)) == {"ev-nijmegen-info", "ev-nijmegen-removed"}
    narrowed = client.get("/regions/rijk-van-nijmegen.ics", params={**FROM, "sector": "vo"})
    assert vevents(narrowed.content) == {}
    assert client.get("/regions/atlantis.ics").status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "speeddate"}, {"ev-enschede-speeddate"}),
        (
            {"near": "6511", "km": "30"},
            {"ev-nijmegen-info", "ev-arnhem-open", "ev-nijmegen-removed"},
        ),
        ({"sector": "mbo", "lang": "en"}, {"ev-webinar-mbo"}),
        ({"type": "open-dag", "free": "true"}, {"ev-arnhem-open", "ev-groningen-opendag"}),
        ({"attendance": "online", "audience": "internationals"}, {"ev-webinar-mbo"}),
        ({"phase": "matchen", "to": "2027-02-28"}, {"ev-enschede-speeddate"}),
    ],
)
def test_every_filter_works_in_the_calendar(client, params, expected) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/calendar.ics", params={**FROM, **params})
    assert set(vevents(response.content)) == expected


def test_etag_304_and_gzip(client) -> None:  # type: ignore[no-untyped-def]
    plain = client.get("/calendar.ics", params=FROM, headers={"Accept-Encoding": "identity"})
    etag = plain.headers["etag"]
    assert "content-encoding" not in plain.headers
    zipped = client.get("/calendar.ics", params=FROM, headers={"Accept-Encoding": "gzip"})
    # another byte sequence, another strong ETag (RFC 9110 8.8.3)
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == etag[:-1] + '-gzip"'
    assert zipped.content == plain.content  # httpx decodes; the raw body was gzip
    identity = {"Accept-Encoding": "identity"}
    not_modified = client.get(
        "/calendar.ics", params=FROM, headers={"If-None-Match": etag, **identity}
    )
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["etag"] == etag
    gzip_304 = client.get(
        "/calendar.ics",
        params=FROM,
        headers={"If-None-Match": zipped.headers["etag"], "Accept-Encoding": "gzip"},
    )
    assert gzip_304.status_code == 304 and gzip_304.headers["etag"] == zipped.headers["etag"]
    weak = client.get("/calendar.ics", params=FROM, headers={"If-None-Match": f'W/{etag}, "x"'})
    assert weak.status_code == 304
    other = client.get("/calendar.ics", params={**FROM, "sector": "po"})
    assert other.headers["etag"] != etag


def test_unchanged_calendar_is_validated_without_rendering(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    etag = client.get("/calendar.ics", params=FROM).headers["etag"]

    def forbidden(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the 304 path must not load or render events")

    monkeypatch.setattr("aggregator.query.StoreSnapshot.events", forbidden)
    monkeypatch.setattr("feeds.registry.render_ics", forbidden)
    assert (
        client.get("/calendar.ics", params=FROM, headers={"If-None-Match": etag}).status_code == 304
    )
    # the same version again is served from the cache, still without rendering
    assert client.get("/calendar.ics", params=FROM).headers["etag"] == etag


def _etag(client: TestClient, path: str = "/calendar.ics") -> str:
    return client.get(path, params=FROM).headers["etag"]


def _change(engine, event_id: str, **values) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        event = session.get(Event, event_id)
        assert event is not None
        for name, value in values.items():
            setattr(event, name, value)
        event.last_modified = datetime.now(UTC)
        event.sequence += 1
        session.add(event)
        session.commit()


@pytest.mark.both_backends
def test_every_change_changes_the_etag(client, engine) -> None:  # type: ignore[no-untyped-def]
    paths = ["/calendar.ics", "/regions/rijk-van-nijmegen.ics", "/feeds/events.rss"]
    last = {path: _etag(client, path) for path in paths}

    def check(expect_change: set[str]) -> None:
        for path in paths:
            tag = _etag(client, path)
            assert (tag != last[path]) == (path in expect_change), path
            last[path] = tag

    check(set())  # unchanged: the same ETag
    # a new event in Nijmegen
    new = build_event(
        Spec(
            "nijmegen-new",
            "Kijkje in de klas Nijmegen",
            datetime(2027, 4, 1, 9, tzinfo=UTC),
            None,
            {"region": "rijk-van-nijmegen", "municipality_code": "GM0268"},
        )
    )
    new.last_modified = datetime.now(UTC)
    with Session(engine) as session:
        session.add(new)
        session.commit()
    check(set(paths))
    # an update of an event elsewhere leaves the region calendar alone
    _change(engine, "ev-enschede-speeddate", title="Speeddate Twente (nieuwe zaal)")
    check({"/calendar.ics", "/feeds/events.rss"})
    # an event moving out of the region changes the region calendar
    _change(engine, "ev-nijmegen-new", region="twente", municipality_code="GM0153")
    check(set(paths))
    # a removal at the source reaches subscribers
    _change(engine, "ev-nijmegen-info", removed_at=datetime.now(UTC))
    check(set(paths))
    # a successful harvest on a new day changes the "Bron:" lines
    with Session(engine) as session:
        source = session.get(Source, "rap-nijmegen")
        assert source is not None
        source.last_success_at = datetime.now(UTC)
        session.add(source)
        session.commit()
    check(set(paths))


def test_export_parses_with_mozilla_ical_js(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    problem = ical_js_problem()
    if problem:
        pytest.skip(problem)
    items = api_items(client)
    for path in ("/calendar.ics", "/regions/rijk-van-nijmegen.ics"):
        target = tmp_path / "export.ics"
        target.write_bytes(client.get(path, params=FROM).content)
        result = subprocess.run(
            ["node", str(JS_DIR / "parse_ics.mjs"), str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        parsed = json.loads(result.stdout)
        assert parsed["timezones"] == ["Europe/Amsterdam"]
        for event in parsed["events"]:
            event_id = event["uid"].split("@")[0]
            if event_id not in items:
                assert event["status"] == "CANCELLED"
                continue
            item = items[event_id]
            if item["all_day"]:
                assert event["start"] == {"date": item["start"]}
                assert event["end"] == {"date": item["end"]}
            else:
                expected = datetime.fromisoformat(item["start"]).astimezone(UTC)
                assert event["start"]["utc"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")
                assert event["start"]["tzid"] == "Europe/Amsterdam"
            assert event["summary"].endswith(item["title"])
            assert "Bron: " in event["description"]


@pytest.mark.both_backends
def test_revalidation_reuses_a_version_read_moments_ago(engine, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    # a long max age, then the clock moved past it: a loaded machine cannot make the
    # revalidation right after the GET arrive "too late"
    settings = Settings(EXPORT_VERSION_MAX_AGE=30)
    client = TestClient(create_app(settings=settings, config=config, engine=engine))
    path = "/regions/rijk-van-nijmegen.ics"
    etag = _etag(client, path)
    reads: list[int] = []
    real = query.publish_version

    def counted(**kwargs):  # type: ignore[no-untyped-def]
        reads.append(1)
        return real(**kwargs)

    monkeypatch.setattr("aggregator.query.publish_version", counted)
    revalidate = {"If-None-Match": etag}
    assert client.get(path, params=FROM, headers=revalidate).status_code == 304
    assert reads == []  # answered from the version read by the GET just before
    _change(engine, "ev-nijmegen-info", title="Informatieavond (gewijzigd)")
    monotonic = time.monotonic
    monkeypatch.setattr("api.export_cache.time.monotonic", lambda: monotonic() + 31)
    # past EXPORT_VERSION_MAX_AGE the store is read again
    changed = client.get(path, params=FROM, headers=revalidate)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert reads == [1]  # one store snapshot per request: the version is read once


@pytest.mark.both_backends
def test_without_version_max_age_every_revalidation_reads_the_store(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = config_for(write_sources(tmp_path / "sources.yaml", []))
    settings = Settings(EXPORT_VERSION_MAX_AGE=0)
    client = TestClient(create_app(settings=settings, config=config, engine=engine))
    path = "/regions/rijk-van-nijmegen.ics"
    etag = _etag(client, path)
    _change(engine, "ev-nijmegen-info", title="Informatieavond (gewijzigd)")
    changed = client.get(path, params=FROM, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def _rendered_afresh(client: TestClient, engine: Engine, params: dict[str, str]) -> bytes:
    """The calendar as the plain renderer makes it from a fresh read (no reused VEVENTs)."""
    from api.params import build_filters
    from api.routes_calendar import calendar_filters
    from feeds.ical_export import render_ics
    from feeds.registry import CALENDAR_DESCRIPTION, CALENDAR_NAME

    config = client.app.state.config  # type: ignore[attr-defined]
    filters = calendar_filters(
        build_filters(config, date_from=date.fromisoformat(params["from"])),
        now=datetime.now(query.LOCAL_TZ),
    )
    with Session(engine) as session:
        page = query.StoreSnapshot(session).events(filters, config.regions, paginate=False)
    return render_ics(
        page.items,
        page.records,
        page.sources,
        calendar_name=CALENDAR_NAME,
        calendar_description=CALENDAR_DESCRIPTION,
        base_url="https://agenda.example",
    )


@pytest.mark.both_backends
def test_reused_vevents_follow_every_change(client, engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The export reuses VEVENTs rendered before, yet is byte for byte what a fresh render
    of the store gives after each kind of change; only changed events are rendered again."""
    import feeds.ical_export as ical_export

    calls: list[str] = []
    original = ical_export.vevent_text

    def counting(event, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(event.id)
        return original(event, *args, **kwargs)

    monkeypatch.setattr(ical_export, "vevent_text", counting)

    def check() -> list[str]:
        calls.clear()
        body = client.get("/calendar.ics", params=FROM).content
        rendered = sorted(calls)
        assert body == _rendered_afresh(client, engine, FROM)
        return rendered

    first = check()
    assert len(first) == len(vevents(client.get("/calendar.ics", params=FROM).content))
    calls.clear()
    region = client.get("/regions/rijk-van-nijmegen.ics", params=FROM)
    assert region.status_code == 200 and vevents(region.content)
    assert calls == []  # the region calendar reused the VEVENTs of the national one
    _change(engine, "ev-enschede-speeddate", title="Speeddate Twente (nieuwe zaal)")
    assert check() == ["ev-enschede-speeddate"]
    _change(engine, "ev-nijmegen-info", removed_at=datetime.now(UTC))
    assert check() == ["ev-nijmegen-info"]
    with Session(engine) as session:  # a harvest on a new day: that source's "Bron:" lines
        source = session.get(Source, "rap-nijmegen")
        assert source is not None
        source.last_success_at = datetime.now(UTC) + timedelta(days=1)
        session.add(source)
        session.commit()
    again = check()
    assert again and set(again) < set(first)


@pytest.mark.parametrize(
    "text",
    [
        "a;b,c\\d\ne\r\nf\rg",
        "Ünïcödé " * 40,
        "\\" * 200,
        "x" * 74 + "é" + "y" * 200,
        "€" * 100,
        "tab\there, bell\x07 and nul\x00 are dropped",
    ],
)
def test_text_survives_escaping_and_folding_in_icalendar(text: str) -> None:
    from feeds.ical_export import escape_text, fold

    line = fold(f"DESCRIPTION:{escape_text(text)}")
    for physical in line.split(b"\r\n"):
        assert len(physical) <= 75
        physical.decode()  # never cut inside a UTF-8 character
    body = b"BEGIN:VEVENT\r\n" + line + b"\r\nEND:VEVENT\r\n"
    parsed = icalendar.Event.from_ical(body)
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    expected = expected.replace("\x07", "").replace("\x00", "")
    assert str(parsed["DESCRIPTION"]) == expected
