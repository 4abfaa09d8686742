"""The export cache: bodies kept by ETag within a byte bound, gzip made on first demand."""

from __future__ import annotations

import gzip

from api.export_cache import ExportCache


def test_gzip_is_made_on_demand_once_and_counted_in_the_bound() -> None:
    cache = ExportCache(max_bytes=10_000)
    body = b"BEGIN:VEVENT\r\n" * 400  # 5,600 bytes, compresses well
    item = cache.put('"a"', body)
    assert item.size == len(body)  # nothing compressed at render time
    encoded = cache.gzipped('"a"', item)
    assert gzip.decompress(encoded) == body
    assert cache.gzipped('"a"', item) is encoded  # made once
    assert item.size == len(body) + len(encoded)
    # a second body that fits only without the first one's gzip pushes the first out
    other = cache.put('"b"', bytes(10_000 - len(body)))
    assert cache.get('"a"') is None and cache.get('"b"') is other


def test_small_bodies_are_not_compressed_and_large_ones_not_kept() -> None:
    cache = ExportCache(max_bytes=1000)
    assert not cache.put('"s"', b"x" * 100).compressible
    large = cache.put('"l"', b"x" * 2000)
    assert large.compressible and cache.get('"l"') is None
    assert gzip.decompress(cache.gzipped('"l"', large)) == b"x" * 2000
