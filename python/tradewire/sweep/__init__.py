"""Parameter sweeps: one strategy backtested at every point of a grid of parameters (or a
random sample of it), on a local process pool or on Ray, each point a small metrics record.

>>> from tradewire.sweep import StrategyClass, SweepTask, grid_points, run_sweep
>>> points = grid_points({"spread": ["5", "10"], "size": ["0.01", "0.02"]})
>>> len(points), points[0]
(4, {'spread': '5', 'size': '0.01'})

``run_sweep(SweepTask(StrategyClass("my_bot.py:MyBot"), data=("trades.zip",)), points)``
runs them and returns a :class:`SweepResult`; ``tradewire sweep`` is the command line
(docs/sweep.md).
"""

from __future__ import annotations

from tradewire.sweep.executors import EXECUTORS, LocalExecutor, RayExecutor, executor
from tradewire.sweep.output import write_sweep
from tradewire.sweep.run import OBJECTIVES, SweepResult, run_sweep
from tradewire.sweep.space import grid_points, parse_space, sample_points
from tradewire.sweep.task import PointResult, StrategyClass, StrategyFactory, SweepTask

__all__ = [
    "EXECUTORS",
    "OBJECTIVES",
    "LocalExecutor",
    "PointResult",
    "RayExecutor",
    "StrategyClass",
    "StrategyFactory",
    "SweepResult",
    "SweepTask",
    "executor",
    "grid_points",
    "parse_space",
    "run_sweep",
    "sample_points",
    "write_sweep",
]
