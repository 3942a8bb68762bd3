"""One point of a sweep: what a worker receives, what it builds, what it sends back.

A worker receives a :class:`SweepTask` (the strategy's factory and fixed settings, the data's
paths, the symbol or its rules, the fill model, fees, latencies, balances and a seed: all small
and picklable) and one point's parameters. It builds the rest itself: the tapes (read once per
worker process and kept, or rebuilt from the columns a cluster shares), the strategy, the paper
account and the Rust engine. It returns a :class:`PointResult`, a few figures with amounts as
exact decimal strings, never the run's objects.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tradewire._core import Tape
from tradewire.backtest import default_rules, run_tapes
from tradewire.backtest.data import read_tape
from tradewire.errors import BacktestError, BotConfigError, TradewireError
from tradewire.model import Balance
from tradewire.trading.loading import load_strategy, make_strategy
from tradewire.venues.paper import from_units

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy.typing as npt

    from tradewire.backtest.run import FillModel
    from tradewire.rules import SymbolRules
    from tradewire.sweep.space import Params
    from tradewire.trading.strategy import Strategy

__all__ = [
    "METRICS",
    "Columns",
    "PointResult",
    "StrategyClass",
    "StrategyFactory",
    "SweepTask",
    "first_price",
    "read_columns",
    "run_point",
    "tapes_from_columns",
]

#: The figures of a point, as in the backtest's report.json (amounts as decimal strings).
METRICS = (
    "total_pnl",
    "fees",
    "fills",
    "max_drawdown",
    "return_pct",
    "grid_profit",
    "events",
    "stop_reason",
    "wall_s",
)

#: A tape's four columns (kind, time in µs, price and quantity in 10^-8 units), as numpy arrays.
Columns = tuple[
    "npt.NDArray[np.uint8]",
    "npt.NDArray[np.int64]",
    "npt.NDArray[np.int64]",
    "npt.NDArray[np.int64]",
]


class StrategyFactory(Protocol):
    """Builds one point's strategy in a worker; it must pickle (a module-level class or
    function, or an instance of one), since every worker receives it."""

    def __call__(
        self,
        params: Mapping[str, object],
        rules: SymbolRules,
        price: Decimal,
        balances: dict[str, Balance],
    ) -> Strategy:
        """The strategy for ``params``, on ``rules``, starting near ``price`` with ``balances``.

        Raises:
            BotConfigError: the parameters are refused (the point is recorded with the error).
        """
        ...


@dataclass(frozen=True)
class StrategyClass:
    """A :class:`~tradewire.trading.strategy.Strategy` subclass named ``file.py:Class`` or
    ``module:Class``, built with ``fixed`` and the point's parameters as keyword arguments."""

    spec: str
    fixed: tuple[tuple[str, object], ...] = ()

    def __call__(
        self,
        params: Mapping[str, object],
        rules: SymbolRules,
        price: Decimal,
        balances: dict[str, Balance],
    ) -> Strategy:
        """``Class(**fixed, **params)``; a constructor that refuses them refuses the point."""
        cls = _strategy_classes.get(self.spec)
        if cls is None:
            cls = _strategy_classes[self.spec] = load_strategy(self.spec)
        return make_strategy(cls, {**dict(self.fixed), **params})


#: Classes loaded in this process (a file is executed once per worker, not once per point).
_strategy_classes: dict[str, type[Strategy]] = {}


