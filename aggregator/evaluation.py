"""Evaluate the aggregator against a labelled corpus (``agenda eval LABELS SOURCES``).

The sources are harvested into a temporary SQLite database with the readers that exist;
each label line is matched to its stored record by source file and ``uid_or_key`` (the
UID, the URL, or the exact title). Reported: relevance precision/recall, accuracy per
taxonomy field, municipality accuracy and dedup pair precision/recall/F1 (records in one
canonical event versus one ``dup_group``; the versions of one file, ``x.v1.ics`` and
``x.v2.ics``, are not duplicate pairs). Sources no reader can read are listed and their
labels left out. Dedup is also scored from the label text alone (title, start,
municipality, attendance), so it can be judged before every reader exists.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from aggregator.classify import activity_type_of, terms_in
from aggregator.config import AppConfig
from aggregator.db import make_engine, upgrade
from aggregator.dedup import Fingerprint, same_event
from aggregator.gazetteer import fold, load_gazetteer
from aggregator.harvest import harvest
from aggregator.localtime import LOCAL_TZ
from aggregator.models import SourceRecord
from aggregator.pipeline import Pipeline
from crawlers.crawl import CrawlOptions
from crawlers.fetch import Fetcher
from crawlers.records import Window
from crawlers.source import SourceConfig

TAXONOMY_FIELDS = ("activity_type", "sectors", "phases", "audiences", "attendance", "language")
_VERSION = re.compile(r"\.v\d+(?=\.)")


@dataclass(slots=True)
class Ratio:
    """A count of hits out of a total."""

    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        """Count one case."""
        self.hits += int(hit)
        self.total += 1

    @property
    def value(self) -> float | None:
        """hits / total, or None when there were no cases."""
        return self.hits / self.total if self.total else None


@dataclass(slots=True)
class PairScore:
    """Precision, recall and F1 over pairs (or items) of a binary decision."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        """Count one decision."""
        if not predicted and not actual:
            self.tn += 1
        elif predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1

    @property
    def precision(self) -> float | None:
        """tp / (tp + fp)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        """tp / (tp + fn)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None or r else None)


@dataclass(slots=True)
class EvalReport:
    """Everything ``agenda eval`` prints."""

    labels: int = 0
    evaluated: int = 0
    unreadable: dict[str, str] = field(default_factory=dict)  # source id -> why
    no_source: list[str] = field(default_factory=list)  # label files no source reads
    unmatched: list[str] = field(default_factory=list)  # relevant labels with no record
    relevance: PairScore = field(default_factory=PairScore)
    fields: dict[str, Ratio] = field(default_factory=dict)
    municipality: Ratio = field(default_factory=Ratio)
    overig: Ratio = field(default_factory=Ratio)  # relevant records typed "overig"
    dedup: PairScore = field(default_factory=PairScore)
    dedup_from_labels: PairScore = field(default_factory=PairScore)
    activity_type_from_titles: Ratio = field(default_factory=Ratio)
    mistakes: list[str] = field(default_factory=list)

    def lines(self) -> Iterable[str]:
        """The report as text lines."""

        def pct(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.3f}"

        yield f"labels: {self.labels}; evaluated (readable sources): {self.evaluated}"
        for source_id, why in sorted(self.unreadable.items()):
            yield f"  not readable: {source_id}: {why}"
        for name in self.no_source:
            yield f"  no configured source reads {name} (left out)"
        if self.unmatched:
            yield f"  relevant labels with no stored record: {len(self.unmatched)}"
        r = self.relevance
        yield (
            f"relevance: precision {pct(r.precision)} recall {pct(r.recall)} F1 {pct(r.f1)}"
            f" (tp {r.tp}, fp {r.fp}, fn {r.fn})"
        )
        for name, ratio in self.fields.items():
            yield f"{name} accuracy: {pct(ratio.value)} ({ratio.hits}/{ratio.total})"
        o = self.overig
        yield f"relevant events typed overig: {pct(o.value)} ({o.hits}/{o.total})"
        m = self.municipality
        yield f"municipality accuracy: {pct(m.value)} ({m.hits}/{m.total})"
        for title, d in (
            ("dedup pairs (harvested)", self.dedup),
            ("dedup pairs (from label text, all sources)", self.dedup_from_labels),
        ):
            yield (
                f"{title}: precision {pct(d.precision)} recall {pct(d.recall)} F1 {pct(d.f1)}"
                f" (tp {d.tp}, fp {d.fp}, fn {d.fn}, tn {d.tn})"
            )
        a = self.activity_type_from_titles
        yield f"activity_type from titles alone (all labels): {pct(a.value)} ({a.hits}/{a.total})"


def read_labels(path: Path) -> list[dict[str, Any]]:
    """The label lines of a labels.jsonl file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _stem(path: str) -> str:
    """A source file without suffixes and page numbers: agenda.page1.json -> agenda."""
    parent, _, name = path.rpartition("/")
    return f"{parent}/{name.split('.')[0]}" if parent else name.split(".")[0]


