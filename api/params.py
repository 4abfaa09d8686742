"""Request parameters become EventFilters in one way, for the JSON API, every feed and
export, the pages and the embed.

Every multi-valued filter takes repeated parameters (``sector=po&sector=vo``) or a
comma-separated list (``sector=po,vo``); values OR within a field, fields AND together.
The API and the exports are strict: an unknown or inconsistent value is a 400 that says
why (``build_filters``). The pages and the embed build the same filters leniently: what
cannot be used is left out and reported as a ``FilterProblem`` (a page shows a notice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Query, Request

from aggregator.config import AppConfig
from aggregator.proximity import GeoPoint, NearError, parse_near
from aggregator.query import EventFilters

MAX_Q_LENGTH = 200
MAX_KM = 300.0
DEFAULT_KM = 25.0
ATTENDANCE = ("offline", "online", "mixed")
LANGUAGES = ("nl", "en")
# Dates far outside any calendar are typos (and year 9999 overflows day arithmetic).
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


@dataclass(frozen=True, slots=True)
class FilterProblem:
    """A parameter value that could not be used: the parameter and why."""

    name: str
    message: str


class _Problems:
    """Raise (strict) or collect (lenient) what is wrong with the parameters."""

    def __init__(self, lenient: bool, sink: list[FilterProblem] | None) -> None:
        self.lenient = lenient
        self.sink = sink if sink is not None else []

    def report(self, name: str, message: str) -> None:
        if not self.lenient:
            raise HTTPException(400, message)
        self.sink.append(FilterProblem(name, message))


def _values(raw: list[str] | None) -> tuple[str, ...]:
    """Split repeated and comma-separated values, drop blanks, keep first-seen order."""
    if not raw:
        return ()
    parts = (p.strip().lower() for item in raw for p in item.split(","))
    return tuple(dict.fromkeys(p for p in parts if p))


def _checked(
    problems: _Problems,
    name: str,
    raw: list[str] | None,
    allowed: list[str] | tuple[str, ...],
) -> tuple[str, ...]:
    values = _values(raw)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems.report(
            name,
            f"unknown {name} {', '.join(repr(v[:40]) for v in unknown[:5])}; "
            f"known values: {', '.join(allowed)}",
        )
        values = tuple(v for v in values if v in allowed)
    return values


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
    lenient: bool = False,
    problems: list[FilterProblem] | None = None,
) -> EventFilters:
    """Check raw parameter values and build the filters.

    Strict (the default): HTTPException 400 on the first bad value. ``lenient``: a bad
    value is left out (a too long ``q`` is cut, ``km`` is brought within range) and
    appended to ``problems``.
    """
    report = _Problems(lenient, problems)
    taxonomy = config.taxonomy
    regions = _checked(report, "region", region, sorted(r.slug for r in config.regions))
    sectors = _checked(report, "sector", sector, taxonomy.slugs("sectors"))
    types = _checked(report, "type", type_, taxonomy.slugs("activity_types"))
    phases = _checked(report, "phase", phase, taxonomy.slugs("phases"))
    audiences = _checked(report, "audience", audience, taxonomy.slugs("audiences"))
    attendances = _checked(report, "attendance", attendance, ATTENDANCE)
    languages = _checked(report, "lang", lang, LANGUAGES)
    if date_from is not None and not EARLIEST <= date_from <= LATEST:
        report.report("from", f"'from' must lie between {EARLIEST} and {LATEST}")
        date_from = None
    if date_to is not None and not EARLIEST <= date_to <= LATEST:
        report.report("to", f"'to' must lie between {EARLIEST} and {LATEST}")
        date_to = None
    if date_from and date_to and date_to < date_from:
        report.report("to", "'to' is before 'from'")
        date_to = None
    point: GeoPoint | None = None
    if near is not None and near.strip():
        try:
            point = parse_near(near)
        except NearError as exc:
            report.report("near", str(exc))
    if km is not None and point is None:
        report.report("km", "'km' needs 'near' (a postcode or lat,lon)")
        km = None
    if km is not None and not 0 < km <= MAX_KM:
        report.report("km", f"'km' must lie between 0 and {MAX_KM:g}")
        km = min(max(km, 1.0), MAX_KM)
    if plus_online and point is None:
        report.report("plus_online", "'plus_online' needs 'near' (a postcode or lat,lon)")
        plus_online = False
    if sort == "distance" and point is None:
        report.report("sort", "sort=distance needs 'near' (a postcode or lat,lon)")
        sort = None
    if q is not None and len(q) > MAX_Q_LENGTH:
        report.report("q", f"q is longer than {MAX_Q_LENGTH} characters")
        q = q[:MAX_Q_LENGTH]
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
        km=km if km is not None else DEFAULT_KM,
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
            description="a postcode (PC4 '6511' or PC6 '6511 AB'), a place name ('Nijmegen', "
            "'Den Bosch', 'Bergen NH') or 'lat,lon'; an ambiguous name is a 400 listing the "
            "candidates",
            max_length=60,
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
