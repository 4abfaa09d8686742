"""Classify stage: activity type, sectors, phases, audiences and relevance from taxonomy rules."""

from __future__ import annotations

import re
from functools import lru_cache

from aggregator.config import SourceConfig, Taxonomy, TaxonomyTerm
from aggregator.draft import EventDraft
from aggregator.pipeline import Drop


@lru_cache(maxsize=4096)
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """Compile a taxonomy keyword: word-bounded, case-insensitive; a trailing '*' is a prefix."""
    word = keyword.strip()
    prefix = word.endswith("*")
    word = word.rstrip("*")
    body = re.escape(word).replace(r"\ ", r"\s+")
    return re.compile(r"(?<![\w])" + body + ("" if prefix else r"(?![\w])"), re.IGNORECASE)


def matches_any(text: str, keywords: list[str]) -> bool:
    """Whether any keyword occurs in the text."""
    return any(keyword_pattern(k).search(text) for k in keywords)


def _terms_in(text: str, terms: list[TaxonomyTerm]) -> list[str]:
    return [t.slug for t in terms if t.keywords and matches_any(text, t.keywords)]


class Classifier:
    """Label a draft with the taxonomy; drop irrelevant events of `relevance: keywords` sources."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Classify one draft in place and return it, or raise Drop when it is not relevant."""
        tax = self.taxonomy
        text = f"{draft.title}\n{draft.description}\n{' '.join(draft.raw.categories)}"
        if source.relevance == "keywords":
            include = tax.relevance.get("include", [])
            exclude = tax.relevance.get("exclude", [])
            if matches_any(draft.title, exclude) or not matches_any(text, include):
                draft.relevant = False
                raise Drop("not about working in education (relevance: keywords)")
        types = _terms_in(draft.title, tax.activity_types) or _terms_in(text, tax.activity_types)
        draft.activity_type = types[0] if types else (source.defaults.activity_type or "overig")
        draft.sectors = _terms_in(text, tax.sectors) or list(source.defaults.sectors)
        draft.audiences = _terms_in(text, tax.audiences) or list(source.defaults.audiences)
        draft.phases = list(
            source.defaults.phases or tax.phase_by_activity.get(draft.activity_type, [])
        )
        if draft.attendance is None:
            online = matches_any(text, tax.attendance.get("online", []))
            mixed = matches_any(text, tax.attendance.get("mixed", []))
            draft.attendance = (
                "mixed"
                if mixed
                else "online"
                if online
                else (source.defaults.attendance or "offline")
            )
        if draft.language is None:
            draft.language = source.defaults.language or "nl"
        return draft
