"""Before a crawl: ask the site whether anything the last crawl read changed, without Scrapy.

A complete crawl leaves a *manifest* next to its HTTP cache: every answer it read from
the site (list pages, sitemaps, tribe pages, detail pages) with its validators (ETag,
Last-Modified), a hash of its body, the copy's ``Date`` and, for an answer the next
crawl takes from its cache without asking (a detail page whose list entry it read, a
robots.txt), how long it may. The next harvest asks the site first, from the harvest's
own fetcher: each answer that the crawl would revalidate is fetched conditionally (a 304,
or a 200 with the same body, is unchanged); an answer the crawl would take from its cache
counts as unchanged while its copy is young enough. When everything is unchanged, the
crawl would read the very same bytes: the source is unchanged, and no crawl (and no crawl
process) is needed. Anything else (a change, a failure, a missing or stale manifest)
means: crawl as usual.

The manifest holds for one job (the source's configuration, the crawl settings and the
window's first day) and one result (the records' fingerprint the harvest stored): a
partial crawl or a held listing, whose fingerprint is not stored, is crawled again.
Requests to the site are spaced as a crawl spaces them: the politeness delay after a
full answer, ``REVALIDATED_DELAY_SHARE`` of it after a 304.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # the crawl process imports this module too: it needs no HTTP client
    from crawlers.fetch import FetchResult, Validators

MANIFEST = "revalidate.json"


class Fetches(Protocol):
    """What the check needs of a fetcher (``crawlers.fetch.Fetcher`` is one)."""

    def fetch(self, location: str, validators: Validators | None = None) -> FetchResult:
        """Fetch a location, conditionally when validators are given."""
        ...


def body_hash(body: bytes) -> str:
    """A short hash of an answer's body (sites without validators are compared by it)."""
    return hashlib.sha256(body).hexdigest()[:32]


# the crawl settings a crawl's records depend on (politeness and time limits do not)
_RESULT_SETTINGS = (
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "DOWNLOAD_MAXSIZE",
    "DEPTH_LIMIT",
    "HTTPCACHE_ENABLED",
    "HTTPCACHE_DIR",
)


def job_key(job: dict[str, Any]) -> str:
    """What a crawl's records depend on besides the site's answers.

    The source, its start URL and the window's first day (``since``), and the settings of
    ``_RESULT_SETTINGS``; not the clock (``now`` moves with every harvest), nor the
    politeness delays and time limits.
    """
    stable = {name: job.get(name) for name in ("kind", "source", "url", "since")}
    stable["settings"] = {name: job["settings"].get(name) for name in _RESULT_SETTINGS}
    text = json.dumps(stable, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_path(cache_folder: str | None) -> Path | None:
    """Where a source's manifest is kept (its HTTP cache folder), None without a cache."""
    return Path(cache_folder) / MANIFEST if cache_folder else None


def save(
    path: Path | None, *, key: str, fingerprint: str, answers: Iterable[dict[str, Any]]
) -> None:
    """Keep the answers of a complete crawl for the next check (atomically)."""
    if path is None:
        return
    keep = ("url", "status", "etag", "last_modified", "date", "sha", "reuse", "role")
    data = {
        "key": key,
        "fingerprint": fingerprint,
        "answers": [{name: answer.get(name) for name in keep} for answer in answers],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def forget(path: Path | None) -> None:
    """Drop a manifest (a crawl that did not complete: the next harvest crawls)."""
    if path is not None:
        path.unlink(missing_ok=True)


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("answers"), list) else None


def _age(date: str | None, now: float) -> float | None:
    if not date:
        return None
    try:
        return now - parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return None


def unchanged(
    path: Path | None,
    *,
    key: str,
    fingerprint: str | None,
    fetcher: Fetches,
    delay: float,
    revalidated_share: float,
    detail_max_age: float,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Whether the site answers as at the last complete crawl (see the module); never raises.

    ``fingerprint`` is the one the harvest stored for the source: the manifest holds
    only for the crawl that produced it. A detail page counts as cached at most
    ``detail_max_age`` seconds (the crawl's setting now, whatever it was then).
    """
    from crawlers.fetch import FetchError, Validators

    if path is None or fingerprint is None:
        return False
    data = _load(path)
    if data is None or data.get("key") != key or data.get("fingerprint") != fingerprint:
        return False
    answers = data["answers"]
    if not answers:
        return False
    now = time.time()
    ask = []
    for answer in answers:
        reuse, age = answer.get("reuse"), _age(answer.get("date"), now)
        if reuse and answer.get("role") == "detail":
            reuse = min(float(reuse), detail_max_age)
        if reuse and answer.get("status") == 200 and age is not None and age < float(reuse):
            continue  # the crawl takes it from its cache without asking
        ask.append(answer)
    wait = 0.0
    for answer in ask:
        if wait:
            sleep(wait)
        validators = Validators(answer.get("etag"), answer.get("last_modified"))
        try:
            got = fetcher.fetch(str(answer["url"]), validators)
        except (FetchError, OSError, ValueError, KeyError):
            return False
        if got.not_modified:
            wait = delay * revalidated_share
            continue
        if got.status != answer.get("status") or body_hash(got.body) != answer.get("sha"):
            return False
        wait = delay
    return True
