"""Politeness helpers: wait before a retry (backoff); a 304 needs no full delay after it."""

from __future__ import annotations

import asyncio
import time

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response


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


class RevalidatedDelay:
    """After a 304 the next request to the site waits ``REVALIDATED_DELAY_SHARE`` of the delay.

    The politeness delay (``DOWNLOAD_DELAY``, AutoThrottle) spaces requests that make a
    site build and send a page; a conditional request answered "not modified" costs it
    a lookup and a few headers. So after a 304 the downloader slot counts as if the delay
    had mostly passed: the next request follows after ``share × delay`` at most (a
    quarter: four revalidations a second at a 1 s delay), never sooner than the slot's
    concurrency allows; any other answer keeps the full delay. An extension (Scrapy's
    ``EXTENSIONS``), listening to ``response_downloaded``, which the downloader sends
    before it looks at the slot's queue again.
    """

    def __init__(self, crawler: Crawler, share: float) -> None:
        self.crawler = crawler
        self.share = share
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RevalidatedDelay:
        """Enabled while ``REVALIDATED_DELAY_SHARE`` is below 1 (the full delay)."""
        share = crawler.settings.getfloat("REVALIDATED_DELAY_SHARE", 1.0)
        if share >= 1:
            raise NotConfigured("REVALIDATED_DELAY_SHARE is 1: every answer costs the delay")
        return cls(crawler, max(0.0, share))

    def response_downloaded(self, response: Response, request: Request, **_: object) -> None:
        """Move the slot's last request back in time after a 304 (see the class)."""
        if response.status != 304 or self.crawler.engine is None:
            return
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(request.meta.get(downloader.DOWNLOAD_SLOT, ""))
        if slot is None or not slot.delay:
            return
        longest = slot.delay * (1 + max(0.0, float(getattr(slot, "jitter", 0.5))))
        slot.lastseen = min(slot.lastseen, time.monotonic() + self.share * slot.delay - longest)
        if slot.latercall is not None:  # a wait for the full delay: the queue is looked at again
            slot.latercall.cancel()
            slot.latercall = None
