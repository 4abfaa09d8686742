"""Query parameters shared by the JSON API and every feed format."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Query

from aggregator.query import EventFilters
from api.deps import ConfigDep


def event_filters(
    config: ConfigDep,
    date_from: Annotated[
        date | None,
        Query(alias="from", description="first day (YYYY-MM-DD)", examples=["2027-01-01"]),
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="last day (YYYY-MM-DD)", examples=["2027-06-30"])
    ] = None,
    region: Annotated[
        str | None, Query(description="region slug, see /api/regions", examples=["twente"])
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventFilters:
    """Read and check the filters; an unknown region is a 400 that lists the known ones."""
    if region is not None and region not in config.regions:
        known = ", ".join(sorted(r.slug for r in config.regions))
        raise HTTPException(400, f"unknown region {region!r}; known regions: {known}")
    if date_from and date_to and date_to < date_from:
        raise HTTPException(400, "'to' is before 'from'")
    return EventFilters(
        date_from=date_from, date_to=date_to, region=region, page=page, per_page=per_page
    )


FiltersDep = Annotated[EventFilters, Depends(event_filters)]
