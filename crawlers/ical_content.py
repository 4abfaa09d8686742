"""iCalendar text as producers really write it: decoded, unfolded and split into components.

RFC 5545 3.1: "Lines of text SHOULD NOT be longer than 75 octets ... a long line can be split
between any two characters by inserting a CRLF immediately followed by a single linear white
space character". Real files break this and more: a BOM, Windows-1252 bytes, LF or CR
endings, blank lines between components, spaces before ``BEGIN:VCALENDAR``, long values
wrapped without the leading space, stray lines, a download that stops half-way. This module
turns such text into one :class:`CalendarText` per VCALENDAR, whose top-level components
each keep the line number where they begin, so that one bad VEVENT is reported with its line
and the rest of the calendar goes on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# RFC 5545 3.1: name = iana-token / x-name, made of ALPHA, DIGIT and "-".
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+[;:]")
# Components that live directly in a VCALENDAR; a BEGIN of one of them closes an open one.
TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY"})


@dataclass(slots=True)
class ComponentText:
    """One top-level component's content lines (BEGIN to END), unfolded, with its line."""

    name: str
    line: int
    lines: list[str] = field(default_factory=list)
    complete: bool = False

    def ical(self) -> str:
        """The component as iCalendar text (CRLF line ends, no folding needed)."""
        return "\r\n".join(self.lines) + "\r\n"


@dataclass(slots=True)
class CalendarText:
    """One VCALENDAR: its own property lines and its top-level components."""

    line: int
    properties: list[str] = field(default_factory=list)
    components: list[ComponentText] = field(default_factory=list)
    complete: bool = False


@dataclass(slots=True)
class TextProblem:
    """Something in the text that was skipped or repaired, with its line."""

    line: int
    reason: str


def decode_text(body: bytes) -> str:
    """Decode calendar bytes: UTF-16 by its BOM; else UTF-8, falling back to Windows-1252.

    RFC 5545 says UTF-8, but exports from older Windows tools are often Windows-1252 with no
    declaration; a byte sequence that is not UTF-8 is read as Windows-1252 rather than lost.
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a UTF-8 BOM, sometimes in front of Windows-1252 text all the same
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfold the text into (first physical line number, content line); drop blank lines."""
    result: list[tuple[int, str]] = []
    for number, physical in enumerate(_LINE_BREAK.split(text), start=1):
        if physical.startswith("\ufeff"):  # the BOM of a second file concatenated to a first
            physical = physical[1:]
        if not physical.strip():
            continue
        if physical[0] in " \t" and result:
            first, previous = result[-1]
            result[-1] = (first, previous + physical[1:])
            continue
        result.append((number, physical))
    return result


def split_calendars(text: str) -> tuple[list[CalendarText], list[TextProblem]]:
    """Split text into VCALENDARs and their components, tolerating what producers get wrong.

    Returns the calendars (complete or not) and the problems met in the text itself: stray
    lines, components without their END, a VCALENDAR that never ends.
    """
    calendars: list[CalendarText] = []
    problems: list[TextProblem] = []
    calendar: CalendarText | None = None
    component: ComponentText | None = None
    depth: list[str] = []  # nested component names inside ``component``
    after_property = False  # whether the previous line was a property (not BEGIN/END)
    for number, line in _logical_lines(text):
        was_after_property, after_property = after_property, False
        if calendar is None:
            stripped = line.strip()
            if stripped.upper() == "BEGIN:VCALENDAR":
                calendar = CalendarText(line=number)
                calendars.append(calendar)
            else:
                problems.append(TextProblem(number, f"text outside a VCALENDAR ignored: {line!r}"))
            continue
        upper = line.upper().rstrip()
        if upper.startswith("BEGIN:"):
            name = upper[6:].strip()
            # none of TOP_LEVEL nests: its BEGIN means the open component never ended
            if name == "VCALENDAR" or (name in TOP_LEVEL and component is not None):
                if component is not None:
                    problems.append(_unfinished(component))
                    component, depth = None, []
                if name == "VCALENDAR":
                    problems.append(
                        TextProblem(calendar.line, "VCALENDAR has no END:VCALENDAR before the next")
                    )
                    calendar = CalendarText(line=number)
                    calendars.append(calendar)
                    continue
            if component is None:
                component = ComponentText(name=name, line=number, lines=[line.rstrip()])
                calendar.components.append(component)
            else:
                depth.append(name)
                component.lines.append(line.rstrip())
            continue
        if upper.startswith("END:"):
            name = upper[4:].strip()
            if component is None:
                if name == "VCALENDAR":
                    calendar.complete = True
                    calendar = None
                else:
                    problems.append(TextProblem(number, f"END:{name} without its BEGIN ignored"))
                continue
            if depth and name in depth:
                while depth and depth.pop() != name:
                    pass
                component.lines.append(line.rstrip())
                continue
            if name == component.name:
                # close what the producer left open inside (a VALARM without its END)
                component.lines.extend(f"END:{inner}" for inner in reversed(depth))
                depth = []
                component.lines.append(line.rstrip())
                component.complete = True
                component = None
                continue
            if name == "VCALENDAR":
                problems.append(_unfinished(component))
                component, depth = None, []
                calendar.complete = True
                calendar = None
                continue
            problems.append(TextProblem(number, f"END:{name} without its BEGIN ignored"))
            continue
        if not _CONTENT_LINE.match(line):
            # A long value wrapped without the folding space: glue it back to its property.
            target = component.lines if component is not None else calendar.properties
            if was_after_property and target:
                target[-1] += "\\n" + line.strip()
                after_property = True
            else:
                problems.append(TextProblem(number, f"not a content line, ignored: {line!r}"))
            continue
        after_property = True
        if component is not None:
            component.lines.append(line)
        else:
            calendar.properties.append(line)
    if component is not None:
        problems.append(_unfinished(component))
    if calendar is not None and not calendar.complete:
        problems.append(TextProblem(calendar.line, "VCALENDAR has no END:VCALENDAR (truncated?)"))
    return calendars, problems


def _unfinished(component: ComponentText) -> TextProblem:
    return TextProblem(
        component.line, f"{component.name} has no END:{component.name} (truncated?); skipped"
    )
