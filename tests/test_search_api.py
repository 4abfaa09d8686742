"""GET /api/events: every filter, full-text search, near/km, sorting, paging and bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from agenda.settings import Settings
from aggregator.distance import haversine_km
from aggregator.fulltext import fts5_query, search_terms, tsquery
from aggregator.models import Event, SourceRecord
from aggregator.proximity import NearError, parse_near
from tests.publishing_data import Spec, build_event, event_id, keys

pytestmark = pytest.mark.both_backends  # the dialect matters: see tests/conftest.py

LIVE = {
    "nijmegen-info",
    "arnhem-open",
    "webinar-mbo",
    "utrecht-meeloop",
    "amsterdam-banenmarkt",
    "enschede-speeddate",
    "groningen-opendag",
    "zwolle-cancelled",
    "syntax-title",
}


@pytest.fixture
def engine(published_engine: Engine) -> Engine:
    """Every test here reads the stored events of tests/publishing_data.py."""
    return published_engine


@pytest.fixture
def client(published_client) -> TestClient:  # type: ignore[no-untyped-def]
    """The app on the publishing data (shared by the tests that only read)."""
    return published_client(Settings())


def search(client: TestClient, **params) -> dict:  # type: ignore[no-untyped-def,type-arg]
    response = client.get("/api/events", params={"per_page": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


def found(client: TestClient, **params) -> set[str]:  # type: ignore[no-untyped-def]
    body = search(client, **params)
    assert body["total"] == len(body["items"])
    return set(keys(body["items"]))


def test_without_filters_lists_live_relevant_events_by_date(client) -> None:  # type: ignore[no-untyped-def]
    body = search(client)
    assert set(keys(body["items"])) == LIVE
    starts = [item["start"] for item in body["items"] if not item["all_day"]]
    assert starts == sorted(starts)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"region": "rijk-van-nijmegen"}, {"nijmegen-info"}),
        ({"region": "regio-utrecht"}, {"utrecht-meeloop", "syntax-title"}),  # composite
        ({"region": ["twente", "groningen"]}, {"enschede-speeddate", "groningen-opendag"}),
        ({"region": "twente,groningen"}, {"enschede-speeddate", "groningen-opendag"}),
        ({"sector": "mbo"}, {"webinar-mbo", "amsterdam-banenmarkt"}),
        ({"sector": ["so", "ho"]}, {"enschede-speeddate", "groningen-opendag"}),
        ({"type": "open-dag"}, {"arnhem-open", "groningen-opendag"}),
        ({"phase": "matchen"}, {"amsterdam-banenmarkt", "enschede-speeddate"}),
        ({"audience": "internationals"}, {"webinar-mbo"}),
        ({"audience": "herintreders"}, {"arnhem-open", "amsterdam-banenmarkt"}),
        ({"attendance": "online"}, {"webinar-mbo", "enschede-speeddate"}),  # mixed counts
        ({"lang": "en"}, {"webinar-mbo"}),
        ({"free": "false"}, {"amsterdam-banenmarkt"}),
        (
            {"from": "2027-03-06", "to": "2027-03-12"},
            {"amsterdam-banenmarkt", "syntax-title", "nijmegen-info"},
        ),
        ({"from": "2027-03-20", "to": "2027-03-20"}, {"groningen-opendag"}),  # all-day
        ({"region": "rijk-van-nijmegen", "sector": "vo"}, set()),  # AND across fields
        (
            {"sector": "po,vo", "type": "matching"},
            {"enschede-speeddate", "zwolle-cancelled", "amsterdam-banenmarkt"},
        ),
    ],
)
def test_filters(client, params, expected) -> None:  # type: ignore[no-untyped-def]
    assert found(client, **params) == expected


def test_free_true_excludes_unknown_and_paid(client) -> None:  # type: ignore[no-untyped-def]
    result = found(client, free="true")
    assert "amsterdam-banenmarkt" not in result and "enschede-speeddate" not in result
    assert "nijmegen-info" in result


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("zij-instroom", {"nijmegen-info"}),  # prefix: zij* instroom* (and stems on PostgreSQL)
        ("basisonderwijs", {"nijmegen-info"}),
        ("informatieav", {"nijmegen-info"}),  # a prefix of a word
        ("INFORMATIEAVOND", {"nijmegen-info"}),
        ("open deeltijdpabo", {"arnhem-open"}),
        ("hogeschool", {"nijmegen-info"}),  # the location name
        ("teaching vocational", {"webinar-mbo"}),
        ("speeddate twente", {"enschede-speeddate"}),
        ("geschiktheidsonderzoek salaris", {"nijmegen-info"}),  # description words
        ("xylofoonles", set()),
    ],
)
def test_full_text(client, q, expected) -> None:  # type: ignore[no-untyped-def]
    result = found(client, q=q)
    # PostgreSQL's Dutch stemmer also finds inflections (zij-instroom ~ zij-instromers)
    stemmed = {"zij-instroom": {"enschede-speeddate"}}.get(q, set())
    assert expected <= result <= expected | stemmed


def test_full_text_ranks_title_hits_first(client) -> None:  # type: ignore[no-untyped-def]
    # "onderwijs" is in several titles and descriptions; "matching" only in one title
    body = search(client, q="onderwijsbanenmarkt")
    assert keys(body["items"]) == ["amsterdam-banenmarkt"]
    body = search(client, q="open")
    ranked = keys(body["items"])
    assert set(ranked) >= {"arnhem-open", "groningen-opendag"}
    by_date = keys(search(client, q="open", sort="date")["items"])
    assert set(by_date) == set(ranked)
    assert by_date[0] == "arnhem-open"


def test_full_text_follows_updates(client, engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        event = session.get(Event, "ev-arnhem-open")
        assert event is not None
        event.title = "Proefstudeerdag lerarenopleiding"
        event.search_text = event.title
        session.add(event)
        session.commit()
    assert found(client, q="deeltijdpabo") == set()
    assert found(client, q="proefstudeerdag") == {"arnhem-open"}
    with Session(engine) as session:
        for record in session.exec(
            select(SourceRecord).where(SourceRecord.event_id == "ev-arnhem-open")
        ):
            session.delete(record)
        session.flush()
        session.delete(session.get(Event, "ev-arnhem-open"))
        session.commit()
    assert found(client, q="proefstudeerdag") == set()


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "*",
        "(",
        ")",
        '"NEAR"',
        "NEAR(a b)",
        "a OR",
        "AND",
        "NOT",
        "^",
        "-",
        ":",
        "'",
        "col:value",
        "title:x",
        "{}",
        "[",
        "\\",
        "%",
        "_",
        "a & b | !c",
        "wiskunde*",
        "NEAR het station",
        "x" * 200,
        "ë" * 50,
        " ",
        "😀 emoji",
    ],
)
def test_full_text_survives_syntax_characters(client, q) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events", params={"q": q})
    assert response.status_code == 200, response.text


def test_syntax_characters_are_searched_as_words(client) -> None:  # type: ignore[no-untyped-def]
    assert found(client, q='"NEAR" (wiskunde*)') == {"syntax-title"}
    assert found(client, q="NEAR station") == {"syntax-title"}


def test_very_long_q_is_a_clear_4xx(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events", params={"q": "onderwijs " * 100})
    assert response.status_code in (400, 422)
    assert "q" in response.json()["detail"]


def test_query_builders_quote_every_term() -> None:
    terms = search_terms('Zij-instroom "NEAR" (po)* AND')
    assert terms == ["zij", "instroom", "near", "po", "and"]
    assert fts5_query(terms) == '"zij"* "instroom"* "near"* "po"* "and"*'
    assert tsquery(["leraar", "po"]) == "leraar:* & po:*"
    assert search_terms(" ".join(f"w{i}" for i in range(50)))[-1] == "w11"


def test_near_postcode_with_distance(client) -> None:  # type: ignore[no-untyped-def]
    body = search(client, near="6511", km=30, sort="distance")
    assert keys(body["items"]) == ["nijmegen-info", "arnhem-open"]
    distances = [item["distance_km"] for item in body["items"]]
    assert distances == sorted(distances) and 0 < distances[0] < 5 < distances[1] < 30
    assert found(client, near="6511 AB", km=5) == {"nijmegen-info"}
    assert found(client, near="6511AB", km=5) == {"nijmegen-info"}
    # by date (default): Arnhem (January) comes before Nijmegen (March)
    assert keys(search(client, near="6511", km=30)["items"]) == ["arnhem-open", "nijmegen-info"]


def test_near_coordinates_and_radius_edge(client) -> None:  # type: ignore[no-untyped-def]
    utrecht = (52.0907, 5.1214)
    amersfoort = (52.1561, 5.3878)
    gap = haversine_km(*utrecht, *amersfoort)
    near = f"{utrecht[0]},{utrecht[1]}"
    assert found(client, near=near, km=gap - 0.05) == {"utrecht-meeloop"}
    assert found(client, near=near, km=gap + 0.05) == {"utrecht-meeloop", "syntax-title"}


def test_near_combines_with_other_filters(client) -> None:  # type: ignore[no-untyped-def]
    assert found(client, near="1012", km=60, sector="vo") == {
        "amsterdam-banenmarkt",
        "utrecht-meeloop",
        "syntax-title",
    }
    assert found(client, near="1012", km=60, q="beurs") == {"amsterdam-banenmarkt"}


def test_pagination_has_total_and_no_overlap(client) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = client.get("/api/events", params={"per_page": 4, "page": page}).json()
        assert body["total"] == len(LIVE) and body["page"] == page
        seen += keys(body["items"])
    assert len(seen) == len(set(seen)) == len(LIVE)


def test_items_carry_provenance(client) -> None:  # type: ignore[no-untyped-def]
    item = next(i for i in search(client, q="basisonderwijs")["items"])
    [source] = item["sources"]
    assert source["source"] == "rap-nijmegen" and source["name"] == "RAP Rijk van Nijmegen"
    assert source["url"].startswith("https://example.org/rap-nijmegen.ics")
    assert source["last_success"] == "2027-01-04T07:00:00+01:00"


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"from": "2027-02-30"}, "from"),
        ({"from": "gisteren"}, "from"),
        ({"to": "9999-12-31"}, "'to'"),
        ({"from": "2027-03-01", "to": "2027-02-01"}, "before"),
        ({"near": "0000"}, "near"),
        ({"near": "9999 ZZ Z"}, "near"),
        ({"near": "atlantis"}, "near"),
        ({"near": "5.12,52.09"}, "Netherlands"),  # swapped
        ({"near": "91,5"}, "range"),
        ({"near": "1000"}, "unknown postcode"),
        ({"near": "6511", "km": "-1"}, "km"),
        ({"near": "6511", "km": "0"}, "km"),
        ({"near": "6511", "km": "nan"}, "km"),
        ({"near": "6511", "km": "1e9"}, "km"),
        ({"near": "6511", "km": "veel"}, "km"),
        ({"km": "10"}, "near"),
        ({"sort": "distance"}, "near"),
        ({"sort": "random"}, "sort"),
        ({"sector": "xx"}, "unknown sector"),
        ({"sector": "po,xx"}, "known values"),
        ({"type": "feest"}, "unknown type"),
        ({"phase": "x"}, "unknown phase"),
        ({"audience": "x"}, "unknown audience"),
        ({"attendance": "hybrid"}, "unknown attendance"),
        ({"lang": "de"}, "unknown lang"),
        ({"free": "misschien"}, "free"),
        ({"region": "atlantis"}, "unknown region"),
        ({"per_page": "201"}, "per_page"),
        ({"page": "-1"}, "page"),
    ],
)
def test_hostile_parameters_get_a_clear_4xx(client, params, needle) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events", params=params)
    assert response.status_code in (400, 422), response.text
    assert needle in response.json()["detail"]


def test_hostile_parameters_get_4xx_in_every_format(client) -> None:  # type: ignore[no-untyped-def]
    for path in (
        "/calendar.ics",
        "/feeds/events.rss",
        "/feeds/events.atom",
        "/feeds/events.json",
        "/regions/twente.ics",
    ):
        for params in ({"near": "atlantis"}, {"sector": "xx"}, {"from": "2027-13-01"}):
            response = client.get(path, params=params)
            assert response.status_code in (400, 422), (path, params)
            assert response.json()["detail"]


def test_parse_near_forms() -> None:
    assert parse_near("6511").label == "6511"
    assert parse_near(" 6511ab ").label == "6511 AB"
    point = parse_near("51.8426, 5.8528")
    assert (point.lat, point.lon) == (51.8426, 5.8528)
    with pytest.raises(NearError, match="empty"):
        parse_near("  ")


def test_openapi_documents_filters_with_examples(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/api/events"]["get"]["parameters"]}
    for name in (
        "q",
        "region",
        "sector",
        "type",
        "phase",
        "audience",
        "attendance",
        "lang",
        "free",
        "from",
        "to",
        "near",
        "km",
        "sort",
        "page",
        "per_page",
    ):
        assert name in params, name
        assert params[name].get("description") or name in ("page", "per_page"), name
    near = params["near"]
    assert near.get("examples") or near.get("example") or near["schema"].get("examples")
    for path in (
        "/calendar.ics",
        "/regions/{slug}.ics",
        "/feeds/events.rss",
        "/feeds/events.atom",
        "/feeds/events.json",
    ):
        names = {p["name"] for p in spec["paths"][path]["get"]["parameters"]}
        assert {"q", "near", "sector", "region"} <= names, path


def test_jsonld_endpoint(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events/ev-nijmegen-info/jsonld")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    data = response.json()
    assert data["@type"] == "Event" and data["name"].startswith("Informatieavond")
    assert client.get("/api/events/nope/jsonld").status_code == 404
    detail = client.get("/api/events/ev-nijmegen-info", params={"jsonld": "true"}).json()
    assert detail["jsonld"]["@id"] == data["@id"]


def test_cors_allows_get(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/events", headers={"Origin": "https://regio.example"})
    assert response.headers["access-control-allow-origin"] == "*"


def test_long_running_event_is_found_inside_its_span(client, engine) -> None:  # type: ignore[no-untyped-def]
    # the start bound derived from the longest duration must keep date filters exact,
    # also when a longer event arrives after the bound was computed
    assert "traject" not in found(client, **{"from": "2027-03-15"})
    long_event = build_event(
        Spec(
            "traject",
            "Voorbereidingstraject zij-instroom (acht weken)",
            datetime(2027, 2, 1, 9, tzinfo=UTC),
            datetime(2027, 3, 29, 17, tzinfo=UTC),
            {"region": "twente", "activity_type": "voorbereiding"},
        )
    )
    with Session(engine) as session:
        session.add(long_event)
        session.commit()
    assert "traject" in found(client, **{"from": "2027-03-15", "to": "2027-03-16"})
    assert "traject" not in found(client, **{"from": "2027-03-30"})
    assert "traject" in found(client, **{"from": "2027-03-29", "region": "twente"})


def test_near_plus_online_adds_what_can_be_joined_from_home(client) -> None:  # type: ignore[no-untyped-def]
    near = found(client, near="6511 AB", km=5)
    assert near == {"nijmegen-info"}
    # the online webinar and the hybrid Enschede speeddate join the Nijmegen event
    plus = found(client, near="6511 AB", km=5, plus_online="true")
    assert plus == {"nijmegen-info", "webinar-mbo", "enschede-speeddate"}
    ics = client.get(
        "/calendar.ics",
        params={"near": "6511 AB", "km": 5, "plus_online": "true", "from": "2027-01-01"},
    )
    assert ics.status_code == 200
    calendar = icalendar.Calendar.from_ical(ics.content)
    live = {str(v["UID"]) for v in calendar.walk("VEVENT") if v["STATUS"] != "CANCELLED"}
    # (removed events are exported as cancelled for a while, so subscribers see them go)
    assert live == {f"{event_id(k)}@overstap-agenda" for k in plus}
    rss = client.get(
        "/feeds/events.rss",
        params={"near": "6511 AB", "km": 5, "plus_online": "true", "from": "2027-01-01"},
    )
    assert rss.status_code == 200 and rss.text.count("<item>") == len(plus)
    without_near = client.get("/api/events", params={"plus_online": "true"})
    assert without_near.status_code == 400 and "needs 'near'" in without_near.json()["detail"]


def test_totals_are_reused_per_store_version_only(client, engine) -> None:  # type: ignore[no-untyped-def]
    # a full first page needs a count; later pages and repeats reuse it at the same version
    first = client.get("/api/events", params={"per_page": 2}).json()
    assert first["total"] == len(LIVE) and len(first["items"]) == 2
    second = client.get("/api/events", params={"per_page": 2, "page": 2}).json()
    assert second["total"] == len(LIVE)
    beyond = client.get("/api/events", params={"per_page": 2, "page": 99}).json()
    assert beyond["total"] == len(LIVE) and beyond["items"] == []
    # any write raises the store version: the next total is counted again
    new = build_event(
        Spec("late-addition", "Extra informatieavond", datetime(2027, 5, 1, tzinfo=UTC))
    )
    with Session(engine) as session:
        session.add(new)
        session.commit()
    again = client.get("/api/events", params={"per_page": 2}).json()
    assert again["total"] == len(LIVE) + 1
    assert client.get("/api/events", params={"per_page": 2, "page": 3}).json()["total"] == (
        len(LIVE) + 1
    )
