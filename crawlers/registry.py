"""Which reader handles which source kind."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from crawlers import ical, schemaorg, selectors, syndication, tribe
from crawlers.records import ParseResult, Window
from crawlers.source import SourceConfig

Parser = Callable[..., ParseResult]

# Kinds whose whole content is one fetched document: bytes in, records out.
DOCUMENT_PARSERS: dict[str, Parser] = {
    "ics": ical.parse,
    "rss": syndication.parse,
    "atom": syndication.parse,
    # one page only; harvests of these kinds crawl (links, pagination) via crawlers.crawl
    "jsonld": schemaorg.parse,
    "tribe": tribe.parse,
    "selectors": selectors.parse,
}

# Kinds harvested by a Scrapy crawl in a child process (crawlers.crawl), not by one fetch.
CRAWL_KINDS = frozenset({"jsonld", "tribe", "selectors"})


class UnsupportedKind(Exception):
    """No reader is installed for a source kind."""


def document_parser(kind: str) -> Parser:
    """Return the parser for a single-document kind, or raise UnsupportedKind."""
    try:
        return DOCUMENT_PARSERS[kind]
    except KeyError:
        raise UnsupportedKind(f"no reader for source kind {kind!r}") from None


def parse_document(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window
) -> ParseResult:
    """Parse one fetched document with the reader for its source kind."""
    return document_parser(source.kind)(body, source, now=now, window=window)
