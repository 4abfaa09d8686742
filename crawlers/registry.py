"""The one table of source kinds: which reader parses a kind, and which spider crawls it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from crawlers import ical, schemaorg, selectors, syndication, tribe
from crawlers.records import FeedError, ParseResult, Window
from crawlers.source import SourceConfig


class Parser(Protocol):
    """The reader contract: one fetched document in, records out.

    A parser is a pure function of its input: no network, no database, no clock (``now``
    is given), no geocoding. A malformed record is reported in ``ParseResult.problems``
    with its line and reason and the rest goes on; only an unreadable document raises
    ``FeedError``. ``window`` bounds the expansion of recurring series.
    """

    def __call__(
        self, body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
    ) -> ParseResult:
        """Read ``body`` of ``source`` into records."""
        ...


@dataclass(frozen=True, slots=True)
class SourceKind:
    """How a kind of source is read.

    ``parser`` reads one fetched document (bytes in, records out). ``spider`` is the
    dotted path of the Scrapy spider that harvests the kind by following links and
    pagination (run by ``crawlers.crawl`` in a child process), or None when one fetch
    of the source URL is the whole content.
    """

    name: str
    parser: Parser
    spider: str | None = None

    @property
    def crawled(self) -> bool:
        """Whether a harvest of this kind is a crawl rather than one fetch."""
        return self.spider is not None


KINDS: dict[str, SourceKind] = {
    kind.name: kind
    for kind in (
        SourceKind("ics", ical.parse),
        SourceKind("rss", syndication.parse),
        SourceKind("atom", syndication.parse),
        # the parser reads one page (`agenda parse`, proposals); a harvest crawls
        SourceKind("jsonld", schemaorg.parse, "crawlers.spiders.events.SchemaOrgSpider"),
        SourceKind("tribe", tribe.parse, "crawlers.spiders.tribe.TribeSpider"),
        SourceKind("selectors", selectors.parse, "crawlers.spiders.selectors.SelectorSpider"),
    )
}


class UnsupportedKind(FeedError):
    """No reader is installed for a source kind (the source fails like an unreadable feed)."""


def source_kind(name: str) -> SourceKind:
    """Return the table entry of a kind, or raise UnsupportedKind."""
    try:
        return KINDS[name]
    except KeyError:
        raise UnsupportedKind(f"no reader for source kind {name!r}") from None


def crawled_kinds() -> frozenset[str]:
    """The kinds harvested by a Scrapy crawl."""
    return frozenset(name for name, kind in KINDS.items() if kind.crawled)


def parse_document(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window
) -> ParseResult:
    """Parse one fetched document with the reader for its source kind."""
    return source_kind(source.kind).parser(body, source, now=now, window=window)


def guess_kind(location: str, body: bytes) -> str:
    """The kind a document looks like (``agenda parse`` without ``--kind``).

    iCal, RSS/RDF and Atom by their first element, JSON as The Events Calendar's REST
    answer, HTML as a page with schema.org markup; else the file extension, else ``ics``.
    """
    head = body[:2048].lstrip(b"\xef\xbb\xbf \r\n\t").lower()
    if head.startswith(b"begin:vcalendar"):
        return "ics"
    if b"<rss" in head or b"<rdf:rdf" in head:
        return "rss"
    if b"<feed" in head:
        return "atom"
    if head.startswith((b"{", b"[")):
        return "tribe"
    if b"<html" in head or b"<!doctype html" in head:
        return "jsonld"
    return Path(location).suffix.lstrip(".").lower() or "ics"