def source_for_label(label_file: str, sources: list[SourceConfig]) -> SourceConfig | None:
    """The configured source that reads a label's file (the exact file, a page or a detail).

    Another version of a configured file (``x.v1.ics`` when the source reads ``x.v2.ics``)
    belongs to no source: it is a previous harvest, not a current record.
    """
    for source in sources:
        if source.url == label_file:
            return source
    if _VERSION.search(label_file):
        return None
    for source in sources:
        stem = _stem(source.url)
        if _stem(label_file) == stem or label_file.startswith(stem + "/"):
            return source
    return None


def _norm_municipality(name: str | None) -> str | None:
    return fold(re.sub(r"\s*\(.*?\)\s*$", "", name)) if name else None


def _as_list(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) else value


def _index_records(session: Session) -> dict[tuple[str, str], SourceRecord]:
    """Records by (source, key) for uid, url and title; a series by its first occurrence."""
    index: dict[tuple[str, str], SourceRecord] = {}
    records = session.exec(select(SourceRecord)).all()
    for record in sorted(records, key=lambda r: (r.fields.get("start_at") or "", r.id or 0)):
        for key in (record.uid, record.url, record.title, (record.title or "").strip()):
            if key:
                index.setdefault((record.source_id, key), record)
    return index


def _loose_match(
    index: dict[tuple[str, str], SourceRecord], source_id: str, key: str
) -> SourceRecord | None:
    """A record whose UID or URL holds the key as a whole token ("?id=4790" for "4790")."""
    pattern = re.compile(rf"(?<![\w]){re.escape(key)}(?![\w])")
    found = {
        record.id: record
        for (sid, value), record in index.items()
        if sid == source_id and pattern.search(value)
    }
    return next(iter(found.values())) if len(found) == 1 else None


def evaluate_store(
    *, session: Session, labels: list[dict[str, Any]], config: AppConfig, report: EvalReport
) -> None:
    """Score the harvested records in a database against the labels."""
    index = _index_records(session)
    matched: list[tuple[dict[str, Any], SourceRecord]] = []
    for label in labels:
        source = source_for_label(label["source"], config.sources)
        if source is None:
            if label["source"] not in report.no_source:
                report.no_source.append(label["source"])
            continue
        if source.id in report.unreadable:
            continue
        report.evaluated += 1
        key = str(label["uid_or_key"])
        record = (
            index.get((source.id, key))
            or index.get((source.id, key.strip()))
            or _loose_match(index, source.id, key.strip())
        )
        kept = record is not None and record.removed_at is None
        report.relevance.add(kept, bool(label["relevant"]))
        if not kept:
            if label["relevant"]:
                report.unmatched.append(f"{label['source']} {key}")
            continue
        assert record is not None
        matched.append((label, record))
        if not label["relevant"]:
            continue
        report.overig.add(record.fields.get("activity_type") == "overig")
        for name in TAXONOMY_FIELDS:
            ok = _as_list(record.fields.get(name)) == _as_list(label.get(name))
            report.fields.setdefault(name, Ratio()).add(ok)
            if not ok:
                report.mistakes.append(
                    f"{name} {label['title']!r}: {record.fields.get(name)} "
                    f"(expected {label.get(name)})"
                )
        ok = _norm_municipality(record.fields.get("municipality")) == _norm_municipality(
            label.get("municipality")
        )
        report.municipality.add(ok)
        if not ok:
            report.mistakes.append(
                f"municipality {label['title']!r}: {record.fields.get('municipality')} "
                f"(expected {label.get('municipality')})"
            )
    relevant = [(label, record) for label, record in matched if label["relevant"]]
    for (la, ra), (lb, rb) in combinations(relevant, 2):
        if _versions_of_one_file(la["source"], lb["source"]):
            continue
        same = ra.event_id == rb.event_id
        report.dedup.add(same, la["dup_group"] == lb["dup_group"])
        if same != (la["dup_group"] == lb["dup_group"]):
            report.mistakes.append(
                f"dedup {'merged' if same else 'missed'}: {la['title']!r} / {lb['title']!r}"
            )


