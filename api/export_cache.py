"""Conditional, cached serving of exports (iCal, feeds): every ETag and 304 rule is here.

An export is validated before it is rendered: the ETag comes from what the output
depends on apart from the store (``export_key``: renderer version, variant, filters) and
the store's change marker (``StoreSnapshot.marker``), so an unchanged calendar costs one
small query and a 304, and a changed one is rendered once and then served from memory.

There are three ways to a 304, all by the rules below:
- ``RevalidationShortcut`` answers a repeat of a request address before routing, while
  the store version read last is recent (``EXPORT_VERSION_MAX_AGE``);
- ``Exports.recent_not_modified`` answers on the event loop, by the same rule, once the
  filters are parsed;
- ``Exports.serve`` reads the store version once (one snapshot), validates, and then
  answers 304 or serves the (cached, pre-gzipped) body.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime

from fastapi import Request, Response
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from aggregator.config import Regions
from aggregator.localtime import LOCAL_TZ
from aggregator.query import EventFilters, StoreSnapshot
from feeds.ical_export import VeventCache

CACHE_CONTROL = "public, max-age=300"
GZIP_MIN_BYTES = 1024
# Bump when a renderer's output changes, so that caches and clients see new ETags.
RENDER_VERSION = "3"


class CachedBody:
    """A rendered export and, once a client has asked for it, its gzip encoding.

    Compressed on first demand, not when rendered: the gzip of a 10k-event calendar cost
    ~130 ms of CPU, which an identity request (the first after a change) need not pay.
    """

    __slots__ = ("_gzipped", "_lock", "body")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self._gzipped: bytes | None = None
        self._lock = threading.Lock()

    @property
    def compressible(self) -> bool:
        """True when the body is large enough to be worth a gzip encoding."""
        return len(self.body) >= GZIP_MIN_BYTES

    def gzipped(self) -> bytes:
        """The gzip encoding (made once, whichever request asks first)."""
        with self._lock:
            if self._gzipped is None:
                self._gzipped = gzip.compress(self.body, compresslevel=6)
            return self._gzipped

    @property
    def size(self) -> int:
        """The bytes held: the body and its gzip encoding once made."""
        return len(self.body) + len(self._gzipped or b"")


class ExportCache:
    """A thread-safe LRU of rendered exports by ETag (bounded in bytes), and the ETag last
    computed for each export at each store version (so an unchanged store is validated
    with one primary-key read)."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024, max_validators: int = 4096) -> None:
        self.max_bytes = max_bytes
        self.max_validators = max_validators
        self._items: OrderedDict[str, CachedBody] = OrderedDict()
        self._validators: OrderedDict[str, tuple[int, str]] = OrderedDict()
        self._requests: OrderedDict[tuple[object, ...], str] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._version: tuple[int, float] | None = None

    def saw_version(self, version: int, *, read_at: float) -> None:
        """Note the store version read at ``read_at`` (``time.monotonic()`` before the read)."""
        with self._lock:
            if self._version is None or read_at > self._version[1]:
                self._version = (version, read_at)

    def recent_version(self, max_age: float) -> int | None:
        """The store version read at most ``max_age`` seconds ago, if any."""
        with self._lock:
            known = self._version
        if known is None or time.monotonic() - known[1] > max_age:
            return None
        return known[0]

    def validator(self, key: str, version: int) -> str | None:
        """The ETag computed for this export at this store version, if any."""
        with self._lock:
            known = self._validators.get(key)
            if known is None or known[0] != version:
                return None
            self._validators.move_to_end(key)
            return known[1]

    def remember(self, key: str, version: int, etag: str) -> None:
        """Keep the ETag of an export at a store version."""
        with self._lock:
            self._validators[key] = (version, etag)
            self._validators.move_to_end(key)
            while len(self._validators) > self.max_validators:
                self._validators.popitem(last=False)

    def recent_etag(self, key: str, max_age: float) -> str | None:
        """The ETag of an export at the store version read at most ``max_age`` seconds ago,
        if it was computed then: what a 304 without a database read rests on."""
        version = self.recent_version(max_age) if max_age > 0 else None
        return None if version is None else self.validator(key, version)

    def note_request(self, identity: tuple[object, ...], key: str) -> None:
        """Remember which export a request (``request_identity``) asked for."""
        with self._lock:
            self._requests[identity] = key
            self._requests.move_to_end(identity)
            while len(self._requests) > self.max_validators:
                self._requests.popitem(last=False)

    def key_for_request(self, identity: tuple[object, ...]) -> str | None:
        """The export key noted for a request identity, if any."""
        with self._lock:
            return self._requests.get(identity)

    def get(self, etag: str) -> CachedBody | None:
        """The cached body for an ETag, or None."""
        with self._lock:
            item = self._items.get(etag)
            if item is not None:
                self._items.move_to_end(etag)
            return item

    def put(self, etag: str, body: bytes) -> CachedBody:
        """Store a rendered body under its ETag (its gzip encoding comes on demand:
        :meth:`gzipped`)."""
        item = CachedBody(body)
        if item.size > self.max_bytes:
            return item
        with self._lock:
            if etag not in self._items:
                self._items[etag] = item
                self._size += item.size
            self._evict()
        return item

    def gzipped(self, etag: str, item: CachedBody) -> bytes:
        """The gzip encoding of the body :meth:`put` under ``etag``, counted in the bound
        once made."""
        before = item.size
        encoded = item.gzipped()
        with self._lock:
            if self._items.get(etag) is item:
                self._size += item.size - before
                self._evict()
        return encoded

    def _evict(self) -> None:
        while self._size > self.max_bytes and self._items:
            _, old = self._items.popitem(last=False)
            self._size -= old.size


