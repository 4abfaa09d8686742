"""The MCP server, driven by the SDK's own client over stdio (``agenda mcp``) and over HTTP
(``/mcp`` of a real uvicorn server), checked against ``/api/events`` for the same filters."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from sqlalchemy import Engine

from agenda.settings import Settings
from agenda.web import create_app
from aggregator.config import AppConfig, load_config
from aggregator.db import make_engine, upgrade
from aggregator.distance import haversine_km
from aggregator.localtime import today_local
from api.assistant import build_assistant
from config import bundled
from feeds.ical_export import CANCELLED_PREFIX
from tests.js_packages import JS_DIR, npm_package_problem
from tests.live_server import serve_in_thread
from tests.publishing_data import seed

# one worker runs the whole module (``make test`` uses ``--dist loadgroup``): each worker
# would otherwise start its own ``agenda mcp`` child for the module-scoped conversation
pytestmark = pytest.mark.xdist_group("assistant")

TOOLS = {"search_events", "get_event", "list_regions", "list_taxonomy", "subscription_url"}
STDIO_BASE = "https://agenda.example.nl"
NIJMEGEN = (51.8426, 5.8528)  # Nijmegen centre (GeoNames), independent of the gazetteer

# (tool arguments, the same search as /api/events query parameters)
SEARCHES: list[tuple[dict[str, Any], list[tuple[str, str]]]] = [
    ({"date_from": "2027-01-01"}, [("from", "2027-01-01"), ("per_page", "10")]),
    (
        {"date_from": "2027-01-01", "sector": ["vo"], "per_page": 50},
        [("from", "2027-01-01"), ("sector", "vo"), ("per_page", "50")],
    ),
    (
        {"types": ["matching"], "region": ["twente", "groot-amsterdam"]},
        [("type", "matching"), ("region", "twente"), ("region", "groot-amsterdam")],
    ),
    (
        {"near": "6511 AB", "km": 40, "sort": "distance", "date_from": "2027-01-01"},
        [("near", "6511 AB"), ("km", "40"), ("sort", "distance"), ("from", "2027-01-01")],
    ),
    (
        {"near": "6511", "km": 10, "plus_online": True},
        [("near", "6511"), ("km", "10"), ("plus_online", "true")],
    ),
    ({"q": "informatieavond zij-instroom"}, [("q", "informatieavond zij-instroom")]),
    (
        {"attendance": ["online"], "lang": ["en"], "free": True},
        [("attendance", "online"), ("lang", "en"), ("free", "true")],
    ),
    (
        {"phase": ["matchen"], "audience": ["herintreders"], "free": False},
        [("phase", "matchen"), ("audience", "herintreders"), ("free", "false")],
    ),
    (
        {"date_from": "2027-02-01", "date_to": "2027-02-28", "per_page": 2, "page": 2},
        [("from", "2027-02-01"), ("to", "2027-02-28"), ("per_page", "2"), ("page", "2")],
    ),
]

# arguments that must give a tool error (and what the message must say)
BAD_CALLS: list[tuple[str, dict[str, Any], str]] = [
    ("search_events", {"sector": ["xx"]}, "unknown sector"),
    ("search_events", {"per_page": 500}, "per_page"),
    ("search_events", {"date_from": "2027-03-01", "date_to": "2027-02-01"}, "before"),
    ("search_events", {"date_from": "maart"}, "date_from"),
    ("search_events", {"near": "Atlantis"}, "Atlantis"),
    ("search_events", {"km": 10}, "needs 'near'"),
    ("search_events", {"sort": "distance"}, "needs 'near'"),
    ("get_event", {"event_id": "no-such-event"}, "no event"),
    ("get_event", {}, "event_id"),
    ("subscription_url", {"region": ["atlantis"]}, "unknown region"),
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """A migrated SQLite file with the publisher test events."""
    url = f"sqlite:///{tmp_path_factory.mktemp('assistant') / 'agenda.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    seed(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="module")
def config() -> AppConfig:
    return load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))


def _settings() -> Settings:
    return Settings(WEB_SECRET_KEY="test-secret")  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def api(store: tuple[str, Engine], config: AppConfig) -> Iterator[TestClient]:
    """The JSON API the answers are checked against."""
    with TestClient(create_app(settings=_settings(), config=config, engine=store[1])) as client:
        yield client


async def _session(client: Client) -> dict[str, Any]:
    """One scripted conversation: list the tools, call each, make bad calls in between."""
    async with client:
        listed = await client.list_tools()
        searches = [await client.call_tool("search_events", args) for args, _ in SEARCHES]
        default = await client.call_tool("search_events", {})
        place = await client.call_tool(
            "search_events", {"near": "Nijmegen", "km": 15, "sort": "distance"}
        )
        bad = [await client.call_tool(name, args) for name, args, _ in BAD_CALLS]
        event = await client.call_tool("get_event", {"event_id": "ev-nijmegen-info"})
        removed = await client.call_tool("get_event", {"event_id": "ev-nijmegen-removed"})
        regions = await client.call_tool("list_regions", {})
        taxonomy = await client.call_tool("list_taxonomy", {})
        subscription = await client.call_tool(
            "subscription_url", {"types": ["matching"], "sector": ["po", "vo"]}
        )
        paid = await client.call_tool("subscription_url", {"free": False, "lang": ["nl"]})
        sub_search = await client.call_tool(
            "search_events", {"types": ["matching"], "sector": ["po", "vo"], "per_page": 50}
        )
    return {
        "tools": listed.tools,
        "searches": searches,
        "default": default,
        "place": place,
        "bad": bad,
        "event": event,
        "removed": removed,
        "regions": regions,
        "taxonomy": taxonomy,
        "subscription": subscription,
        "sub_search": sub_search,
        "paid": paid,
    }


@pytest.fixture(scope="module", params=["stdio", "http"])
def conversation(
    request: pytest.FixtureRequest, store: tuple[str, Engine], config: AppConfig
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The scripted conversation over one transport, and the base URL its links should use."""
    if request.param == "stdio":
        agenda = Path(sys.executable).with_name("agenda")
        env = {**os.environ, "DATABASE_URL": store[0]}
        env.pop("AGENDA_BASE_URL", None)
        params = StdioServerParameters(
            command=str(agenda), args=["mcp", "--base-url", STDIO_BASE], env=env
        )
        yield STDIO_BASE, asyncio.run(_session(Client(params, read_timeout_seconds=30)))
        return
    app = create_app(settings=_settings(), config=config, engine=store[1])
    with serve_in_thread(app) as base:
        yield base, asyncio.run(_session(Client(f"{base}/mcp", read_timeout_seconds=30)))


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def test_lists_the_five_read_only_tools(conversation: tuple[str, dict[str, Any]]) -> None:
    tools = {tool.name: tool for tool in conversation[1]["tools"]}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
    search = tools["search_events"].input_schema["properties"]
    api_filters = {"q", "region", "sector", "types", "phase", "audience", "attendance", "lang"}
    api_filters |= {"free", "date_from", "date_to", "near", "km", "plus_online", "sort", "page"}
    assert api_filters | {"per_page"} <= set(search)
    assert search["per_page"]["maximum"] == 50
    assert "meeloopdag" in tools["search_events"].description  # Dutch examples


