"""Response models of the JSON API besides the event (regions, sources, taxonomy, errors),
so that the OpenAPI document states what the server sends."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(_Strict):
    """Every 4xx answer of the API and the exports: one readable message."""

    detail: str = Field(examples=["unknown sector 'xx'; known values: po, vo, mbo"])


class RegionOut(_Strict):
    """A region with its member municipalities (CBS codes) and the regions it includes."""

    slug: str
    name: str
    code: str | None
    includes: list[str]
    municipalities: list[str]


class SourceHealth(_Strict):
    """A source with its health (``aggregator.health``: the same judgement as /bronnen)."""

    id: str
    name: str
    kind: str = Field(description="ics, rss, atom, jsonld, tribe or selectors")
    url: str
    region: str
    events: int = Field(description="live events from this source")
    state: Literal["healthy", "degraded", "failing", "held", "pending"] = Field(
        description="failing: the last harvest failed; held: the removal guard waits for the"
        " next harvest to confirm a shrunk listing; degraded: read, but shrunk by more than"
        " half, many records skipped or slow; pending: never harvested"
    )
    state_reason: str | None = Field(description="why the state is not healthy (English)")
    consecutive_failures: int = Field(description="failed harvests since the last good one")
    last_success: str | None
    last_failure: str | None = Field(description="when a harvest last failed")
    last_failure_reason: str | None
    last_error: str | None = Field(description="the last failure or hold, cleared on success")
    last_error_at: str | None
    last_outcome: str | None = Field(description="success, unchanged, held, failed or interrupted")
    trend: list[int] = Field(
        description="events published after each of the last 30 harvests, oldest first"
    )


class TaxonomyTerm(_Strict):
    """One term with its Dutch and English label."""

    slug: str
    nl: str
    en: str


class TaxonomyOut(_Strict):
    """The taxonomy of DESIGN.md."""

    activity_types: list[TaxonomyTerm]
    sectors: list[TaxonomyTerm]
    phases: list[TaxonomyTerm]
    audiences: list[TaxonomyTerm]


def error_responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for 4xx codes, each with the ErrorBody shape.

    ``descriptions`` maps ``"c400"`` and the like to a sentence; defaults say the usual.
    """
    defaults = {
        400: "an unknown or inconsistent filter value",
        404: "no such event or region",
        422: "a parameter of the wrong type or out of range",
    }
    return {
        code: {"model": ErrorBody, "description": descriptions.get(f"c{code}", defaults[code])}
        for code in codes
    }
