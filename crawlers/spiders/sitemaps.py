"""Sitemaps a site names in its robots.txt: when each page last changed (``lastmod``).

A list+detail site whose sitemap gives a lastmod per detail page tells a re-crawl which
detail pages changed without asking for each: the schema.org spider folds a page's
lastmod into the fingerprint of its list entry (:mod:`crawlers.spiders.events`), so a
page whose lastmod moved is asked for again, and one whose lastmod stayed comes from the
cache. Pure functions over bodies; the spider does the requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

MAX_SITEMAPS = 4  # sitemap documents one crawl reads at most (an index and its parts)
_GZIP = b"\x1f\x8b\x08"


def page_key(url: str) -> str:
    """What a sitemap entry and a detail link have in common: the path and query.

    A sitemap names a site's public addresses, which a crawl through a proxy or of a
    copy reaches on another host.
    """
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def sitemaps_of(robots: bytes, robots_url: str) -> list[str]:
    """The sitemap URLs a robots.txt names (``Sitemap:`` lines), absolute."""
    return list(sitemap_urls_from_robots(robots, base_url=robots_url))


@dataclass(slots=True)
class SitemapData:
    """What a sitemap document says: lastmod by page key, and (an index) further sitemaps."""

    lastmods: dict[str, str] = field(default_factory=dict)
    sitemaps: list[str] = field(default_factory=list)


def read_sitemap(body: bytes, *, max_size: int = 0) -> SitemapData:
    """Read a sitemap (``urlset``) or sitemap index, gzipped or not; unreadable: nothing."""
    data = SitemapData()
    try:
        if body[:3] == _GZIP:
            body = gunzip(body, max_size=max_size)
        sitemap = Sitemap(body)
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                data.sitemaps.append(loc)
            elif entry.get("lastmod"):
                data.lastmods[page_key(loc)] = str(entry["lastmod"])
    except (OSError, ValueError, SyntaxError, StopIteration):  # not XML, or cut off
        pass
    return data
