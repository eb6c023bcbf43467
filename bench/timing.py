"""Timing for the benchmarks: the median of a few calls after a warm-up, within a time budget."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(run: Callable[[], object], repeats: int, budget_s: float = 20.0) -> float:
    """Median wall time in milliseconds of up to ``repeats`` calls after one warm-up call.

    Stops early once ``budget_s`` seconds of timed calls are spent, so a slow call on a busy
    machine cannot stretch a benchmark without end (at least one call is always timed).
    """
    run()
    times: list[float] = []
    while len(times) < repeats and sum(times) < budget_s:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
