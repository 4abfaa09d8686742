"""Normalise stage: clean titles and text, derive status, attendance and registration URL."""

from __future__ import annotations

import html
import re

import nh3

from aggregator.config import SourceConfig
from aggregator.draft import EventDraft

_CANCELLED_PREFIX = re.compile(
    r"^\s*[\[(]?\s*(geannuleerd|afgelast|vervallen|gaat niet door|cancelled|canceled)"
    r"\s*[\])]?\s*[:\-–—!]*\s*",
    re.IGNORECASE,
)
_BLOCK_TAGS = re.compile(r"</?(p|div|br|li|ul|ol|h[1-6]|tr|table|section|article)\b[^>]*>", re.I)
_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>(.*?)</a>', re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_line(text: str | None) -> str:
    """Unescape entities (twice, for double-encoded feeds) and fold whitespace to one line."""
    if not text:
        return ""
    text = html.unescape(html.unescape(text))
    return _SPACES.sub(" ", text.replace("\r", " ").replace("\n", " ")).strip()


def html_to_text(markup: str) -> str:
    """Sanitise untrusted HTML with nh3 and render it as plain text.

    Paragraphs and line breaks become newlines; a link keeps its URL after its text when
    the text does not already show it.
    """
    safe = nh3.clean(
        markup,
        tags={
            "a",
            "p",
            "br",
            "div",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "strong",
            "em",
            "b",
            "i",
            "tr",
            "table",
        },
        attributes={"a": {"href"}},
        link_rel=None,
    )

    def _link(match: re.Match[str]) -> str:
        href, label = match.group(1), _TAG.sub("", match.group(2)).strip()
        href = html.unescape(href)
        return label if not label or href in label or label in href else f"{label} ({href})"

    text = _LINK.sub(_link, safe)
    text = _BLOCK_TAGS.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def looks_like_html(text: str) -> bool:
    """Whether a text carries markup (tags or entities) that must be rendered to plain text."""
    return bool(re.search(r"<[a-zA-Z/][^>]*>|&[a-zA-Z#][a-zA-Z0-9]*;", text))


class Normaliser:
    """Clean title and description; a cancellation word in the title becomes the status."""

    def process(self, draft: EventDraft, source: SourceConfig) -> EventDraft:
        """Normalise one draft in place and return it."""
        title = clean_line(draft.title)
        match = _CANCELLED_PREFIX.match(title)
        if match and match.end() < len(title):
            title = title[match.end() :].strip()
            draft.status = "cancelled"
        draft.title = title or "(zonder titel)"
        description = draft.description or ""
        if draft.description_html and not description.strip():
            description = draft.description_html
        if looks_like_html(description):
            description = html_to_text(description)
        else:
            lines = [
                _SPACES.sub(" ", ln).strip() for ln in description.replace("\r", "").split("\n")
            ]
            description = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
        draft.description = description
        if draft.description_html:
            draft.description_html = nh3.clean(draft.description_html)
        for name in ("location_name", "address", "city", "organizer_name"):
            setattr(draft, name, clean_line(getattr(draft, name)) or None)
        if draft.organizer_name is None and source.organizer:
            draft.organizer_name = source.organizer
            draft.organizer_url = draft.organizer_url or source.organizer_url
        return draft
