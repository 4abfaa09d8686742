"""What a crawl may take from its HTTP cache without asking the site, and what it must revalidate.

A harvest wants every change and no needless download, so every cached answer is
revalidated with a conditional request (``If-None-Match`` / ``If-Modified-Since``), also
when the site sent ``Cache-Control: no-cache`` (Scrapy's RFC 2616 policy then downloads
again without asking). Two kinds of request are answered from the cache without any
request to the site, while the cached copy was validated less than a given age ago:

* a detail page whose entry on its list page is unchanged since the last crawl
  (the spider marks the request with ``meta[REUSE_MAX_AGE]``; see :class:`ListEntries`);
* ``robots.txt``, for a day (as the large search engines do), also a missing one (4xx).

Each 304 restamps the cached copy (Scrapy keeps the answer's ``Date``), so "validated
ago" is the age of the copy's ``Date``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached

REUSE_MAX_AGE = "reuse_max_age"  # request meta: seconds a validated copy may be reused
ROBOTS_MAX_AGE = 24 * 3600.0
CACHE_KEEP = 30 * 24 * 3600.0  # a cached answer no crawl asked for this long is removed


def copy_age(response: Response, now: float | None = None) -> float | None:
    """Seconds since a cached copy was last fetched or revalidated (its ``Date``)."""
    from email.utils import parsedate_to_datetime

    value = response.headers.get(b"Date")
    if not value:
        return None
    try:
        stamp = parsedate_to_datetime(value.decode("latin-1")).timestamp()
    except (TypeError, ValueError):
        return None
    return (time.time() if now is None else now) - stamp


class RevalidatePolicy(RFC2616Policy):
    """Revalidate every cached answer, except unchanged detail pages and a day-old robots.txt."""

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        """Whether the cached copy may be used without asking the site (else: conditional GET)."""
        max_age = request.meta.get(REUSE_MAX_AGE)
        reusable = cachedresponse.status == 200
        if max_age is None and urlparse_cached(request).path == "/robots.txt":
            max_age = ROBOTS_MAX_AGE
            reusable = 200 <= cachedresponse.status < 500  # "no robots.txt" holds a day too
        if max_age and reusable:
            age = copy_age(cachedresponse)
            if age is not None and age < float(max_age):
                return True
        self._set_conditional_validators(request, cachedresponse)
        return False


def entry_fingerprint(text: str) -> str:
    """A short hash of what a list page says about one entry."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class ListEntries:
    """The list entries of the last crawl: detail URL -> fingerprint of its list entry.

    Only entries whose detail page was read with events are remembered, so a page that
    failed is asked for again. Kept as a JSON file in the source's cache folder.
    """

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.previous: dict[str, str] = self._load()
        self.current: dict[str, str] = {}

    def _load(self) -> dict[str, str]:
        if self.path is None:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def unchanged(self, url: str, fingerprint: str) -> bool:
        """Whether the list says the same about ``url`` as last time."""
        return self.previous.get(url) == fingerprint

    def read(self, url: str, fingerprint: str) -> None:
        """Remember that the detail page of this entry was read."""
        self.current[url] = fingerprint

    def save(self) -> None:
        """Write this crawl's entries (atomically: a killed crawl leaves the old file)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(self.current, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)


def prune(folder: str | None, older_than: float = CACHE_KEEP) -> int:
    """Remove the cached answers no crawl fetched or revalidated for ``older_than`` seconds.

    Scrapy's filesystem cache never forgets (a tribe listing's address changes with the
    window's first day); this keeps a source's folder to what its crawls still ask for.
    Returns how many answers were removed.
    """
    if not folder:
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for meta in Path(folder).glob("*/*/*/pickled_meta"):  # <spider>/<fp[:2]>/<fp>/
        try:
            stale = meta.stat().st_mtime < cutoff
        except OSError:
            continue
        if stale:
            shutil.rmtree(meta.parent, ignore_errors=True)
            removed += 1
    return removed