def _versions_of_one_file(a: str, b: str) -> bool:
    return a != b and _VERSION.sub("", a) == _VERSION.sub("", b)


def _label_start(value: str) -> datetime | date:
    if "T" not in value:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ)


def evaluate_labels_only(
    *, labels: list[dict[str, Any]], config: AppConfig, report: EvalReport
) -> None:
    """Score dedup and title classification from the label text, without any reader."""
    gazetteer = load_gazetteer()
    taxonomy = config.taxonomy
    current = [
        label for label in labels if source_for_label(label["source"], config.sources) is not None
    ]
    prints: list[tuple[dict[str, Any], Fingerprint]] = []
    for label in current:
        activity = activity_type_of(label["title"], "", taxonomy) or "overig"
        if label.get("attendance") == "online":
            activity = taxonomy.online_activity.get(activity, activity)
        if label["relevant"]:
            report.activity_type_from_titles.add(activity == label["activity_type"])
            if activity != label["activity_type"]:
                report.mistakes.append(
                    f"title-only activity_type {label['title']!r}: {activity} "
                    f"(expected {label['activity_type']})"
                )
            place = gazetteer.lookup(label["municipality"]) if label.get("municipality") else None
            prints.append(
                (
                    label,
                    Fingerprint(
                        title=label["title"],
                        start=_label_start(label["start_local"]),
                        municipality_code=place.gemeente_code if place else None,
                        attendance=label.get("attendance"),
                        activity_type=activity,
                        sectors=frozenset(terms_in(label["title"], taxonomy.sectors)),
                    ),
                )
            )
    for (la, fa), (lb, fb) in combinations(prints, 2):
        if _versions_of_one_file(la["source"], lb["source"]):
            continue
        one_source = source_for_label(la["source"], config.sources) == source_for_label(
            lb["source"], config.sources
        )
        predicted = not one_source and same_event(fa, fb)
        actual = la["dup_group"] == lb["dup_group"]
        report.dedup_from_labels.add(predicted, actual)
        if predicted != actual:
            report.mistakes.append(
                f"label dedup {'merged' if predicted else 'missed'}: "
                f"{la['title']!r} / {lb['title']!r}"
            )


def run_eval(
    *,
    labels_path: Path,
    config: AppConfig,
    now: datetime,
    fetcher: Fetcher,
    pipeline: Pipeline,
    crawl_options: CrawlOptions,
) -> EvalReport:
    """Harvest the sources into a temporary SQLite database and score them.

    The harvest runs the given pipeline (the one ``agenda harvest`` uses) in the default
    window around ``now``.
    """
    labels = read_labels(labels_path)
    report = EvalReport(labels=len(labels))
    with tempfile.TemporaryDirectory(prefix="agenda-eval-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.sqlite'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            outcomes = harvest(
                engine=engine,
                config=config,
                fetcher=fetcher,
                pipeline=pipeline,
                crawl_options=crawl_options,
                now=now,
                window=Window.around(now),
            )
            for outcome in outcomes:
                if outcome.outcome == "failed":
                    report.unreadable[outcome.source_id] = outcome.error or "failed"
            with Session(engine) as session:
                evaluate_store(session=session, labels=labels, config=config, report=report)
        finally:
            engine.dispose()
    evaluate_labels_only(labels=labels, config=config, report=report)
    return report
