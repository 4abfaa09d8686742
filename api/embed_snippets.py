"""The two snippets a regional site copies: the widget script and the self-sizing iframe.

``api/static/embed-builder.js`` writes the same text in the browser while options change;
the browser tests compare the two.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from api.embed_options import EmbedOptions

FRAME_HEIGHT = 480  # px: the iframe's height until the resize script has measured it
RESIZE_SCRIPT = "/static/embed-resize.js"


def script_snippet(base_url: str, options: EmbedOptions) -> str:
    """``<script src=".../embed.js" data-region=... ...></script>``: the widget renders
    right after the script element."""
    attrs = "".join(
        f' data-{name}="{escape(value, quote=True)}"' for name, value in options.data_attributes()
    )
    return f'<script src="{base_url}/embed.js"{attrs}></script>'


def iframe_src(base_url: str, options: EmbedOptions) -> str:
    """The address of the iframe list for these options."""
    return f"{base_url}/embed/list?{urlencode(options.query())}"


def iframe_snippet(base_url: str, options: EmbedOptions, *, title: str) -> str:
    """The iframe and the small script that sets its height to what the list needs
    (the list posts its height; without the script the iframe keeps ``FRAME_HEIGHT``)."""
    src = escape(iframe_src(base_url, options), quote=True)
    return (
        f'<iframe src="{src}" title="{escape(title, quote=True)}" '
        f'style="width:100%;height:{FRAME_HEIGHT}px;border:0" loading="lazy"></iframe>\n'
        f'<script src="{base_url}{RESIZE_SCRIPT}" async></script>'
    )
