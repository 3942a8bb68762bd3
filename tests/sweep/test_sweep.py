"""Sweeps on the real BTCUSDT recording (tests/data/market): each point's figures are those of
the one backtest path, refused points carry their reason, and a local Ray gives exactly what the
local process pool gives."""

from __future__ import annotations

import pickle
import socket
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tradewire.backtest import backtest
from tradewire.bots.grid import GridBot
from tradewire.bots.params import GridParams
from tradewire.cli.sweep import BuiltinBot
from tradewire.errors import SweepError
from tradewire.sweep import (
    LocalExecutor,
    RayExecutor,
    StrategyClass,
    SweepTask,
    executor,
    grid_points,
    run_sweep,
)
from tradewire.sweep.task import local_tapes, run_point

if TYPE_CHECKING:
    from tradewire.sweep.space import Space

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
BALANCES = (("USDT", "20000"), ("BTC", "0.3"))
# The six minutes trade between about 61,600 and 62,050: a grid with lines $20-40 apart fills.
SPACE: Space = {"grids": (15, 30), "lower": (Decimal(61500), Decimal(61700))}
# steps of 13-40 USDT are under the 0.2% a round trip costs: forced, as a user studying them
FIXED = (("upper", Decimal(62100)), ("quantity", Decimal("0.002")), ("force", True))

# A strategy of the user's, loaded by every worker from its file (FILE.py:Class).
USER_STRATEGY = '''
from decimal import Decimal
from tradewire.trading.strategy import Strategy

class Bidder(Strategy):
    """Bids ``below`` dollars under the first book's best bid, ``size`` BTC."""

    def __init__(self, below: str, size: str = "0.002") -> None:
        if Decimal(below) < 0:
            raise ValueError(f"below must be >= 0, not {below}")
        self.below = Decimal(below)
        self.size = Decimal(size)

    async def on_start(self, ctx):
        await ctx.buy(self.size, ctx.book.best_bid - self.below)
'''


def _task(strategy: BuiltinBot | StrategyClass | None = None) -> SweepTask:
    bot = strategy or BuiltinBot("grid", FIXED, Decimal(20000))
    return SweepTask(bot, (str(RECORDING),), start_balances=BALANCES, seed=5)


def test_a_task_and_its_factories_are_small_and_picklable() -> None:
    for task in (_task(), _task(StrategyClass("bot.py:Bidder", (("size", "0.01"),)))):
        data = pickle.dumps(task)
        assert len(data) < 2000
        assert pickle.loads(data) == task


def test_each_point_gives_the_figures_of_a_plain_backtest() -> None:
    task = _task()
    tapes = local_tapes(task)
    for index, params in enumerate(grid_points(SPACE)):
        point = run_point(task, index, params, tapes)
        bot = GridBot(
            GridParams(
                params["lower"],  # type: ignore[arg-type]
                Decimal(62100),
                params["grids"],  # type: ignore[arg-type]
                quantity_per_grid=Decimal("0.002"),
                force=True,
            )
        )
        report = backtest(bot, [RECORDING], start_balances=dict(BALANCES)).report
        assert point.error is None
        assert point.fills == report["fills"] > 0
        assert (point.total_pnl, point.fees, point.grid_profit) == (
            report["total_pnl"],
            report["fees"],
            report["grid_profit"],
        )
        assert (point.max_drawdown, point.return_pct) == (
            report["max_drawdown"],
            report["return_pct"],
        )
        assert point.events == report["market_events"] > 100_000


def test_refused_parameters_are_recorded_with_the_reason_and_the_rest_run(
    tmp_path: Path,
) -> None:
    # lower 62,200 is above upper 62,100: the grid bot refuses it; the other points run.
    space: Space = {"grids": (15,), "lower": (Decimal(61500), Decimal(62200))}
    result = run_sweep(_task(), grid_points(space), LocalExecutor(2))
    ok, refused = result.points
    assert ok.error is None and ok.fills is not None and ok.fills > 0
    assert refused.error is not None and refused.error.startswith("BotConfigError")
    assert "lower_price < upper_price" in refused.error
    assert refused.total_pnl is None and refused.fills is None
    assert result.failed == [refused]
    assert result.best("total_pnl") == ok


def test_a_user_strategy_file_runs_in_the_workers_and_a_refusal_is_recorded(
    tmp_path: Path,
) -> None:
    source = tmp_path / "bidder.py"
    source.write_text(USER_STRATEGY)
    task = _task(StrategyClass(f"{source}:Bidder", (("size", "0.002"),)))
    points = grid_points({"below": ("0", "5", "-1")})
    result = run_sweep(task, points, LocalExecutor(2))
    at_bid, below, refused = result.points
    assert [p.params for p in result.points] == points
    assert at_bid.error is None and below.error is None
    assert at_bid.fills == 1  # a bid at the touch fills in six minutes that cross it
    assert (
        refused.error == "StrategyError: Bidder refused its parameters: below must be >= 0, not -1"
    )


def test_the_local_pool_agrees_with_points_run_in_this_process() -> None:
    task = _task()
    points = grid_points(SPACE)
    tapes = local_tapes(task)
    here = [run_point(task, i, p, tapes).figures() for i, p in enumerate(points)]
    pooled = run_sweep(task, points, LocalExecutor(2))
    assert [p.figures() for p in pooled.points] == here
    assert pooled.executor == {"executor": "local", "workers": 2}
    assert pooled.wall_s > 0


def test_bad_executor_settings_are_refused() -> None:
    with pytest.raises(SweepError, match="unknown executor"):
        executor("dask")
    with pytest.raises(SweepError, match="at least 1"):
        executor("local", workers=0)
    with pytest.raises(SweepError, match="needs --executor ray"):
        executor("local", ray_address="auto")
    with pytest.raises(SweepError, match="at least one point"):
        run_sweep(_task(), [])


@pytest.mark.slow
def test_a_local_ray_gives_exactly_the_figures_of_the_local_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ray = pytest.importorskip("ray")
    # No token file written under the user's home by a throwaway local cluster.
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    task = _task()
    points = [*grid_points(SPACE), {"grids": 15, "lower": Decimal(62200)}]  # the last refused
    local = run_sweep(task, points, LocalExecutor(2))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        on_ray = run_sweep(task, points, RayExecutor())
        assert ray.is_initialized()  # a Ray the caller started is left running
    finally:
        ray.shutdown()
    assert [p.figures() for p in on_ray.points] == [p.figures() for p in local.points]
    assert [p.params for p in on_ray.points] == points
    assert on_ray.points[-1].error is not None
    assert sum(p.fills or 0 for p in on_ray.points) > 0
    assert on_ray.executor["executor"] == "ray"


@pytest.mark.parametrize(
    ("address", "message"),
    [("nonsense", "auto, HOST:PORT or ray://HOST:PORT"), ("127.0.0.1:{port}", "nothing answers")],
)
def test_a_ray_address_where_nothing_listens_is_refused_at_once(address: str, message: str) -> None:
    pytest.importorskip("ray")
    with socket.socket() as s:  # a port nothing listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(SweepError, match=message):
        run_sweep(_task(), grid_points(SPACE), RayExecutor(address.format(port=port)))
    assert time.monotonic() - started < 10  # Ray alone would retry for minutes


def test_the_ray_executor_without_ray_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray gives
    with pytest.raises(SweepError, match=r"pip install 'tradewire\[ray\]'"):
        run_sweep(_task(), grid_points(SPACE), RayExecutor())
