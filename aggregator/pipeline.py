"""The record pipeline: an ordered list of stages sharing one small contract.

A stage takes an EventDraft and returns it (changed or not), or raises ``Drop`` with a
reason when the record must not become an event. Stages never touch the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from aggregator.config import AppConfig
from aggregator.draft import EventDraft
from crawlers.records import RawEvent
from crawlers.source import SourceConfig


class Drop(Exception):
    """A stage decided that a record is not an event for this calendar."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stage(Protocol):
    """One step of the pipeline."""

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Return the draft (possibly changed) or raise Drop."""
        ...


@dataclass(slots=True)
class Processed:
    """A record after the pipeline: the draft, or why it was dropped."""

    draft: EventDraft
    dropped: str | None = None


def build_stages(config: AppConfig, *, online_geocoder: Any = None) -> list[Stage]:
    """The stages in order (normalise, classify, geocode and assign region).

    ``online_geocoder`` (a callable, see aggregator.geocoder_online) is the optional
    fallback for places the offline gazetteer does not know.
    """
    from aggregator.classify import Classifier
    from aggregator.geocode import GeocodeStage
    from aggregator.normalise import Normaliser

    return [
        Normaliser(),
        Classifier(config.taxonomy),
        GeocodeStage(config.regions, online=online_geocoder),
    ]


def run_pipeline(
    records: Iterable[RawEvent], source: SourceConfig, stages: list[Stage]
) -> Iterator[Processed]:
    """Run every record through the stages; dropped records are yielded with their reason."""
    for raw in records:
        draft = EventDraft.from_raw(raw)
        try:
            for stage in stages:
                draft = stage.process(draft, source)
        except Drop as drop:
            yield Processed(draft, drop.reason)
            continue
        yield Processed(draft)
