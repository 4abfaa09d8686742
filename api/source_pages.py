"""The public source health page: /bronnen (Dutch) and /en/sources (English)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from aggregator.health import STATES, SourceStatus, known_sources, source_statuses
from aggregator.localtime import LOCAL_TZ
from api.deps import ConfigDep, SessionDep
from api.i18n import long_date, t
from api.sparkline import Sparkline, sparkline
from api.web import region_name, render, request_lang

router = APIRouter(include_in_schema=False)

PATHS = {"nl": "/bronnen", "en": "/sources"}  # the English one is served under /en


@dataclass(frozen=True, slots=True)
class Moment:
    """A time to show: machine-readable and as words in the page language."""

    iso: str
    text: str


def moment(value: datetime | None, lang: str) -> Moment | None:
    """``value`` as a local date and time in words, or None."""
    if value is None:
        return None
    local = value.astimezone(LOCAL_TZ)
    return Moment(local.isoformat(timespec="seconds"), f"{long_date(local, lang)} {local:%H:%M}")


def source_row(status: SourceStatus, config: Any, lang: str) -> dict[str, Any]:
    """What one table row shows of a source."""
    trend: Sparkline = sparkline(status.trend, lang)
    return {
        "status": status,
        "region": region_name(config, status.region, lang),
        "state_label": t(f"state_{status.state}", lang),
        "last_success": moment(status.last_success, lang),
        "last_failure": moment(status.last_failure, lang),
        "trend": trend,
    }


def _page(request: Request, session: Any, config: Any) -> Response:
    lang = request_lang(request)
    statuses = source_statuses(
        session=session, sources=known_sources(session=session, config=config)
    )
    counts = Counter(status.state for status in statuses)
    return render(
        request,
        "sources.html",
        rows=[source_row(status, config, lang) for status in statuses],
        total=len(statuses),
        state_counts=[(state, t(f"state_{state}", lang), counts[state]) for state in STATES],
        switch_url=("/bronnen" if lang == "en" else "/en/sources"),
    )


@router.get("/bronnen")
def sources_page_nl(request: Request, session: SessionDep, config: ConfigDep) -> Response:
    """Every source with its state, last success and failure, events and trend (Dutch).

    ``/en/bronnen`` goes to the English address, ``/en/sources``.
    """
    if request_lang(request) == "en":
        return RedirectResponse("/en/sources", status_code=308)
    return _page(request, session, config)


@router.get("/sources")
def sources_page_en(request: Request, session: SessionDep, config: ConfigDep) -> Response:
    """The English page at ``/en/sources``; ``/sources`` without the prefix goes to /bronnen."""
    if request_lang(request) != "en":
        return RedirectResponse("/bronnen", status_code=308)
    return _page(request, session, config)
