"""Backtests: market events per second through the simulation engine, beside the Python loop.

* ``backtest/<strategy>``: ``TRADES`` public trades (swinging six dollars each way every
  40,000 trades, with a tick of noise; 25 trades a second of market time) as tapes, through
  :func:`tradewire.backtest.run_tapes`: the Rust engine reads the tape and matches the
  orders, and Python is called only for the strategy's own order updates (fills) and what it
  subscribed to.
* ``python-loop/<strategy>``: the same trades as :class:`~tradewire.model.MarketTrade` events
  through the :class:`~tradewire.trading.runner.Runner` and the paper broker, the loop paper
  trading runs (a Python call per event). Fewer events (``PEER_TRADES``): per event, it is the
  same work.

Strategies: ``noop`` (no callbacks) and ``grid`` (the grid bot, 20 lines one dollar apart
around the start, so it trades all through the run). Both sides run the same fill model
(``trade-through``) and fees. ``extra_info`` has the events per second and the fills.

* ``backtest/day-of-trades``: a zipped Binance trades file of a day's size (2M rows), read and
  run by ``backtest()``: unzip, the Rust CSV reader, the engine and the grid.
"""

from __future__ import annotations

import asyncio
import zipfile
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tradewire._core import Tape
from tradewire.backtest import backtest, run_tapes
from tradewire.bots.grid import GridBot
from tradewire.bots.params import GridParams
from tradewire.model import BookUpdate, MarketTrade, SymbolRules
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker, from_units

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

    from tradewire.model import MarketEvent

TRADES = 2_000_000
PEER_TRADES = 50_000
CHUNK = 500_000
RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
BALANCES = {"USDT": "1000000", "BTC": "10"}
START = 1_700_000_000_000_000  # µs
U = 10**8


