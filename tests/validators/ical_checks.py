"""iCalendar checks by independent parsers: libical (Debian's, through python3-gi),
Mozilla's ical.js (node), icalendar and vobject. Each returns a list of problems."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import warnings
from pathlib import Path

import icalendar

from tests.js_packages import JS_DIR, npm_package_problem

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"
_TEXT_ESCAPE = re.compile(r"\\([\\;,nN])")  # RFC 5545 3.3.11


def libical_problem() -> str | None:
    """Why libical cannot run here, or None."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run(
        [
            SYSTEM_PYTHON,
            "-c",
            "import gi; gi.require_version('ICalGLib', '3.0'); from gi.repository import ICalGLib",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if probe.returncode != 0:
        return "libical's GObject bindings are missing (apt: python3-gi gir1.2-ical-3.0)"
    return None


def libical(paths: list[Path]) -> dict[str, list[str]]:
    """libical's parse errors and iTIP restriction failures, per file."""
    result = subprocess.run(
        [SYSTEM_PYTHON, str(HERE / "libical_check.py"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"libical check failed: {result.stderr}")
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def ical_js_problem() -> str | None:
    """Why ical.js cannot run here (after an ``npm ci`` when needed), or None."""
    return npm_package_problem("ical.js")


def ical_js(paths: list[Path]) -> dict[str, list[str]]:
    """ical.js's problems per file (one node process for all of them)."""
    result = subprocess.run(
        ["node", str(JS_DIR / "check_ics.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ical.js check failed: {result.stderr}")
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def icalendar_problems(body: bytes) -> list[str]:
    """What the icalendar library records while parsing (per-component ``errors``) and
    text that is still escaped after decoding (a doubly escaped value)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        calendar = icalendar.Calendar.from_ical(body)
    problems = [f"warning: {w.message}" for w in caught]
    for component in calendar.walk():
        for prop, error in getattr(component, "errors", []):
            problems.append(f"{component.name}.{prop}: {error}")
        for name in ("DESCRIPTION", "X-ALT-DESC", "LOCATION", "SUMMARY"):
            value = component.get(name)
            if value is None:
                continue
            if name.startswith("X-"):
                # icalendar hands an X- property back undecoded (vUnknown); RFC 5545 3.8.8.2
                # makes its default type TEXT, so decode it as TEXT here
                value = _TEXT_ESCAPE.sub(
                    lambda m: "\n" if m[1] in "nN" else m[1], value.to_ical().decode("utf-8")
                )
            if any(e in str(value) for e in ("\\n", "\\,", "\\;")):
                problems.append(f"{component.name}.{name}: still escaped after decoding")
    return problems


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


def vobject_problems(body: bytes) -> list[str]:
    """vobject's validation errors and the warnings it logs while parsing."""
    import vobject

    handler = _Collect()
    logger = logging.getLogger("vobject")
    logger.addHandler(handler)
    problems: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for calendar in vobject.readComponents(body.decode("utf-8"), validate=True):
                try:
                    calendar.validate(raiseException=True)
                except vobject.base.ValidateError as exc:
                    problems.append(f"validate: {exc}")
                for vevent in getattr(calendar, "vevent_list", []):
                    for name in ("description", "x_alt_desc", "location", "summary"):
                        line = getattr(vevent, name, None)
                        if line is not None and any(
                            e in str(line.value) for e in ("\\n", "\\,", "\\;")
                        ):
                            problems.append(f"VEVENT.{name}: still escaped after decoding")
        problems += [f"warning: {w.message}" for w in caught]
    except vobject.base.ParseError as exc:
        problems.append(f"parse: {exc}")
    finally:
        logger.removeHandler(handler)
    return problems + [f"log: {m}" for m in handler.records]
