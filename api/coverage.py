"""The coverage report: /dekking (/en/coverage) as a page, /dekking.csv and /api/coverage.

One request becomes one ``aggregator.coverage.coverage`` call; the page, the CSV and the
JSON render the same counts and gaps. Filters: ``region`` (one region: that region's view;
none: the national view), ``sector`` and ``type`` (any of), ``months`` ahead (1-24,
default 6) and ``from`` (a month, YYYY-MM; default: from today in the current month).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from aggregator.config import AppConfig
from aggregator.coverage import ANY, MAX_MONTHS, Coverage, coverage
from aggregator.localtime import today_local
from api.api_models import error_responses
from api.coverage_model import CoverageOut
from api.coverage_text import ct, gap_sentence, place_name, sector_name, type_name
from api.deps import ConfigDep, SessionDep
from api.i18n import month_name
from api.params import build_filters
from api.spreadsheet import safe_cell
from api.web import lang_url, render, request_lang

router = APIRouter(tags=["coverage"])

DEFAULT_MONTHS = 6
MONTH_CHOICES = (3, 6, 12, 24)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class CoverageRequest:
    """What one coverage request asks: the filters' raw values, checked."""

    region: str
    sectors: tuple[str, ...]
    types: tuple[str, ...]
    months: int
    from_month: str

    def params(self, **override: Any) -> dict[str, Any]:
        """The query parameters of this view (for links to other views and downloads)."""
        values: dict[str, Any] = {
            "region": self.region,
            "sector": list(self.sectors),
            "type": list(self.types),
            "months": self.months if self.months != DEFAULT_MONTHS else "",
            "from": self.from_month,
        }
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "", [])}


def coverage_request(
    region: Annotated[
        str | None, Query(description="one region slug: that region's view (none: national)")
    ] = None,
    sector: Annotated[list[str] | None, Query(description="sector slug(s), any of")] = None,
    type_: Annotated[
        list[str] | None, Query(alias="type", description="activity type slug(s), any of")
    ] = None,
    months: Annotated[
        int, Query(ge=1, le=MAX_MONTHS, description="months ahead, the current one first")
    ] = DEFAULT_MONTHS,
    from_month: Annotated[
        str | None,
        Query(
            alias="from",
            description="first month (YYYY-MM); default the current month, counted from today",
            max_length=7,
            examples=["2027-01"],
        ),
    ] = None,
) -> CoverageRequest:
    """The coverage filters of a request (the values are checked when the view is built)."""
    return CoverageRequest(
        region=(region or "").strip().lower(),
        sectors=tuple(sector or ()),
        types=tuple(type_ or ()),
        months=months,
        from_month=(from_month or "").strip(),
    )


CoverageRequestDep = Annotated[CoverageRequest, Depends(coverage_request)]


def _since(value: str) -> date:
    """The first day counted: the first of the month asked for, else today."""
    if not value:
        return today_local()
    match = _MONTH.match(value)
    if not match:
        raise HTTPException(400, f"'from' must be a month as YYYY-MM, not {value[:20]!r}")
    since = date(int(match.group(1)), int(match.group(2)), 1)
    if not date(2000, 1, 1) <= since <= date(2100, 1, 1):
        raise HTTPException(400, "'from' must lie between 2000-01 and 2100-01")
    return since


def build_coverage(ask: CoverageRequest, *, session: Any, config: AppConfig) -> Coverage:
    """The counts of a coverage request (unknown values are a 400 that says why)."""
    filters = build_filters(
        config,
        region=[ask.region] if ask.region else None,
        sector=list(ask.sectors) or None,
        type_=list(ask.types) or None,
    )
    return coverage(
        session=session,
        filters=filters,
        regions=config.regions,
        taxonomy=config.taxonomy,
        since=_since(ask.from_month),
        months=ask.months,
    )


def _gaps_by_type(ask: CoverageRequest) -> bool:
    # the national view names gaps per type only when types are asked for (else: thousands)
    return bool(ask.region or ask.types)


