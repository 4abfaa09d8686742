"""The benchmark client, run as its own process: times HTTP requests over loopback.

Reads a JSON job from stdin ({"scenarios": [{"name", "base", "requests": [[path, headers]],
"repeat", "expect"}]}) and prints per-scenario latencies in milliseconds as JSON.
"""

from __future__ import annotations

import json
import sys
import time

import httpx


def run(job: dict) -> dict[str, list[float]]:  # type: ignore[type-arg]
    """Time every request of every scenario (after a warm-up round) with keep-alive."""
    results: dict[str, list[float]] = {}
    with httpx.Client(timeout=60) as client:
        for scenario in job["scenarios"]:
            requests = scenario["requests"]
            expect = scenario.get("expect", 200)
            for path, headers in requests[: min(len(requests), 5)]:
                client.get(scenario["base"] + path, headers=headers)
            timings = []
            for i in range(scenario["repeat"]):
                path, headers = requests[i % len(requests)]
                started = time.perf_counter()
                response = client.get(scenario["base"] + path, headers=headers)
                _ = response.content
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != expect:
                    raise SystemExit(
                        f"{scenario['name']}: {path} gave {response.status_code}, "
                        f"expected {expect}: {response.text[:200]}"
                    )
            results[scenario["name"]] = timings
    return results


if __name__ == "__main__":
    print(json.dumps(run(json.load(sys.stdin))))
