"""Run every benchmark module in bench/ (each prints its figures and baseline ratios)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> None:
    """Run the named benchmarks (default: all ``bench_*`` modules).

    A name may drop its ``bench_`` prefix; options after the names go to the benchmarks
    that take them (``python -m bench harvest --sources 50``).
    """
    first_option = next((i for i, a in enumerate(argv) if a.startswith("-")), len(argv))
    names, options = argv[:first_option], argv[first_option:]
    if not names:
        names = sorted(
            m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
        )
    for name in names:
        name = name if name.startswith("bench_") else f"bench_{name}"
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}")
        if options:
            module.main(options)
        else:
            module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