def _compare(answer: dict[str, Any], api_body: dict[str, Any], base: str) -> None:
    assert answer["total"] == api_body["total"]
    assert [e["id"] for e in answer["events"]] == [i["id"] for i in api_body["items"]]
    for event, item in zip(answer["events"], api_body["items"], strict=True):
        assert event["title"] == item["title"]
        assert (event["start"], event["end"]) == (item["start"], item["end"])
        assert event["type"] == item["activity_type"]
        assert event["sectors"] == item["sectors"]
        assert event["audiences"] == item["audiences"]
        assert event["url"] == item["url"]
        assert event["registration_url"] == item["registration_url"]
        assert event["region"] == item["region"]
        assert event["distance_km"] == item.get("distance_km")
        assert event["page_url"] == f"{base}/events/{item['id']}"
        assert len(event["summary"]) <= 300


@pytest.mark.parametrize("index", range(len(SEARCHES)))
def test_search_answers_match_the_api(
    conversation: tuple[str, dict[str, Any]], api: TestClient, index: int
) -> None:
    base, answers = conversation
    response = api.get("/api/events", params=SEARCHES[index][1])
    assert response.status_code == 200, response.text
    _compare(_structured(answers["searches"][index]), response.json(), base)


def test_searches_from_today_unless_told_otherwise(
    conversation: tuple[str, dict[str, Any]], api: TestClient
) -> None:
    base, answers = conversation
    expected = api.get("/api/events", params={"from": today_local().isoformat(), "per_page": 10})
    answer = _structured(answers["default"])
    _compare(answer, expected.json(), base)
    assert answer["total"] > 0


