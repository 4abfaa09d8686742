"""``POST /api/sources/{id}/ping``: a region tells the calendar its feed changed.

The source's secret token comes as ``Authorization: Bearer TOKEN`` (or, for webhook
senders that cannot set headers, a ``token`` query parameter). Answers are JSON:
202 queued (or already queued: debounced), 401 no token, 403 wrong token or pings off for
this source, 404 unknown source, 429 too many requests from this address.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel import Session

from aggregator.push import PingAnswer, accept_ping
from aggregator.submissions import RateLimited, check_rate
from api.api_models import ErrorBody
from forms.web import FormsOptionsDep, client_address

router = APIRouter()


class PingQueued(BaseModel):
    """A ping's answer: whether this ping queued a harvest (False: one was queued already)."""

    queued: bool
    source: str
    detail: str | None = None


def _token(authorization: str | None, token: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return token or None


def _detail(status: int, detail: str, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)


@router.post(
    "/api/sources/{source_id}/ping",
    status_code=202,
    tags=["push"],
    summary="Ping: the source changed, harvest it now",
    response_model=PingQueued,
    responses={
        code: {"model": ErrorBody, "description": description}
        for code, description in {
            401: "no token sent",
            403: "a wrong token, or pings are off for this source (it has no token)",
            404: "no such source",
            429: "too many pings from this address",
            422: "a parameter of the wrong type",
        }.items()
    },
)
def ping_source(
    source_id: str,
    request: Request,
    options: FormsOptionsDep,
    authorization: Annotated[str | None, Header(description="Bearer TOKEN")] = None,
    token: Annotated[str | None, Query(description="the token, if no header can be sent")] = None,
) -> JSONResponse:
    """Queue a harvest of this source now (debounced), authorised by its ping token.

    The token is made by ``agenda ping-token SOURCE_ID`` and shown once. A second ping
    within ``PING_DEBOUNCE`` seconds is answered ``queued: false``: the harvest already
    queued reads the change too.
    """
    now = datetime.now(UTC)
    with Session(request.app.state.engine) as session:
        try:  # every attempt counts, right or wrong, so tokens cannot be tried in bulk
            check_rate(
                session=session,
                client=client_address(request),
                action="ping",
                limit=options.ping_limit,
                now=now,
            )
            session.commit()
        except RateLimited:
            return _detail(
                429,
                "Too many pings from this address; try again later.",
                **{"Retry-After": str(int(options.ping_limit.window.total_seconds()))},
            )
        sent = _token(authorization, token)
        if sent is None:
            return _detail(
                401,
                "A ping needs the source's token: send 'Authorization: Bearer TOKEN'.",
                **{"WWW-Authenticate": "Bearer"},
            )
        result = accept_ping(
            session=session,
            source_id=source_id,
            token=sent,
            now=now,
            debounce=timedelta(seconds=options.ping_debounce),
        )
        session.commit()
    match result.answer:
        case PingAnswer.UNKNOWN_SOURCE:
            return _detail(404, f"There is no source {source_id!r}.")
        case PingAnswer.NO_TOKEN:
            return _detail(
                403,
                f"Pings are not enabled for source {source_id!r}: an operator makes its token"
                " with 'agenda ping-token'.",
            )
        case PingAnswer.WRONG_TOKEN:
            return _detail(403, f"This token is not the ping token of source {source_id!r}.")
        case PingAnswer.DEBOUNCED:
            assert result.last_ping_at is not None
            ago = (now - result.last_ping_at).total_seconds()
            return JSONResponse(
                {
                    "queued": False,
                    "source": source_id,
                    "detail": f"A harvest was queued {ago:.0f} s ago; it will read this change"
                    " too.",
                },
                status_code=202,
            )
    return JSONResponse({"queued": True, "source": source_id}, status_code=202)
