"""Decode an HTTP body's ``Content-Encoding`` incrementally, with a limit on decoded bytes.

A decompressor asked for everything at once inflates a small body into gigabytes before
anyone can count: 1.8 kB of ``Content-Encoding: gzip, gzip`` is 2.2 GB decoded. Here every
layer hands on pieces of at most ``PIECE`` bytes (``zlib``'s ``max_length``), so memory
stays bounded by one piece per layer and the count of decoded bytes stops the body as soon
as it passes the limit, however the layers are stacked.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

PIECE = 64 * 1024

# zlib's wbits: 16 + MAX_WBITS reads a gzip wrapper, MAX_WBITS a zlib one, -MAX_WBITS raw.
_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class DecodedTooLarge(Exception):
    """The decoded body passed the byte limit."""


class UnsupportedEncoding(ValueError):
    """A Content-Encoding that this decoder does not read (or a corrupt body)."""


def encodings(header: str | None) -> list[str]:
    """The content codings of a ``Content-Encoding`` header, in the order they were applied.

    ``identity`` is no coding and is left out (RFC 9110, section 8.4).
    """
    if not header:
        return []
    names = [name.strip().lower() for name in header.split(",")]
    return [name for name in names if name and name != "identity"]


def _inflate(pieces: Iterable[bytes], coding: str) -> Iterator[bytes]:
    """Undo one layer of gzip or deflate, yielding at most ``PIECE`` bytes at a time."""
    wbits = _WBITS[coding]
    decompressor = zlib.decompressobj(wbits)
    first = True
    for piece in pieces:
        data = piece
        while data:
            try:
                out = decompressor.decompress(data, PIECE)
            except zlib.error as exc:
                if first and coding == "deflate":
                    # servers send raw deflate under this name too (no zlib header)
                    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                    first = False
                    continue
                raise UnsupportedEncoding(f"corrupt {coding} body: {exc}") from exc
            first = False
            if out:
                yield out
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                # gzip allows several members one after another (RFC 1952, section 2.2)
                rest = decompressor.unused_data
                if not rest or wbits != _WBITS["gzip"]:
                    break
                decompressor = zlib.decompressobj(wbits)
                data = rest
    tail = decompressor.flush()
    if tail:
        yield tail


def decode_stream(
    raw: Iterable[bytes], content_encoding: str | None, *, limit: int
) -> Iterator[bytes]:
    """Decode a raw body piece by piece; raise DecodedTooLarge past ``limit`` decoded bytes.

    The codings are undone in the reverse of the order they were applied. Raises
    UnsupportedEncoding for a coding other than gzip and deflate (we only ask for those).
    """
    stream: Iterable[bytes] = raw
    for coding in reversed(encodings(content_encoding)):
        if coding not in _WBITS:
            raise UnsupportedEncoding(f"unsupported Content-Encoding {coding!r}")
        stream = _inflate(stream, coding)
    received = 0
    for piece in stream:
        received += len(piece)
        if received > limit:
            raise DecodedTooLarge(f"decoded body exceeds the limit of {limit} bytes")
        yield piece
