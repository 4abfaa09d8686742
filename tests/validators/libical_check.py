"""Check iCalendar files with libical (run by Debian's /usr/bin/python3, not the venv).

Usage: /usr/bin/python3 libical_check.py FILE...
Prints one JSON object: {FILE: [problem, ...]}. A problem is every X-LIC-ERROR that
libical's parser leaves in the tree, plus every one that ``icalrestriction_check`` (the
RFC 5546 iTIP restrictions for the calendar's METHOD) adds.
"""

import json
import sys

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib  # noqa: E402


def _errors(component):
    found = []
    prop = component.get_first_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    while prop is not None:
        kind = ICalGLib.Component.kind_to_string(component.isa())
        found.append(f"{kind}: {prop.get_xlicerror()}")
        prop = component.get_next_property(ICalGLib.PropertyKind.XLICERROR_PROPERTY)
    child = component.get_first_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    while child is not None:
        found.extend(_errors(child))
        child = component.get_next_component(ICalGLib.ComponentKind.ANY_COMPONENT)
    return found


def check(text):
    """Every problem libical reports for one calendar text."""
    component = ICalGLib.Component.new_from_string(text)
    if component is None:
        return ["libical could not parse the calendar at all"]
    problems = _errors(component)
    before = len(problems)
    ICalGLib.restriction_check(component)
    problems = _errors(component)
    return [*problems[:before], *(f"restriction: {p}" for p in problems[before:])]


def main():
    result = {}
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as handle:
            result[path] = check(handle.read())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
