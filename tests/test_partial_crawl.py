"""A crawl that did not read every page its list names is partial and removes nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from crawlers.crawl import interpret
from crawlers.records import RawEvent
from crawlers.source import SourceConfig

SOURCE = SourceConfig(id="site", name="Site", kind="jsonld", url="https://x.nl/", region="twente")
START = "https://x.nl/agenda"
DAY = date(2027, 2, 1)


def _items(reached: list[str], listed: list[str], **problem: Any) -> list[dict[str, Any]]:
    event = RawEvent(source_id="site", uid="a", title="Open dag", start=DAY).to_dict()
    items: list[dict[str, Any]] = [
        {"type": "page", "url": START, "status": 200, "start": True, "reached": [START]}
    ]
    items += [{"type": "listed", "url": url} for url in listed]
    items += [{"type": "page", "url": url, "status": 200, "reached": [url]} for url in reached]
    items.append({"type": "event", "event": event})
    if problem:
        items.append({"type": "problem", **problem})
    return items


def test_every_listed_page_read_is_complete() -> None:
    pages = [f"{START}/{i}" for i in range(3)]
    result, _ = interpret(_items(pages, pages), SOURCE, start=START)
    assert not result.partial


def test_a_listed_page_never_answered_makes_the_crawl_partial() -> None:
    pages = [f"{START}/{i}" for i in range(20)]
    result, _ = interpret(_items(pages[:11], pages), SOURCE, start=START)
    assert result.partial
    assert "partial crawl: 9 page(s)" in result.warnings[-1].reason


def test_a_failed_page_makes_the_crawl_partial() -> None:
    items = _items([], [], url=f"{START}/9", reason="HTTP 500", unreached=True)
    result, _ = interpret(items, SOURCE, start=START)
    assert result.partial
