"""Taxonomy keyword matching in linear time.

A keyword is a word or phrase, matched case-insensitively on word boundaries; a trailing
``*`` lets it match as a prefix ("voorlichting*" = "voorlichtingsavond"), a leading one as
a suffix ("*banenmarkt" = "onderwijsbanenmarkt"), both anywhere inside a word; spaces in a
keyword match any run of whitespace.

The matcher never backtracks: the text is lower-cased and its whitespace runs collapsed
once (``Text``), each keyword is found with ``str.find`` and a rejected occurrence skips
to the end of its word, so every character is looked at a bounded number of times per
keyword. (A regular expression with ``\\w*`` around the keyword, the obvious way to write
the wildcards, is quadratic on one long unbroken word.) A keyword of word characters only
(most of the taxonomy) is looked up in the text's words instead: a set for a whole word,
the sorted words (and the sorted reversed words) for a prefix (a suffix), each built once
per text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

_NON_WORD = re.compile(r"\W")
_WORD = re.compile(r"\w+")


def _is_word(char: str) -> bool:
    """Whether a character is a word character in the sense of ``re``'s ``\\w``."""
    return char.isalnum() or char == "_"


@dataclass(frozen=True, slots=True)
class Keyword:
    """One parsed taxonomy keyword."""

    body: str  # lower-case, single spaces
    any_start: bool  # "*word": may start inside a word
    any_end: bool  # "word*": may end inside a word
    one_word: bool = False  # the body is word characters only (looked up in the words)


@lru_cache(maxsize=16384)
def parse_keyword(keyword: str) -> Keyword:
    """Parse a taxonomy keyword ("voorlichting*", "*banenmarkt", "online sessie")."""
    word = keyword.strip()
    body = " ".join(word.strip("*").lower().split())
    if not body:
        raise ValueError(f"empty taxonomy keyword {keyword!r}")
    one_word = all(_is_word(char) for char in body)
    return Keyword(body, word.startswith("*"), word.endswith("*"), one_word)


class Text:
    """A text prepared once for many keyword look-ups (lower-cased, whitespace collapsed)."""

    __slots__ = ("_ends", "_seen", "_starts", "_words", "value")

    def __init__(self, text: str) -> None:
        self.value = " ".join(text.lower().split())
        self._seen: dict[str, bool] = {}  # by the keyword as written
        self._words: set[str] | None = None
        self._starts: list[str] | None = None  # the words, sorted
        self._ends: list[str] | None = None  # the words reversed, sorted

    def word_end(self, start: int) -> int:
        """The index after the word that contains ``start`` (or ``start`` itself)."""
        match = _NON_WORD.search(self.value, start)
        return match.start() if match else len(self.value)

    def has(self, keyword: Keyword) -> bool:
        """Whether the keyword occurs with its word boundaries."""
        body = keyword.body
        if not keyword.one_word:  # (most phrases do not occur at all: one substring test)
            return body in self.value and next(self.positions(keyword), None) is not None
        if keyword.any_start and keyword.any_end:
            return body in self.value  # a word-only body occurs inside some word
        if self._words is None:
            self._words = set(_WORD.findall(self.value))
        if not keyword.any_start and not keyword.any_end:
            return body in self._words
        if keyword.any_end:  # "word*": a word starts with the body
            if self._starts is None:
                self._starts = sorted(self._words)
            return _has_prefix(self._starts, body)
        if self._ends is None:  # "*word": a word ends with the body
            self._ends = sorted(word[::-1] for word in self._words)
        return _has_prefix(self._ends, body[::-1])

    def positions(self, keyword: Keyword) -> Iterator[int]:
        """Where the keyword occurs with its word boundaries (start indexes, ascending)."""
        text, body = self.value, keyword.body
        size, length = len(body), len(self.value)
        i = text.find(body)
        while i >= 0:
            end = i + size
            start_ok = keyword.any_start or i == 0 or not _is_word(text[i - 1])
            end_ok = keyword.any_end or end == length or not _is_word(text[end])
            if start_ok and end_ok:
                yield i
                i = text.find(body, i + 1)
            elif not keyword.any_start:
                # every later start inside this word is preceded by a word character
                i = text.find(body, max(self.word_end(i), i + 1))
            elif body.isalnum():
                # "*word": in this word only an occurrence ending where the word ends matches
                w_end = self.word_end(end)
                if text.startswith(body, w_end - size):
                    yield w_end - size
                i = text.find(body, w_end)
            else:
                i = text.find(body, i + 1)

    def has_any(self, keywords: Iterable[str]) -> bool:
        """Whether any of the (unparsed) keywords occurs (remembered per keyword)."""
        seen = self._seen
        for keyword in keywords:
            found = seen.get(keyword)
            if found is None:
                found = seen[keyword] = self.has(parse_keyword(keyword))
            if found:
                return True
        return False


def _has_prefix(ordered: list[str], prefix: str) -> bool:
    """Whether a string of the sorted list starts with ``prefix`` (the first one not below it
    does, if any does: the strings with a prefix are one run of the order)."""
    at = bisect_left(ordered, prefix)
    return at < len(ordered) and ordered[at].startswith(prefix)


@lru_cache(maxsize=64)
def prepared(text: str) -> Text:
    """The prepared form of a text (the last few are kept: one event asks many times)."""
    return Text(text)


def matches_any(text: str | Text, keywords: Iterable[str]) -> bool:
    """Whether any keyword occurs in the text."""
    prepared_text = text if isinstance(text, Text) else prepared(text)
    return prepared_text.has_any(keywords)
