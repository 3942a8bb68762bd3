"""Run a sweep: every point on an executor, the results in point order, the best one."""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from tradewire.errors import SweepError
from tradewire.sweep.executors import LocalExecutor

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tradewire.sweep.executors import Executor
    from tradewire.sweep.space import Params
    from tradewire.sweep.task import PointResult, SweepTask

__all__ = ["OBJECTIVES", "SweepResult", "metric_value", "run_sweep"]

#: The figures a sweep can rank by, and whether more is better (``max``) or less (``min``).
OBJECTIVES: dict[str, Literal["max", "min"]] = {
    "total_pnl": "max",
    "return_pct": "max",
    "grid_profit": "max",
    "fills": "max",
    "fees": "min",
    "max_drawdown": "min",
}


def metric_value(result: PointResult, metric: str) -> Decimal | None:
    """``metric`` of a point, exact (None if the point has no such figure)."""
    if metric not in OBJECTIVES:
        raise SweepError(f"unknown metric {metric!r}: one of {', '.join(OBJECTIVES)}")
    value = getattr(result, metric)
    return None if value is None else Decimal(value)


@dataclass(frozen=True)
class SweepResult:
    """Every point's result, in the order of the points, and the sweep's wall time."""

    points: list[PointResult]
    wall_s: float
    executor: dict[str, Any]

    def best(self, metric: str = "total_pnl") -> PointResult | None:
        """The point with the best ``metric`` (the first of equals), None if none has it."""
        sign = 1 if OBJECTIVES.get(metric) == "max" else -1
        best: tuple[Decimal, PointResult] | None = None
        for point in self.points:
            value = metric_value(point, metric)
            if value is not None and (best is None or sign * value > sign * best[0]):
                best = (value, point)
        return None if best is None else best[1]

    @property
    def failed(self) -> list[PointResult]:
        """The points that a refusal or an error stopped."""
        return [p for p in self.points if p.error is not None]


def run_sweep(
    task: SweepTask,
    points: Sequence[Params],
    executor: Executor | None = None,
    *,
    on_result: Callable[[PointResult], None] | None = None,
) -> SweepResult:
    """Backtest ``task`` at every point on ``executor`` (a local process pool by default).

    ``on_result`` is called with each point's result as it completes (a progress bar).

    Raises:
        SweepError: no points, or bad executor settings.
        DataError: the data cannot be read.
    """
    if not points:
        raise SweepError("a sweep needs at least one point")
    runner = executor or LocalExecutor()
    t0 = time.perf_counter()
    results: dict[int, PointResult] = {}
    for result in runner.run(task, points):
        results[result.index] = result
        if on_result is not None:
            on_result(result)
    wall_s = time.perf_counter() - t0
    return SweepResult([results[i] for i in range(len(points))], wall_s, runner.describe())
