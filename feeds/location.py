"""Where an event is, as text: one rule for every format (iCal, feeds, pages, links).

Many sources put the whole address in the location name (``Zernike, Nijenborgh 4, 9747 AG
Groningen, Nederland``) and the aggregator also fills ``address``, ``postcode`` and
``city`` from it; joining all of them repeats the address. A part is left out when every
piece of it is already said by an earlier part (compared without case and spaces).
"""

from __future__ import annotations

from typing import Protocol


class Place(Protocol):
    """Where an event is, as the event table has it (a loaded ``Event`` or a row)."""

    @property
    def location_name(self) -> str | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...
    @property
    def attendance(self) -> str: ...


def _squash(text: str) -> str:
    return "".join(text.casefold().split())


def place_lines(event: Place) -> list[str]:
    """Venue, street address and 'postcode city' as lines, each only when it adds something.

    >>> from datetime import UTC, datetime
    >>> from aggregator.models import Event
    >>> place_lines(Event(id="x", title="t", start_at=datetime.now(UTC),
    ...     location_name="Zernike, 9747 AG Groningen, Nederland", postcode="9747 AG",
    ...     city="Groningen"))
    ['Zernike, 9747 AG Groningen, Nederland']
    """
    lines: list[str] = []
    postcode_city = " ".join(p for p in (event.postcode, event.city) if p)
    for part in (event.location_name, event.address, postcode_city):
        if not part or not part.strip():
            continue
        said = _squash(" ".join(lines))
        pieces = [p for p in (event.postcode, event.city) if p] if part == postcode_city else [part]
        if all(_squash(piece) in said for piece in pieces):
            continue
        lines.append(part.strip())
    return lines


def location_text(event: Place) -> str:
    """The place in one line (iCal LOCATION, feeds, calendar links), or '' when unknown.

    An online event without a place reads 'Online'.
    """
    text = ", ".join(place_lines(event))
    if not text and event.attendance == "online":
        return "Online"
    return text


def where_text(event: Place) -> str:
    """The place for people reading a summary: the place, 'Online', or both for mixed."""
    place = ", ".join(place_lines(event))
    if event.attendance == "online":
        return "Online"
    if event.attendance == "mixed":
        return f"{place} en online" if place else "Online en op locatie"
    return place
