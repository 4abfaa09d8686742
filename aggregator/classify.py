"""Classify stage: relevance, activity type, sectors, phases, audiences and attendance.

All rules come from config/taxonomy.yaml (data, not code). The title speaks loudest: the
activity type is looked for in the title first (highest ``priority`` wins), then in the
description; sectors likewise; audiences are collected from title and text. Source
defaults (sources.yaml) fill what the text leaves open.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from itertools import accumulate

from aggregator.config import Taxonomy, TaxonomyTerm
from aggregator.draft import EventDraft
from aggregator.gazetteer import load_gazetteer
from aggregator.keywords import Text, matches_any, parse_keyword
from aggregator.stage import Drop
from crawlers.source import SourceConfig


def term_applies(
    text: str, term: TaxonomyTerm, context: str | None = None, *, title: bool = False
) -> bool:
    """Whether a term's keywords occur in ``text`` and its exclude/requires rules allow it.

    ``context`` (default: the text) is where ``exclude`` and ``requires`` are checked; with
    ``title`` the text is a title and the term's ``title_keywords`` count too.
    """
    found = matches_any(text, term.keywords) or (title and matches_any(text, term.title_keywords))
    if not found:
        return False
    context = text if context is None else context
    if term.exclude and matches_any(context, term.exclude):
        return False
    return not (term.requires and not matches_any(context, term.requires))


def terms_in(
    text: str, terms: list[TaxonomyTerm], context: str | None = None, *, title: bool = False
) -> list[str]:
    """The slugs of the terms that apply to a text (a title with ``title``), in taxonomy order."""
    return [t.slug for t in terms if term_applies(text, t, context, title=title)]


def activity_type_of(title: str, text: str, taxonomy: Taxonomy) -> str | None:
    """The activity type: the highest-priority term in the title, else in the text."""
    ranked = sorted(taxonomy.activity_types, key=lambda t: -t.priority)
    context = f"{title}\n{text}"
    for where in (title, text):
        for term in ranked:
            if term_applies(where, term, context, title=where is title):
                return term.slug
    return None


def phases_of(title: str, activity_type: str, taxonomy: Taxonomy) -> list[str]:
    """The klantreis phases: the first phase rule matching the title, else by activity type."""
    for rule in taxonomy.phase_rules:
        if rule.activity_types and activity_type not in rule.activity_types:
            continue
        if matches_any(title, rule.keywords):
            return list(rule.phases)
    return list(taxonomy.phase_by_activity.get(activity_type, []))


def is_relevant(title: str, text: str, relevance: dict[str, list[str]]) -> bool:
    """Whether an event of a general calendar is about working in or switching to education."""
    include = relevance.get("include", [])
    if matches_any(title, relevance.get("exclude_title", [])) and not matches_any(title, include):
        return False
    return matches_any(f"{title}\n{text}", include) or matches_any(
        title, relevance.get("include_title", [])
    )


def attendance_of(draft: EventDraft, words: dict[str, list[str]]) -> str | None:
    """offline, online or mixed from the location, title and links; None when nothing shows.

    The draft's texts are read as given: mask place names first (``PlaceMask``) so that
    "Bergen op Zoom" is not the online word "zoom".
    """
    online_words = words.get("online", [])
    links = words.get("online_links", [])
    location = " ; ".join(p for p in (draft.location_name, draft.address) if p)
    parts = [p for p in re.split(r"[;|\n]|\s\+\s", location) if p.strip()]
    online_parts = [p for p in parts if matches_any(p, online_words)]
    physical = bool(draft.postcode or draft.city) or len(online_parts) < len(parts)
    description = draft.description or ""
    text = f"{draft.title}\n{description}"
    if matches_any(f"{draft.title}\n{location}\n{description}", words.get("mixed", [])):
        return "mixed"
    online = bool(online_parts or draft.raw.online_url) or matches_any(draft.title, online_words)
    if online:
        return "mixed" if physical else "online"
    if not parts and (matches_any(text, links) or matches_any(text, words.get("online_text", []))):
        return "online"  # no place at all, only a meeting link or "online via Zoom"
    return "offline" if parts else None


class PlaceMask:
    """Hides place names that contain a format word ("Bergen op Zoom", "zoom" = online).

    Built from the gazetteer: every name of two or more words in which an attendance or
    activity-type keyword occurs. ``apply`` replaces such a name by itself with its spaces
    and hyphens turned into underscores, so no keyword matches inside it any more.
    """

    def __init__(self, names: Iterable[str], keywords: Iterable[str]) -> None:
        several = sorted({n for n in names if re.search(r"[\s-]", n)})
        folded = [" ".join(n.lower().split()) for n in several]
        # all names in one text, "|" between them: each keyword is looked for once
        lines = Text("|".join(folded))
        starts = list(accumulate((len(n) + 1 for n in folded), initial=0))
        found = {
            several[bisect_right(starts, at) - 1]
            for keyword in set(keywords)
            for at in lines.positions(parse_keyword(keyword))
        }
        masked = sorted(found, key=len, reverse=True)
        # each name's last word, to skip the regular expression when a text lacks all of them
        self._hints = sorted({re.split(r"[\s-]+", n.lower())[-1] for n in masked})
        self._pattern = (
            re.compile(
                r"(?<!\w)(?:"
                + "|".join(re.sub(r"(?:\\ |-)+", r"[\\s-]+", re.escape(n)) for n in masked)
                + r")(?!\w)",
                re.IGNORECASE,
            )
            if masked
            else None
        )

    def apply(self, text: str | None) -> str | None:
        """The text with the masked place names made inert."""
        if not text or self._pattern is None:
            return text
        lowered = text.lower()
        if not any(hint in lowered for hint in self._hints):
            return text
        return self._pattern.sub(lambda m: re.sub(r"[\s-]+", "_", m.group(0)), text)


@lru_cache(maxsize=4)
def place_mask(keywords: frozenset[str]) -> PlaceMask:
    """The mask for these format keywords over the bundled gazetteer (built once)."""
    return PlaceMask(load_gazetteer().place_names(), keywords)


def format_keywords(taxonomy: Taxonomy) -> frozenset[str]:
    """Every keyword that speaks of an event's format: attendance and activity-type words."""
    words = {k for values in taxonomy.attendance.values() for k in values}
    words.update(k for term in taxonomy.activity_types for k in term.keywords)
    return frozenset(words)


