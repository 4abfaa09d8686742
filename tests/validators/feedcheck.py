"""Feed checks equivalent to the W3C Feed Validation Service's, for RSS 2.0 and Atom 1.0.

PyPI has no maintained port of the W3C validator (it is Python 2 code behind a web
service), so this helper implements the checks of its rule set that apply to feeds like
ours, with the W3C message names, each as ``"Name: where (detail)"``:

- RSS 2.0 (RSS Advisory Board spec): MissingElement (channel title/link/description),
  ItemMustContainTitleOrDescription, DuplicateElement, InvalidRFC2822Date, InvalidURL
  (link, permalink guid, source/@url, atom:link/@href), InvalidLanguage, MissingAtomSelfLink,
  MissingAttribute (source/@url), DuplicateGuid, InvalidW3CDTFDate (ev:startdate,
  ev:enddate), UndefinedElement (elements RSS 2.0 does not define), NotBlank, and the
  HTML checks of descriptions (SecurityRisk, ContainsRelRef).
- Atom (RFC 4287): MissingElement (feed/entry id, title, updated, author), MissingSelf,
  DuplicateAtomLink, DuplicateEntries, DuplicateUpdated, InvalidRFC3339Date, InvalidIRI /
  InvalidTAG (ids), InvalidTextType, MissingTextualContent, MissingContentOrAlternate,
  UnregisteredAtomLinkRel (IANA link relations), AtomLinkNotEmpty, MissingHref, and the
  HTML checks of type="html" text.
"""

from __future__ import annotations

import re
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
EV = "http://purl.org/rss/1.0/modules/event/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_RSS_CHANNEL = {
    "title", "link", "description", "language", "copyright", "managingEditor", "webMaster",
    "pubDate", "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "image",
    "rating", "textInput", "skipHours", "skipDays", "item",
}  # fmt: skip
_RSS_ITEM = {
    "title", "link", "description", "author", "category", "comments", "enclosure", "guid",
    "pubDate", "source",
}  # fmt: skip
_RSS_ONCE = {"title", "link", "description", "language", "pubDate", "lastBuildDate", "guid"}
# IANA link relations (the W3C validator warns on others that are not URIs)
_ATOM_RELS = {
    "alternate", "related", "self", "enclosure", "via", "first", "last", "next", "previous",
    "prev", "current", "edit", "license", "replies", "hub", "payment", "search",
}  # fmt: skip
_LANG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_W3CDTF = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$"
)
_TAG_URI = re.compile(
    r"^tag:([a-z0-9\-._]+?@)?[a-z0-9.\-]+?,\d{4}(-\d{2}(-\d{2})?)?:"
    r"[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*(#[0-9a-zA-Z;/?:@&=+$.\-_!~*'()%,]*)?$"
)
_UNSAFE_TAGS = {"script", "iframe", "object", "embed", "form", "style", "meta", "link", "frame"}


