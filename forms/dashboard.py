"""The editor's dashboard after login: their region's queue, their sources' health, coverage."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from aggregator.health import source_health
from aggregator.submissions import queue
from api.deps import ConfigDep
from api.web import render
from forms.auth import ModeratorDep

router = APIRouter(include_in_schema=False)


@router.get("/dashboard")
def dashboard(request: Request, user: ModeratorDep, config: ConfigDep) -> Response:
    """What an editor looks after: pending submissions of their region, the health of the
    sources of their region (an admin: every region), and a link to the region's coverage."""
    with Session(request.app.state.engine) as session:
        pending = queue(session=session, moderator=user, status="pending")
    sources = source_health(engine=request.app.state.engine, config=config)
    if user.role != "admin":
        sources = [s for s in sources if s.region == user.region]
    failing = [s for s in sources if s.last_error]
    return render(
        request,
        "dashboard.html",
        moderator=user,
        pending=pending,
        sources=sources,
        failing=failing,
    )