def make_etag(*parts: object) -> str:
    """A strong ETag from everything the body depends on."""
    key = "|".join(repr(p) for p in parts)
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def request_identity(scope: Scope, day: date) -> tuple[object, ...]:
    """Everything of a request an export depends on apart from the store: its address
    (path, query, host, scheme, mount point; links in an export use the address) and the
    local day (a subscription's window moves at midnight)."""
    host = next((v for k, v in scope["headers"] if k == b"host"), b"")
    return (
        scope["path"],
        scope["query_string"],
        host,
        scope["scheme"],
        scope.get("root_path", ""),
        day,
    )


GZIP_TAG = "-gzip"


def representation_etag(etag: str, *, gzipped: bool) -> str:
    """The ETag of one representation: the gzipped body is another byte sequence than the
    identity one, so it has its own strong ETag (RFC 9110 8.8.3), ``"...-gzip"``."""
    return f'{etag[:-1]}{GZIP_TAG}"' if gzipped else etag


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when the client accepts a gzipped body."""
    return "gzip" in (accept_encoding or "")


def if_none_match_names(header: str | None, etag: str) -> bool:
    """True when an If-None-Match value names this ETag, in either representation (or
    ``*``); weak ones compare too."""
    if not header:
        return False
    tags = {t.strip().removeprefix("W/").replace(f'{GZIP_TAG}"', '"') for t in header.split(",")}
    return etag in tags or "*" in tags


def etag_matches(request: Request, etag: str) -> bool:
    """True when the request's If-None-Match names this ETag (or ``*``)."""
    return if_none_match_names(request.headers.get("if-none-match"), etag)


def export_headers(etag: str, extra_headers: dict[str, str] | None = None) -> dict[str, str]:
    """The headers of an export response and of its 304."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    headers.update(extra_headers or {})
    return headers


def not_modified(etag: str, *, gzipped: bool = False) -> Response:
    """The 304 of an export (its headers, no body; the ETag of the representation the
    client would get)."""
    return Response(
        status_code=304, headers=export_headers(representation_etag(etag, gzipped=gzipped))
    )


def export_key(filters: EventFilters, variant: tuple[object, ...]) -> str:
    """What an export's ETag depends on apart from the store: renderer, variant, filters."""
    return make_etag(RENDER_VERSION, variant, sorted(asdict(filters).items()))


