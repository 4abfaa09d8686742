"""Run every benchmark module in bench/ (each prints its figures and baseline ratios)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> None:
    """Run the named benchmarks (default: all ``bench_*`` modules)."""
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