def test_near_takes_a_place_name(conversation: tuple[str, dict[str, Any]], api: TestClient) -> None:
    base, answers = conversation
    answer = _structured(answers["place"])
    assert haversine_km(answer["near"]["lat"], answer["near"]["lon"], *NIJMEGEN) < 5
    assert answer["near"]["km"] == 15
    params = {"near": "Nijmegen", "km": 15, "sort": "distance", "per_page": 10}
    params["from"] = today_local().isoformat()
    _compare(answer, api.get("/api/events", params=params).json(), base)
    assert [e["id"] for e in answer["events"]][:1] == ["ev-nijmegen-info"]


@pytest.mark.parametrize("index", range(len(BAD_CALLS)))
def test_a_bad_argument_is_a_tool_error(
    conversation: tuple[str, dict[str, Any]], index: int
) -> None:
    result = conversation[1]["bad"][index]
    assert result.is_error
    text = " ".join(c.text for c in result.content)
    assert BAD_CALLS[index][2] in text, text


def test_the_session_goes_on_after_errors(conversation: tuple[str, dict[str, Any]]) -> None:
    # every call after the bad ones was answered in the same session
    answers = conversation[1]
    for name in ("event", "regions", "taxonomy", "subscription"):
        _structured(answers[name])


def test_get_event_matches_the_api(
    conversation: tuple[str, dict[str, Any]], api: TestClient
) -> None:
    base, answers = conversation
    event = _structured(answers["event"])
    expected = api.get("/api/events/ev-nijmegen-info").json()
    for key in ("id", "title", "start", "end", "location", "organizer", "sources", "region"):
        assert event[key] == expected[key], key
    assert event["description"] == expected["description"]
    assert event["page_url"] == f"{base}/events/ev-nijmegen-info"
    assert event["ics_url"] == f"{base}/events/ev-nijmegen-info.ics"
    removed = _structured(answers["removed"])
    assert removed["removed_at"] == api.get("/api/events/ev-nijmegen-removed").json()["removed_at"]
    assert removed["removed_at"] is not None


def test_regions_and_taxonomy_match_the_api(
    conversation: tuple[str, dict[str, Any]], api: TestClient
) -> None:
    answers = conversation[1]
    regions = _structured(answers["regions"])["regions"]
    expected = api.get("/api/regions").json()
    assert [(r["slug"], r["name"]) for r in regions] == [(r["slug"], r["name"]) for r in expected]
    assert [r["municipalities"] for r in regions] == [len(r["municipalities"]) for r in expected]
    assert _structured(answers["taxonomy"]) == api.get("/api/taxonomy").json()