def field_values(
    field: str,
    found: list[str],
    title: str,
    text: str,
    defaults: Iterable[str],
    taxonomy: Taxonomy,
) -> list[str]:
    """A field's values: the terms the words named, else the source's defaults, else what
    the kind of event implies (``only_when_empty`` rules), else the ``unspecified`` values;
    then what the kind of event adds. In taxonomy order."""
    rules = [
        r
        for r in taxonomy.implied.get(field, [])
        if matches_any(title if r.title_only else f"{title}\n{text}", r.keywords)
    ]
    values = set(
        found
        or defaults
        or [v for r in rules if r.only_when_empty for v in r.values]
        or taxonomy.unspecified.get(field, [])
    )
    values.update(v for r in rules if not r.only_when_empty for v in r.values)
    return [slug for slug in taxonomy.slugs(field) if slug in values]


class Classifier:
    """Label a draft with the taxonomy; drop irrelevant events of `relevance: keywords` sources."""

    def __init__(self, taxonomy: Taxonomy, mask: PlaceMask | None = None) -> None:
        self.taxonomy = taxonomy
        self.mask = mask if mask is not None else place_mask(format_keywords(taxonomy))

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Classify one draft in place and return it, or raise Drop when it is not relevant."""
        tax = self.taxonomy
        title = draft.title
        text = f"{draft.description}\n{' '.join(draft.raw.categories)}"
        if source.relevance == "keywords" and not is_relevant(title, text, tax.relevance):
            draft.relevant = False
            raise Drop("not about working in education (relevance: keywords)")
        mask = self.mask.apply
        masked = replace(
            draft,
            title=mask(title) or "",
            description=mask(draft.description) or "",
            location_name=mask(draft.location_name),
            address=mask(draft.address),
        )
        if draft.attendance is None:
            draft.attendance = (
                attendance_of(masked, tax.attendance) or source.defaults.attendance or "offline"
            )
        format_text = f"{masked.description}\n{' '.join(draft.raw.categories)}"
        activity = (
            activity_type_of(masked.title, format_text, tax)
            or source.defaults.activity_type
            or "overig"
        )
        if draft.attendance == "online":
            activity = tax.online_activity.get(activity, activity)
        draft.activity_type = activity
        full = f"{title}\n{text}"
        sectors = terms_in(title, tax.sectors, full, title=True) or terms_in(
            text, tax.sectors, full
        )
        draft.sectors = field_values("sectors", sectors, title, text, source.defaults.sectors, tax)
        audiences = terms_in(title, tax.audiences, title, title=True) or terms_in(
            text, tax.audiences, full
        )
        draft.audiences = field_values(
            "audiences", audiences, title, text, source.defaults.audiences, tax
        )
        draft.phases = list(source.defaults.phases or phases_of(title, activity, tax))
        if draft.language is None:
            draft.language = source.defaults.language or "nl"
        return draft
