"""Conditional, cached serving of exports (iCal, feeds): ETag, 304, pre-gzipped bodies.

An export is validated before it is rendered: the ETag comes from the filters and the
store's change marker (aggregator.query.change_marker), so an unchanged calendar costs one
small query and a 304, and a changed one is rendered once and then served from memory.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from fastapi import Request, Response
from starlette.types import Scope

CACHE_CONTROL = "public, max-age=300"
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class CachedBody:
    """A rendered export and its gzip encoding (None when too small to be worth it)."""

    body: bytes
    gzipped: bytes | None


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
        """Store a rendered body (and its gzip encoding) under its ETag."""
        gzipped = gzip.compress(body, compresslevel=6) if len(body) >= GZIP_MIN_BYTES else None
        item = CachedBody(body, gzipped)
        size = len(body) + len(gzipped or b"")
        if size > self.max_bytes:
            return item
        with self._lock:
            if etag not in self._items:
                self._items[etag] = item
                self._size += size
            while self._size > self.max_bytes and self._items:
                _, old = self._items.popitem(last=False)
                self._size -= len(old.body) + len(old.gzipped or b"")
        return item


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


def serve_export(
    request: Request,
    *,
    cache: ExportCache,
    etag: str,
    media_type: str,
    render: Callable[[], bytes],
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """304 when the client has this version, else the (cached) body, gzipped if accepted."""
    gzip = accepts_gzip(request.headers.get("accept-encoding"))
    if etag_matches(request, etag):
        headers = export_headers(representation_etag(etag, gzipped=gzip), extra_headers)
        return Response(status_code=304, headers=headers)
    item = cache.get(etag) or cache.put(etag, render())
    if item.gzipped is not None and gzip:
        headers = export_headers(representation_etag(etag, gzipped=True), extra_headers)
        headers["Content-Encoding"] = "gzip"
        return Response(item.gzipped, media_type=media_type, headers=headers)
    return Response(item.body, media_type=media_type, headers=export_headers(etag, extra_headers))
