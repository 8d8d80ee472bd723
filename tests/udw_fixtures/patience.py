"""How long a test may wait for something, scaled to this machine and its load right now.

A wait tuned on a quiet machine fails on a loaded CI runner (2 cores shared by two test workers,
a browser and servers). `patience(60)` gives 60 s on a quiet, ordinary machine and proportionally
more where a fixed piece of work runs slower or the run queue is longer than the cores.
`UDW_TEST_PATIENCE` multiplies the result (e.g. 3 under a debugger or an emulator).
"""

from __future__ import annotations

import functools
import os
import time

# Seconds the calibration loop takes on a quiet core of the 2-core machines this suite is run on
# (measured 0.057-0.073 s); a faster machine gets factor 1, never less.
REFERENCE_SECONDS = 0.06
MAX_FACTOR = 10.0


@functools.lru_cache(maxsize=1)
def _slowness() -> float:
    """How much slower than the reference this machine runs a fixed pure-Python workload."""
    start = time.perf_counter()
    total = 0
    for i in range(300_000):
        total += i * i % 7
    return max(1.0, (time.perf_counter() - start) / REFERENCE_SECONDS)


def _load() -> float:
    """Runnable processes per core over the last minute (1.0 when the OS does not say)."""
    try:
        return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    except OSError:
        return 1.0


def factor() -> float:
    user = float(os.environ.get("UDW_TEST_PATIENCE") or 1.0)
    return min(MAX_FACTOR, _slowness() * _load()) * user


def patience(seconds: float) -> float:
    return seconds * factor()
