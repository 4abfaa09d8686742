"""Declarative CSS/XPath selectors for agenda pages without structured data (kind ``selectors``).

A source gives its selectors in sources.yaml, inline or as a YAML file next to it::

    item: "section#agenda article.agenda-item"      # one node per event
    base_url: https://www.example.nl/agenda          # optional: resolve relative links
    fields:
      title: "h3 a::text"                            # required
      url: "h3 a::attr(href)"
      date: "p.datum::text"                          # prose date ("di 9 mrt 2027") ...
      time: "p.tijd::text"                           # ... with times ("19.30 - 21.00 uur")
      start: "time::attr(datetime)"                  # or machine-readable start / end
      end: "time.end::attr(datetime)"
      location: "p.locatie::text"
      description: "div.intro"                       # no ::text: the HTML fragment
    parse: {timezone: Europe/Amsterdam}
    pagination: "a.next::attr(href)"                 # optional

A selector starting with ``xpath:`` (or ``/``, ``./``, ``(``) is XPath, any other is CSS.
Reading a page is pure (parsel, no Scrapy engine), so it is tested without crawling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from parsel import Selector, SelectorList

from crawlers.html_text import html_to_text
from crawlers.records import FeedError, ParseProblem, ParseResult, RawEvent, Window
from crawlers.source import SourceConfig
from crawlers.textdates import find_when
from crawlers.timevalues import parse_timevalue

FIELDS = ("title", "url", "date", "time", "start", "end", "location", "description", "uid")


@dataclass(slots=True)
class SelectorSpec:
    """A validated selectors configuration."""

    item: str
    fields: dict[str, str]
    base_url: str | None = None
    timezone: str = "Europe/Amsterdam"
    pagination: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def load_spec(source: SourceConfig) -> SelectorSpec:
    """Read a source's ``selectors`` (mapping, or YAML file relative to sources.yaml)."""
    raw: Any = source.selectors
    if isinstance(raw, str):
        path = Path(raw)
        if not path.is_absolute() and source.base_dir is not None:
            path = source.base_dir / path
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FeedError(f"selectors file not found: {path}") from exc
        except yaml.YAMLError as exc:
            raise FeedError(f"selectors file {path} is not valid YAML: {exc}") from exc
    return spec_from_mapping(raw)


def spec_from_mapping(raw: Any) -> SelectorSpec:
    """Validate a selectors mapping; raise FeedError naming what is missing."""
    if not isinstance(raw, dict):
        raise FeedError("selectors must be a mapping with 'item' and 'fields'")
    item, fields = raw.get("item"), raw.get("fields")
    if not isinstance(item, str) or not item.strip():
        raise FeedError("selectors: 'item' (the selector of one event) is missing")
    if not isinstance(fields, dict) or "title" not in fields:
        raise FeedError("selectors: 'fields' needs at least 'title' and 'date' or 'start'")
    if "date" not in fields and "start" not in fields:
        raise FeedError("selectors: 'fields' needs 'date' or 'start'")
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise FeedError(f"selectors: unknown fields {unknown}; known: {list(FIELDS)}")
    parse = raw.get("parse") or {}
    timezone = parse.get("timezone", "Europe/Amsterdam") if isinstance(parse, dict) else None
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FeedError(f"selectors: unknown time zone {timezone!r}") from exc
    return SelectorSpec(
        item=item,
        fields={k: str(v) for k, v in fields.items() if v},
        base_url=raw.get("base_url"),
        timezone=str(timezone),
        pagination=raw.get("pagination") or None,
    )


def select(node: Selector, selector: str) -> SelectorList[Selector]:
    """Apply a CSS or XPath selector."""
    if selector.startswith("xpath:"):
        return node.xpath(selector[len("xpath:") :].strip())
    if selector.startswith(("/", "./", "(")):
        return node.xpath(selector)
    return node.css(selector)


