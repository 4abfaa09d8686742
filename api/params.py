"""Query parameters shared by the JSON API and every feed format.

Every multi-valued filter takes repeated parameters (``sector=po&sector=vo``) or a
comma-separated list (``sector=po,vo``); values OR within a field, fields AND together.
Unknown values are a 400 that lists the known ones.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request

from aggregator.config import AppConfig
from aggregator.proximity import NearError, parse_near
from aggregator.query import EventFilters

MAX_Q_LENGTH = 200
MAX_KM = 300.0
ATTENDANCE = ("offline", "online", "mixed")
LANGUAGES = ("nl", "en")
# Dates far outside any calendar are typos (and year 9999 overflows day arithmetic).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _values(raw: list[str] | None) -> tuple[str, ...]:
    """Split repeated and comma-separated values, drop blanks, keep first-seen order."""
    if not raw:
        return ()
    parts = (p.strip().lower() for item in raw for p in item.split(","))
    return tuple(dict.fromkeys(p for p in parts if p))


def _checked(name: str, values: tuple[str, ...], allowed: list[str] | tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise HTTPException(
            400,
            f"unknown {name} {', '.join(repr(v[:40]) for v in unknown[:5])}; "
            f"known values: {', '.join(allowed)}",
        )


def build_filters(
    config: AppConfig,
    *,
    q: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    region: list[str] | None = None,
    sector: list[str] | None = None,
    type_: list[str] | None = None,
    phase: list[str] | None = None,
    audience: list[str] | None = None,
    attendance: list[str] | None = None,
    lang: list[str] | None = None,
    free: bool | None = None,
    near: str | None = None,
    km: float | None = None,
    plus_online: bool = False,
    sort: Literal["date", "distance", "relevance"] | None = None,
    page: int = 1,
    per_page: int = 50,
) -> EventFilters:
    """Check raw parameter values and build the filters (HTTPException 400 on a bad one)."""
    regions = _values(region)
    _checked("region", regions, sorted(r.slug for r in config.regions))
    taxonomy = config.taxonomy
    sectors, types, phases, audiences = (
        _values(sector),
        _values(type_),
        _values(phase),
        _values(audience),
    )
    _checked("sector", sectors, taxonomy.slugs("sectors"))
    _checked("type", types, taxonomy.slugs("activity_types"))
    _checked("phase", phases, taxonomy.slugs("phases"))
    _checked("audience", audiences, taxonomy.slugs("audiences"))
    attendances, languages = _values(attendance), _values(lang)
    _checked("attendance", attendances, ATTENDANCE)
    _checked("lang", languages, LANGUAGES)
    for name, day in (("from", date_from), ("to", date_to)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise HTTPException(400, f"'{name}' must lie between {EARLIEST} and {LATEST}")
    if date_from and date_to and date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    point = None
    if near is not None and near.strip():
        try:
            point = parse_near(near)
        except NearError as exc:
            raise HTTPException(400, str(exc)) from exc
    if km is not None and point is None:
        raise HTTPException(400, "'km' needs 'near' (a postcode or lat,lon)")
    if plus_online and point is None:
        raise HTTPException(400, "'plus_online' needs 'near' (a postcode or lat,lon)")
    if sort == "distance" and point is None:
        raise HTTPException(400, "sort=distance needs 'near' (a postcode or lat,lon)")
    if q is not None and len(q) > MAX_Q_LENGTH:
        raise HTTPException(400, f"q is longer than {MAX_Q_LENGTH} characters")
    return EventFilters(
        q=q.strip() or None if q else None,
        date_from=date_from,
        date_to=date_to,
        regions=regions,
        sectors=sectors,
        types=types,
        phases=phases,
        audiences=audiences,
        attendance=attendances,
        languages=languages,
        free=free,
        near=point,
        km=km if km is not None else 25.0,
        plus_online=plus_online,
        sort=sort,
        page=page,
        per_page=per_page,
    )


async def app_config(request: Request) -> AppConfig:
    """The configuration the app was started with (async: no threadpool hop)."""
    return request.app.state.config


async def event_filters(
    config: Annotated[AppConfig, Depends(app_config)],
    q: Annotated[
        str | None,
        Query(
            description="free text; every word matches as a prefix (Dutch stemming on "
            "PostgreSQL); search syntax characters are ignored",
            max_length=MAX_Q_LENGTH,
            examples=["zij-instroom pabo"],
        ),
    ] = None,
    date_from: Annotated[
        date | None,
        Query(alias="from", description="first day (YYYY-MM-DD)", examples=["2027-01-01"]),
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="last day (YYYY-MM-DD)", examples=["2027-06-30"])
    ] = None,
    region: Annotated[
        list[str] | None,
        Query(description="region slug(s), see /api/regions", examples=[["twente"]]),
    ] = None,
    sector: Annotated[
        list[str] | None,
        Query(description="po, vo, mbo, ho, so, pro (any of)", examples=[["po", "vo"]]),
    ] = None,
    type_: Annotated[
        list[str] | None,
        Query(alias="type", description="activity type slug(s)", examples=[["voorlichting"]]),
    ] = None,
    phase: Annotated[
        list[str] | None,
        Query(description="klantreis phase slug(s)", examples=[["orienteren"]]),
    ] = None,
    audience: Annotated[
        list[str] | None,
        Query(description="audience slug(s)", examples=[["zij-instromers"]]),
    ] = None,
    attendance: Annotated[
        list[str] | None,
        Query(
            description="offline, online, mixed; a mixed event answers online and offline",
            examples=[["online"]],
        ),
    ] = None,
    lang: Annotated[list[str] | None, Query(description="nl or en", examples=[["en"]])] = None,
    free: Annotated[
        bool | None, Query(description="only free (true) or only paid (false) events")
    ] = None,
    near: Annotated[
        str | None,
        Query(
            description="a postcode (PC4 '6511' or PC6 '6511 AB') or 'lat,lon'",
            max_length=40,
            examples=["6511 AB"],
        ),
    ] = None,
    km: Annotated[
        float | None,
        Query(gt=0, le=MAX_KM, description="radius around 'near' in km (default 25)"),
    ] = None,
    plus_online: Annotated[
        bool,
        Query(
            description="with near: also online and hybrid events, wherever they are hosted",
            examples=[True],
        ),
    ] = False,
    sort: Annotated[
        Literal["date", "distance", "relevance"] | None,
        Query(
            description="date (default), relevance (default with q: every word in the title "
            "first, then some words in the title, then the rest; soonest first within each), "
            "distance (needs near)",
        ),
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventFilters:
    """Read and check the filters of a request (a 400 or 422 with the reason when wrong).

    Pure parsing, so async: it runs on the event loop instead of costing a thread hop.
    """
    return build_filters(
        config,
        q=q,
        date_from=date_from,
        date_to=date_to,
        region=region,
        sector=sector,
        type_=type_,
        phase=phase,
        audience=audience,
        attendance=attendance,
        lang=lang,
        free=free,
        near=near,
        km=km,
        plus_online=plus_online,
        sort=sort,
        page=page,
        per_page=per_page,
    )


FiltersDep = Annotated[EventFilters, Depends(event_filters)]
