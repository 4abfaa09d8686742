"""Every published format of the demo harvest passes independent validators with 0 problems.

libical (Debian's, with its RFC 5546 iTIP restriction check), Mozilla's ical.js, icalendar
and vobject read every calendar; RSS and Atom pass the W3C feed validator's checks
(``tests/validators/feedcheck.py``); the JSON Feed passes JSON Feed 1.1 as a JSON Schema;
every event's JSON-LD meets Google's required Event properties and misses a recommended one
only where the event's own data is unknown. ``python -m tests.validators.report`` prints
the same figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.validators import ical_checks
from tests.validators.demo import Published, build
from tests.validators.report import feed_problems, google_problems, ical_problems


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    return build(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def calendar_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calendars")


def test_the_demo_publishes_enough_to_check(published: Published) -> None:
    assert len(published.event_ids) >= 50
    assert {"calendar.ics", "regions/groningen.ics"} <= set(published.calendars)
    assert all(published.feeds[kind] for kind in ("rss", "atom", "json"))


def test_libical_including_its_itip_check(published: Published, calendar_dir: Path) -> None:
    if problem := ical_checks.libical_problem():
        pytest.skip(problem)
    found = ical_problems(published, calendar_dir, only={"libical"})
    assert found and all(not problems for problems in found.values()), found


def test_mozilla_ical_js(published: Published, calendar_dir: Path) -> None:
    if problem := ical_checks.ical_js_problem():
        pytest.skip(problem)
    found = ical_problems(published, calendar_dir, only={"ical.js"})
    assert found and all(not problems for problems in found.values()), found


def test_icalendar_and_vobject(published: Published, calendar_dir: Path) -> None:
    found = ical_problems(published, calendar_dir, only={"icalendar", "vobject"})
    assert len(found) == 4
    assert all(not problems for problems in found.values()), found


def test_feeds_pass_the_w3c_checks_and_json_feed_1_1(published: Published) -> None:
    found = feed_problems(published)
    assert len(found) == 3
    assert all(not problems for problems in found.values()), found


def test_google_event_properties(published: Published) -> None:
    errors, warnings = google_problems(published)
    assert errors == []
    # a recommended property may only be missing where the event does not know it
    unexplained = []
    for warning in warnings:
        event_id, what = warning.split(": ", 1)
        event = published.events[event_id]
        unknown = {
            "description": not event["description"],
            "endDate": event["end"] is None,
            "offers": event["is_free"] is not True,
            "organizer": event["organizer"] is None,
            "performer": event["organizer"] is None,
            "organizer.url": event["organizer"] is not None and event["organizer"]["url"] is None,
        }
        if not unknown.get(what.split(":")[0], False):
            unexplained.append(warning)
    assert unexplained == []
