"""Peak memory of a process tree, read from /proc (Linux)."""

from __future__ import annotations

from pathlib import Path


def tree_peak_kb(pid: int) -> int:
    """The largest VmHWM (peak resident set, kB) of a process and its descendants, 0 once gone.

    Not ``ru_maxrss``: Linux carries a parent's high-water mark across fork and exec, so a
    child started by a large process reports the parent's peak instead of its own.
    """
    peak = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak
