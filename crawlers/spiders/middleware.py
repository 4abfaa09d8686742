"""Downloader middleware: wait before a retry, longer after each failed attempt (backoff)."""

from __future__ import annotations

import asyncio

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class BackoffMiddleware:
    """Delay a retried request by ``RETRY_BACKOFF_BASE * 2**(attempt-1)`` seconds (capped).

    Scrapy's RetryMiddleware re-schedules a failed request at once; a struggling server
    (503, 429, timeouts) is better served by waiting. Set RETRY_BACKOFF_BASE to 0 to disable.
    """

    def __init__(self, base: float, maximum: float) -> None:
        self.base = base
        self.maximum = maximum

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        if base <= 0:
            raise NotConfigured("RETRY_BACKOFF_BASE is 0")
        return cls(base, crawler.settings.getfloat("RETRY_BACKOFF_MAX", 30.0))

    async def process_request(self, request: Request) -> None:
        attempt = int(request.meta.get("retry_times", 0))
        if attempt:
            await asyncio.sleep(min(self.base * 2 ** (attempt - 1), self.maximum))