def _month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def coverage_json(
    ask: CoverageRequest, result: Coverage, config: AppConfig, since: date
) -> dict[str, Any]:
    """The JSON form of a coverage view (the page's counts and gaps, with both languages)."""
    keys = {m: _month_key(m) for m in result.months}
    cells_of: dict[str, list[dict[str, Any]]] = {}
    for (region, sector, kind, m), n in sorted(result.counts.items()):
        if region != ANY and ANY not in (sector, kind) and n:
            cells_of.setdefault(region, []).append(
                {"sector": sector or None, "type": kind or None, "month": keys[m], "count": n}
            )
    rows = []
    for row in result.rows:
        cells = cells_of.get(row, [])
        rows.append(
            {
                "region": row or None,
                "name": place_name(config, row, "nl"),
                "total": result.count(row),
                "months": {keys[m]: result.count(row, month=m) for m in result.months},
                "cells": cells,
            }
        )
    gaps = [
        {
            "region": gap.region or None,
            "sector": None if gap.sector == ANY else gap.sector or None,
            "type": None if gap.activity_type == ANY else gap.activity_type or None,
            "first": _month_key(gap.first),
            "last": _month_key(gap.last),
            "text": {lang: gap_sentence(gap, result, config, lang) for lang in ("nl", "en")},
        }
        for gap in result.gaps(by_type=_gaps_by_type(ask))
    ]
    return {
        "from": since.isoformat(),
        "months": [_month_key(m) for m in result.months],
        "region": ask.region or None,
        "sectors": result.sectors,
        "types": result.types,
        "events": result.events,
        "rows": rows,
        "gaps": gaps,
    }


CSV_COLUMNS = ("region", "region_name", "sector", "type", "month", "count")


