"""Real-world RSS, Atom, HTML and JSON files (tests/data, MANIFEST.tsv) through their readers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from crawlers import registry
from crawlers.records import FeedError, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig
from tests.conftest import AMS

DATA = Path(__file__).parent / "data"


def read(relative: str, kind: str, *, now: datetime, **options: Any) -> ParseResult:
    source = SourceConfig(
        id="corpus",
        name=relative,
        kind=kind,
        url=str(DATA / relative),
        region="landelijk",
        **options,
    )
    body = (DATA / relative).read_bytes()
    return registry.parse_document(body, source, now=now, window=Window.around(now))


def by_title(result: ParseResult, title: str) -> list[RawEvent]:
    return [e for e in result.events if e.title == title]


def tz(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


# --- RSS and Atom -------------------------------------------------------------------------


def test_rss_event_module() -> None:
    result = read("rss/rss2_ev_module_valid_all.xml", "rss", now=datetime(2005, 7, 1, tzinfo=UTC))
    [event] = result.events
    assert event.title == "bar" and event.location == "My couch" and event.organizer_name == "Me"
    # W3CDTF without offset: local time of the source
    assert event.start == datetime(2005, 7, 2, 10, 0, tzinfo=AMS)
    assert event.end == datetime(2005, 7, 2, 10, 0, 1, tzinfo=AMS)


def test_google_base_event_date_range_in_the_source_time_zone() -> None:
    result = read(
        "rss/gbase_rss2_events.xml",
        "rss",
        now=datetime(2005, 7, 1, tzinfo=UTC),
        timezone="America/Los_Angeles",
    )
    la = ZoneInfo("America/Los_Angeles")
    [fright] = by_title(result, "Google's 2005 Halloween Fright Fest")
    assert fright.start == datetime(2005, 7, 4, 20, 0, tzinfo=la)
    assert fright.end == datetime(2005, 7, 4, 23, 0, tzinfo=la)
    assert fright.location == "1600 Amphitheatre Parkway, Mountain View, CA, 94043, USA"
    [u2] = by_title(result, "U2 Elevation tour")
    assert u2.start == datetime(2005, 8, 23, 20, 0, tzinfo=la)
    assert u2.location == "123 Main St, Anytown, CA, 12345, USA"


def test_feed_declaring_event_module_without_event_dates_has_no_events() -> None:
    # housing adverts say "Available June 22, 2017": that is no event date
    result = read(
        "rss/craigslist_rss1_ev_ns_declared_no_events.rss",
        "rss",
        now=datetime(2017, 6, 21, tzinfo=UTC),
    )
    assert result.events == []
    assert result.skipped == 25 and len(result.problems) == 25


def test_google_calendar_single_entry_is_one_moved_occurrence() -> None:
    result = read(
        "atom/gcal_atom_single_event_entry.xml", "atom", now=datetime(2007, 5, 1, tzinfo=UTC)
    )
    [event] = result.events
    assert event.title == "www2007 recurring" and event.location == "Down by the river"
    assert event.uid == "s0dtsvq4pe15ku09jideg67fv4"
    assert event.recurrence_id == "20070509T193000Z"  # the original start, in UTC
    assert event.start == datetime(2007, 5, 9, 17, 30, tzinfo=tz(-5))
    assert event.end == datetime(2007, 5, 9, 18, 30, tzinfo=tz(-5))
    assert event.status == "confirmed"


def test_google_calendar_composite_feed_expands_series_and_applies_exceptions() -> None:
    result = read(
        "atom/gcal_atom_composite_feed_recurrence.xml",
        "atom",
        now=datetime(2007, 5, 20, tzinfo=UTC),
    )
    [may24] = by_title(result, "all day event may 24")
    assert (may24.start, may24.end) == (date(2007, 5, 24), date(2007, 5, 25))
    assert may24.location == "Mountain View, California"
    tennis = by_title(result, "Tennis Game")
    assert len(tennis) == 19 and tennis[0].start == date(2007, 5, 1)
    assert {t.location for t in tennis} == {"South Tennis Courts"}
    specialized = by_title(result, "Specialized Event")
    assert len(specialized) == 8
    la = ZoneInfo("America/Los_Angeles")
    assert specialized[0].start == datetime(2007, 9, 13, 8, 0, tzinfo=la)
    www = sorted(by_title(result, "www2007 recurring"), key=lambda e: e.recurrence_id or "")
    assert len(www) == 6  # 6 daily occurrences, the one of 9 May replaced by its exception
    moved = [e for e in www if e.recurrence_id == "20070509T193000Z"]
    assert len(moved) == 1 and moved[0].start == datetime(2007, 5, 9, 17, 30, tzinfo=tz(-5))
    assert len({e.key() for e in result.events}) == len(result.events)


# --- HTML: schema.org and microformats ------------------------------------------------------


def test_eventon_broken_json_ld_dates_fall_back_to_the_microdata_copy() -> None:
    result = read(
        "html/eventon_wordpress_broken_jsonld_dates.html",
        "jsonld",
        now=datetime(2019, 9, 1, tzinfo=UTC),
        timezone="America/Chicago",
    )
    assert len(result.events) == 9 and result.problems == []
    [first] = [e for e in result.events if e.start.day == 18]  # type: ignore[union-attr]
    assert first.title == "CCLBA Data & Marketing Committee"
    chicago = ZoneInfo("America/Chicago")
    assert first.start == datetime(2019, 9, 18, 10, 0, tzinfo=chicago)
    assert first.end == datetime(2019, 9, 18, 11, 0, tzinfo=chicago)
    assert first.location == "Cook County Admin Building, 22nd Floor, Conference Room 'B'"
    assert first.address == "69 W Washington St."


def test_h_event_value_class_times() -> None:
    result = read("html/h-event_time_formats.html", "jsonld", now=datetime(2009, 6, 1, tzinfo=UTC))
    [event] = result.events
    assert event.title == "The 4th Microformat party"
    assert event.start == datetime(2009, 6, 26, 19, 0, tzinfo=tz(-8))


def test_hcalendar_v1_page_with_venue_card() -> None:
    result = read(
        "html/upcoming_org_hcalendar_v1.html",
        "jsonld",
        now=datetime(2008, 2, 1, tzinfo=UTC),
        timezone="America/Los_Angeles",
    )
    [event] = result.events
    la = ZoneInfo("America/Los_Angeles")
    assert event.title == "February BarCamp Portland Informal Tech Meetup"
    assert event.start == datetime(2008, 2, 28, 17, 30, tzinfo=la)
    assert event.end == datetime(2008, 2, 28, 19, 30, tzinfo=la)
    assert event.location == "Jive Software Office"
    assert (event.lat, event.lon) == (45.5191, -122.675)


def test_schema_org_microdata_with_offer() -> None:
    result = read(
        "html/schemaorg_event_microdata_offer.html", "jsonld", now=datetime(2013, 9, 1, tzinfo=UTC)
    )
    [event] = result.events
    assert event.title == "Typhoon with Radiation City"
    assert event.start == datetime(2013, 9, 14, 21, 30, tzinfo=AMS) and event.end is None
    assert (event.location, event.address, event.postcode, event.city) == (
        "The Hi-Dive",
        "7 S. Broadway",
        "80209",
        "Denver",
    )
    assert event.is_free is False and event.price == "13.00 USD"
    assert event.registration_url == "http://www.ticketfly.com/purchase/309433"


def test_schema_org_microdata_with_aggregate_offer() -> None:
    result = read(
        "html/schemaorg_event_microdata_aggregateoffer.html",
        "jsonld",
        now=datetime(2016, 4, 1, tzinfo=UTC),
    )
    [event] = result.events
    assert event.title == "Miami Heat at Philadelphia 76ers - Game 3 (Home Game 1)"
    assert event.start == datetime(2016, 4, 21, 20, 0, tzinfo=AMS)
    assert event.city == "Philadelphia" and event.price == "$35"


def test_songkick_json_ld_basic_offsets() -> None:
    page = read(
        "html/songkick_event_page_owl_music_parlor_jsonld.html",
        "jsonld",
        now=datetime(2015, 10, 1, tzinfo=UTC),
    )
    [event] = page.events
    assert event.title == "Elysian Fields"
    assert event.start == datetime(2015, 10, 31, 19, 30, tzinfo=tz(-4))
    assert (event.location, event.address, event.postcode, event.city) == (
        "The Owl Music Parlor",
        "497 Rogers Ave",
        "11225",
        "Brooklyn",
    )
    artist = read(
        "html/songkick_elysianfields_jsonld.html", "jsonld", now=datetime(2016, 10, 1, tzinfo=UTC)
    )
    assert [(e.start, e.location) for e in artist.events] == [
        (datetime(2017, 6, 10, 19, 30, tzinfo=tz(-4)), "The Owl Music Parlor"),
        (datetime(2017, 4, 26, 20, 0, tzinfo=tz(-7)), "Hotel Utah Saloon"),
        (datetime(2016, 10, 29, 21, 0, tzinfo=tz(2)), "Le VIP"),
        (datetime(2016, 10, 27, 20, 30, tzinfo=tz(2)), "Le Rocher De Palmer"),
    ]


def test_the_events_calendar_month_embed_json_ld() -> None:
    result = read(
        "html/the-events-calendar_month_embed_jsonld.html",
        "jsonld",
        now=datetime(2025, 3, 1, tzinfo=UTC),
    )
    assert len(result.events) == 9
    first = result.events[0]
    assert first.title == "A test event 1" and first.status == "confirmed"
    assert first.start == datetime(2025, 3, 1, 9, 0, tzinfo=AMS)
    assert first.end == datetime(2025, 3, 1, 11, 0, tzinfo=AMS)


@pytest.mark.parametrize(
    "relative",
    [
        "html/songkick_jsonld_empty_item.html",  # `false`, an empty block and an ItemList only
        "html/nl_den_helder_gemeenteraad_vergadering.html",  # date only in Dutch text
        "html/nl_uitdatabank_calendar_summary_multiple_microdata.html",  # itemprop, no itemscope
    ],
)
def test_page_without_schema_org_events_fails_with_reason(relative: str) -> None:
    with pytest.raises(FeedError, match=r"no schema\.org Event markup"):
        read(relative, "jsonld", now=datetime(2020, 1, 1, tzinfo=UTC))


def test_dutch_meeting_page_read_with_selectors() -> None:
    result = read(
        "html/nl_den_helder_gemeenteraad_vergadering.html",
        "selectors",
        now=datetime(2015, 8, 1, tzinfo=UTC),
        selectors={
            "item": "h2.page_title",
            "fields": {
                "title": "span.group::text",
                "date": "span.date::text",
                "time": "span.time::text",
            },
        },
    )
    [event] = result.events
    assert event.title == "Gemeenteraad"
    assert event.start == datetime(2015, 8, 31, 19, 30, tzinfo=AMS) and event.end is None


def test_calendar_summary_read_with_xpath_selectors_and_machine_times() -> None:
    result = read(
        "html/nl_uitdatabank_calendar_summary_multiple_microdata.html",
        "selectors",
        now=datetime(2017, 11, 1, tzinfo=UTC),
        selectors={
            "item": "xpath://ul[@class='cnw-event-date-info']/li",
            "fields": {
                "title": "xpath:'Voorstelling'",
                "start": "time[itemprop=startDate]::attr(datetime)",
                "end": "time[itemprop=endDate]::attr(datetime)",
            },
        },
    )
    assert [(e.start, e.end) for e in result.events][:2] == [
        (datetime(2017, 11, 6, 20, 0, tzinfo=tz(1)), datetime(2017, 11, 9, 22, 0, tzinfo=tz(1))),
        (datetime(2017, 11, 14, 20, 0, tzinfo=tz(1)), datetime(2017, 11, 16, 22, 0, tzinfo=tz(1))),
    ]
    assert len({e.uid for e in result.events}) == len(result.events)


# --- JSON -----------------------------------------------------------------------------------


def test_the_events_calendar_rest_snapshot_with_placeholder_ids() -> None:
    result = read(
        "json/the-events-calendar_rest_v1_events_additional_fields.json",
        "tribe",
        now=datetime(2084, 7, 1, tzinfo=UTC),
    )
    assert [e.title for e in result.events] == ["Test Event 1", "Test Event 2", "Test Event 3"]
    # every id is the literal "{EVENT_ID}": the event URL identifies them instead
    assert [e.uid for e in result.events] == [
        f"http://wordpress.test/?tribe_events=test-event-{n}" for n in (1, 2, 3)
    ]
    first = result.events[0]
    assert first.start == datetime(2084, 7, 14, 12, 0, tzinfo=UTC)
    assert first.end == datetime(2084, 7, 14, 14, 0, tzinfo=UTC)
    assert first.location is None


@pytest.mark.parametrize(
    ("relative", "kind", "what"),
    [
        ("json/meetup_api_event.json", "tribe", "Meetup API event JSON"),
        ("json/nl_notubiz_meeting_amsterdam.json", "tribe", "Notubiz meeting JSON"),
        ("json/nl_notubiz_meeting_amsterdam_update1.json", "tribe", "Notubiz meeting JSON"),
        ("json/nl_uitdatabank_offer_opening_hours.json", "tribe", "UiTdatabank offer JSON"),
        ("json/eventon_ajax_events_embedded_microdata.json", "tribe", "EventON calendar AJAX JSON"),
        ("xml/nl_uitdatabank_cdbxml_eventlist.xml", "rss", "UiTdatabank CdbXML"),
        ("xml/nl_uitdatabank_cdbxml_eventlist.xml", "atom", "UiTdatabank CdbXML"),
        ("json/meetup_api_event.json", "rss", "Meetup API event JSON"),
        ("json/nl_notubiz_meeting_amsterdam.json", "jsonld", "Notubiz meeting JSON"),
        ("html/schemaorg_event_microdata_offer.html", "rss", "an HTML page"),
        ("html/schemaorg_event_microdata_offer.html", "tribe", "an HTML page"),
    ],
)
def test_out_of_scope_formats_are_unsupported(relative: str, kind: str, what: str) -> None:
    with pytest.raises(FeedError, match=r"^unsupported format") as raised:
        read(relative, kind, now=datetime(2020, 1, 1, tzinfo=UTC))
    assert what in str(raised.value)


def test_rdfa_event_with_nested_place() -> None:
    page = b"""<html><body><div vocab="https://schema.org/" typeof="Event">
    <span property="name">Open dag pabo</span>
    <meta property="startDate" content="2027-03-13T10:00:00+01:00">
    <meta property="endDate" content="2027-03-13T14:00:00+01:00">
    <div property="location" typeof="Place"><span property="name">Hogeschool</span>
    <div property="address" typeof="PostalAddress"><span property="streetAddress">Heidelberglaan
    15</span> <span property="postalCode">3584 CS</span>
    <span property="addressLocality">Utrecht</span></div></div></div></body></html>"""
    source = SourceConfig(id="rdfa", name="rdfa", kind="jsonld", url="x.html", region="landelijk")
    [event] = registry.parse_document(
        page,
        source,
        now=datetime(2027, 1, 1, tzinfo=UTC),
        window=Window.around(datetime(2027, 1, 1, tzinfo=UTC)),
    ).events
    assert event.title == "Open dag pabo"
    assert event.start == datetime(2027, 3, 13, 10, 0, tzinfo=tz(1))
    assert (event.location, event.postcode, event.city) == ("Hogeschool", "3584 CS", "Utrecht")
