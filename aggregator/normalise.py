"""Normalise stage: clean titles and text, derive status, attendance and registration URL."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote, urlsplit

import nh3

from aggregator.draft import EventDraft
from aggregator.mail import valid_address
from crawlers.html_text import html_to_text, looks_like_html
from crawlers.source import SourceConfig

_CANCELLED_PREFIX = re.compile(
    r"^\s*[\[(]?\s*(geannuleerd|afgelast|vervallen|gaat niet door|cancelled|canceled)"
    r"\s*[\])]?\s*[:\-–—!]*\s*",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\u00a0\u2007\u202f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def clean_line(text: str | None) -> str:
    """Unescape entities (twice, for double-encoded feeds) and fold whitespace to one line."""
    if not text:
        return ""
    text = html.unescape(html.unescape(text))
    return _SPACES.sub(" ", text.replace("\r", " ").replace("\n", " ")).strip()


# What browsers drop from a URL before reading its scheme (WHATWG URL: leading C0 control
# or space, and every tab or newline anywhere): "java\tscript:" is "javascript:" to them.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(chr(code) for code in range(33))
URL_FIELDS = ("url", "registration_url", "organizer_url")


def safe_url(value: str | None) -> str | None:
    """The URL when it is an absolute http(s) URL with a host, else None.

    Every link we publish comes from here: ``javascript:``, ``data:``, ``vbscript:`` and any
    other scheme is dropped, however it is spelled (case, entities, tabs, leading controls).
    A ``mailto:`` address is moved to the organiser's e-mail field first (``mail_address``).
    """
    if not value:
        return None
    text = value.strip(_C0_AND_SPACE)
    # the raw text and the text with entities decoded (as an HTML attribute is read)
    for spelling in (text, html.unescape(text)):
        try:
            parts = urlsplit(_URL_IGNORED.sub("", spelling).lstrip(_C0_AND_SPACE))
        except ValueError:
            return None
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
    return text


def mail_address(value: str | None) -> str | None:
    """The address of a ``mailto:`` URL (any case; query such as ``?subject=`` left out),
    else None."""
    text = (value or "").strip(_C0_AND_SPACE)
    if text[:7].lower() != "mailto:":
        return None
    return unquote(text[7:].split("?", 1)[0]) or None


def clean_email(value: str | None) -> str | None:
    """``value`` as one plain e-mail address, or None when it is not one."""
    if not value:
        return None
    try:
        return valid_address(html.unescape(value))
    except ValueError:
        return None


# Function words: a text is English when it has clearly more English than Dutch ones.
_NL_WORDS = frozenset(
    [
        "de",
        "het",
        "een",
        "en",
        "van",
        "voor",
        "met",
        "op",
        "aan",
        "je",
        "jij",
        "u",
        "we",
        "wij",
        "zijn",
        "is",
        "naar",
        "over",
        "bij",
        "ook",
        "niet",
        "wat",
        "hoe",
        "deze",
        "dit",
        "dat",
        "die",
        "worden",
        "wordt",
        "word",
        "kun",
        "kunt",
        "kan",
        "meer",
        "uur",
        "onderwijs",
        "aanmelden",
        "avond",
        "informatie",
        "leraar",
        "school",
        "scholen",
        "bijeenkomst",
        "om",
        "tot",
        "als",
        "of",
        "er",
    ]
)
_EN_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "of",
        "to",
        "you",
        "your",
        "are",
        "on",
        "how",
        "what",
        "this",
        "that",
        "be",
        "will",
        "from",
        "at",
        "our",
        "we",
        "can",
        "evening",
        "session",
        "working",
        "teaching",
        "information",
        "register",
        "join",
        "about",
        "education",
        "schools",
        "teacher",
        "teachers",
        "internationals",
    ]
)
_WORDS = re.compile(r"[a-zà-ÿ']+")


def normalise_language(value: str | None) -> str | None:
    """Map a language tag ("nl-NL", "en_GB", "Nederlands") to nl or en; None if other."""
    if not value:
        return None
    tag = value.strip().lower()[:2]
    return {"nl": "nl", "ne": "nl", "du": "nl", "en": "en"}.get(tag)


def detect_language(text: str) -> str:
    """nl or en, by counting function words (Dutch unless English clearly dominates)."""
    words = _WORDS.findall(text.lower())
    nl = sum(w in _NL_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    return "en" if en >= 2 and en > 1.5 * nl else "nl"


_FREE = re.compile(
    r"\b(gratis|kosteloos|kosteloze|geen kosten|zonder kosten|vrije toegang|vrij toegankelijk"
    r"|free of charge|free admission|admission is free|no cost)\b|€\s*0(?:[,.]00?|,-)?(?![\d,.])",
    re.IGNORECASE,
)
_PAID = re.compile(
    r"(€|eur\b|euro\b)\s*([1-9]\d*)|\b([1-9]\d*)(?:[,.]\d{2}|,-)?\s*(euro|eur)\b"
    r"|\b(eigen bijdrage|kosten bedragen|deelnamekosten|entree|toegangsprijs)\b",
    re.IGNORECASE,
)


def detect_free(text: str) -> bool | None:
    """True when the text says free, False when it names a price, None when it says nothing."""
    if _FREE.search(text):
        return True
    if _PAID.search(text):
        return False
    return None


_REGISTRATION_WORDS = re.compile(
    r"aanmeld|inschrijv|inschrijf|registre|register|registration|tickets?\b|sign[- ]?up|rsvp",
    re.IGNORECASE,
)
_HREF = re.compile(r'<a\b[^>]*\bhref\s*=\s*["\']([^"\']+)["\'][^>]*>(.*?)</a>', re.I | re.S)
_BARE_URL = re.compile(r"https?://[^\s<>\"')]+")


def find_registration_url(text: str) -> str | None:
    """The first link whose URL or link text speaks of signing up, or None."""
    text = html.unescape(text)
    for href, label in _HREF.findall(text):
        if href.startswith(("http://", "https://")) and (
            _REGISTRATION_WORDS.search(href) or _REGISTRATION_WORDS.search(_TAG.sub("", label))
        ):
            return href
    for match in _BARE_URL.finditer(_TAG.sub(" ", text)):
        url = match.group(0).rstrip(".,;:")
        before = text[max(0, match.start() - 60) : match.start()]
        if _REGISTRATION_WORDS.search(url) or _REGISTRATION_WORDS.search(before):
            return url
    return None


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
        for name in ("location_name", "address", "postcode", "city", "organizer_name"):
            setattr(draft, name, clean_line(getattr(draft, name)) or None)
        draft.language = normalise_language(draft.language) or detect_language(
            f"{draft.title}\n{description}"
        )
        if draft.is_free is None:
            draft.is_free = detect_free(f"{draft.raw.price or ''}\n{draft.title}\n{description}")
        if not draft.registration_url:
            draft.registration_url = find_registration_url(
                draft.raw.description_html or draft.raw.description or ""
            )
        if draft.organizer_name is None and source.organizer:
            draft.organizer_name = source.organizer
            draft.organizer_url = draft.organizer_url or source.organizer_url
        addresses = [draft.organizer_email, *(mail_address(getattr(draft, n)) for n in URL_FIELDS)]
        draft.organizer_email = next(filter(None, map(clean_email, addresses)), None)
        for name in URL_FIELDS:
            setattr(draft, name, safe_url(getattr(draft, name)))
        return draft
