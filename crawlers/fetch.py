"""The one shared fetcher: paths, file://, http(s):// and webcal:// with bounded size and time.

Sends conditional requests (ETag / If-Modified-Since) when it is given validators, accepts
gzip, follows a bounded number of redirects, and never reads more than ``max_bytes`` of
decoded body (the content codings are undone here, piece by piece, so a compression bomb
stops at the limit; see :mod:`crawlers.decoding`). Given ``guarded=True`` it fetches
through the address guard (:mod:`crawlers.guarded`), for URLs the operator did not write.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from crawlers.decoding import DecodedTooLarge, UnsupportedEncoding, decode_stream
from crawlers.guarded import AddressGuard, GuardedTransport
from crawlers.records import FeedError


class FetchError(Exception):
    """The source could not be fetched (unreachable, HTTP error, too large, too slow).

    ``retry_after`` is the wait in seconds a 429 or 503 answer asked for (its
    ``Retry-After`` header, RFC 9110 section 10.2.3), for the scheduler to honour.
    """

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date.

    Returns None when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else time.time()
    return max(0.0, when.timestamp() - current)


@dataclass(slots=True)
class Validators:
    """HTTP cache validators remembered from the previous successful fetch."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(slots=True)
class FetchResult:
    """A fetched body (or a 304), with what the server said about it."""

    url: str
    body: bytes
    status: int | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None

    @property
    def size(self) -> int:
        """Number of body bytes received."""
        return len(self.body)


_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")


def is_remote(location: str) -> bool:
    """Whether a source location is fetched over HTTP (http, https or webcal)."""
    match = _SCHEME.match(location)
    return match is not None and match.group(1).lower() in {"http", "https", "webcal"}


def http_url(location: str, webcal_scheme: str = "https") -> str:
    """Turn ``webcal://`` into ``https://`` (the calendar-subscription spelling of HTTP).

    ``webcal`` is no registered scheme; calendar apps fetch it over HTTPS. Tests against a
    loopback server without TLS pass ``webcal_scheme="http"``.
    """
    if location.lower().startswith("webcal://"):
        return f"{webcal_scheme}://" + location[len("webcal://") :]
    return location


def local_path(location: str) -> Path:
    """Return the filesystem path of a ``file://`` URL or a plain path."""
    if location.lower().startswith("file://"):
        return Path(unquote(urlparse(location).path))
    return Path(location)


class Fetcher:
    """Fetch source bodies with limits; one instance can be shared by a harvest run."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float = 30.0,
        max_bytes: int = 20 * 1024 * 1024,
        max_redirects: int = 5,
        transport: httpx.BaseTransport | None = None,
        webcal_scheme: str = "https",
        guard: AddressGuard | None = None,
        allow_private: bool = False,
    ) -> None:
        """With a ``guard``, fetch only http(s) addresses it allows (checked and pinned);
        ``allow_private`` is for :meth:`guarded_fetcher` (SUBMIT_ALLOW_PRIVATE_FEEDS, tests)."""
        self.user_agent = user_agent
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        # httpx's timeout bounds each connect/read; this bounds the whole download too, so a
        # server trickling bytes cannot hold a harvest for longer than ``timeout``.
        self.timeout = timeout
        self.webcal_scheme = webcal_scheme
        self.guarded = guard is not None
        self.allow_private = allow_private
        self._guarded_sibling: Fetcher | None = None
        self._sibling_lock = threading.Lock()  # harvest threads share this fetcher
        if guard is not None:
            transport = GuardedTransport(guard)
        self._client = httpx.Client(
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=True,
            max_redirects=max_redirects,
            transport=transport,
        )

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()
        if self._guarded_sibling is not None:
            self._guarded_sibling.close()

    def guarded_fetcher(self) -> Fetcher:
        """A fetcher with the same limits behind the address guard (kept for reuse).

        For sources whose URL the operator did not write (approved feed proposals);
        ``allow_private`` given to this fetcher (tests only) carries over.
        """
        if self.guarded:
            return self
        with self._sibling_lock:
            return self._sibling()

    def _sibling(self) -> Fetcher:
        if self._guarded_sibling is None:
            self._guarded_sibling = Fetcher(
                user_agent=self.user_agent,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                max_redirects=self.max_redirects,
                webcal_scheme=self.webcal_scheme,
                guard=AddressGuard(allow_private=self.allow_private),
            )
        return self._guarded_sibling

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, location: str, validators: Validators | None = None) -> FetchResult:
        """Fetch a location; a 304 gives ``not_modified=True`` and an empty body."""
        if is_remote(location):
            return self._fetch_http(http_url(location, self.webcal_scheme), validators)
        if self.guarded:
            raise FetchError(f"only http(s) addresses are fetched for this source: {location}")
        return self._read_file(location)

    def _read_file(self, location: str) -> FetchResult:
        path = local_path(location)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise FeedError(
                    f"file is {size} bytes, over the limit of {self.max_bytes} bytes"
                    " (HARVEST_MAX_BYTES)"
                )
            return FetchResult(url=str(path), body=path.read_bytes())
        except FileNotFoundError as exc:
            raise FetchError(f"file not found: {path}") from exc
        except IsADirectoryError as exc:
            raise FetchError(f"is a directory, not a file: {path}") from exc
        except PermissionError as exc:
            raise FetchError(f"permission denied: {path}") from exc

    def _fetch_http(self, url: str, validators: Validators | None) -> FetchResult:
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        deadline = time.monotonic() + self.timeout
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return FetchResult(
                        url=str(response.url),
                        body=b"",
                        status=304,
                        not_modified=True,
                        etag=response.headers.get("etag")
                        or (validators.etag if validators else None),
                        last_modified=response.headers.get("last-modified")
                        or (validators.last_modified if validators else None),
                    )
                if response.status_code >= 400:
                    wait = (
                        parse_retry_after(response.headers.get("retry-after"))
                        if response.status_code in (429, 503)
                        else None
                    )
                    raise FetchError(
                        f"HTTP {response.status_code} {response.reason_phrase} from {url}"
                        + (f" (Retry-After: {wait:g} s)" if wait is not None else ""),
                        status=response.status_code,
                        retry_after=wait,
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FeedError(
                        f"response is {declared} bytes, over the limit of {self.max_bytes} bytes"
                        " (HARVEST_MAX_BYTES)"
                    )
                chunks: list[bytes] = []
                decoded = decode_stream(
                    response.iter_raw(),
                    response.headers.get("content-encoding"),
                    limit=self.max_bytes,
                )
                for chunk in decoded:
                    if time.monotonic() > deadline:
                        raise FetchError(f"timed out fetching {url} (over {self.timeout:g}s)")
                    chunks.append(chunk)
                return FetchResult(
                    url=str(response.url),
                    body=b"".join(chunks),
                    status=response.status_code,
                    etag=response.headers.get("etag"),
                    last_modified=response.headers.get("last-modified"),
                    content_type=response.headers.get("content-type"),
                )
        except httpx.TooManyRedirects as exc:
            raise FetchError(f"too many redirects from {url}") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out fetching {url}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL {url}: {exc}") from exc
        except httpx.TransportError as exc:
            raise FetchError(f"cannot reach {url}: {exc}") from exc
        except DecodedTooLarge as exc:
            raise FeedError(
                f"response from {url} exceeds the limit of {self.max_bytes} bytes"
                " (HARVEST_MAX_BYTES), counted after decoding"
            ) from exc
        except (httpx.DecodingError, UnsupportedEncoding) as exc:
            raise FeedError(f"response from {url} cannot be decoded: {exc}") from exc
