"""The WebSub callback of each source: ``GET`` verification, ``POST`` content notification.

``GET /websub/{id}?hub.mode=subscribe&hub.topic=...&hub.challenge=...`` echoes the
challenge when it matches the pending subscription (404 otherwise); ``POST /websub/{id}``
with a body signed by the subscription's secret makes the source due now. A push with a
wrong or missing signature is answered 202 too, as WebSub asks, and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlmodel import Session

from aggregator.websub import accept_notification, verify_intent

router = APIRouter(include_in_schema=False)


@router.get("/websub/{source_id}")
def websub_verify(source_id: str, request: Request) -> Response:
    """Answer a hub's verification of intent with its challenge (or 404 when not ours)."""
    query = request.query_params
    with Session(request.app.state.engine) as session:
        challenge = verify_intent(
            session=session,
            source_id=source_id,
            mode=query.get("hub.mode", ""),
            topic=query.get("hub.topic", ""),
            challenge=query.get("hub.challenge", ""),
            lease_seconds=query.get("hub.lease_seconds"),
            now=datetime.now(UTC),
        )
        session.commit()
    if not challenge:
        return PlainTextResponse("no such subscription", status_code=404)
    return PlainTextResponse(challenge)


@router.post("/websub/{source_id}")
async def websub_notify(source_id: str, request: Request) -> Response:
    """A hub's push: if signed with the source's secret, harvest the source now."""
    body = await request.body()
    with Session(request.app.state.engine) as session:
        accept_notification(
            session=session,
            source_id=source_id,
            body=body,
            signature=request.headers.get("x-hub-signature"),
            now=datetime.now(UTC),
        )
        session.commit()
    return Response(status_code=202)
