"""Answer a calendar app's revalidation of an export served moments ago, before routing.

Calendar apps poll their subscriptions, and nearly every poll is an unchanged calendar.
The export routes already answer such a poll with a 304 without a database read while
the store version they last read is recent (``EXPORT_VERSION_MAX_AGE``); most of what is
left is the framework parsing two dozen query parameters into filters. This middleware
remembers which export (``export_key``) each request address asked for, so a repeat of
that address with a matching If-None-Match is answered right away, by exactly the rule
of ``routes_calendar.recent_not_modified``. Anything else goes on to the routes.
"""

from __future__ import annotations

from datetime import datetime

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.localtime import LOCAL_TZ
from api.export_cache import (
    ExportCache,
    accepts_gzip,
    if_none_match_names,
    not_modified,
    request_identity,
)


class RevalidationShortcut:
    """Pure ASGI middleware: 304 for a recent export's revalidation, else pass through."""

    def __init__(self, app: ASGIApp, *, cache: ExportCache, max_age: float) -> None:
        self.app = app
        self.cache = cache
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the export cache when possible, otherwise call the app."""
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and self.max_age > 0:
            response = self._not_modified(scope)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _not_modified(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        if_none_match = headers.get("if-none-match")
        if not if_none_match:
            return None
        key = self.cache.key_for_request(request_identity(scope, datetime.now(LOCAL_TZ).date()))
        etag = self.cache.recent_etag(key, self.max_age) if key is not None else None
        if etag is None or not if_none_match_names(if_none_match, etag):
            return None
        return not_modified(etag, gzipped=accepts_gzip(headers.get("accept-encoding")))
