"""Real producers' iCal files (tests/data/ics, origins in tests/data/MANIFEST.tsv) read fully.

Every expectation below was worked out by reading the file, not by running the reader: the
comment above each case gives the reasoning. Windows are fixed (UTC unless noted); "first" and
"last" are the earliest and latest occurrence starts in UTC ("Z"), or the date of an all-day
occurrence. RFC 5545 imposes no ordering of components, so each file is also read with its
top-level components in reversed order and must give the same records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from crawlers.ical import parse
from crawlers.records import FeedError, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig

ICS = Path(__file__).parent / "data" / "ics"
AMS = ZoneInfo("Europe/Amsterdam")
SOURCE = SourceConfig(id="corpus", name="corpus", kind="ics", url="x.ics", region="landelijk")


@dataclass(frozen=True)
class Expect:
    """What one file gives inside a window."""

    file: str
    window: tuple[str, str]
    count: int = 0
    first: str | None = None
    last: str | None = None
    all_day: int = 0
    cancelled: int = 0
    problem_lines: tuple[int | None, ...] = ()
    error: str | None = None
    starts: tuple[str, ...] = field(default=())  # some starts that must be there
    absent: tuple[str, ...] = field(default=())  # starts that must not be there
    reversible: bool = True  # a truncated file has no order to reverse


CASES = [
    # DAILY;COUNT=3 from 2024-10-27 (27, 28, 29 Oct, all-day); the override with
    # RECURRENCE-ID 20241028 moves the 28th to the 30th: 27, 29, 30 Oct.
    Expect(
        "allday_recurrence_moved_over_dst_berlin.ics",
        ("2024-10-01", "2024-12-01"),
        3,
        "2024-10-27",
        "2024-10-30",
        all_day=3,
        starts=("2024-10-29", "2024-10-30"),
        absent=("2024-10-28",),
    ),
    # Friseur 2016-11-03 18:00 CET, Weinabend 2016-06-16 19:30 CEST, Geburtstag YEARLY from
    # 2015-12-09 10:00 CET (once in 2016: 09:00Z), Kinderturnen WEEKLY on Mondays from
    # 2016-02-22 16:15 CET until 2016-10-01: 32 Mondays minus 11 EXDATEs = 21. 1+1+1+21 = 24.
    # The Europe/Berlin VTIMEZONE has TZOFFSETFROM:+5328 (invalid); the IANA zone is used.
    Expect(
        "apple_icloud_europe-berlin_us-pacific.ics",
        ("2016-01-01", "2017-01-01"),
        24,
        "2016-02-22T15:15:00Z",
        "2016-12-09T09:00:00Z",
    ),
    # 4 events, X-WR-TIMEZONE America/Vancouver (PDT, -7): 2022-07-04T23:00Z (given in UTC),
    # 07-05 09:00, 07-06 13:00 (STATUS:CANCELLED), 07-07 09:00 PDT = 16:00Z.
    Expect(
        "apple_macos_tentative_x-wr-timezone.ics",
        ("2022-07-01", "2022-08-01"),
        4,
        "2022-07-04T23:00:00Z",
        "2022-07-07T16:00:00Z",
        cancelled=1,
        starts=("2022-07-05T16:00:00Z", "2022-07-06T20:00:00Z"),
    ),
    # One event 2014-04-01 00:00-01:00Z; the stray line "X" (line 13) is reported.
    Expect(
        "broken_stray_line_crlf.ics",
        ("2014-03-01", "2014-05-01"),
        1,
        "2014-04-01T00:00:00Z",
        "2014-04-01T00:00:00Z",
        problem_lines=(13,),
    ),
    # WEEKLY from Mon 2014-06-30 07:00 Berlin (05:00Z) until 2014-08-06T06:00Z: 6 Mondays
    # (30 Jun .. 4 Aug). 7 Jul moved to 09:00 (07:00Z); 14 Jul is STATUS:CANCELLED and stays.
    Expect(
        "cancelled_occurrence_recid.ics",
        ("2014-06-01", "2014-09-01"),
        6,
        "2014-06-30T05:00:00Z",
        "2014-08-04T05:00:00Z",
        cancelled=1,
        starts=("2014-07-07T07:00:00Z", "2014-07-14T05:00:00Z"),
        absent=("2014-07-07T05:00:00Z",),
    ),
    # Two UIDs, each twice: the higher SEQUENCE wins (15 Jan 10:00Z seq 2; 20 Jan 14:00Z seq 3).
    Expect(
        "duplicate_uid_sequence_dedup.ics",
        ("2024-01-01", "2024-02-01"),
        2,
        "2024-01-15T10:00:00Z",
        "2024-01-20T14:00:00Z",
        absent=("2024-01-15T09:00:00Z", "2024-01-20T10:00:00Z"),
    ),
    # "test" 2020-09-10 09:00 W. Europe (07:00Z); "summary 1" 2020-09-15 08:30 Pacific
    # (15:30Z); WEEKLY TU,TH,FR,SU from Tue 2020-07-07 12:00 Pacific until Tue 2021-03-09
    # 12:00 PST (20:00Z, inclusive): 35 weeks x 4 + 1 = 141, minus 6 EXDATEs = 135. Total 137.
    # The VEVENT at line 145 has DTSTART;TZID="W. Europe Standard Time:20200609T090000"
    # (value inside the quotes, so no value): reported, the others kept.
    Expect(
        "exchange2010_ms_timezones_multi.ics",
        ("2020-07-01", "2021-04-01"),
        137,
        "2020-07-07T19:00:00Z",
        "2021-03-09T20:00:00Z",
        problem_lines=(145,),
        starts=("2020-09-10T07:00:00Z", "2020-09-15T15:30:00Z"),
        absent=("2020-07-21T19:00:00Z",),
    ),
    # All-day WEEKLY TU,TH from Thu 2026-02-19: 26 Thursdays + 25 Tuesdays up to Thu 13 Aug =
    # 51. UNTIL=20260817T220000Z is a DATE-TIME for a DATE series (RFC 5545 wants a DATE);
    # compared as its UTC date (17 Aug), Tue 18 Aug is not included. The override
    # (RECURRENCE-ID 26 Feb 00:00 W. Europe) moves 26 Feb to 27 Feb.
    Expect(
        "exchange2010_w-europe_allday_moved_recurrence.ics",
        ("2026-02-01", "2026-09-01"),
        51,
        "2026-02-19",
        "2026-08-13",
        all_day=51,
        starts=("2026-02-27",),
        absent=("2026-02-26", "2026-08-18"),
    ),
    # Bi-weekly Mondays from 2024-09-23 10:00 (floating -> Europe/Amsterdam, 08:00Z) until
    # 2024-10-07T08:00Z: 23 Sep and 7 Oct. The VEVENT at line 69 has only a UID.
    Expect(
        "exchange2010_w-europe_rrule_issue343.ics",
        ("2024-09-01", "2024-11-01"),
        2,
        "2024-09-23T08:00:00Z",
        "2024-10-07T08:00:00Z",
        problem_lines=(69,),
    ),
    # 128 VEVENTs dated 4-7 Aug 2011, "VALUE=DATE" but carrying floating date-times
    # (Europe/Amsterdam, CEST). 127 single ones; the RRULE one (WEEKLY MO,FR INTERVAL=5 from
    # Thu 4 Aug 12:00) gives 4 Aug (DTSTART) and Fri 5 Aug in August, then 5 Sep. 127 + 2.
    # Earliest 4 Aug 12:00 (10:00Z), latest 7 Aug 18:00 (16:00Z).
    Expect(
        "festival_multiday_allday_rrule.ics",
        ("2011-08-01", "2011-09-01"),
        129,
        "2011-08-04T10:00:00Z",
        "2011-08-07T16:00:00Z",
        starts=("2011-08-05T10:00:00Z",),
    ),
    # Floating 2021-09-16 21:00 in X-WR-TIMEZONE Europe/Brussels (CEST) = 19:00Z.
    Expect(
        "floating_times_with_x-wr-timezone.ics",
        ("2021-09-01", "2021-10-01"),
        1,
        "2021-09-16T19:00:00Z",
        "2021-09-16T19:00:00Z",
    ),
    # Window 1 Sep - 1 Dec 2018, Europe/Berlin. OpenLab Thursdays 13; bi-weekly Tue (until
    # 8 Oct) 11+25 Sep = 2; OK Lab bi-weekly Tue 7; machBar Plenum bi-weekly Tue 7; Chaostreff
    # bi-weekly Wed 6; repairCafe last Saturday: 29 Sep and 27 Oct moved to 22 Sep and 20 Oct,
    # 24 Nov is after UNTIL = 2; "#TEC - Fällt aus" Mon 3 Sep = 1; "#TEC - für Jugendliche"
    # Mondays from 10 Sep = 12; repairCafe 3rd Saturday from 17 Nov = 1; single events on
    # 9 Sep, 7 Oct and 14 Oct = 3. Total 54. First Mon 3 Sep 15:00 CEST, last Thu 29 Nov
    # 18:00 CET.
    Expect(
        "google_europe-berlin_dst_rrule_exdate_recid.ics",
        ("2018-09-01T00:00:00+02:00", "2018-12-01T00:00:00+01:00"),
        54,
        "2018-09-03T13:00:00Z",
        "2018-11-29T17:00:00Z",
        starts=("2018-09-22T09:00:00Z", "2018-10-20T09:00:00Z"),
        absent=("2018-09-29T09:00:00Z", "2018-10-27T09:00:00Z", "2018-11-24T10:00:00Z"),
    ),
    # 34 overrides without any master, America/Chicago (CST -6 / CDT -5), all in 2026:
    # first 6 Jan 16:00 CST, last 15 Dec 17:30 CST.
    Expect(
        "google_orphan_overrides_no_master_chicago.ics",
        ("2026-01-01", "2027-01-01"),
        34,
        "2026-01-06T22:00:00Z",
        "2026-12-15T23:30:00Z",
    ),
    # Two UID-less all-day DAILY series 3-23 Mar 2008 (21 days) minus EXDATE 11 Mar = 20 each;
    # the second one's extra empty "EXDATE;VALUE=DATE:" is ignored (a warning, not a loss).
    Expect(
        "google_parsing_error_empty_exdate.ics",
        ("2008-03-01", "2008-04-01"),
        40,
        "2008-03-03",
        "2008-03-23",
        all_day=40,
        absent=("2008-03-11",),
    ),
    # Two events in UTC (X-WR-TIMEZONE only changes how they are shown).
    Expect(
        "google_x-wr-timezone_utc_events.ics",
        ("2021-12-01", "2022-01-01"),
        2,
        "2021-12-22T17:00:00Z",
        "2021-12-23T02:00:00Z",
    ),
    # One override (RECURRENCE-ID, RDATE = its own period) 2005-04-26 10:00 in the file's
    # "Eastern" VTIMEZONE, daylight time from the first Sunday of April: -4, so 14:00Z.
    Expect(
        "lotus_notes_calconnect_rdate_recid.ics",
        ("2005-04-01", "2005-05-01"),
        1,
        "2005-04-26T14:00:00Z",
        "2005-04-26T14:00:00Z",
    ),
    # 2011-11-09 19:00 America/Phoenix (MST all year, -7) = 2011-11-10T02:00Z.
    Expect(
        "meetup_remoteapi_america-phoenix.ics",
        ("2011-11-01", "2011-12-01"),
        1,
        "2011-11-10T02:00:00Z",
        "2011-11-10T02:00:00Z",
    ),
    # Two VCALENDARs, each with one VEVENT that has no DTSTART: nothing usable.
    Expect(
        "multiple_vcalendar_blocks_one_file.ics",
        ("2000-01-01", "2030-01-01"),
        error="none of the 2 VEVENT(s) can be read",
    ),
    # WEEKLY;COUNT=8 from Mon 2019-03-04 00:30 Berlin (CET, 3 Mar 23:30Z); EXDATE
    # 2019-03-10T23:30Z is the 2nd: 7 left, the last Mon 22 Apr 00:30 CEST (21 Apr 22:30Z).
    Expect(
        "nextcloud_sabredav_weekly_one_exdate.ics",
        ("2019-03-01", "2019-05-01"),
        7,
        "2019-03-03T23:30:00Z",
        "2019-04-21T22:30:00Z",
        absent=("2019-03-10T23:30:00Z",),
    ),
    # Floating 2022-10-09 10:00 -> Europe/Amsterdam (CEST) = 08:00Z.
    Expect(
        "nl_europe-amsterdam_leading_whitespace_morgendienst.ics",
        ("2022-10-01", "2022-11-01"),
        1,
        "2022-10-09T08:00:00Z",
        "2022-10-09T08:00:00Z",
    ),
    # 33 VEVENTs, floating -> Europe/Amsterdam: first 2010-02-10 20:30 CET, last 2010-09-17
    # 00:00 CEST.
    Expect(
        "nl_lastfm_deventer_events_floating_blanklines.ics",
        ("2010-01-01", "2011-01-01"),
        33,
        "2010-02-10T19:30:00Z",
        "2010-09-16T22:00:00Z",
    ),
    # 18 all-day holidays, three a school year; in Sep 2026 - Sep 2027: herfst 17 Oct,
    # voorjaar 20 Feb, zomer 17 Jul.
    Expect(
        "nl_school_holidays_central_duplicate_headers_tabfold.ics",
        ("2026-09-01", "2027-09-01"),
        3,
        "2026-10-17",
        "2027-07-17",
        all_day=3,
    ),
    # Weekdays from Tue 2009-03-10 09:30 in the file's "Canberra, Melbourne, Sydney"
    # VTIMEZONE (+11 until the first Sunday of April): 10 Mar .. 1 Apr local = 17 weekdays.
    Expect(
        "outlook11_standup_windows_tzid_commas.ics",
        ("2009-03-01", "2009-04-01"),
        17,
        "2009-03-09T22:30:00Z",
        "2009-03-31T22:30:00Z",
    ),
    # One floating event 2024-06-27 00:00 -> Europe/Amsterdam; the malformed VTIMEZONE (two
    # TZIDs) is only a warning.
    Expect(
        "the-events-calendar_ecp_school_broken_vtimezone.ics",
        ("2024-06-01", "2024-07-01"),
        1,
        "2024-06-26T22:00:00Z",
        "2024-06-26T22:00:00Z",
    ),
    # test7: DAILY 18-20 Mar 04:00 Berlin (19th edited in place) = 3; New Event: DAILY 7-10 Mar
    # 02:00 = 4, 8th moved to 01:00 and 9th to 03:00. 7 in all.
    Expect(
        "thunderbird_europe-berlin_moved_occurrences.ics",
        ("2019-03-01", "2019-04-01"),
        7,
        "2019-03-07T01:00:00Z",
        "2019-03-20T03:00:00Z",
        starts=("2019-03-08T00:00:00Z", "2019-03-09T02:00:00Z"),
        absent=("2019-03-08T01:00:00Z",),
    ),
    # TZID=FOO without VTIMEZONE: read in Europe/Amsterdam (CEST) with a warning: 07:30Z.
    Expect(
        "unknown_tzid_foo_no_vtimezone.ics",
        ("2014-04-01", "2014-05-01"),
        1,
        "2014-04-09T07:30:00Z",
        "2014-04-09T07:30:00Z",
    ),
    # 20 VEVENTs: 19 single (10 all-day) plus a DAILY series 8-10 Sep 2008 = 22. Floating
    # times -> Europe/Amsterdam: first 9 Jul 15:30 CEST; last all-day 13 Mar 2009.
    Expect(
        "upcoming_org_many_events.ics",
        ("2008-07-01", "2009-04-01"),
        22,
        "2008-07-09T13:30:00Z",
        "2009-03-13",
        all_day=10,
    ),
    # RRULE UNTIL=2021 lies before DTSTART 2024-04-15 19:00, and EXDATE removes DTSTART
    # itself: the series has no occurrence at all (the file's own content, not a loss).
    Expect("windows_tz_list_tzid_amsterdam_no_vtimezone.ics", ("2024-04-01", "2024-05-01"), 0),
    # A download that broke off: sb-001 (2027-02-10 19:30 CET = 18:30Z) is complete; the
    # VEVENT at line 11 has no END (reported), and so has the VCALENDAR (line 1).
    Expect(
        "schoolbestuur-agenda-broken.ics",
        ("2027-01-01", "2027-12-31"),
        1,
        "2027-02-10T18:30:00Z",
        "2027-02-10T18:30:00Z",
        problem_lines=(1, 11),
        reversible=False,
    ),
]


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _shown(value: date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _order(event: RawEvent) -> datetime:
    if isinstance(event.start, datetime):
        return event.start.astimezone(UTC)
    return datetime.combine(event.start, time(0), tzinfo=AMS).astimezone(UTC)


def _reversed_components(body: bytes) -> bytes:
    """The same calendar with its top-level components in reverse order (per VCALENDAR)."""
    lines = re.split(rb"(?<=\n)", body)
    out: list[bytes] = []
    blocks: list[list[bytes]] = []
    depth = 0
    for line in lines:
        head = line.strip().upper()
        if head.startswith(b"BEGIN:") and head != b"BEGIN:VCALENDAR":
            depth += 1
            if depth == 1:
                blocks.append([])
        if depth >= 1:
            blocks[-1].append(line)
        else:
            if head == b"END:VCALENDAR":
                out.extend(b"".join(block) for block in reversed(blocks))
                blocks = []
            out.append(line)
        if head.startswith(b"END:") and head != b"END:VCALENDAR" and depth >= 1:
            depth -= 1
    out.extend(b"".join(block) for block in reversed(blocks))
    return b"".join(out)


def _read(case: Expect, body: bytes) -> ParseResult:
    window = Window(_moment(case.window[0]), _moment(case.window[1]))
    return parse(body, SOURCE, now=window.start, window=window)


def _summary(result: ParseResult) -> list[tuple[str, str, str | None, str, str | None]]:
    return sorted(
        (e.uid, e.recurrence_id or "", e.title, _shown(e.start), e.status) for e in result.events
    )


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_file_yields_expected_occurrences(case: Expect) -> None:
    body = (ICS / case.file).read_bytes()
    if case.error:
        with pytest.raises(FeedError, match=re.escape(case.error)):
            _read(case, body)
        return
    result = _read(case, body)
    events = sorted(result.events, key=_order)
    assert len(events) == case.count
    if events:
        assert _shown(events[0].start) == case.first
        assert _shown(events[-1].start) == case.last
    assert sum(e.all_day for e in events) == case.all_day
    assert sum(e.status == "cancelled" for e in events) == case.cancelled
    assert sorted(p.line for p in result.problems) == sorted(case.problem_lines)
    starts = {_shown(e.start) for e in events}
    assert set(case.starts) <= starts
    assert not set(case.absent) & starts
    # identity is stable and unique: one record per (uid, original occurrence start)
    assert len({e.key() for e in events}) == len(events)


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c.error and c.reversible], ids=lambda c: c.file
)
def test_reversed_component_order_gives_the_same_records(case: Expect) -> None:
    body = (ICS / case.file).read_bytes()
    assert _summary(_read(case, _reversed_components(body))) == _summary(_read(case, body))


def test_every_test_file_has_a_case_and_a_manifest_line() -> None:
    from tests.test_ical_regressions import FILES as REGRESSIONS

    files = {p.name for p in ICS.glob("*.ics")}
    assert files == {c.file for c in CASES} | {f"{slug}.ics" for slug in REGRESSIONS}
    manifest = (ICS.parent / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    assert manifest[0] == "path\torigin\tlicence"
    listed = {line.split("\t")[0] for line in manifest[1:]}
    assert {f"ics/{name}" for name in files} <= listed


@pytest.mark.parametrize(
    ("name", "records", "series"),
    [
        # config/samples/nl-sample/EXPECTED.md: 18 records, a weekly Tuesday series with an
        # EXDATE on Koningsdag giving 24 occurrences (2027-01-05 .. 2027-07-31)
        ("onderwijsregio-groningen-drenthe.ics", 18, {24: 1}),
        # 12 records (13 VEVENTs: one is an override); two series of 6 occurrences each
        ("friese-pabo-academie-voorlichting.ics", 12, {6: 2}),
        ("twents-onderwijsnetwerk.ics", 16, {}),
        ("onderwijsregio-utrecht-amersfoort.v2.ics", 12, {}),
    ],
)
def test_bundled_sample_calendars_match_their_expected_numbers(
    sample_dir: Path, name: str, records: int, series: dict[int, int]
) -> None:
    window = Window(datetime(2027, 1, 5, tzinfo=AMS), datetime(2027, 8, 1, tzinfo=AMS))
    result = parse(
        (sample_dir / "ics" / name).read_bytes(), SOURCE, now=window.start, window=window
    )
    per_uid: dict[str, int] = {}
    for event in result.events:
        per_uid[event.uid] = per_uid.get(event.uid, 0) + 1
    assert len(per_uid) == records and not result.problems
    counts = [n for n in per_uid.values() if n > 1]
    assert {n: counts.count(n) for n in counts} == series
