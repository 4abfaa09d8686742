"""Every validator over every published format of the demo harvest.

``python -m tests.validators.report`` (from the repository root, in the venv) prints one
line a validator and format: the number of problems and the first few.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.validators import feedcheck, google_event, ical_checks
from tests.validators.demo import Published, build

SCHEMA = Path(__file__).parent.parent / "data" / "json" / "jsonfeed-1.1.schema.json"
Problems = dict[tuple[str, str], list[str]]


def _calendar_kind(name: str) -> str:
    return "ics (per event)" if name.startswith("events/") else "ics (subscription)"


def ical_problems(
    published: Published, directory: Path, *, only: set[str] | None = None
) -> Problems:
    """libical, ical.js, icalendar and vobject over every calendar (``only``: these)."""
    found: Problems = {}

    def add(validator: str, name: str, problems: list[str]) -> None:
        key = (validator, _calendar_kind(name))
        found.setdefault(key, []).extend(f"{name}: {p}" for p in problems)

    paths: dict[str, Path] = {}
    for index, (name, body) in enumerate(published.calendars.items()):
        path = directory / f"calendar-{index}.ics"
        path.write_bytes(body)
        paths[name] = path
    wanted = only or {"libical", "ical.js", "icalendar", "vobject"}
    if "libical" in wanted and ical_checks.libical_problem() is None:
        result = ical_checks.libical(list(paths.values()))
        for name, path in paths.items():
            add("libical", name, result[str(path)])
    if "ical.js" in wanted and ical_checks.ical_js_problem() is None:
        result = ical_checks.ical_js(list(paths.values()))
        for name, path in paths.items():
            add("ical.js", name, result[str(path)])
    for name, body in published.calendars.items():
        if "icalendar" in wanted:
            add("icalendar", name, ical_checks.icalendar_problems(body))
        if "vobject" in wanted:
            add("vobject", name, ical_checks.vobject_problems(body))
    return found


def json_feed_problems(body: bytes) -> list[str]:
    """JSON Feed 1.1 schema violations (dates and URIs checked as formats)."""
    # imported here, not at collection: its format checkers build an IRI grammar on import
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(json.loads(body))
    ]


def feed_problems(published: Published) -> Problems:
    """W3C-equivalent RSS and Atom checks, and the JSON Feed 1.1 schema."""
    checks: dict[str, Callable[[bytes], list[str]]] = {
        "rss": feedcheck.check_rss,
        "atom": feedcheck.check_atom,
        "json": json_feed_problems,
    }
    names = {"rss": "W3C feed checks", "atom": "W3C feed checks", "json": "JSON Feed 1.1 schema"}
    return {(names[kind], kind): checks[kind](published.feeds[kind]) for kind in checks}


def google_problems(published: Published) -> tuple[list[str], list[str]]:
    """Google's Event errors and warnings over the JSON-LD of every event."""
    errors: list[str] = []
    warnings: list[str] = []
    for event_id, data in published.jsonld.items():
        found_errors, found_warnings = google_event.check_event(data)
        errors += [f"{event_id}: {e}" for e in found_errors]
        warnings += [f"{event_id}: {w}" for w in found_warnings]
    return errors, warnings


def main() -> None:
    """Print the problem counts of the demo harvest, per validator and format."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        published = build(directory)
        found = ical_problems(published, directory)
        found.update(feed_problems(published))
        errors, warnings = google_problems(published)
        found[("Google Event (errors)", "JSON-LD")] = errors
        found[("Google Event (recommended missing)", "JSON-LD")] = warnings
    for (validator, kind), problems in sorted(found.items()):
        print(f"{validator:36} {kind:20} {len(problems):4}")
        for problem in problems[: int(sys.argv[1]) if len(sys.argv) > 1 else 3]:
            print(f"{'':8}{problem[:160]}")


if __name__ == "__main__":
    main()