def test_subscription_urls_serve_the_same_events(
    conversation: tuple[str, dict[str, Any]], api: TestClient
) -> None:
    base, answers = conversation
    links = _structured(answers["subscription"])
    assert links["webcal"] == links["ics"].replace(urlsplit(base).scheme + "://", "webcal://", 1)
    found = _structured(answers["sub_search"])["events"]
    titles, ids = {e["title"] for e in found}, {e["id"] for e in found}
    assert titles
    for key in ("ics", "rss", "atom", "json_feed", "page"):
        assert links[key].startswith(base + "/"), links[key]
    ics = urlsplit(links["ics"])
    response = api.get(f"{ics.path}?{ics.query}")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    summaries = {str(v["SUMMARY"]).removeprefix(CANCELLED_PREFIX) for v in calendar.walk("VEVENT")}
    assert summaries == titles
    paid = urlsplit(_structured(answers["paid"])["rss"])
    assert (paid.path, paid.query) == ("/feeds/events.rss", "lang=nl&free=false")
    feed = urlsplit(links["json_feed"])
    items = api.get(f"{feed.path}?{feed.query}").json()["items"]
    assert {item["_overstap_agenda"]["id"] for item in items} == ids


INSPECTOR = "@modelcontextprotocol/inspector-cli"


@pytest.fixture(scope="module")
def inspector() -> Path:
    """The MCP Inspector's CLI (npm, tests/js): its build folder."""
    problem = npm_package_problem(INSPECTOR)
    if problem:
        pytest.skip(problem)
    return JS_DIR / "node_modules" / INSPECTOR / "build"


def _inspect(build: Path, target: list[str], *args: str) -> Any:
    # inspector-cli 1.0.3 looks for its package.json relative to the working directory
    result = subprocess.run(
        ["node", "index.js", *target, *args],
        cwd=build,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_the_mcp_inspector_lists_and_calls_the_tools_over_http(
    inspector: Path, store: tuple[str, Engine], config: AppConfig, api: TestClient
) -> None:
    # over stdio the same works too (README: "Check it with the MCP Inspector")
    app = create_app(settings=_settings(), config=config, engine=store[1])
    with serve_in_thread(app) as base:
        target = [f"{base}/mcp", "--transport", "http"]
        _inspector_checks(inspector, target, api)
        bad = _inspect(
            inspector,
            target,
            *("--method", "tools/call", "--tool-name", "search_events"),
            *("--tool-arg", "per_page=0"),
        )
        assert bad["isError"] is True


def _inspector_checks(build: Path, target: list[str], api: TestClient) -> None:
    listed = _inspect(build, target, "--method", "tools/list")
    assert {tool["name"] for tool in listed["tools"]} == TOOLS
    found = _inspect(
        build,
        target,
        *("--method", "tools/call", "--tool-name", "search_events"),
        *("--tool-arg", 'sector=["vo"]', "--tool-arg", "date_from=2027-01-01"),
    )
    assert not found.get("isError")
    expected = api.get("/api/events", params={"sector": "vo", "from": "2027-01-01"}).json()
    ids = [e["id"] for e in found["structuredContent"]["events"]]
    assert ids == [item["id"] for item in expected["items"]]


def test_the_http_endpoint_refuses_what_is_no_mcp_call(api: TestClient) -> None:
    # a GET would open an event stream a stateless server never writes to: refused at once
    for method in ("GET", "DELETE"):
        response = api.request(method, "/mcp", headers={"accept": "text/event-stream"})
        assert response.status_code == 405 and response.headers["allow"] == "POST"
    accept = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    garbage = api.post("/mcp", content=b"{not json", headers=accept)
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == -32700
    unknown = api.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "nope"}, headers=accept)
    assert unknown.json()["error"]["code"] == -32601


@pytest.mark.postgres
def test_answers_match_the_api_on_postgresql(postgres_url: str, config: AppConfig) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    seed(engine)
    server = build_assistant(config=config, engine=engine, base_url=STDIO_BASE)
    cases = [SEARCHES[1], SEARCHES[3], SEARCHES[5]]

    async def ask() -> list[Any]:
        async with Client(server) as client:
            return [await client.call_tool("search_events", args) for args, _ in cases]

    try:
        answers = asyncio.run(ask())
        app = create_app(settings=_settings(), config=config, engine=engine)
        with TestClient(app) as client:
            for answer, (_, params) in zip(answers, cases, strict=True):
                body = client.get("/api/events", params=params).json()
                _compare(_structured(answer), body, STDIO_BASE)
    finally:
        engine.dispose()
