"""A sparkline of a source's recent event counts: inline SVG points and a text alternative."""

from __future__ import annotations

from dataclasses import dataclass

from api.i18n import t

WIDTH = 120
HEIGHT = 24
PAD = 2  # keeps the stroke inside the box at the extremes


@dataclass(frozen=True, slots=True)
class Sparkline:
    """What the template draws: the polyline's points (empty when there is nothing to draw),
    the last point (a dot) and the sentence that says the same to a screen reader."""

    points: str
    last: tuple[float, float] | None
    text: str
    width: int = WIDTH
    height: int = HEIGHT


def sparkline(values: list[int], lang: str) -> Sparkline:
    """The trend of ``values`` (oldest first) scaled into the box; a flat line when equal."""
    if not values:
        return Sparkline("", None, t("trend_none", lang))
    low, high = min(values), max(values)
    span = high - low
    step = (WIDTH - 2 * PAD) / (len(values) - 1) if len(values) > 1 else 0.0
    coords = []
    for index, value in enumerate(values):
        x = PAD + index * step if len(values) > 1 else WIDTH / 2
        share = (value - low) / span if span else 0.5
        y = HEIGHT - PAD - share * (HEIGHT - 2 * PAD)
        coords.append((round(x, 1), round(y, 1)))
    text = t(
        "trend_text",
        lang,
        runs=len(values),
        first=values[0],
        last=values[-1],
        low=low,
        high=high,
    )
    return Sparkline(" ".join(f"{x:g},{y:g}" for x, y in coords), coords[-1], text)
