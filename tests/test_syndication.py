"""RSS/Atom reader details: encodings, broken XML, xCal, Atom prose, pubDate is no event date."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from crawlers import syndication
from crawlers.records import FeedError, ParseResult
from crawlers.source import SourceConfig
from tests.conftest import AMS, SAMPLE_NOW

SOURCE = SourceConfig(id="feed", name="Feed", kind="rss", url="feed.xml", region="landelijk")


def parse(body: bytes) -> ParseResult:
    return syndication.parse(body, SOURCE, now=SAMPLE_NOW)


def rss(items: str, *, head: str = "", ns: str = "") -> str:
    return f'{head}<rss version="2.0"{ns}><channel><title>Agenda</title>{items}</channel></rss>'


def test_windows_1252_without_declaration_and_utf8_with_bom() -> None:
    item = (
        "<item><title>Informatieavond ’t Fûgelnêst – € 0</title><guid>a</guid>"
        "<description>dinsdag 16 februari 2027, 19.30 – 21.00 uur</description></item>"
    )
    [event] = parse(rss(item).encode("cp1252")).events
    assert event.title == "Informatieavond ’t Fûgelnêst – € 0"
    assert event.end == datetime(2027, 2, 16, 21, 0, tzinfo=AMS)
    body = b"\xef\xbb\xbf" + rss(item, head='<?xml version="1.0" encoding="UTF-8"?>').encode()
    assert parse(body).events[0].title == event.title


def test_feed_that_is_not_well_formed_is_read_leniently() -> None:
    body = rss(
        "<item><title>Open & dag</title><guid>b</guid>"
        "<description>op 12-03-2027 om 14.00 uur<br></description></item>"
    ).encode()
    [event] = parse(body).events
    assert event.title == "Open & dag" and event.start == datetime(2027, 3, 12, 14, 0, tzinfo=AMS)


def test_xcal_elements_in_an_rss_item() -> None:
    body = rss(
        "<item><title>Open dag pabo</title><guid>c</guid>"
        "<xCal:dtstart>20270313T100000</xCal:dtstart><xCal:dtend>20270313T140000</xCal:dtend>"
        "<xCal:location>Heidelberglaan 15, 3584 CS Utrecht</xCal:location></item>",
        ns=' xmlns:xCal="urn:ietf:params:xml:ns:xcal"',
    ).encode()
    [event] = parse(body).events
    assert event.start == datetime(2027, 3, 13, 10, 0, tzinfo=AMS)
    assert event.end == datetime(2027, 3, 13, 14, 0, tzinfo=AMS)
    assert event.location == "Heidelberglaan 15, 3584 CS Utrecht"


def test_atom_entry_with_the_date_in_its_content() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Agenda</title>'
        b"<entry><id>urn:x:1</id><title>Webinar zij-instroom</title>"
        b'<link href="https://example.org/webinar"/>'
        b"<published>2027-01-04T10:00:00Z</published>"
        b'<content type="html">&lt;p&gt;woensdag 3 februari 2027, 15:00-16:30&lt;/p&gt;</content>'
        b"</entry></feed>"
    )
    [event] = parse(body).events
    assert event.uid == "urn:x:1" and event.url == "https://example.org/webinar"
    assert event.start == datetime(2027, 2, 3, 15, 0, tzinfo=AMS)


def test_publication_date_is_never_the_event_date() -> None:
    body = rss(
        "<item><title>Nieuwsbrief januari</title><guid>d</guid>"
        "<pubDate>Tue, 05 Jan 2027 08:00:00 +0100</pubDate>"
        "<description>Lees de nieuwsbrief.</description></item>"
    ).encode()
    result = parse(body)
    assert result.events == [] and result.skipped == 1
    assert "no event date" in result.problems[0].reason


def test_year_less_date_counts_from_the_items_publication() -> None:
    body = rss(
        "<item><title>Matchingsavond</title><guid>e</guid>"
        "<pubDate>Mon, 01 Nov 2027 08:00:00 +0100</pubDate>"
        "<description>donderdag 13 januari a.s. om 19.00 uur</description></item>"
    ).encode()
    [event] = parse(body).events
    assert event.start == datetime(2028, 1, 13, 19, 0, tzinfo=AMS)


def test_all_day_prose_date() -> None:
    body = rss(
        "<item><title>Koningsspelen</title><guid>f</guid>"
        "<description>Vrijdag 23 april 2027: sport en spel</description></item>"
    ).encode()
    [event] = parse(body).events
    assert event.start == date(2027, 4, 23) and event.end is None and event.all_day


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response"),
        (b"<html><body>Onderhoud</body></html>", "unsupported format: an HTML page"),
        (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "unsupported format: iCalendar"),
        (b'{"events": []}', "unsupported format"),
    ],
)
def test_not_a_feed(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(body)
