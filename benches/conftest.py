"""Shared setup for the benchmarks in ``benches/``.

The garbage collector is frozen and disabled at import, as orjson's benchmarks do, so a collection
pass never lands inside a timed round. Everything allocated while importing (tradewire, orjson,
ccxt, order-book) is moved to the permanent generation first.

In the normal suite (``--benchmark-disable``, the default ``addopts``) the benches run once as smoke
tests and nothing is timed, so the collector is switched back on there: the rest of the suite must
not run without it.

Set ``TRADEWIRE_BENCH_CPU`` (e.g. ``0`` or ``0,1``) to pin the process to those CPUs.
"""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest

gc.collect()
gc.freeze()
gc.disable()

_cpus = os.environ.get("TRADEWIRE_BENCH_CPU")
if _cpus and hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {int(cpu) for cpu in _cpus.split(",")})


def pytest_configure(config: pytest.Config) -> None:
    # pytest-benchmark's rule: --benchmark-enable wins over --benchmark-disable (from addopts).
    measuring = config.getoption("benchmark_enable", default=False) or not config.getoption(
        "benchmark_disable", default=False
    )
    if not measuring:
        gc.unfreeze()
        gc.enable()