def _value(node: Selector, selector: str | None) -> str | None:
    if not selector:
        return None
    values = [v for v in select(node, selector).getall() if v and v.strip()]
    if not values:
        return None
    text = " ".join(v.strip() for v in values)
    return text or None


@dataclass(slots=True)
class PageItems:
    """What the selectors found on one page: item nodes matched and the next page."""

    matched: int
    next_url: str | None


def records_from_page(
    body: bytes | str,
    *,
    page_url: str,
    spec: SelectorSpec,
    source: SourceConfig,
    result: ParseResult,
    reference: date | None = None,
) -> PageItems:
    """Read the events of one page into ``result``; return counts and the pagination link.

    ``reference`` (the crawl date) places dates written without a year.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    page = Selector(text=text)
    tz = ZoneInfo(spec.timezone)
    nodes = select(page, spec.item)
    base = spec.base_url or page_url
    for index, node in enumerate(nodes, start=1):
        record = _record(
            node,
            index,
            base=base,
            spec=spec,
            source=source,
            tz=tz,
            result=result,
            reference=reference,
        )
        if record is not None:
            result.events.append(record)
    next_link = _value(page, spec.pagination) if spec.pagination else None
    return PageItems(len(nodes), urljoin(page_url, next_link) if next_link else None)


def _record(
    node: Selector,
    index: int,
    *,
    base: str,
    spec: SelectorSpec,
    source: SourceConfig,
    tz: ZoneInfo,
    result: ParseResult,
    reference: date | None,
) -> RawEvent | None:
    fields = spec.fields
    title = html_to_text(_value(node, fields["title"]) or "", links=False)
    link = _value(node, fields.get("url"))
    url = urljoin(base, link) if link else None
    where = f"item {index}" + (f" ({title})" if title else "")
    if not title:
        result.skipped += 1
        result.problems.append(ParseProblem(source.id, f"{where}: no title"))
        return None
    start_raw, end_raw = _value(node, fields.get("start")), _value(node, fields.get("end"))
    start = parse_timevalue(start_raw, tz) if start_raw else None
    end = parse_timevalue(end_raw, tz) if end_raw else None
    if start is None:
        words = " ".join(
            v for v in (_value(node, fields.get("date")), _value(node, fields.get("time"))) if v
        )
        when = (
            find_when(html_to_text(words, links=False), reference=reference, tz=tz)
            if words
            else None
        )
        if when is None:
            result.skipped += 1
            result.problems.append(
                ParseProblem(source.id, f"{where}: no date in {words!r}", uid=url)
            )
            return None
        start, end = when.start, when.end
    description = _value(node, fields.get("description"))
    uid = _value(node, fields.get("uid")) or url or f"{title}|{start.isoformat()}"
    location = _value(node, fields.get("location"))
    return RawEvent(
        source_id=source.id,
        uid=uid,
        title=title,
        start=start,
        end=end,
        description_html=description,
        url=url,
        location=html_to_text(location, links=False) if location else None,
    )


def layout_changed_reason(url: str, spec: SelectorSpec, matched: int) -> str:
    """Explain a selectors crawl that produced no events: most likely the site changed."""
    if matched == 0:
        return (
            f"selectors found no events: item selector {spec.item!r} matched nothing on {url} "
            "(has the page layout changed?)"
        )
    return (
        f"selectors found no events: {matched} items matched {spec.item!r} on {url} but none "
        "had a usable title and date (has the page layout changed?)"
    )


def parse(
    body: bytes, source: SourceConfig, *, now: datetime, window: Window | None = None
) -> ParseResult:
    """Read one page with the source's selectors (no pagination: that is the spider)."""
    del window
    spec = load_spec(source)
    result = ParseResult()
    url = source.resolved_url()
    found = records_from_page(
        body,
        page_url=url if "://" in url else f"file://{url}",
        spec=spec,
        source=source,
        result=result,
        reference=now.date(),
    )
    if not result.events:
        raise FeedError(layout_changed_reason(url, spec, found.matched))
    return result