class Exports:
    """The conditional, cached serving of exports for one app: its engine, regions, cache
    and how long a store version read stays good for a 304 without a database read."""

    def __init__(
        self, *, engine: Engine, regions: Regions, max_age: float, cache: ExportCache | None = None
    ) -> None:
        self.engine = engine
        self.regions = regions
        self.max_age = max_age
        self.cache = cache or ExportCache()
        # rendered VEVENTs by event version, shared by every calendar export of this app
        self.vevents = VeventCache()

    def recent_not_modified(self, request: Request, key: str) -> Response | None:
        """A 304 without a database read, when the store version was read moments ago
        (``max_age``) and the client holds the ETag computed at that version.

        Runs on the event loop: no threadpool hop, no session.
        """
        if "if-none-match" not in request.headers:
            return None
        etag = self.cache.recent_etag(key, self.max_age)
        if etag is None or not etag_matches(request, etag):
            return None
        return not_modified(etag, gzipped=accepts_gzip(request.headers.get("accept-encoding")))

    def etag(
        self,
        snapshot: StoreSnapshot,
        *,
        key: str,
        filters: EventFilters,
        identity: tuple[object, ...] | None = None,
    ) -> str:
        """The ETag of an export, validated before anything is rendered.

        At an unchanged store version the ETag computed last time is reused (the one
        version read of the snapshot); otherwise the change marker of the matching events
        is recomputed. ``identity`` (``request_identity``) lets ``RevalidationShortcut``
        answer the next poll of the same address before routing.
        """
        if identity is not None:
            self.cache.note_request(identity, key)
        read_at = time.monotonic()
        version = snapshot.version
        self.cache.saw_version(version, read_at=read_at)
        etag = self.cache.validator(key, version)
        if etag is None:
            etag = make_etag(key, snapshot.marker(filters, self.regions))
            self.cache.remember(key, version, etag)
        return etag

    def serve(
        self,
        request: Request,
        *,
        key: str,
        filters: EventFilters,
        media_type: str,
        render: Callable[[StoreSnapshot], bytes],
        day: date,
    ) -> Response:
        """Validate on one store snapshot; 304 when the client has this version, else the
        (cached) body of ``render(snapshot)``, gzipped if accepted."""
        with Session(self.engine) as session:
            snapshot = StoreSnapshot(session)
            etag = self.etag(
                snapshot, key=key, filters=filters, identity=request_identity(request.scope, day)
            )
            gzip = accepts_gzip(request.headers.get("accept-encoding"))
            if etag_matches(request, etag):
                return not_modified(etag, gzipped=gzip)
            item = self.cache.get(etag) or self.cache.put(etag, render(snapshot))
        if item.compressible and gzip:
            headers = export_headers(representation_etag(etag, gzipped=True))
            headers["Content-Encoding"] = "gzip"
            return Response(self.cache.gzipped(etag, item), media_type=media_type, headers=headers)
        return Response(item.body, media_type=media_type, headers=export_headers(etag))


class RevalidationShortcut:
    """Answer a calendar app's revalidation of an export served moments ago, before routing.

    Calendar apps poll their subscriptions, and nearly every poll is an unchanged
    calendar. The export routes answer such a poll with a 304 without a database read
    while the store version they last read is recent; most of what is left is the
    framework parsing two dozen query parameters into filters. This pure ASGI middleware
    uses the export key ``Exports.etag`` noted for each request address, so a repeat of
    that address with a matching If-None-Match is answered right away, by exactly the
    rule of ``Exports.recent_not_modified``. Anything else goes on to the routes.
    """

    def __init__(self, app: ASGIApp, *, exports: Exports) -> None:
        self.app = app
        self.exports = exports

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the export cache when possible, otherwise call the app."""
        if (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and self.exports.max_age > 0
        ):
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
        cache = self.exports.cache
        key = cache.key_for_request(request_identity(scope, datetime.now(LOCAL_TZ).date()))
        etag = cache.recent_etag(key, self.exports.max_age) if key is not None else None
        if etag is None or not if_none_match_names(if_none_match, etag):
            return None
        return not_modified(etag, gzipped=accepts_gzip(headers.get("accept-encoding")))
