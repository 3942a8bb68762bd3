"""Sweeps: the wall time of one sweep on a local process pool of 1 and of 2 workers (and on a
local Ray of 2 CPUs, if Ray is installed), in the same run.

* ``sweep/8-points``: the grid bot at 8 points (300 or 400 lines, two lower and two upper
  prices, all a few cents apart so that every point trades thousands of times) over a Binance
  trades file of ``ROWS`` trades swinging $6 each way every 40,000 trades. Each point takes 2-3
  s on one core of the 2-core machine the figures were taken on. The wall time counts the pool's
  start, each worker reading the file once, and (for Ray) starting and stopping Ray.
  ``extra_info`` has the per-point wall times and whether the figures equal the 1-worker run's.

In the normal suite (benchmarks disabled) the file has ``SMOKE_ROWS`` trades: a smoke test.
"""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tradewire.cli.sweep import BuiltinBot
from tradewire.sweep import LocalExecutor, RayExecutor, SweepTask, grid_points, run_sweep

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.sweep import PointResult
    from tradewire.sweep.executors import Executor

ROWS = 1_000_000
SMOKE_ROWS = 20_000
SPACE: dict[str, tuple[object, ...]] = {
    "grids": (300, 400),
    "lower": (Decimal(59994), Decimal(59995)),
    "upper": (Decimal(60006), Decimal(60007)),
}
EXECUTORS = [
    "local-1",
    "local-2",
    # Ray takes seconds to start and stop: in the quick suite (-m "not slow") it is left out.
    *([pytest.param("ray-2", marks=pytest.mark.slow)] if importlib.util.find_spec("ray") else []),
]
_reference: dict[int, list[dict[str, Any]]] = {}


def _trades_file(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(1)
    swing = np.round(600 * np.sin(np.arange(rows) * (2 * np.pi / 40_000))).astype(np.int64)
    cents = 6_000_000 + swing + rng.integers(-1, 2, rows)
    times = 1_700_000_000_000 + np.arange(rows, dtype=np.int64) * 40  # ms, 25 trades a second
    makers = rng.integers(0, 2, rows)
    with path.open("w") as f:
        for i in range(rows):
            c = int(cents[i])
            maker = "True" if makers[i] else "False"
            f.write(f"{i},{c // 100}.{c % 100:02d},0.01000000,600.00,{times[i]},{maker},True\n")
    return path


def _executor(name: str) -> Executor:
    kind, workers = name.split("-")
    return LocalExecutor(int(workers)) if kind == "local" else RayExecutor(workers=int(workers))


@pytest.mark.parametrize("executor", EXECUTORS)
def test_sweep(
    benchmark: Any,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    executor: str,
) -> None:
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # a throwaway local Ray: no token file
    rows = SMOKE_ROWS if benchmark.disabled else ROWS
    folder = tmp_path_factory.mktemp("sweep")
    data = _trades_file(folder / "BTCUSDT-trades-2023-11-14.csv", rows)
    bot = BuiltinBot("grid", (("quantity", Decimal("0.001")), ("force", True)), Decimal(100_000))
    task = SweepTask(bot, (str(data),), start_balances=(("USDT", "100000"), ("BTC", "1")))
    points = grid_points(SPACE)
    results: list[list[PointResult]] = []

    def round_() -> None:
        results.append(run_sweep(task, points, _executor(executor)).points)

    benchmark.group = "sweep/8-points"
    benchmark.pedantic(round_, rounds=1, iterations=1)
    figures = [p.figures() for p in results[-1]]
    assert all(f["error"] is None and f["fills"] > 0 for f in figures)
    reference = _reference.setdefault(rows, figures)
    benchmark.extra_info.update(
        impl=executor,
        points=len(points),
        trades=rows,
        point_wall_s=[p.wall_s for p in results[-1]],
        matches_reference=figures == reference,
    )
    assert figures == reference
