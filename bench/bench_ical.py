"""iCal throughput: reader + pipeline stages against icalendar's own parse of the same bytes.

Generates a deterministic calendar (``random.Random(42)``) of single events, all-day events
and weekly series with EXDATEs and moved occurrences, then measures in one run:

* the floor: ``icalendar.Calendar.from_ical`` alone (no expansion, no records);
* ``crawlers.ical.parse`` (tolerant per-component parse, zones, expansion in the window);
* parse + the pipeline stages of ``aggregator.pipeline.build_pipeline`` with the bundled config.

Run with ``python -m bench bench_ical`` (or ``make bench``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar

from aggregator.config import load_config
from aggregator.pipeline import build_pipeline
from config import bundled
from crawlers.ical import parse
from crawlers.records import Window
from crawlers.source import SourceConfig

NOW = datetime(2027, 1, 5, tzinfo=UTC)
SINGLE_EVENTS = 2500
SERIES = 250
REPEATS = 3
_TITLES = [
    "Informatieavond zij-instroom basisonderwijs",
    "Meeloopdag voortgezet onderwijs",
    "Webinar overstappen naar het mbo",
    "Open avond deeltijdpabo",
    "Speeddate scholen en zij-instromers",
    "Proefles lerarenopleiding",
    "Netwerkbijeenkomst onderwijsassistenten",
]
_PLACES = ["Zwolle", "Enschede", "Groningen", "Utrecht", "Nijmegen", "Online (Teams)"]


def generate_calendar(rng: random.Random) -> bytes:
    """A large calendar as a producer would export it (CRLF, VTIMEZONE, folded text)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Overstap Agenda//bench//NL",
        "BEGIN:VTIMEZONE",
        "TZID:Europe/Amsterdam",
        "BEGIN:STANDARD",
        "DTSTART:19701025T030000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
        "TZOFFSETFROM:+0200",
        "TZOFFSETTO:+0100",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:19700329T020000",
        "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3",
        "TZOFFSETFROM:+0100",
        "TZOFFSETTO:+0200",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
    ]

    def common(uid: str) -> list[str]:
        title = rng.choice(_TITLES)
        place = rng.choice(_PLACES)
        return [
            f"UID:{uid}",
            "DTSTAMP:20270104T080000Z",
            f"SUMMARY:{title} {place}",
            f"LOCATION:{place}",
            "DESCRIPTION:Kom kennismaken met het onderwijs. Aanmelden via de website van",
            " de onderwijsregio\\, het aantal plaatsen is beperkt.",
            f"URL:https://example.nl/agenda/{uid}",
        ]

    for number in range(SINGLE_EVENTS):
        start = NOW + timedelta(days=rng.randint(-20, 360), hours=rng.randint(8, 20))
        lines.append("BEGIN:VEVENT")
        lines.extend(common(f"single-{number}@example.nl"))
        if number % 10 == 0:  # all-day
            lines.append(f"DTSTART;VALUE=DATE:{start:%Y%m%d}")
            lines.append(f"DTEND;VALUE=DATE:{start + timedelta(days=1):%Y%m%d}")
        elif number % 3 == 0:  # UTC
            lines.append(f"DTSTART:{start:%Y%m%dT%H%M00}Z")
            lines.append(f"DTEND:{start + timedelta(hours=2):%Y%m%dT%H%M00}Z")
        else:
            lines.append(f"DTSTART;TZID=Europe/Amsterdam:{start:%Y%m%dT%H%M00}")
            lines.append(f"DTEND;TZID=Europe/Amsterdam:{start + timedelta(hours=2):%Y%m%dT%H%M00}")
        lines.append("END:VEVENT")
    for number in range(SERIES):
        start = NOW + timedelta(days=rng.randint(-10, 200), hours=rng.randint(8, 20))
        count = rng.randint(5, 30)
        uid = f"series-{number}@example.nl"
        lines.append("BEGIN:VEVENT")
        lines.extend(common(uid))
        lines.append(f"DTSTART;TZID=Europe/Amsterdam:{start:%Y%m%dT%H%M00}")
        lines.append("DURATION:PT2H")
        lines.append(f"RRULE:FREQ=WEEKLY;COUNT={count}")
        skipped = start + timedelta(weeks=rng.randint(1, count - 1))
        lines.append(f"EXDATE;TZID=Europe/Amsterdam:{skipped:%Y%m%dT%H%M00}")
        lines.append("END:VEVENT")
        moved = start + timedelta(weeks=rng.randint(1, count - 1))
        if moved != skipped:
            lines.append("BEGIN:VEVENT")
            lines.extend(common(uid))
            lines.append(f"RECURRENCE-ID;TZID=Europe/Amsterdam:{moved:%Y%m%dT%H%M00}")
            lines.append(f"DTSTART;TZID=Europe/Amsterdam:{moved + timedelta(days=1):%Y%m%dT%H%M00}")
            lines.append("DURATION:PT2H")
            lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of one run (the machine is shared: wall time would measure the others)."""
    started = time.process_time()
    result = run()
    return time.process_time() - started, result


def main() -> None:
    """Generate the calendar, time the floor and the reader, print figures and ratios."""
    body = generate_calendar(random.Random(42))
    config = load_config(bundled("sources.yaml"), bundled("regions.yaml"), bundled("taxonomy.yaml"))
    source = SourceConfig(id="bench", name="bench", kind="ics", url="bench.ics", region="landelijk")
    pipeline = build_pipeline(config)
    window = Window.around(NOW)

    def parse_and_pipeline() -> int:
        result = parse(body, source, now=NOW, window=window)
        return sum(1 for p in pipeline.run(result.events, source) if not p.dropped)

    # interleaved rounds, best of each: slow phases of the machine hit all three alike
    floor_s = parse_s = total_s = float("inf")
    for _ in range(REPEATS):
        seconds, calendar = _timed(lambda: icalendar.Calendar.from_ical(body))
        floor_s = min(floor_s, seconds)
        seconds, parsed = _timed(lambda: parse(body, source, now=NOW, window=window))
        parse_s = min(parse_s, seconds)
        seconds, kept = _timed(parse_and_pipeline)
        total_s = min(total_s, seconds)
    components = len(calendar.walk("VEVENT"))
    occurrences = len(parsed.events)

    print(f"input: {len(body) / 1e6:.1f} MB, {components} VEVENTs, {occurrences} occurrences")
    print(f"CPU seconds, best of {REPEATS} interleaved rounds:")
    print(
        f"  floor  icalendar.Calendar.from_ical : {floor_s:7.3f} s  "
        f"{components / floor_s:9.0f} VEVENT/s"
    )
    print(
        f"  crawlers.ical.parse               : {parse_s:7.3f} s  "
        f"{occurrences / parse_s:9.0f} events/s  ({parse_s / floor_s:.2f}x floor)"
    )
    print(
        f"  parse + pipeline stages           : {total_s:7.3f} s  "
        f"{kept / total_s:9.0f} events/s  ({total_s / floor_s:.2f}x floor)"
    )
