"""The interest page for editors and the desk: /interesse (/en/interest), behind the login.

Counts per ISO week, region, sector, type and event of subscription fetches, event-page
views and registration clicks (``aggregator.interest``); small counts show as "< 5".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from aggregator.interest import SMALL, interest_report, iso_week, shown
from api.deps import ConfigDep, SessionDep
from api.i18n import lookup
from api.web import region_name, render, request_lang, term_label
from forms.auth import ModeratorDep

router = APIRouter(include_in_schema=False)

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Belangstelling", "Interest"),
    "title_region": ("Belangstelling in {region}", "Interest in {region}"),
    "intro": (
        "Hoe vaak agenda-abonnementen worden opgehaald, activiteitenpagina's bekeken en "
        "aanmeldlinks gevolgd, per week. Er worden geen personen, IP-adressen of cookies "
        "bewaard en geen robots geteld; aantallen onder de {small} staan als ‘< {small}’.",
        "How often calendar subscriptions are fetched, activity pages viewed and registration "
        "links followed, per week. No persons, IP addresses or cookies are kept and robots "
        "are not counted; counts below {small} show as ‘< {small}’.",
    ),
    "region": ("Regio", "Region"),
    "all_regions": ("Heel Nederland", "The whole country"),
    "weeks": ("Weken terug", "Weeks back"),
    "show": ("Tonen", "Show"),
    "week": ("Week", "Week"),
    "sector": ("Sector", "Sector"),
    "type": ("Soort activiteit", "Type of activity"),
    "event": ("Activiteit", "Activity"),
    "subscriptions": ("Abonnementen (verschillende adressen)", "Subscriptions (distinct URLs)"),
    "fetches": ("Keer opgehaald", "Fetches"),
    "views": ("Paginaweergaven", "Page views"),
    "clicks": ("Klikken op aanmelden", "Registration clicks"),
    "per_week": ("Per week", "Per week"),
    "per_region": ("Per regio", "Per region"),
    "per_sector": ("Per sector", "Per sector"),
    "per_type": ("Per soort activiteit", "Per type of activity"),
    "per_event": ("Per activiteit", "Per activity"),
    "nothing": ("Nog niets geteld in deze weken.", "Nothing counted in these weeks yet."),
    "unknown": ("onbekend", "unknown"),
    "no_region": (
        "geen regio (abonnementen op heel Nederland)",
        "no region (subscriptions to the whole country)",
    ),
}
KINDS = ("subscriptions", "fetches", "views", "clicks")
MAX_EVENTS = 100


def _s(key: str, lang: str, **params: object) -> str:
    return lookup(STRINGS, key, lang, **params)


def recent_weeks(count: int, now: datetime | None = None) -> list[str]:
    """The last ``count`` ISO weeks, the current one first."""
    moment = now or datetime.now(UTC)
    return [iso_week(moment - timedelta(weeks=i)) for i in range(count)]


def _table(rows: dict[str, Any], label: Any) -> list[dict[str, Any]]:
    return [
        {"label": label(key), "cells": [shown(counter[k]) for k in KINDS]}
        for key, counter in sorted(rows.items(), key=lambda pair: (-sum(pair[1].values()), pair[0]))
    ]


@router.get("/interesse")
@router.get("/interest")
def interest_page(
    request: Request,
    user: ModeratorDep,
    session: SessionDep,
    config: ConfigDep,
    region: Annotated[str | None, Query(max_length=100)] = None,
    weeks: Annotated[int, Query(ge=1, le=53)] = 8,
) -> Response:
    """Interest counts for admins and region editors (an editor starts in their region)."""
    lang = request_lang(request)
    chosen = user.region or "" if region is None and user.role == "editor" else (region or "")
    if chosen and chosen not in config.regions:
        raise HTTPException(400, f"unknown region {chosen[:40]!r}")
    report = interest_report(
        session=session, weeks=recent_weeks(weeks), regions=config.regions, region=chosen or None
    )

    def place(slug: str) -> str:
        return region_name(config, slug, lang) if slug else _s("no_region", lang)

    def term(field: str) -> Any:
        return lambda slug: term_label(config, field, slug, lang) if slug else _s("unknown", lang)

    per_week = [
        {"label": week, "cells": [shown(report.per_week[week][k]) for k in KINDS]}
        for week in report.weeks
    ]
    events = [
        {
            "id": e.event_id,
            "title": e.title,
            "region": place(e.region),
            "views": shown(e.views),
            "clicks": shown(e.clicks),
        }
        for e in report.events[:MAX_EVENTS]
    ]
    return render(
        request,
        "interest.html",
        it=lambda key, **p: _s(key, lang, **p),
        title=_s("title_region", lang, region=place(chosen)) if chosen else _s("title", lang),
        small=SMALL,
        kinds=KINDS,
        chosen=chosen,
        weeks=weeks,
        action="/en/interest" if lang == "en" else "/interesse",
        region_choices=sorted(
            ((r.slug, place(r.slug)) for r in config.regions),
            key=lambda pair: (pair[0] != "landelijk", pair[1].casefold()),
        ),
        tables=[
            ("per_week", "week", per_week),
            ("per_region", "region", _table(report.per_region, place)),
            ("per_sector", "sector", _table(report.per_sector, term("sectors"))),
            ("per_type", "type", _table(report.per_type, term("activity_types"))),
        ],
        events=events,
        empty=not any(sum(c.values()) for c in report.per_week.values()),
    )
