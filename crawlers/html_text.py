"""HTML to plain text: the one renderer for readers, stages and publishers.

Untrusted markup is sanitised with nh3 first (scripts and styles go with their content),
then rendered: block elements and line breaks become line breaks, table cells are
separated by a space, a run of blank lines becomes one (a paragraph break), entities are
decoded, and a link keeps its URL after its text when the text does not show it already.
Entity-escaped HTML (``&lt;p&gt;``, common in RSS descriptions) is decoded before.
"""

from __future__ import annotations

import html
import re

import nh3

_KEPT_TAGS = frozenset(
    {"a", "p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th"}
    | {"table", "section", "article", "strong", "em", "b", "i"}
)
_BLOCK_TAGS = re.compile(r"</?(p|div|br|li|ul|ol|h[1-6]|tr|table|section|article)\b[^>]*>", re.I)
_CELL_TAGS = re.compile(r"</?(td|th)\b[^>]*>", re.I)
_LINK = re.compile(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>(.*?)</a>', re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2007\u202f]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_MARKUP = re.compile(r"<[a-zA-Z/!][^>]*>|&[a-zA-Z#][a-zA-Z0-9]*;")


def looks_like_html(text: str) -> bool:
    """Whether a text carries markup (tags or entities) that must be rendered to plain text."""
    return bool(_MARKUP.search(text))


def html_to_text(markup: str, *, links: bool = True) -> str:
    """Render an HTML fragment as plain text with line breaks (see the module docstring).

    ``links=False`` drops link targets (for titles, places and dates read from a page).
    """
    if "&lt;" in markup:
        markup = html.unescape(markup)
    safe = nh3.clean(
        markup,
        tags=set(_KEPT_TAGS),
        attributes={"a": {"href"}} if links else {},
        link_rel=None,
    )

    def _link(match: re.Match[str]) -> str:
        href, label = html.unescape(match.group(1)), _TAG.sub("", match.group(2)).strip()
        return label if not label or href in label or label in href else f"{label} ({href})"

    text = _LINK.sub(_link, safe) if links else safe
    text = _CELL_TAGS.sub(" ", _BLOCK_TAGS.sub("\n", text))
    text = html.unescape(_TAG.sub("", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
