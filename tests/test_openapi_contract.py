"""The OpenAPI document is the contract: valid (openapi-spec-validator), the event model
matches what the server renders, and schemathesis finds no response that contradicts it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from feeds.event_model import EventDetail, EventHit, EventList
from tests.publishing_data import seeded_app

FROM = {"from": "2027-01-01"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return seeded_app(tmp_path_factory.mktemp("openapi"))


@pytest.fixture(scope="module")
def client(app: FastAPI) -> TestClient:
    return TestClient(app)


def test_the_document_is_valid_openapi(app: FastAPI) -> None:
    # imported here, not at collection: jsonschema's format checkers build a grammar on import
    from openapi_spec_validator import validate

    validate(app.openapi())  # raises on any violation of the OpenAPI 3.1 schema


def test_every_api_route_documents_its_errors_and_body(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path in ("/api/events", "/calendar.ics", "/feeds/events.rss", "/regions/{slug}.ics"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "400", "422"} <= set(responses), path
        error = responses["422"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}
    assert "304" in paths["/calendar.ics"]["get"]["responses"]
    assert "404" in paths["/api/events/{event_id}"]["get"]["responses"]
    schemas = app.openapi()["components"]["schemas"]
    # 422's detail is what the server sends: one string, not FastAPI's default array
    assert schemas["ErrorBody"]["properties"]["detail"]["type"] == "string"
    assert "HTTPValidationError" not in schemas


def test_the_event_model_is_what_the_server_renders(client: TestClient) -> None:
    body = client.get(
        "/api/events", params={**FROM, "per_page": 200, "near": "6511", "km": "300"}
    ).json()
    assert len(body["items"]) >= 5
    for item in body["items"]:
        EventHit.model_validate(item)  # extra="forbid": no undocumented field either
        detail = client.get(f"/api/events/{item['id']}", params={"jsonld": "true"}).json()
        EventDetail.model_validate(detail)
    removed = client.get("/api/events/ev-nijmegen-removed").json()
    assert removed["removed"] is True and removed["removed_at"]
    assert removed["status"] == "confirmed"  # the organiser never cancelled it


def test_the_documented_example_is_a_valid_answer() -> None:
    from api.routes_api import _SEARCH_EXAMPLE

    EventList.model_validate(_SEARCH_EXAMPLE)


def test_422_body_matches_the_document(client: TestClient) -> None:
    response = client.get("/api/events", params={"per_page": "many"})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], str) and "per_page" in response.json()["detail"]


def test_schemathesis_finds_no_contradiction(app: FastAPI) -> None:
    # Bounded: a few generated requests an operation keep the run to seconds; every check
    # that compares a response with the document runs on each. Schemathesis's own pytest
    # plugin is off (``-p no:schemathesis`` in pyproject.toml: it costs every worker seconds
    # of imports); its strategies are driven by hypothesis directly, imported here.
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(checks=checks)

        run()
