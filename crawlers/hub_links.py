"""WebSub discovery: the hub and self links a feed advertises (W3C WebSub, section 4).

RSS 2.0 (as ``atom:link``) and Atom alike carry ``<link rel="hub" href=...>`` and
``<link rel="self" href=...>``; the self link is the topic to subscribe to. Pure: bytes in.
"""

from __future__ import annotations

from dataclasses import dataclass

import feedparser


@dataclass(frozen=True, slots=True)
class HubLinks:
    """The hub to subscribe at and the topic URL (the feed's self link), if advertised."""

    hub: str | None
    topic: str | None


def hub_links(body: bytes) -> HubLinks:
    """The first hub and self links of a feed; None for either when absent."""
    parsed = feedparser.parse(body)
    hub = topic = None
    for link in parsed.feed.get("links", []):
        rel, href = link.get("rel"), link.get("href")
        if not href or not href.startswith(("http://", "https://")):
            continue
        if rel == "hub" and hub is None:
            hub = href
        elif rel == "self" and topic is None:
            topic = href
    return HubLinks(hub=hub, topic=topic)
