"""The coverage report on the harvested samples (Utrecht-Amersfoort and Twente), from 2027-01.

Known cells of the sample: Twente has two meeloopdagen for vo in March 2027 and none
before, nothing for ho at all; every count agrees with /api/events for the same filters.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from aggregator.models import Event

SIX_MONTHS = {"from": "2027-01", "months": 6}


def _api_total(client: TestClient, **params: object) -> int:
    response = client.get("/api/events", params={**params, "per_page": 1})
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


@pytest.mark.both_backends  # the sector and type filters are SQL per dialect
def test_region_view_counts_known_cells_and_names_the_gaps(client: TestClient) -> None:
    body = client.get("/api/coverage", params={**SIX_MONTHS, "region": "twente"}).json()
    assert body["months"] == ["2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06"]
    (row,) = body["rows"]
    assert row["region"] == "twente"
    cells = {(c["sector"], c["type"], c["month"]): c["count"] for c in row["cells"]}
    assert cells[("vo", "meeloopdag", "2027-03")] == 2
    assert not any(s == "vo" and t == "meeloopdag" and m < "2027-03" for s, t, m in cells)
    assert not any(s == "ho" for s, _, _ in cells)
    texts = {gap["text"]["nl"] for gap in body["gaps"]}
    assert "geen meeloopdag voor vo in Twente vóór maart" in texts
    assert "geen activiteiten voor ho in Twente van januari t/m juni" in texts
    english = {gap["text"]["en"] for gap in body["gaps"]}
    assert "no job shadowing day for vo in Twente before March" in english
    # the same counts as the event query, month by month
    for key, count in row["months"].items():
        first = date.fromisoformat(key + "-01")
        api = _api_total(
            client, region="twente", **{"from": first.isoformat(), "to": _month_end(first)}
        )
        assert count == api, key  # no sample event spans two months
    march = _api_total(
        client,
        region="twente",
        sector="vo",
        type="meeloopdag",
        **{"from": "2027-03-01", "to": "2027-03-31"},
    )
    assert march == 2
    # filtered in SQL: only those cells remain
    narrow = client.get(
        "/api/coverage",
        params={**SIX_MONTHS, "region": "twente", "sector": "vo", "type": "meeloopdag"},
    ).json()
    assert narrow["rows"][0]["months"] == {
        "2027-01": 0,
        "2027-02": 0,
        "2027-03": 2,
        "2027-04": 0,
        "2027-05": 0,
        "2027-06": 0,
    }
    assert [g["text"]["nl"] for g in narrow["gaps"]] == [
        "geen meeloopdag voor vo in Twente vóór maart",
        "geen meeloopdag voor vo in Twente na maart",
    ]


def test_national_view_has_a_row_per_region_and_region_links(client: TestClient) -> None:
    body = client.get("/api/coverage", params=SIX_MONTHS).json()
    rows = {row["region"]: row for row in body["rows"]}
    assert body["rows"][0]["region"] == "landelijk"
    assert rows["twente"]["total"] == sum(rows["twente"]["months"].values())
    assert rows["twente"]["total"] == _api_total(
        client, region="twente", **{"from": "2027-01-01", "to": "2027-06-30"}
    )
    assert rows["achterhoek"]["total"] == 0
    texts = {gap["text"]["nl"] for gap in body["gaps"]}
    assert "geen activiteiten in Achterhoek van januari t/m juni" in texts
    # nationally, gaps per type only when a type is asked for
    assert not any(gap["type"] for gap in body["gaps"])
    typed = client.get("/api/coverage", params={**SIX_MONTHS, "type": "meeloopdag"}).json()
    assert "geen meeloopdag voor vo in Twente vóór maart" in {
        gap["text"]["nl"] for gap in typed["gaps"]
    }
    assert body["events"] == sum(row["total"] for row in body["rows"])


def test_pages_in_dutch_and_english(client: TestClient) -> None:
    page = client.get("/dekking", params={**SIX_MONTHS, "region": "twente"})
    assert page.status_code == 200
    assert "<h1>Dekking in Twente</h1>" in page.text
    assert "geen meeloopdag voor vo in Twente vóór maart" in page.text
    assert 'href="/dekking.csv?region=twente&amp;months=6' not in page.text  # default left out
    assert 'href="/dekking.csv?region=twente&amp;from=2027-01"' in page.text
    english = client.get("/en/coverage", params={**SIX_MONTHS, "region": "twente"})
    assert english.status_code == 200
    assert 'lang="en"' in english.text
    assert "no job shadowing day for vo in Twente before March" in english.text
    assert 'href="/dekking?region=twente&amp;from=2027-01"' in english.text  # language switch
    # each language at its own address
    moved = client.get("/coverage?region=twente", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, "/dekking?region=twente")
    moved = client.get("/en/dekking", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, "/en/coverage")
    national = client.get("/dekking", params=SIX_MONTHS)
    assert 'href="/dekking?region=twente&amp;from=2027-01">Twente</a>' in national.text


def test_bad_filters_are_explained(client: TestClient) -> None:
    for params in ({"region": "atlantis"}, {"sector": "xx"}, {"from": "2027-13"}):
        response = client.get("/api/coverage", params=params)
        assert response.status_code == 400, params
        assert response.json()["detail"]
    assert client.get("/api/coverage", params={"months": 0}).status_code == 422
    page = client.get("/dekking", params={"region": "atlantis"}, headers={"accept": "text/html"})
    assert page.status_code == 400
    assert "atlantis" in page.text


def test_csv_has_every_cell_with_zeros(client: TestClient) -> None:
    response = client.get("/dekking.csv", params={**SIX_MONTHS, "region": "twente"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    cell = {(r["sector"], r["type"], r["month"]): int(r["count"]) for r in rows}
    assert cell[("vo", "meeloopdag", "2027-03")] == 2
    assert cell[("vo", "meeloopdag", "2027-02")] == 0
    assert cell[("ho", "webinar", "2027-01")] == 0
    assert {r["region_name"] for r in rows} == {"Twente"}


def test_csv_downloads_never_start_a_cell_with_a_formula(
    client: TestClient, harvested: Engine
) -> None:
    with Session(harvested) as session:
        event = session.exec(select(Event).where(Event.region == "twente")).first()
        assert event is not None
        event.title = '=HYPERLINK("http://evil.example","klik")'
        event.description = "@SUM(1+1)"
        event_id = event.id
        session.add(event)
        session.commit()
    response = client.get("/data/events.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    (row,) = [r for r in rows if r["id"] == event_id]
    assert row["title"] == '\'=HYPERLINK("http://evil.example","klik")'
    assert row["description"] == "'@SUM(1+1)"
    assert not any(
        value.startswith(("=", "+", "-", "@", "\t", "\r"))
        for r in rows
        for key, value in r.items()
        if key not in ("lat", "lon")
    )
