"""Text of a body that is UTF-8 except for a few bad bytes.

One invalid byte must not make a whole UTF-8 feed read as Windows-1252 ("CafÃ©" for every
"Café"). A body that holds valid multi-byte UTF-8 is UTF-8: it is decoded line by line,
and only a line that is not UTF-8 is read otherwise: as Windows-1252 when nothing in it
looks like UTF-8 (an "é" pasted from an old Windows tool: "Caf\\xe9"), else as UTF-8
with the bad bytes replaced by U+FFFD (a character cut short: "\\xe2\\x80"). A body
without any multi-byte UTF-8 is Windows-1252.
"""

from __future__ import annotations

import re

# a well-formed UTF-8 sequence of two to four bytes (RFC 3629 section 4)
_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
# the start of one (a lead byte and a continuation byte): a line with it is damaged UTF-8
_UTF8_START = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_LINES = re.compile(rb"(?<=\n)")


def decode_lenient(body: bytes, *, folded: bool = False) -> str:
    """Decode ``body`` as UTF-8, tolerating bad bytes per line (see the module docstring).

    With ``folded`` (iCalendar, RFC 5545 3.1), a line and its continuation lines (starting
    with a space or tab) are decoded together, since producers fold inside a multi-byte
    character; the unfolded text then takes the first line and the continuation lines are
    left blank, so that line numbers stay those of the body.
    """
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if not _MULTIBYTE.search(body):
        return body.decode("cp1252", errors="replace")
    lines = _LINES.split(body)
    out: list[str] = []
    index = 0
    while index < len(lines):
        group = [lines[index]]
        index += 1
        while folded and index < len(lines) and lines[index][:1] in (b" ", b"\t"):
            group.append(lines[index])
            index += 1
        if len(group) > 1:
            unfolded = _decode_line(b"".join(_unfold(group)))
            out.append(unfolded + "".join(_ending(line) for line in group))
        else:
            out.append(_decode_line(group[0]))
    return "".join(out)


def _unfold(group: list[bytes]) -> list[bytes]:
    """The group's content without line ends and without each continuation's first space."""
    first, *rest = group
    return [first.rstrip(b"\r\n"), *(line[1:].rstrip(b"\r\n") for line in rest)]


def _ending(line: bytes) -> str:
    return "\r\n" if line.endswith(b"\r\n") else "\n" if line.endswith(b"\n") else ""


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        if _UTF8_START.search(line):
            return line.decode("utf-8", errors="replace")
        return line.decode("cp1252", errors="replace")
