"""Response models of the JSON API besides the event (regions, sources, taxonomy, errors),
so that the OpenAPI document states what the server sends."""

from __future__ import annotations

from typing import Any

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
    """A source with its health."""

    id: str
    name: str
    kind: str = Field(description="ics, rss, atom, jsonld, tribe or selectors")
    url: str
    region: str
    events: int = Field(description="live events from this source")
    last_success: str | None
    last_error: str | None
    last_error_at: str | None
    last_outcome: str | None


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
