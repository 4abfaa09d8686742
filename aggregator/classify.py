"""Classify stage: relevance, activity type, sectors, phases, audiences and attendance.

All rules come from config/taxonomy.yaml (data, not code). The title speaks loudest: the
activity type is looked for in the title first (highest ``priority`` wins), then in the
description; sectors likewise; audiences are collected from title and text. Source
defaults (sources.yaml) fill what the text leaves open.
"""

from __future__ import annotations

import re
from functools import lru_cache

from aggregator.config import Taxonomy, TaxonomyTerm
from aggregator.draft import EventDraft
from aggregator.stage import Drop
from crawlers.source import SourceConfig


@lru_cache(maxsize=8192)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Compile a taxonomy keyword: word-bounded and case-insensitive.

    A trailing ``*`` matches as a prefix ("voorlichting*"), a leading one as a suffix
    ("*banenmarkt" also finds "onderwijsbanenmarkt"); spaces match any whitespace.
    """
    word = keyword.strip()
    suffix, prefix = word.startswith("*"), word.endswith("*")
    body = re.escape(word.strip("*")).replace(r"\ ", r"\s+")
    head = r"\w*" if suffix else r"(?<![\w])"
    tail = r"\w*" if prefix else r"(?![\w])"
    return re.compile(head + body + tail, re.IGNORECASE)


def matches_any(text: str, keywords: list[str]) -> bool:
    """Whether any keyword occurs in the text."""
    return any(keyword_pattern(k).search(text) for k in keywords)


def term_applies(text: str, term: TaxonomyTerm, context: str | None = None) -> bool:
    """Whether a term's keywords occur in ``text`` and its exclude/requires rules allow it.

    ``context`` (default: the text) is where ``exclude`` and ``requires`` are checked.
    """
    if not term.keywords or not matches_any(text, term.keywords):
        return False
    context = text if context is None else context
    if term.exclude and matches_any(context, term.exclude):
        return False
    return not (term.requires and not matches_any(context, term.requires))


def terms_in(text: str, terms: list[TaxonomyTerm], context: str | None = None) -> list[str]:
    """The slugs of the terms that apply to a text, in taxonomy order."""
    return [t.slug for t in terms if term_applies(text, t, context)]


def activity_type_of(title: str, text: str, taxonomy: Taxonomy) -> str | None:
    """The activity type: the highest-priority term in the title, else in the text."""
    ranked = sorted(taxonomy.activity_types, key=lambda t: -t.priority)
    context = f"{title}\n{text}"
    for where in (title, text):
        for term in ranked:
            if term_applies(where, term, context):
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
    """offline, online or mixed from the location, title and links; None when nothing shows."""
    online_words = words.get("online", [])
    links = words.get("online_links", [])
    location = " ; ".join(p for p in (draft.location_name, draft.address) if p)
    parts = [p for p in re.split(r"[;|\n]|\s\+\s", location) if p.strip()]
    online_parts = [p for p in parts if matches_any(p, online_words)]
    physical = bool(draft.postcode or draft.city) or len(online_parts) < len(parts)
    text = f"{draft.title}\n{draft.description}"
    if matches_any(f"{draft.title}\n{location}\n{draft.description}", words.get("mixed", [])):
        return "mixed"
    online = bool(online_parts or draft.raw.online_url) or matches_any(draft.title, online_words)
    if online:
        return "mixed" if physical else "online"
    if not parts and (matches_any(text, links) or matches_any(text, words.get("online_text", []))):
        return "online"  # no place at all, only a meeting link or "online via Zoom"
    return "offline" if parts else None


class Classifier:
    """Label a draft with the taxonomy; drop irrelevant events of `relevance: keywords` sources."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Classify one draft in place and return it, or raise Drop when it is not relevant."""
        tax = self.taxonomy
        title = draft.title
        text = f"{draft.description}\n{' '.join(draft.raw.categories)}"
        if source.relevance == "keywords" and not is_relevant(title, text, tax.relevance):
            draft.relevant = False
            raise Drop("not about working in education (relevance: keywords)")
        if draft.attendance is None:
            draft.attendance = (
                attendance_of(draft, tax.attendance) or source.defaults.attendance or "offline"
            )
        activity = activity_type_of(title, text, tax) or source.defaults.activity_type or "overig"
        if draft.attendance == "online":
            activity = tax.online_activity.get(activity, activity)
        draft.activity_type = activity
        full = f"{title}\n{text}"
        draft.sectors = (
            terms_in(title, tax.sectors, full)
            or terms_in(text, tax.sectors, full)
            or list(source.defaults.sectors)
            or list(tax.unspecified.get("sectors", []))
        )
        draft.audiences = (
            terms_in(title, tax.audiences, title)
            or terms_in(text, tax.audiences, full)
            or list(source.defaults.audiences)
            or list(tax.unspecified.get("audiences", []))
        )
        draft.phases = list(source.defaults.phases or phases_of(title, activity, tax))
        if draft.language is None:
            draft.language = source.defaults.language or "nl"
        return draft