@dataclass(frozen=True)
class SweepTask:
    """Everything a worker needs besides the point's parameters: small and picklable.

    ``data`` are file paths, read in order (each worker reads them once, or a cluster shares
    their columns); ``rules`` default to the built-in rules of ``symbol``; ``start_balances``
    default to 10,000 of the quote asset and 0.1 of the base asset; ``seed`` seeds Python's and
    numpy's global generators before each point, so a strategy that draws random numbers gives
    the same figures on every executor.
    """

    strategy: StrategyFactory
    data: tuple[str, ...]
    symbol: str = "BTCUSDT"
    rules: SymbolRules | None = None
    fill_model: FillModel = "trade-through"
    maker_fee: str = "0.001"
    taker_fee: str = "0.001"
    bnb_discount: bool = False
    order_latency_ms: float = 0.0
    market_data_latency_ms: float = 0.0
    start_balances: tuple[tuple[str, str], ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None
    seed: int = 0

    def symbol_rules(self) -> SymbolRules:
        """The rules the points run with."""
        return self.rules or default_rules(self.symbol)

    def balances(self, rules: SymbolRules) -> dict[str, Decimal]:
        """The starting balances (exact)."""
        if self.start_balances:
            return {asset: Decimal(amount) for asset, amount in self.start_balances}
        return {rules.quote_asset: Decimal(10_000), rules.base_asset: Decimal("0.1")}

    def settings(self) -> dict[str, Any]:
        """The task as plain values (for ``sweep.json``)."""
        rules = self.symbol_rules()
        return {
            "strategy": repr(self.strategy),
            "data": list(self.data),
            "symbol": rules.symbol,
            "fill_model": self.fill_model,
            "maker_fee": self.maker_fee,
            "taker_fee": self.taker_fee,
            "bnb_discount": self.bnb_discount,
            "order_latency_ms": self.order_latency_ms,
            "market_data_latency_ms": self.market_data_latency_ms,
            "start_balances": {a: format(b, "f") for a, b in self.balances(rules).items()},
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class PointResult:
    """One point's figures, or the error that refused or stopped it.

    Amounts (``total_pnl``, ``fees``, ``max_drawdown``, ``grid_profit``) and ``return_pct``
    are decimal strings as in report.json; they are None for a point that did not run. A run
    that a strategy's error stopped keeps its figures and the error.
    """

    index: int
    params: Params
    total_pnl: str | None = None
    fees: str | None = None
    fills: int | None = None
    max_drawdown: str | None = None
    return_pct: str | None = None
    grid_profit: str | None = None
    events: int | None = None
    stop_reason: str | None = None
    wall_s: float | None = None
    error: str | None = field(default=None)

    def figures(self) -> dict[str, Any]:
        """The figures, without the wall time (what two executors must agree on)."""
        return {name: getattr(self, name) for name in METRICS if name != "wall_s"} | {
            "error": self.error
        }

    def record(self) -> dict[str, Any]:
        """Index, parameters, figures and error as plain values (for ``sweep.json``)."""
        return {
            "index": self.index,
            "params": {k: _plain(v) for k, v in self.params.items()},
            **{name: getattr(self, name) for name in METRICS},
            "error": self.error,
        }


def _plain(value: object) -> object:
    """A parameter value as JSON holds it (a Decimal as its exact string)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def read_columns(task: SweepTask) -> list[Columns]:
    """The task's data as the tapes' columns, chunk by chunk (what a cluster shares)."""
    symbol = task.symbol_rules().symbol
    out: list[Columns] = []
    for path in task.data:
        for tape in read_tape(path, symbol):
            out.append((tape.kind, tape.time_us, tape.price, tape.qty))
    return out


def tapes_from_columns(columns: Sequence[Columns]) -> list[Tape]:
    """Tapes again from :func:`read_columns`' chunks (the same chunks, so the same run)."""
    return [Tape.from_columns(k, t, p, q) for k, t, p, q in columns]  # type: ignore[arg-type]


#: Tapes read in this process, by (paths, symbol): a worker reads its data once.
_local_tapes: dict[tuple[tuple[str, ...], str], list[Tape]] = {}


def local_tapes(task: SweepTask) -> list[Tape]:
    """The task's tapes, read from its files the first time this process needs them."""
    key = (task.data, task.symbol_rules().symbol)
    tapes = _local_tapes.get(key)
    if tapes is None:
        tapes = [t for path in task.data for t in read_tape(path, key[1])]
        _local_tapes.clear()  # one data set at a time: memory stays that of one
        _local_tapes[key] = tapes
    return tapes


def first_price(tapes: Sequence[Tape], rules: SymbolRules) -> Decimal:
    """The first price in the data (built-in bots size their grid or deal from it).

    Raises:
        BacktestError: the data holds no price.
    """
    for tape in tapes:
        prices = tape.price[tape.price > 0]
        if len(prices):
            return from_units(int(prices[0]), rules.tick_size)
    raise BacktestError("the data holds no price")


def run_point(task: SweepTask, index: int, params: Params, tapes: Sequence[Tape]) -> PointResult:
    """Backtest one point over ``tapes``; a refused or failing point comes back with its error.

    Raises:
        DataError: the data cannot be read (the whole sweep fails, not one point).
    """
    random.seed(task.seed)
    np.random.seed(task.seed % 2**32)  # the global generator a strategy may use
    try:
        rules = task.symbol_rules()
        balances = task.balances(rules)
        held = {asset: Balance(asset, amount) for asset, amount in balances.items()}
        price = first_price(tapes, rules)
        try:
            strategy = task.strategy(params, rules, price, held)
        except TradewireError:
            raise
        except Exception as e:  # a user's constructor refuses its arguments in its own way
            raise BotConfigError(f"{type(e).__name__}: {e}") from e
        result = run_tapes(
            strategy,
            tapes,
            rules,
            fill_model=task.fill_model,
            start_balances=balances,
            maker_fee=task.maker_fee,
            taker_fee=task.taker_fee,
            bnb_discount=task.bnb_discount,
            order_latency_ms=task.order_latency_ms,
            market_data_latency_ms=task.market_data_latency_ms,
            start_ms=task.start_ms,
            end_ms=task.end_ms,
            bot="sweep",
            raise_errors=False,
        )
    except TradewireError as e:  # refused parameters, bad settings: this point only
        return PointResult(index, params, error=f"{type(e).__name__}: {e}")
    report = result.report
    return PointResult(
        index,
        params,
        total_pnl=report["total_pnl"],
        fees=report["fees"],
        fills=report["fills"],
        max_drawdown=report["max_drawdown"],
        return_pct=report["return_pct"],
        grid_profit=report["grid_profit"],
        events=result.events,
        stop_reason=report["stop_reason"],
        wall_s=round(result.wall_s, 4),
        error=result.error,
    )
