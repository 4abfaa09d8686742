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
from collections.abc import Iterator
from dataclasses import dataclass, field

from crawlers.charset import decode_lenient

# One physical line and its end (CRLF, CR or LF), or the last line without one.
_PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
# RFC 5545 3.1: name = iana-token / x-name, made of ALPHA, DIGIT and "-".
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+[;:]")
# Components that live directly in a VCALENDAR; a BEGIN of one of them closes an open one.
TOP_LEVEL = frozenset({"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE", "VAVAILABILITY"})
# Properties whose value is no free text (RFC 5545 3.8: dates, rules, numbers, addresses,
# identifiers). A line without "name:" after a text property (DESCRIPTION, X-ALT-DESC, or a
# line that only looked like one, "Passcode: 123") is its long value wrapped without the
# folding space; after one of these it is a stray line of its own, and gluing it on would
# make DTSTART unreadable.
_STRUCTURED_PROPERTIES = frozenset(
    {
        "DTSTART", "DTEND", "DUE", "DTSTAMP", "CREATED", "LAST-MODIFIED", "RECURRENCE-ID",
        "EXDATE", "RDATE", "RRULE", "EXRULE", "DURATION", "SEQUENCE", "PRIORITY", "GEO",
        "TRANSP", "STATUS", "CLASS", "UID", "URL", "ORGANIZER", "ATTENDEE", "TRIGGER",
        "REPEAT", "ACTION", "TZID", "TZOFFSETFROM", "TZOFFSETTO", "VERSION", "PRODID",
        "METHOD", "CALSCALE", "PERCENT-COMPLETE", "COMPLETED", "FREEBUSY", "TZURL",
    }
)  # fmt: skip
# An empty parameter: "DTSTART;;VALUE=DATE-TIME:..." or "DTSTART;:..." (before the value)
_EMPTY_PARAMETERS = re.compile(r";(?=;|$)")


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

    def nested(self) -> list[str]:
        """The names of the components nested in this one (VALARM, ...), in order."""
        return [line[6:].strip().upper() for line in self.lines[1:] if _is_begin(line)]

    def without_nested(self) -> str:
        """The component as iCalendar text without its nested components (VALARMs, ...)."""
        kept: list[str] = self.lines[:1]
        depth = 0
        for line in self.lines[1:]:
            if _is_begin(line):
                depth += 1
            elif depth and line.upper().startswith("END:"):
                depth -= 1
            elif not depth:
                kept.append(line)
        return "\r\n".join(kept) + "\r\n"


def _is_begin(line: str) -> bool:
    return line.upper().startswith("BEGIN:")


@dataclass(slots=True)
class CalendarText:
    """One VCALENDAR: its own property lines and its top-level components."""

    line: int
    properties: list[str] = field(default_factory=list)
    components: list[ComponentText] = field(default_factory=list)
    complete: bool = False


@dataclass(slots=True)
class TextProblem:
    """Something in the text that was skipped or repaired, with its line.

    ``repaired`` means nothing was lost (a warning), else text was dropped (a problem).
    """

    line: int
    reason: str
    repaired: bool = False


def decode_text(body: bytes) -> str:
    """Decode calendar bytes: UTF-16 by its BOM; else UTF-8, tolerant of bad bytes.

    RFC 5545 says UTF-8, but exports from older Windows tools are often Windows-1252 with no
    declaration, and a UTF-8 file may hold one bad byte or a character folded in half:
    see :func:`crawlers.charset.decode_lenient` (lines decoded with their continuations).
    """
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body.decode("utf-16", errors="replace")
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a UTF-8 BOM, sometimes in front of Windows-1252 text all the same
    return decode_lenient(body, folded=True)


def _physical_lines(text: str) -> Iterator[tuple[int, str]]:
    """The text's lines with their numbers, one at a time (no list of the whole file)."""
    for number, match in enumerate(_PHYSICAL_LINE.finditer(text), start=1):
        yield number, match.group().rstrip("\r\n")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Unfold the text into (first physical line number, content line); drop blank lines.

    A generator: a 20 MB calendar is never held as a list of its lines besides its text.
    """
    pending: tuple[int, str] | None = None
    for number, physical in _physical_lines(text):
        if physical.startswith("\ufeff"):  # the BOM of a second file concatenated to a first
            physical = physical[1:]
        if not physical.strip():
            continue
        if physical[0] in " \t" and pending is not None:
            pending = (pending[0], pending[1] + physical[1:])
            continue
        if pending is not None:
            yield pending
        pending = (number, physical)
    if pending is not None:
        yield pending


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
            # A long text value wrapped without the folding space: glue it back to its property.
            target = component.lines if component is not None else calendar.properties
            if was_after_property and target and _is_text_property(target[-1]):
                target[-1] += "\\n" + line.strip()
                after_property = True
            else:
                problems.append(TextProblem(number, f"not a content line, ignored: {line!r}"))
            continue
        after_property = True
        line = _repaired_parameters(line, number, problems)
        if component is not None:
            component.lines.append(line)
        else:
            calendar.properties.append(line)
    if component is not None:
        problems.append(_unfinished(component))
    if calendar is not None and not calendar.complete:
        problems.append(TextProblem(calendar.line, "VCALENDAR has no END:VCALENDAR (truncated?)"))
    return calendars, problems


def _property_name(line: str) -> str:
    return re.split(r"[;:]", line, maxsplit=1)[0].upper()


def _is_text_property(line: str) -> bool:
    return _property_name(line) not in _STRUCTURED_PROPERTIES


def _repaired_parameters(line: str, number: int, problems: list[TextProblem]) -> str:
    """The line without empty parameters ("DTSTART;;VALUE=DATE-TIME:..."), noted if any.

    RFC 5545 3.1: ``contentline = name *(";" param ) ":" value``; a parameter is never
    empty. Only the part before the value's colon (outside quotes) is looked at.
    """
    head_end = _value_colon(line)
    if head_end < 0:
        return line
    head = line[:head_end]
    if ";;" not in head and not head.endswith(";"):
        return line
    repaired = _EMPTY_PARAMETERS.sub("", head)
    problems.append(
        TextProblem(number, f"empty parameter removed: {head!r} read as {repaired!r}", True)
    )
    return repaired + line[head_end:]


def content_value(line: str) -> str:
    """The value of a content line: what follows the colon that ends its parameters."""
    colon = _value_colon(line)
    return line[colon + 1 :] if colon >= 0 else ""


def _value_colon(line: str) -> int:
    """The index of the colon that starts the value (colons in quoted parameters skipped)."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return -1


def _unfinished(component: ComponentText) -> TextProblem:
    return TextProblem(
        component.line, f"{component.name} has no END:{component.name} (truncated?); skipped"
    )
