"""schema.org ItemList of event pages for a list page (search results, a region): a pure renderer.

Google's rules for a summary page of a carousel: one ``ItemList`` whose ``itemListElement``
are ``ListItem``s with ``position`` (1, 2, ... in the order shown) and ``url``, each the
page of one event on this same site, unique, and each with its own Event markup (every
event page has it). The list holds what the page shows, not more.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from feeds.jsonld import event_page_url


def item_list_jsonld(event_ids: Iterable[str], *, base_url: str, name: str) -> dict[str, Any]:
    """An ItemList of the pages of these events, in this order (duplicates left out)."""
    urls = list(dict.fromkeys(event_page_url(i, base_url=base_url) for i in event_ids))
    return {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": name,
        "numberOfItems": len(urls),
        "itemListElement": [
            {"@type": "ListItem", "position": position, "url": url}
            for position, url in enumerate(urls, start=1)
        ],
    }
