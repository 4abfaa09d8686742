"""`agenda parse`: read one calendar through reader and pipeline, without a database.

The same ``read_source`` and pipeline as a harvest; what would be stored is rendered in
the canonical event JSON instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aggregator.pipeline import Pipeline
from aggregator.store import preview_event
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.read import read_source
from crawlers.records import Window
from crawlers.registry import guess_kind, source_kind
from crawlers.source import SourceConfig
from feeds.event_json import event_to_json

PREVIEW_SOURCE_ID = "cli"
PREVIEW_REGION = "landelijk"


@dataclass(slots=True)
class Preview:
    """What one calendar gave: events as canonical JSON, and what was not read or kept."""

    events: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # unreadable records, with where/why
    notes: list[str] = field(default_factory=list)  # reader warnings
    skipped: list[str] = field(default_factory=list)  # records a stage dropped, with why


def preview_source(
    location: str,
    *,
    kind: str | None,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
    now: datetime,
    window: Window,
) -> Preview:
    """Read a path or URL (kind given, or guessed from its body) and run the pipeline.

    Raises FetchError or FeedError (UnsupportedKind for a kind no reader handles). A
    truncated document is shown as far as it can be read, with the break as a problem.
    """
    fetched = fetcher.fetch(location)
    name = kind or guess_kind(location, fetched.body)
    source_kind(name)  # an unknown kind fails here, before it becomes a SourceConfig
    source = SourceConfig(
        id=PREVIEW_SOURCE_ID,
        name=location,
        kind=name,  # type: ignore[arg-type]  # checked against the kind table above
        url=location,
        region=PREVIEW_REGION,
    )
    read = read_source(
        source,
        fetcher=fetcher,
        now=now,
        window=window,
        crawl_options=crawl_options,
        fetched=fetched,
        allow_truncated=True,
    )
    assert read.result is not None  # no validators, no previous fingerprint: always read
    result = read.result
    preview = Preview(
        problems=[str(problem) for problem in result.problems],
        notes=[str(note) for note in result.warnings],
    )
    for processed in pipeline.run(result.events, source):
        if processed.dropped:
            preview.skipped.append(f"{processed.draft.raw.uid}: {processed.dropped}")
            continue
        event, record = preview_event(processed.draft, now=now)
        preview.events.append(event_to_json(event, [record], {}))
    return preview