def _is_url(value: str | None) -> bool:
    if not value or value != value.strip() or " " in value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class _HtmlCheck(HTMLParser):
    """W3C's checks of escaped HTML: unsafe markup and relative references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _UNSAFE_TAGS:
            self.problems.append(f"SecurityRisk: <{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"SecurityRisk: {tag}/@{name}")
            if name in ("href", "src") and value is not None and not urlsplit(value).scheme:
                self.problems.append(f"ContainsRelRef: {tag}/@{name}={value!r}")


def _html_problems(text: str, where: str) -> list[str]:
    checker = _HtmlCheck()
    checker.feed(text)
    checker.close()
    found = []
    for problem in checker.problems:
        name, detail = problem.split(":", 1)
        found.append(f"{name}: {where} ({detail.strip()})")
    return found


def _local(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, name = tag[1:].split("}", 1)
        return ns, name
    return None, tag


def check_rss(body: bytes) -> list[str]:
    """Every W3C-equivalent error and warning of an RSS 2.0 document."""
    problems: list[str] = []
    root = ET.fromstring(body)
    if root.tag != "rss" or root.get("version") != "2.0":
        return ["InvalidRSSVersion: rss (root must be <rss version='2.0'>)"]
    channels = root.findall("channel")
    if len(channels) != 1:
        return [f"MissingElement: rss (one channel expected, {len(channels)} found)"]
    channel = channels[0]
    problems += _rss_children(channel, "channel", _RSS_CHANNEL)
    for name in ("title", "link", "description"):
        if channel.find(name) is None:
            problems.append(f"MissingElement: channel/{name}")
    link = channel.findtext("link")
    if link is not None and not _is_url(link):
        problems.append(f"InvalidURL: channel/link ({link!r})")
    language = channel.findtext("language")
    if language is not None and not _LANG.match(language):
        problems.append(f"InvalidLanguage: channel/language ({language!r})")
    for name in ("pubDate", "lastBuildDate"):
        problems += _rfc2822(channel.findtext(name), f"channel/{name}")
    selves = [e for e in channel.findall(f"{{{ATOM}}}link") if e.get("rel") == "self"]
    if not selves:
        problems.append("MissingAtomSelfLink: channel")
    for element in channel.findall(f"{{{ATOM}}}link"):
        if not _is_url(element.get("href")):
            problems.append(f"InvalidURL: channel/atom:link/@href ({element.get('href')!r})")
    guids: set[str] = set()
    for index, item in enumerate(channel.findall("item")):
        where = f"item[{index}]"
        problems += _rss_children(item, where, _RSS_ITEM)
        if item.find("title") is None and item.find("description") is None:
            problems.append(f"ItemMustContainTitleOrDescription: {where}")
        if (text := item.findtext("link")) is not None and not _is_url(text):
            problems.append(f"InvalidURL: {where}/link ({text!r})")
        problems += _rfc2822(item.findtext("pubDate"), f"{where}/pubDate")
        guid = item.find("guid")
        if guid is not None:
            value = (guid.text or "").strip()
            if not value:
                problems.append(f"NotBlank: {where}/guid")
            if guid.get("isPermaLink", "true") == "true" and not _is_url(value):
                problems.append(f"InvalidPermalink: {where}/guid ({value!r})")
            if value in guids:
                problems.append(f"DuplicateGuid: {where}/guid ({value!r})")
            guids.add(value)
        for category in item.findall("category"):
            if not (category.text or "").strip():
                problems.append(f"NotBlank: {where}/category")
        for source in item.findall("source"):
            if source.get("url") is None:
                problems.append(f"MissingAttribute: {where}/source/@url")
            elif not _is_url(source.get("url")):
                problems.append(f"InvalidURL: {where}/source/@url ({source.get('url')!r})")
        if (description := item.findtext("description")) is not None:
            problems += _html_problems(description, f"{where}/description")
        for name in ("startdate", "enddate"):
            value = item.findtext(f"{{{EV}}}{name}")
            if value is not None and not _W3CDTF.match(value):
                problems.append(f"InvalidW3CDTFDate: {where}/ev:{name} ({value!r})")
    return problems


def _rss_children(parent: ET.Element, where: str, known: set[str]) -> list[str]:
    problems = []
    seen: set[str] = set()
    for child in parent:
        ns, name = _local(child.tag)
        if ns is None:
            if name not in known:
                problems.append(f"UndefinedElement: {where}/{name}")
            if name in _RSS_ONCE and name in seen:
                problems.append(f"DuplicateElement: {where}/{name}")
            if name == "source" and name in seen:
                problems.append(f"DuplicateElement: {where}/{name}")
            seen.add(name)
    return problems


def _rfc2822(value: str | None, where: str) -> list[str]:
    if value is None:
        return []
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return [f"InvalidRFC2822Date: {where} ({value!r})"]
    if parsed.tzinfo is None:
        return [f"InvalidRFC2822Date: {where} ({value!r}: no zone)"]
    return []


def check_atom(body: bytes) -> list[str]:
    """Every W3C-equivalent error and warning of an Atom 1.0 (RFC 4287) document."""
    problems: list[str] = []
    feed = ET.fromstring(body)
    if feed.tag != f"{{{ATOM}}}feed":
        return [f"UndefinedElement: root {feed.tag!r} is not atom:feed"]

    def a(name: str) -> str:
        return f"{{{ATOM}}}{name}"

    problems += _atom_common(feed, "feed")
    if not any(link.get("rel") == "self" for link in feed.findall(a("link"))):
        problems.append("MissingSelf: feed")
    entries = feed.findall(a("entry"))
    feed_author = feed.find(a("author")) is not None
    ids: set[str] = set()
    updates: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        problems += _atom_common(entry, where)
        if not feed_author and entry.find(a("author")) is None:
            problems.append(f"MissingElement: {where}/author")
        content = entry.find(a("content"))
        if content is None:
            if entry.find(a("summary")) is None:
                problems.append(f"MissingTextualContent: {where}")
            if not any(
                link.get("rel", "alternate") == "alternate" for link in entry.findall(a("link"))
            ):
                problems.append(f"MissingContentOrAlternate: {where}")
        identifier = (entry.findtext(a("id")) or "").strip()
        if identifier in ids:
            problems.append(f"DuplicateEntries: {where}/id ({identifier!r})")
        ids.add(identifier)
        updated = (entry.findtext(a("updated")) or "").strip()
        if updated in updates:
            problems.append(
                f"DuplicateUpdated: {where}/updated ({updated!r}, as entry[{updates[updated]}])"
            )
        updates.setdefault(updated, index)
        for name in ("published",):
            if (value := entry.findtext(a(name))) is not None and not _RFC3339.match(value):
                problems.append(f"InvalidRFC3339Date: {where}/{name} ({value!r})")
    return problems


def _atom_common(element: ET.Element, where: str) -> list[str]:
    """What feed and entry share: id, title, updated, links, text constructs."""
    problems: list[str] = []

    def a(name: str) -> str:
        return f"{{{ATOM}}}{name}"

    for name in ("id", "title", "updated"):
        found = element.findall(a(name))
        if not found:
            problems.append(f"MissingElement: {where}/{name}")
        elif len(found) > 1:
            problems.append(f"DuplicateElement: {where}/{name}")
    identifier = (element.findtext(a("id")) or "").strip()
    if identifier.startswith("tag:"):
        if not _TAG_URI.match(identifier):
            problems.append(f"InvalidTAG: {where}/id ({identifier!r})")
    elif identifier and not urlsplit(identifier).scheme:
        problems.append(f"InvalidIRI: {where}/id ({identifier!r})")
    updated = element.findtext(a("updated"))
    if updated is not None and not _RFC3339.match(updated.strip()):
        problems.append(f"InvalidRFC3339Date: {where}/updated ({updated!r})")
    for name in ("title", "subtitle", "summary", "rights", "content"):
        for text in element.findall(a(name)):
            kind = text.get("type", "text")
            if name != "content" and kind not in ("text", "html", "xhtml"):
                problems.append(f"InvalidTextType: {where}/{name} ({kind!r})")
            if kind == "html":
                problems += _html_problems(text.text or "", f"{where}/{name}")
    seen: set[tuple[str, str, str]] = set()
    for link in element.findall(a("link")):
        rel = link.get("rel", "alternate")
        href = link.get("href")
        if href is None:
            problems.append(f"MissingHref: {where}/link")
        elif not urlsplit(href).scheme:
            problems.append(f"ContainsRelRef: {where}/link/@href ({href!r})")
        if link.text and link.text.strip():
            problems.append(f"AtomLinkNotEmpty: {where}/link")
        if rel not in _ATOM_RELS and not urlsplit(rel).scheme:
            problems.append(f"UnregisteredAtomLinkRel: {where}/link ({rel!r})")
        key = (rel, link.get("type", ""), link.get("hreflang", ""))
        if rel == "alternate" and key in seen:
            problems.append(f"DuplicateAtomLink: {where}/link ({key!r})")
        seen.add(key)
    for author in element.findall(a("author")):
        if author.find(a("name")) is None:
            problems.append(f"MissingElement: {where}/author/name")
    language = element.get(XML_LANG)
    if language is not None and not _LANG.match(language):
        problems.append(f"InvalidLanguage: {where}/@xml:lang ({language!r})")
    return problems
