"""The scheduler's queue length in this process, as the scheduler last set it (for /metrics).

The scheduler calls ``set_scheduler_queue_length`` whenever its queue of due sources
changes; the metrics read ``scheduler_queue_length`` (None until a scheduler ran here,
e.g. in ``agenda serve``, which schedules nothing).
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_length: int | None = None


def set_scheduler_queue_length(length: int) -> None:
    """Record how many sources are due and waiting for a harvest slot now."""
    global _length
    with _lock:
        _length = max(0, int(length))


def scheduler_queue_length() -> int | None:
    """The length last set, or None when no scheduler runs in this process."""
    with _lock:
        return _length