class _Columns:
    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        # A tick a trade, swinging 6 dollars each way every 40,000 trades: a grid keeps trading.
        swing = np.round(600 * np.sin(np.arange(n) * (2 * np.pi / 40_000))).astype(np.int64)
        ticks = 6_500_000 + swing + rng.integers(-1, 2, n)
        self.price = ticks * (U // 100)
        self.kind = rng.integers(0, 2, n).astype(np.uint8)
        self.time_us = START + np.arange(n, dtype=np.int64) * 40_000
        self.qty = rng.integers(1, 20_000, n).astype(np.int64) * 1000

    def tapes(self) -> list[Tape]:
        n = len(self.kind)
        return [
            Tape.from_columns(
                self.kind[i : i + CHUNK].tolist(),
                self.time_us[i : i + CHUNK].tolist(),
                self.price[i : i + CHUNK].tolist(),
                self.qty[i : i + CHUNK].tolist(),
            )
            for i in range(0, n, CHUNK)
        ]

    def events(self, n: int) -> list[MarketEvent]:
        first = from_units(int(self.price[0]), RULES.tick_size)
        tick = RULES.tick_size
        out: list[MarketEvent] = [
            BookUpdate(
                "BTCUSDT",
                ((first - tick, Decimal(1)),),
                ((first + tick, Decimal(1)),),
                time_ms=int(self.time_us[0]) // 1000,
            )
        ]
        for i in range(n):
            out.append(
                MarketTrade(
                    "BTCUSDT",
                    str(i),
                    from_units(int(self.price[i]), tick),
                    from_units(int(self.qty[i]), RULES.step_size),
                    int(self.time_us[i]) // 1000,
                    buyer_is_maker=bool(self.kind[i]),
                )
            )
        return out


class _ListMarket:
    def __init__(self, events: list[MarketEvent]) -> None:
        self._events = events

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        for event in self._events:
            yield event


class NoOp(Strategy):
    """Does nothing."""


def _grid() -> Strategy:
    return GridBot(
        GridParams(
            Decimal(64990), Decimal(65010), 20, quantity_per_grid=Decimal("0.001"), force=True
        )
    )


STRATEGIES: dict[str, Callable[[], Strategy]] = {"noop": NoOp, "grid": _grid}


@pytest.fixture(scope="module")
def columns() -> _Columns:
    return _Columns(TRADES, seed=5)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_backtest(benchmark: Any, columns: _Columns, strategy: str) -> None:
    tapes = columns.tapes()
    results: list[Any] = []

    def round_() -> None:
        results.append(run_tapes(STRATEGIES[strategy](), tapes, RULES, start_balances=BALANCES))

    benchmark.group = f"backtest/{strategy}"
    benchmark.extra_info.update(impl="tradewire-backtest", events_per_round=TRADES)
    benchmark.pedantic(round_, rounds=3, iterations=1)
    result = results[-1]
    assert result.events == TRADES
    if strategy == "grid":
        assert len(result.fills) > 1000  # the grid trades all through the run
    benchmark.extra_info["fills"] = len(result.fills)
    if benchmark.stats is not None:
        benchmark.extra_info["events_per_s"] = round(TRADES / benchmark.stats.stats.mean)


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_python_loop(benchmark: Any, columns: _Columns, strategy: str) -> None:
    events = columns.events(PEER_TRADES)
    results: list[Any] = []

    def round_() -> None:
        broker = PaperBroker(RULES, BALANCES)
        runner = Runner(STRATEGIES[strategy](), broker, _ListMarket(events), RULES, mode="paper")
        loop = asyncio.new_event_loop()
        try:
            results.append(loop.run_until_complete(runner.run()))
        finally:
            loop.close()

    benchmark.group = f"backtest/{strategy}"
    benchmark.extra_info.update(impl="python-loop", events_per_round=PEER_TRADES)
    benchmark.pedantic(round_, rounds=3, iterations=1)
    result = results[-1]
    assert result.log.market_events == PEER_TRADES + 1
    benchmark.extra_info["fills"] = len(result.log.fills)
    if benchmark.stats is not None:
        benchmark.extra_info["events_per_s"] = round(PEER_TRADES / benchmark.stats.stats.mean)


def _trades_zip(path: Path, rows: int) -> Path:
    """A zipped Binance spot trades file of ``rows`` rows (a day of BTCUSDT is ~2M): the
    swinging prices above, times in microseconds (as from 2025), 7 columns, no header."""
    cols = _Columns(rows, seed=7)
    prices = cols.price // (U // 100)
    lines = [
        f"{i},{p // 100}.{p % 100:02d}000000,0.{q // 1000:05d}000,0,{t},"
        f"{'True' if k else 'False'},True\n"
        for i, (p, q, t, k) in enumerate(
            zip(
                prices.tolist(),
                cols.qty.tolist(),
                cols.time_us.tolist(),
                cols.kind.tolist(),
                strict=True,
            )
        )
    ]
    target = path / "BTCUSDT-trades-2025-01-02.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("BTCUSDT-trades-2025-01-02.csv", "".join(lines))
    return target


def test_a_day_of_trades_from_a_zip(
    benchmark: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``backtest(grid, ["BTCUSDT-trades-<day>.zip"])``: reading (unzip, parse in Rust) and the
    run together, on a day's worth of trades (2M rows; 20,000 when only smoke-testing)."""
    rows = 20_000 if benchmark.disabled else TRADES
    data = _trades_zip(tmp_path_factory.mktemp("day"), rows)
    results: list[Any] = []

    def round_() -> None:
        results.append(backtest(_grid(), [data], start_balances=BALANCES))

    benchmark.group = "backtest/day-of-trades"
    benchmark.extra_info.update(impl="tradewire-backtest", events_per_round=rows)
    benchmark.pedantic(round_, rounds=3, iterations=1)
    result = results[-1]
    assert result.events == rows
    assert len(result.fills) > rows // 2000
    benchmark.extra_info["fills"] = len(result.fills)
    if benchmark.stats is not None:
        benchmark.extra_info["seconds"] = round(benchmark.stats.stats.mean, 2)
