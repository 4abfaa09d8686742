"""The record pipeline: an ordered, configurable list of stages sharing one small contract.

The order is one list of stage names (the ``PIPELINE_STAGES`` setting, default
``normalise,classify,geocode``), resolved through :data:`STAGE_FACTORIES`. The harvest,
``agenda parse``, the evaluation and published submissions all run the same Pipeline,
built once by the composition root (``agenda.wiring``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from aggregator.classify import Classifier
from aggregator.config import AppConfig
from aggregator.draft import EventDraft
from aggregator.geocode import GeocodeStage, OnlineGeocoder
from aggregator.normalise import Normaliser
from aggregator.stage import Drop, Stage, StageCache
from crawlers import deadline
from crawlers.records import RawEvent
from crawlers.source import SourceConfig

DEFAULT_STAGES = ("normalise", "classify", "geocode")
# What the stages' code and bundled data are read from: a change in any of these files
# (a new release, an edited gazetteer) gives another key, so every stored record is
# processed again on its next harvest (one full re-processing per deploy, never a stale
# draft kept because someone forgot to bump a version)
_ROOT = Path(__file__).resolve().parent.parent
CODE_PATHS = (("aggregator", "*.py"), ("crawlers", "*.py"), ("config/geo", "*"))


@dataclass(frozen=True, slots=True)
class StageContext:
    """What a stage factory may build a stage from."""

    config: AppConfig
    online_geocoder: OnlineGeocoder | None = None


STAGE_FACTORIES: dict[str, Callable[[StageContext], Stage]] = {
    "normalise": lambda context: Normaliser(),
    "classify": lambda context: Classifier(context.config.taxonomy),
    "geocode": lambda context: GeocodeStage(context.config.regions, online=context.online_geocoder),
}


class UnknownStage(ValueError):
    """A stage name in PIPELINE_STAGES that no factory builds."""


@dataclass(slots=True)
class Processed:
    """A record after the pipeline: the draft, or why it was dropped."""

    draft: EventDraft
    dropped: str | None = None
    # the record took more than its share of the processing budget (``crawlers.deadline``):
    # left out, a problem of its own, and the listing is a part (nothing is removed)
    overrun: str | None = None


@dataclass(frozen=True, slots=True)
class Pipeline:
    """The stages in order, and the caches their caller loads before and saves after a run."""

    stages: tuple[Stage, ...]
    caches: tuple[StageCache, ...] = ()
    # what the stages' output depends on besides the record (their names, the taxonomy,
    # the regions, the code); None: not a pure function of the record (an online
    # geocoder's answers change), so no record may skip the stages
    key: str | None = None

    def run(self, records: Iterable[RawEvent], source: SourceConfig) -> Iterator[Processed]:
        """Run every record through the stages; dropped records are yielded with their reason."""
        return run_pipeline(records, source, self.stages)

    def load_caches(self, *, session: Session) -> None:
        """Read what the stages' caches stored before (call before ``run``)."""
        for cache in self.caches:
            cache.load(session=session)

    def save_caches(self, *, session: Session) -> None:
        """Write what the stages' caches learnt (call after ``run``; the caller commits)."""
        for cache in self.caches:
            cache.save(session=session)


def parse_stage_names(value: str | Sequence[str]) -> tuple[str, ...]:
    """Stage names from ``normalise,classify,geocode`` (or a list); raise UnknownStage."""
    names = value.split(",") if isinstance(value, str) else list(value)
    cleaned = tuple(name.strip() for name in names if name.strip())
    unknown = [name for name in cleaned if name not in STAGE_FACTORIES]
    if unknown:
        raise UnknownStage(
            f"unknown pipeline stage {', '.join(map(repr, unknown))};"
            f" known: {', '.join(STAGE_FACTORIES)}"
        )
    if len(set(cleaned)) != len(cleaned):
        raise UnknownStage(f"a pipeline stage is listed twice: {','.join(cleaned)}")
    return cleaned


def build_pipeline(
    config: AppConfig,
    *,
    names: str | Sequence[str] = DEFAULT_STAGES,
    online_geocoder: OnlineGeocoder | None = None,
    caches: Sequence[StageCache] = (),
) -> Pipeline:
    """The pipeline of the named stages, in order.

    ``online_geocoder`` (a callable, see aggregator.geocoder_online) is the geocode stage's
    optional fallback for places the offline gazetteer does not know; ``caches`` are what
    it remembers, loaded and saved by whoever runs the pipeline.
    """
    context = StageContext(config=config, online_geocoder=online_geocoder)
    parsed = parse_stage_names(names)
    stages = tuple(STAGE_FACTORIES[name](context) for name in parsed)
    key = None if online_geocoder is not None else pipeline_key(config, parsed)
    return Pipeline(stages=stages, caches=tuple(caches), key=key)


def pipeline_key(config: AppConfig, names: Sequence[str]) -> str:
    """A hash of what the named stages' output depends on besides the record itself.

    The stage names in order, the taxonomy (labels, keywords, rules), the regions and
    their municipalities, and the code and bundled data (:func:`code_fingerprint`): a
    change of any of them makes every record go through the stages again
    (``aggregator.unchanged_records``).
    """
    payload = {
        "code": code_fingerprint(),
        "stages": list(names),
        "taxonomy": config.taxonomy.model_dump(mode="json"),
        "regions": [region.model_dump(mode="json") for region in config.regions],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """A hash of the files the stages' output can depend on (:data:`CODE_PATHS`), read once."""
    digest = hashlib.sha256()
    for folder, pattern in CODE_PATHS:
        for path in sorted((_ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(_ROOT)).encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def run_pipeline(
    records: Iterable[RawEvent], source: SourceConfig, stages: Sequence[Stage]
) -> Iterator[Processed]:
    """Run every record through the stages; dropped records are yielded with their reason.

    Under a processing clock (``crawlers.deadline``) the time of each record is checked
    between stages: one that overruns its share is yielded with ``overrun`` set, unfinished.
    """
    for raw in records:
        started = time.monotonic()
        draft = EventDraft.from_raw(raw)
        try:
            for stage in stages:
                draft = stage.process(draft, source)
                stopped = deadline.overrun(started)
                if stopped:
                    yield Processed(draft, overrun=f"after {type(stage).__name__}: {stopped}")
                    break
            else:
                yield Processed(draft)
        except Drop as drop:
            yield Processed(draft, drop.reason)
