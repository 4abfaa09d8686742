"""The response model of /api/coverage, so that the OpenAPI document states what it sends."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CoverageCell(_Strict):
    """The events of one sector and type in one month (only cells that are not 0)."""

    sector: str | None = Field(description="sector slug; null: events without a sector")
    type: str | None = Field(description="activity type slug; null: events without a type")
    month: str = Field(examples=["2027-03"])
    count: int


class CoverageRow(_Strict):
    """One region of the view: its total, its totals per month and its cells."""

    region: str | None = Field(description="region slug; null: events without a region")
    name: str
    total: int = Field(description="events of the region in the period, each counted once")
    months: dict[str, int] = Field(description="events per month (YYYY-MM), 0 included")
    cells: list[CoverageCell]


class GapText(_Strict):
    """A gap in words, in Dutch and English."""

    nl: str = Field(examples=["geen meeloopdag voor vo in Twente vóór maart"])
    en: str = Field(examples=["no job shadowing day for vo in Twente before March"])


class CoverageGap(_Strict):
    """Months without any event: of a region (sector and type null), of a sector in a
    region (type null), or of a type for a sector in a region."""

    region: str | None
    sector: str | None
    type: str | None
    first: str = Field(description="first empty month (YYYY-MM)")
    last: str = Field(description="last empty month (YYYY-MM)")
    text: GapText


class CoverageOut(_Strict):
    """A coverage view: upcoming activities per region, sector, type and month, and gaps."""

    from_: str = Field(alias="from", description="first day counted (YYYY-MM-DD)")
    months: list[str]
    region: str | None = Field(description="the region of a region's view; null: national")
    sectors: list[str]
    types: list[str]
    events: int = Field(description="events counted in the view, each once")
    rows: list[CoverageRow]
    gaps: list[CoverageGap]
