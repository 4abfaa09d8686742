"""One bad byte in a UTF-8 feed spoils only itself, in the iCal and the RSS/Atom reader.

Real files are damaged here: a Google Calendar export (tests/data/ics, German umlauts) and
the bundled RSS sample (Dutch dashes, an emoji). Before, one invalid byte made the whole
body decode as Windows-1252, so every "ö" read "Ã¶".
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crawlers import ical, syndication
from crawlers.charset import decode_lenient
from crawlers.records import ParseResult, Window
from crawlers.source import SourceConfig

ICS = Path(__file__).parent / "data" / "ics"
GOOGLE = ICS / "google_europe-berlin_dst_rrule_exdate_recid.ics"
GOOGLE_WINDOW = Window(datetime(2018, 9, 1, tzinfo=UTC), datetime(2018, 12, 1, tzinfo=UTC))
ICS_SOURCE = SourceConfig(id="c", name="c", kind="ics", url="x.ics", region="landelijk")
RSS_SOURCE = SourceConfig(id="r", name="r", kind="rss", url="x.xml", region="landelijk")


def _ical(body: bytes) -> ParseResult:
    return ical.parse(body, ICS_SOURCE, now=GOOGLE_WINDOW.start, window=GOOGLE_WINDOW)


def _texts(result: ParseResult) -> list[tuple[str, str]]:
    return sorted((e.title, e.description or "") for e in result.events)


def test_ical_windows_1252_byte_in_a_utf8_file_is_read_as_such() -> None:
    body = GOOGLE.read_bytes()
    # the producer pasted one Windows-1252 "ä" (0xE4) into its UTF-8 export
    damaged = body.replace("#TEC - Fällt".encode(), b"#TEC - F\xe4llt", 1)
    assert damaged != body
    assert _texts(_ical(damaged)) == _texts(_ical(body))
    assert "#TEC - Fällt aus bis September" in [title for title, _ in _texts(_ical(damaged))]


def test_ical_undefined_byte_is_replaced_and_the_rest_stays_utf8() -> None:
    body = GOOGLE.read_bytes()
    # 0x81 is no character in UTF-8 nor in Windows-1252
    damaged = body.replace("#TEC - Fällt".encode(), b"#TEC - F\x81llt", 1)
    texts = _texts(_ical(damaged))
    assert "#TEC - F\ufffdllt aus bis September" in [title for title, _ in texts]
    assert not any("Ã" in title + description for title, description in texts)
    # nothing else of the file changed
    repaired = sorted((t.replace("F\ufffdllt", "Fällt"), d) for t, d in texts)
    assert repaired == _texts(_ical(body))


def test_ical_fold_inside_a_multibyte_character_is_joined_before_decoding() -> None:
    text = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        b"DTSTART:20181010T100000Z\r\nSUMMARY:Bio"
    )
    # RFC 5545 3.1 folds between characters; producers fold between the bytes of one
    body = text + "ö".encode()[:1] + b"\r\n " + "ö".encode()[1:] + b"konomie\r\n"
    body += "DESCRIPTION:Grüße\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".encode()
    [event] = _ical(body).events
    assert (event.title, event.description) == ("Bioökonomie", "Grüße")


def test_body_without_any_utf8_is_still_windows_1252() -> None:
    assert decode_lenient("Café – zij-instroom".encode("cp1252")) == "Café – zij-instroom"


def test_rss_one_bad_byte_spoils_only_itself(sample_dir: Path) -> None:
    body = (sample_dir / "rss" / "onderwijsnetwerk-regio-zwolle-agenda.xml").read_bytes()
    now = datetime(2027, 1, 10, tzinfo=UTC)
    clean = syndication.parse(body, RSS_SOURCE, now=now)
    # the first "–" (E2 80 93) cut short to two bytes, and a Windows-1252 "é" elsewhere
    damaged = body.replace("–".encode(), b"\xe2\x80", 1).replace(
        b"Overstappunt Onderwijs organiseert", b"Caf\xe9 organiseert", 1
    )
    result = syndication.parse(damaged, RSS_SOURCE, now=now)
    assert [e.title for e in result.events] == [e.title for e in clean.events]
    assert any(e.title.startswith("🎓") for e in result.events)
    descriptions = " ".join(e.description or "" for e in result.events)
    assert (
        "08.30 \ufffd 12.00" in descriptions
        and "Ã" not in descriptions
        and "â€" not in descriptions
    )
    assert "Café" in descriptions
    assert (
        descriptions.count("–")
        == " ".join(e.description or "" for e in clean.events).count("–") - 1
    )
