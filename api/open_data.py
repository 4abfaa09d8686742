"""Open data: the whole calendar as one JSON Lines and one CSV download, streamed.

Both take the filters of ``/api/events`` (none: every stored event, past ones included) and
read them through the same store snapshot and query, page by page, so memory stays flat;
on PostgreSQL the pages share one REPEATABLE READ transaction, so a harvest running
meanwhile cannot make a page skip or repeat an event. Every record carries the licence
(``OPEN_DATA_LICENCE``, an SPDX id, and its URL) and its provenance: each source with its
name, the event's URL there, its uid and when it was harvested.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import Engine
from sqlmodel import Session

from aggregator.config import AppConfig
from aggregator.query import EventFilters, StoreSnapshot
from api.api_models import error_responses
from api.deps import public_base_url
from api.params import FiltersDep
from api.spreadsheet import safe_cell
from feeds.event_json import event_to_json
from feeds.jsonld import event_page_url

router = APIRouter(prefix="/data", tags=["open data"])

PAGE_SIZE = 500

CSV_COLUMNS = (
    "id",
    "title",
    "description",
    "start",
    "end",
    "all_day",
    "status",
    "attendance",
    "location_name",
    "address",
    "postcode",
    "city",
    "municipality",
    "lat",
    "lon",
    "region",
    "url",
    "registration_url",
    "organizer_name",
    "organizer_url",
    "activity_type",
    "sectors",
    "phases",
    "audiences",
    "language",
    "is_free",
    "source_ids",
    "sources",
    "first_seen",
    "last_modified",
    "page_url",
    "licence",
    "licence_url",
)


def open_records(
    *,
    engine: Engine,
    config: AppConfig,
    filters: EventFilters,
    base_url: str,
    licence: dict[str, str],
    page_size: int = PAGE_SIZE,
) -> Iterator[dict[str, Any]]:
    """Every matching event as a canonical event with ``page_url`` and the licence fields,
    read ``page_size`` events at a time."""
    with Session(engine) as session:
        snapshot = StoreSnapshot(session)  # on PostgreSQL one REPEATABLE READ transaction
        page_number = 1
        while True:
            filters = replace(filters, page=page_number, per_page=page_size)
            page = snapshot.events(filters, config.regions)
            for event in page.items:
                record = event_to_json(event, page.records.get(event.id, []), page.sources)
                record["page_url"] = event_page_url(event.id, base_url=base_url)
                record.update(licence)
                yield record
            if len(page.items) < page_size:
                return
            page_number += 1


def jsonl_lines(records: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """One JSON object a line (UTF-8), in chunks of a page."""
    chunk: list[bytes] = []
    for record in records:
        chunk.append(orjson.dumps(record))
        if len(chunk) >= PAGE_SIZE:
            yield b"\n".join(chunk) + b"\n"
            chunk = []
    if chunk:
        yield b"\n".join(chunk) + b"\n"


def csv_row(record: dict[str, Any]) -> list[Any]:
    """The CSV cells of one record: slug lists joined by ';', the sources as JSON, text
    that a spreadsheet would read as a formula made inert (``api.spreadsheet``)."""
    location = record["location"] or {}
    organizer = record["organizer"] or {}
    flat = {
        **record,
        "location_name": location.get("name"),
        "address": location.get("address"),
        "postcode": location.get("postcode"),
        "city": location.get("city"),
        "municipality": location.get("municipality"),
        "lat": location.get("lat"),
        "lon": location.get("lon"),
        "organizer_name": organizer.get("name"),
        "organizer_url": organizer.get("url"),
        "sectors": ";".join(record["sectors"]),
        "phases": ";".join(record["phases"]),
        "audiences": ";".join(record["audiences"]),
        "source_ids": ";".join(s["source"] for s in record["sources"]),
        "sources": json.dumps(record["sources"], ensure_ascii=False),
    }
    cells = []
    for column in CSV_COLUMNS:
        value = flat.get(column)
        cells.append(
            ""
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else safe_cell(value)
        )
    return cells


def csv_lines(records: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """RFC 4180 CSV with a header row, UTF-8 with a byte-order mark (Excel reads it right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff".encode() + _drain(buffer)
    for rows, record in enumerate(records, start=1):
        writer.writerow(csv_row(record))
        if rows % PAGE_SIZE == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode()


def _download(
    request: Request,
    filters: EventFilters,
    *,
    render: Callable[[Iterator[dict[str, Any]]], Iterator[bytes]],
    media_type: str,
    filename: str,
) -> StreamingResponse:
    state = request.app.state
    options = state.publish
    licence = {"licence": options.open_data_licence, "licence_url": options.open_data_licence_url}
    records = open_records(
        engine=state.engine,
        config=state.config,
        filters=filters,
        base_url=public_base_url(request),
        licence=licence,
    )
    return StreamingResponse(
        render(records),
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Link": f'<{options.open_data_licence_url}>; rel="license"',
        },
    )


@router.get(
    "/events.jsonl",
    summary="Open data: every event as JSON Lines",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "one canonical event a line",
            "content": {"application/jsonl": {"schema": {"type": "string"}}},
        },
        **error_responses(400, 422),
    },
)
def events_jsonl(request: Request, filters: FiltersDep) -> StreamingResponse:
    """Every stored event (or those matching the filters of /api/events), one canonical
    event a line with ``page_url``, ``licence`` and ``licence_url``; provenance in ``sources``.
    """
    return _download(
        request,
        filters,
        render=jsonl_lines,
        media_type="application/jsonl; charset=utf-8",
        filename="overstap-agenda-events.jsonl",
    )


@router.get(
    "/events.csv",
    summary="Open data: every event as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "one event a row, with a header row",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **error_responses(400, 422),
    },
)
def events_csv(request: Request, filters: FiltersDep) -> StreamingResponse:
    """The same records as the JSON Lines download, one row each: slug lists joined by
    ``;``, the sources (provenance) as a JSON array in ``sources``."""
    return _download(
        request,
        filters,
        render=csv_lines,
        media_type="text/csv; charset=utf-8",
        filename="overstap-agenda-events.csv",
    )
