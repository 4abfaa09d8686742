"""The embed's options: read and check the builder's and the iframe's parameters, once.

One reading serves the iframe list (``/embed/list``), the builder (``/embed``) and the
snippets it writes, so a snippet can only carry values the iframe accepts. Colours are hex
(``#0b5394``, ``0b5394`` or ``#05a``); the link colour must keep a WCAG AA contrast
(4.5:1) with the background, and the text colour is chosen (near-black or white) for the
background, so no theme makes the list unreadable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from api.i18n import normalise_lang, t

MAX_LIMIT = 50
DEFAULT_LIMIT = 10
DEFAULT_COLOR = "#0b5394"
DEFAULT_BACKGROUND = "#ffffff"
MIN_CONTRAST = 4.5  # WCAG 2.1 AA for normal text
DARK_TEXT, LIGHT_TEXT = "#1b1b1b", "#ffffff"
_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
_TRUE = ("1", "true", "yes", "ja", "on")
_FALSE = ("", "0", "false", "no", "nee", "off")
# every parameter the iframe list and the builder take, in the order of the snippet's query
FILTER_NAMES = ("region", "sector", "type")


@dataclass(frozen=True, slots=True)
class EmbedOptions:
    """What one embedded list shows and how it looks (all values checked)."""

    region: str = ""
    sector: str = ""
    type: str = ""
    limit: int = DEFAULT_LIMIT
    lang: str = "nl"
    color: str = DEFAULT_COLOR
    background: str = DEFAULT_BACKGROUND
    compact: bool = False

    @property
    def text_color(self) -> str:
        """Near-black on a light background, white on a dark one."""
        return text_color_for(self.background)

    @property
    def muted_color(self) -> str:
        """The colour of secondary text (times, places): still AA on the background."""
        return "#4a4a4a" if self.text_color == DARK_TEXT else "#e6e6e6"

    def query(self) -> dict[str, str]:
        """The iframe's query parameters: only what differs from the defaults."""
        out = {name: getattr(self, name) for name in FILTER_NAMES if getattr(self, name)}
        out["limit"] = str(self.limit)
        if self.lang != "nl":
            out["lang"] = self.lang
        if self.color != DEFAULT_COLOR:
            out["color"] = self.color.lstrip("#")
        if self.background != DEFAULT_BACKGROUND:
            out["background"] = self.background.lstrip("#")
        if self.compact:
            out["compact"] = "1"
        return out

    def data_attributes(self) -> list[tuple[str, str]]:
        """The widget script's ``data-*`` attributes; ``data-region="all"`` when no region
        is chosen (the script renders where it stands whenever it carries a region)."""
        attrs = [("region", self.region or "all")]
        attrs += [(name, getattr(self, name)) for name in ("sector", "type") if getattr(self, name)]
        attrs.append(("limit", str(self.limit)))
        if self.lang != "nl":
            attrs.append(("lang", self.lang))
        if self.color != DEFAULT_COLOR:
            attrs.append(("color", self.color))
        if self.background != DEFAULT_BACKGROUND:
            attrs.append(("background", self.background))
        if self.compact:
            attrs.append(("compact", "1"))
        return attrs


@dataclass(slots=True)
class EmbedReading:
    """The options read from a request, and what was wrong (parameter -> message)."""

    options: EmbedOptions
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def parse_hex_color(value: str) -> str | None:
    """``#rrggbb`` (lower case) for a hex colour in any of its spellings, else None."""
    match = _HEX.match(value.strip())
    if not match:
        return None
    digits = match[1].lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def _luminance(color: str) -> float:
    """WCAG 2.1 relative luminance of ``#rrggbb``."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG 2.1 contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    a, b = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_color_for(background: str) -> str:
    """The text colour (near-black or white) with the higher contrast on ``background``."""
    dark = contrast_ratio(DARK_TEXT, background)
    light = contrast_ratio(LIGHT_TEXT, background)
    return DARK_TEXT if dark >= light else LIGHT_TEXT


def read_embed_options(params: Any, *, config: Any, lang: str) -> EmbedReading:
    """Check the embed's parameters (a mapping of query values); messages in ``lang``.

    Unknown names of region, sector or type, a limit outside 1..50, a colour that is not
    hex, a link colour without enough contrast on the background and an unknown ``lang``
    are each an error naming the parameter; the options keep the default for each.
    """
    errors: dict[str, str] = {}

    def get(name: str) -> str:
        value = params.get(name)
        return value.strip() if isinstance(value, str) else ""

    values: dict[str, Any] = {}
    vocabularies = {
        "region": list(config.regions.by_slug),
        "sector": config.taxonomy.slugs("sectors"),
        "type": config.taxonomy.slugs("activity_types"),
    }
    for name, known in vocabularies.items():
        value = get(name)
        if value == "all" and name == "region":
            value = ""
        if value and value not in known:
            errors[name] = t("embed_err_unknown", lang, value=value[:60])
        else:
            values[name] = value
    limit_text = get("limit")
    if limit_text:
        try:
            limit = int(limit_text)
        except ValueError:
            limit = 0
        if 1 <= limit <= MAX_LIMIT:
            values["limit"] = limit
        else:
            errors["limit"] = t("embed_err_limit", lang, max=MAX_LIMIT)
    widget_lang = get("lang")
    if widget_lang and normalise_lang(widget_lang) != widget_lang:
        errors["lang"] = t("embed_err_unknown", lang, value=widget_lang[:10])
    elif widget_lang:
        values["lang"] = widget_lang
    for name in ("color", "background"):
        text = get(name)
        if not text:
            continue
        color = parse_hex_color(text)
        if color is None:
            errors[name] = t("embed_err_color", lang, value=text[:20])
        else:
            values[name] = color
    compact = get("compact").lower()
    if compact in _TRUE:
        values["compact"] = True
    elif compact not in _FALSE:
        errors["compact"] = t("embed_err_unknown", lang, value=compact[:10])
    options = EmbedOptions(**values)
    if "color" not in errors and "background" not in errors:
        ratio = contrast_ratio(options.color, options.background)
        if ratio < MIN_CONTRAST:
            errors["color"] = t("embed_err_contrast", lang, ratio=f"{ratio:.1f}")
            # the message page itself keeps readable colours
            options = EmbedOptions(**{**values, "color": DEFAULT_COLOR})
            if contrast_ratio(options.color, options.background) < MIN_CONTRAST:
                options = EmbedOptions(
                    **{**values, "color": DEFAULT_COLOR, "background": DEFAULT_BACKGROUND}
                )
    return EmbedReading(options=options, errors=errors)
