"""Recognise calendar formats this project does not read, so a source fails with one clear reason.

UiTdatabank CdbXML and offer JSON, Meetup, Notubiz, EventON and Facebook JSON are real
event formats, but none of the source kinds: guessing at them would store wrong events.
"""

from __future__ import annotations

import json
import re
from typing import Any

_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")
_XML_SKIP = re.compile(rb"^\s*(<\?[^>]*\?>|<!--.*?-->|<!DOCTYPE[^>]*>)", re.DOTALL)


def _xml_root(body: bytes) -> str | None:
    head = body[:8192].lstrip(b"\xef\xbb\xbf")
    while True:
        stripped = _XML_SKIP.sub(b"", head, count=1)
        if stripped == head:
            break
        head = stripped
    head = head.lstrip()
    if not head.startswith(b"<"):
        return None
    match = _XML_ROOT.match(head)
    return match.group(2).decode("ascii", "replace") if match else None


def _json_kind(data: Any) -> str | None:
    if isinstance(data, dict):
        keys = set(data)
        if "events" in keys and ("rest_url" in keys or "total_pages" in keys):
            return None  # The Events Calendar REST: read by the tribe reader
        if {"utc_offset", "time"} <= keys and ("event_url" in keys or "group" in keys):
            return "Meetup API event JSON"
        if "eventList" in keys or "cal_month_title" in keys:
            return "EventON calendar AJAX JSON"
        if "calendarType" in keys or str(data.get("@context", "")).startswith("/contexts/"):
            return "UiTdatabank offer JSON"
        if "documents" in keys and (
            "attributes" in keys
            or "plannings" in keys
            or ("api.notubiz.nl" in json.dumps(data)[:20000])
        ):
            return "Notubiz meeting JSON"
        if "data" in keys and isinstance(data["data"], list) and "paging" in keys:
            return "Facebook Graph API JSON"
    return "JSON of an unknown shape"


def unsupported_format(body: bytes, *, expected: str) -> str:
    """Describe why a body is not ``expected``: "unsupported format: <what it is>"."""
    text = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    root = _xml_root(body)
    if root is not None:
        known = {
            "cdbxml": "UiTdatabank CdbXML",
            "html": "an HTML page",
            "VCALENDAR": "iCalendar",
        }
        what = known.get(root, f"XML with root element <{root}>")
        if root.lower() == "html":
            what = "an HTML page"
        return f"unsupported format: {what}, not an {expected}"
    if text.upper().startswith(b"BEGIN:VCALENDAR"):
        return f"unsupported format: iCalendar, not an {expected} (use kind 'ics')"
    if text.startswith((b"{", b"[")):
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return f"unsupported format: broken JSON, not an {expected}"
        what = _json_kind(data) or "JSON"
        return f"unsupported format: {what}, not an {expected}"
    snippet = text[:60].decode("utf-8", "replace").replace("\n", " ")
    return f"unsupported format: not an {expected}; it starts with {snippet!r}"


def json_format(data: Any) -> str | None:
    """Name the known non-tribe JSON format of decoded data, or None for tribe REST."""
    return _json_kind(data)
