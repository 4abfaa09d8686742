"""Harvest: fetch each source, read it, run the pipeline and store the result.

Every source is harvested in its own transaction and recorded as a HarvestRun. A source
that cannot be fetched or read fails alone and leaves what was stored before untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from aggregator.config import AppConfig
from aggregator.db import session_scope
from aggregator.models import HarvestRun, Source
from aggregator.pipeline import Stage, build_stages, run_pipeline
from aggregator.store import store_drafts, sync_sources
from crawlers.crawl import CrawlOptions, crawl_source
from crawlers.fetch import Fetcher, FetchError, FetchResult, Validators
from crawlers.records import FeedError, ParseResult, Window
from crawlers.registry import CRAWL_KINDS, UnsupportedKind, parse_document
from crawlers.source import SourceConfig

log = logging.getLogger(__name__)

# Lines that change on every export without the events changing (RFC 5545 DTSTAMP etc.).
_VOLATILE = re.compile(
    rb"^(DTSTAMP|LAST-SYNC|X-WR-RELCALID|X-PUBLISHED-TTL-STAMP)[;:][^\n]*\n?",
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(slots=True)
class HarvestOutcome:
    """The result of harvesting one source, for progress lines and the summary table."""

    source_id: str
    outcome: str  # success | unchanged | failed
    seen: int = 0
    new: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    problems: int = 0
    error: str | None = None
    http_status: int | None = None
    bytes: int | None = None


def content_fingerprint(body: bytes) -> str:
    """Hash a body without its volatile lines, so a DTSTAMP-only change counts as unchanged."""
    normalised = body.replace(b"\r\n", b"\n")
    return hashlib.sha256(_VOLATILE.sub(b"", normalised)).hexdigest()


def window_fingerprint(body: bytes, window: Window) -> str:
    """The fingerprint stored for a processed body: the window's first day plus the content hash.

    Recurring series are expanded inside the window, so the same bytes read on a later day
    can give other occurrences. The day is part of what is compared: an unchanged body is
    skipped only within the same window day, and on a new day the source is fetched without
    validators and read again. Fits the 64 characters of ``Source.content_fingerprint``.
    """
    return f"{_window_day(window)}:{content_fingerprint(body)[:55]}"


def _window_day(window: Window) -> str:
    return window.start.strftime("%Y%m%d")


def _same_window_day(fingerprint: str | None, window: Window) -> bool:
    return bool(fingerprint) and fingerprint.startswith(_window_day(window) + ":")  # type: ignore[union-attr]


def _finish_run(
    engine: Engine,
    run_id: int,
    outcome: HarvestOutcome,
    *,
    now: datetime,
    fetched: FetchResult | None = None,
) -> None:
    """Record the run's end and the source's health in a transaction of its own.

    Health timestamps use the wall clock; ``now`` (which --now may fix) only dates events.
    """
    del now
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        run = session.get(HarvestRun, run_id)
        source = session.get(Source, outcome.source_id)
        assert run is not None and source is not None
        run.finished_at = datetime.now(UTC)
        run.outcome = outcome.outcome
        run.http_status = outcome.http_status
        run.bytes = outcome.bytes
        run.records_seen, run.records_new = outcome.seen, outcome.new
        run.records_updated, run.records_removed = outcome.updated, outcome.removed
        run.records_skipped = outcome.skipped
        run.error = outcome.error
        source.last_attempt_at = now
        if outcome.outcome == "failed":
            source.last_error = outcome.error
            source.last_error_at = now
        else:
            source.last_success_at = now
            source.last_error = None
        if fetched is not None and outcome.outcome != "failed":
            source.etag = fetched.etag or source.etag
            source.http_last_modified = fetched.last_modified or source.http_last_modified
        session.add(run)
        session.add(source)


def _crawl(
    source: SourceConfig,
    now: datetime,
    window: Window,
    options: CrawlOptions | None,
    outcome: HarvestOutcome,
) -> tuple[ParseResult, str]:
    """Crawl a source (child process); return its records and their fingerprint."""
    from agenda.settings import get_settings

    options = options or CrawlOptions.from_settings(get_settings())
    parsed, stats = crawl_source(source, now=now, window=window, options=options)
    outcome.http_status, outcome.bytes = stats.http_status, stats.bytes
    records = sorted(json.dumps(e.to_dict(), sort_keys=True, default=str) for e in parsed.events)
    return parsed, hashlib.sha256("\n".join(records).encode("utf-8")).hexdigest()


def _fetcher_for(source: SourceConfig, fetcher: Fetcher) -> Fetcher:
    """The shared fetcher, or its address-guarded sibling for a URL the operator did not write."""
    return fetcher.guarded_fetcher() if source.guarded else fetcher


def harvest_source(
    *,
    engine: Engine,
    source: SourceConfig,
    fetcher: Fetcher,
    stages: list[Stage],
    now: datetime,
    window: Window,
    created_in_run: set[str] | None = None,
    crawl_options: CrawlOptions | None = None,
) -> HarvestOutcome:
    """Harvest one source end to end; never raises for a bad source, reports it instead.

    Crawled kinds (jsonld, tribe, selectors) run a Scrapy crawl in a child process instead
    of one fetch; their fingerprint is taken over the records they produced. A guarded
    source (an approved feed proposal) is fetched through the address guard, one document.
    """
    with session_scope(engine) as session:
        run = HarvestRun(source_id=source.id, started_at=datetime.now(UTC))
        session.add(run)
        session.flush()
        run_id = run.id
        state = session.get(Source, source.id)
        previous_fingerprint = state.content_fingerprint if state else None
        # validators only when the last body was read for this same window day (see above)
        validators = (
            Validators(state.etag, state.http_last_modified)
            if state and _same_window_day(previous_fingerprint, window)
            else Validators()
        )
    assert run_id is not None
    outcome = HarvestOutcome(source.id, "failed")
    fetched: FetchResult | None = None
    try:
        if source.kind in CRAWL_KINDS and not source.guarded:
            parsed, fingerprint = _crawl(source, now, window, crawl_options, outcome)
            if fingerprint == previous_fingerprint:
                outcome.outcome = "unchanged"
                return outcome
        else:
            fetched = _fetcher_for(source, fetcher).fetch(source.resolved_url(), validators)
            outcome.http_status, outcome.bytes = fetched.status, fetched.size
            if fetched.not_modified:
                outcome.outcome = "unchanged"
                return outcome
            fingerprint = window_fingerprint(fetched.body, window)
            if fingerprint == previous_fingerprint:
                outcome.outcome = "unchanged"
                return outcome
            parsed = parse_document(fetched.body, source, now=now, window=window)
            if parsed.truncated:
                # Storing the part would mark every event after the break as removed.
                raise FeedError(
                    f"response is truncated ({len(parsed.events)} events readable before the"
                    " break); nothing stored"
                )
        outcome.problems = len(parsed.problems)
        for problem in parsed.problems:
            log.warning("%s", problem)
        for warning in parsed.warnings:
            log.info("%s", warning)
        drafts = []
        for processed in run_pipeline(parsed.events, source, stages):
            if processed.dropped:
                outcome.skipped += 1
            else:
                drafts.append(processed.draft)
        outcome.skipped += parsed.skipped
        with session_scope(engine) as session:
            counts = store_drafts(
                session=session,
                source=source,
                drafts=drafts,
                now=now,
                window=window,
                created_in_run=created_in_run,
            )
            state = session.get(Source, source.id)
            assert state is not None
            state.content_fingerprint = fingerprint
            session.add(state)
        outcome.outcome = "success"
        outcome.seen, outcome.new = counts.seen, counts.new
        outcome.updated, outcome.removed = counts.updated, counts.removed
    except (FetchError, FeedError, UnsupportedKind) as exc:
        outcome.outcome = "failed"
        outcome.error = str(exc)
        if isinstance(exc, FetchError):
            outcome.http_status = exc.status
    except Exception as exc:  # a bug in one source's path must not stop the others
        log.exception("unexpected error harvesting %s", source.id)
        outcome.outcome = "failed"
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    finally:
        _finish_run(engine, run_id, outcome, now=now, fetched=fetched)
    return outcome


def harvest(
    *,
    engine: Engine,
    config: AppConfig,
    fetcher: Fetcher,
    now: datetime,
    window: Window,
    source_ids: list[str] | None = None,
    on_done: Callable[[HarvestOutcome], None] | None = None,
    crawl_options: CrawlOptions | None = None,
) -> list[HarvestOutcome]:
    """Harvest the named sources (default: all) one after another.

    Feed URLs that regions proposed through the form and a moderator approved are
    harvested with the configured sources.
    """
    from aggregator.submissions import with_approved_feeds

    with session_scope(engine) as session:
        config = with_approved_feeds(config, session=session)
        sync_sources(session=session, sources=config.sources)
    from aggregator.geocoder_online import online_geocoder_from_settings
    from agenda.settings import get_settings

    stages = build_stages(
        config,
        online_geocoder=online_geocoder_from_settings(engine=engine, settings=get_settings()),
    )
    selected = [s for s in config.sources if not source_ids or s.id in source_ids]
    outcomes = []
    created_in_run: set[str] = set()  # events not yet published: no SEQUENCE bumps
    for source in selected:
        result = harvest_source(
            engine=engine,
            source=source,
            fetcher=fetcher,
            stages=stages,
            now=now,
            window=window,
            created_in_run=created_in_run,
            crawl_options=crawl_options,
        )
        outcomes.append(result)
        if on_done:
            on_done(result)
    return outcomes