def coverage_csv(result: Coverage, config: AppConfig) -> bytes:
    """Every cell of the view, zeros included (so a pivot table shows the gaps), as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in result.rows:
        sectors = [*result.sectors, *([""] if result.count(row, "") else [])]
        for sector in sectors:
            types = [*result.types, *([""] if result.count(row, sector, "") else [])]
            for kind in types:
                for month in result.months:
                    cells = (
                        row,
                        place_name(config, row, "nl"),
                        sector,
                        kind,
                        _month_key(month),
                        result.count(row, sector, kind, month),
                    )
                    writer.writerow([safe_cell(cell) for cell in cells])
    return "\ufeff".encode() + buffer.getvalue().encode()


@router.get(
    "/api/coverage",
    summary="Coverage: upcoming activities per region, sector, type and month, with gaps",
    response_model=CoverageOut,
    responses=error_responses(400, 422, c400="an unknown region, sector or type, or a bad 'from'"),
)
def coverage_api(ask: CoverageRequestDep, session: SessionDep, config: ConfigDep) -> dict[str, Any]:
    """The coverage report as JSON: per row (region) the total, the totals per month and the
    non-zero cells (sector, type, month); and the gaps, each in Dutch and English."""
    result = build_coverage(ask, session=session, config=config)
    return coverage_json(ask, result, config, _since(ask.from_month))


@router.get(
    "/dekking.csv",
    summary="Coverage as CSV: every region x sector x type x month cell",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **error_responses(400, 422, c400="an unknown region, sector or type, or a bad 'from'"),
    },
)
def coverage_csv_download(
    ask: CoverageRequestDep, session: SessionDep, config: ConfigDep
) -> Response:
    """The coverage cells as CSV (UTF-8 with a byte-order mark), zeros included."""
    result = build_coverage(ask, session=session, config=config)
    return Response(
        coverage_csv(result, config),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="dekking.csv"'},
    )


def _heat(count: int) -> str:
    """The heat class of a cell (the legend explains it; the number is always shown)."""
    if count == 0:
        return "c0"
    return "c1" if count == 1 else "c2" if count <= 3 else "c3" if count <= 6 else "c4"


def page_path(lang: str) -> str:
    """The path of the coverage page in ``lang`` (/dekking, /en/coverage)."""
    return "/en/coverage" if lang == "en" else "/dekking"


def _url(lang: str, ask: CoverageRequest, **override: Any) -> str:
    path = page_path(lang)
    return lang_url("nl", path, ask.params(**override))


@router.get("/dekking", include_in_schema=False)
@router.get("/coverage", include_in_schema=False)
def coverage_page(
    request: Request, ask: CoverageRequestDep, session: SessionDep, config: ConfigDep
) -> Response:
    """The desk's planning view: a heat table per region (national) or per sector and type
    (one region), and the gaps in words. ``/en/dekking`` goes to ``/en/coverage`` and
    ``/coverage`` to ``/dekking`` (each language has its own address, as /bronnen has)."""
    lang = request_lang(request)
    canonical = page_path(lang)
    if request.url.path != canonical.removeprefix("/en"):
        query = request.url.query
        return RedirectResponse(canonical + (f"?{query}" if query else ""), status_code=308)
    result = build_coverage(ask, session=session, config=config)
    other = "en" if lang == "nl" else "nl"
    months = [
        {"key": _month_key(m), "label": month_name(m, lang, year=True), "date": m}
        for m in result.months
    ]

    def line(label: str, link: str | None, counts: list[int]) -> dict[str, Any]:
        return {
            "label": label,
            "link": link,
            "cells": [{"n": n, "heat": _heat(n)} for n in counts],
            "total": sum(counts),
        }

    tables: list[dict[str, Any]] = []
    if ask.region:
        sectors = [*result.sectors, *([""] if result.count(ask.region, "") else [])]
        tables.append(
            {
                "caption": ct("sector_table", lang),
                "head": ct("sector", lang),
                "lines": [
                    line(
                        sector_name(s, lang),
                        None,
                        [result.count(ask.region, s, ANY, m) for m in result.months],
                    )
                    for s in sectors
                ],
            }
        )
        for sector in sectors:
            if not result.count(ask.region, sector):
                continue
            kinds = [*result.types, *([""] if result.count(ask.region, sector, "") else [])]
            tables.append(
                {
                    "caption": ct("type_table", lang, sector=sector_name(sector, lang)),
                    "head": ct("type", lang),
                    "lines": [
                        line(
                            type_name(config, k, lang),
                            None,
                            [result.count(ask.region, sector, k, m) for m in result.months],
                        )
                        for k in kinds
                    ],
                }
            )
    else:
        scope = ", ".join([*ask.sectors, *ask.types]) or ct("scope_all", lang)
        tables.append(
            {
                "caption": ct("national_table", lang, scope=scope),
                "head": ct("region", lang),
                "lines": [
                    line(
                        place_name(config, row, lang),
                        _url(lang, ask, region=row) if row else None,
                        [result.count(row, month=m) for m in result.months],
                    )
                    for row in result.rows
                ],
            }
        )
    # grouped by region (national view) or by sector (a region's view)
    gaps: dict[str, list[str]] = {}
    for gap in result.gaps(by_type=_gaps_by_type(ask)):
        if not ask.region:
            group = place_name(config, gap.region, lang)
        elif gap.sector == ANY:
            group = ct("all", lang)
        else:
            group = f"{ct('sector', lang)} {sector_name(gap.sector, lang)}"
        gaps.setdefault(group, []).append(gap_sentence(gap, result, config, lang))
    title = (
        ct("title_region", lang, region=place_name(config, ask.region, lang))
        if ask.region
        else ct("title", lang)
    )
    taxonomy = config.taxonomy
    return render(
        request,
        "coverage.html",
        ct=lambda key, **p: ct(key, lang, **p),
        title=title,
        ask=ask,
        months=months,
        tables=tables,
        gaps=gaps,
        events=result.events,
        month_choices=MONTH_CHOICES,
        region_choices=sorted(
            ((r.slug, place_name(config, r.slug, lang)) for r in config.regions),
            key=lambda pair: (pair[0] != "landelijk", pair[1].casefold()),
        ),
        sector_choices=[(s.slug, s.en if lang == "en" else s.nl) for s in taxonomy.sectors],
        type_choices=[(s.slug, s.en if lang == "en" else s.nl) for s in taxonomy.activity_types],
        action=page_path(lang),
        national_url=_url(lang, ask, region=""),
        csv_url=lang_url("nl", "/dekking.csv", ask.params()),
        json_url=lang_url("nl", "/api/coverage", ask.params()),
        region_url=lang_url(lang, f"/regio/{ask.region}") if ask.region else None,
        region_title=place_name(config, ask.region, lang) if ask.region else "",
        switch_url=_url(other, ask),
    )
