"""Backtests of a strategy trading several symbols: merged in market time, one account."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.backtest import backtest
from tradewire.backtest.samples import sample_path
from tradewire.backtest.synth import synth_tapes
from tradewire.errors import BacktestError
from tradewire.trading.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
    from tradewire._core import Tape
    from tradewire.model import BookUpdate, MarketTrade, OrderUpdate


def _tapes(hours: float = 0.05, *symbols: str) -> dict[str, list[Tape]]:
    return {s: list(synth_tapes(s, hours, 9)) for s in symbols or ("BTCUSDT", "ETHUSDT")}


class _Pair(Strategy):
    """Buys 20 USDT of each symbol below its bid; notes every event it sees."""

    symbols = ("BTCUSDT", "ETHUSDT")

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.filled: list[str] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        for symbol in ctx.symbols:
            book = ctx.book_for(symbol)
            assert book is not None and book.best_bid is not None
            await ctx.buy(D(20) / book.best_bid, book.best_bid, symbol=symbol)

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.seen.append((book.symbol, book.time_ms))

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        self.seen.append((trade.symbol, trade.time_ms))

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        if update.fill is not None:
            self.filled.append(update.fill.symbol)


def test_a_backtest_of_two_symbols_sees_them_in_market_time_and_reports_each() -> None:
    strategy = _Pair()
    result = backtest(strategy, _tapes(), start_balances={"USDT": "1000"})
    times = [t for _, t in strategy.seen]
    assert times == sorted(times) and {s for s, _ in strategy.seen} == {"BTCUSDT", "ETHUSDT"}
    assert set(strategy.filled) == {"BTCUSDT", "ETHUSDT"}
    report = result.report
    assert report["mode"] == "backtest" and list(report["symbols"]) == ["BTCUSDT", "ETHUSDT"]
    by_symbol = report["symbols"]
    assert report["fills"] == sum(s["fills"] for s in by_symbol.values()) == len(result.fills)
    assert D(report["total_pnl"]) == sum(D(s["total_pnl"]) for s in by_symbol.values())
    # The equity change is the P&L of both symbols: nothing unexplained.
    assert D(report["unexplained_equity_change"]) == 0
    end = result.run.end_balances
    assert end["BTC"].total > 0 and end["ETH"].total > 0 and end["USDT"].total < 1000
    assert result.events == result.run.log.market_events > 0


def test_a_two_symbol_backtest_needs_the_data_of_each() -> None:
    with pytest.raises(BacktestError, match="give the data of each"):
        backtest(_Pair(), [sample_path()])
    with pytest.raises(BacktestError, match="the data is of BTCUSDT"):
        backtest(_Pair(), _tapes(0.01, "BTCUSDT"))
    with pytest.raises(BacktestError, match="start_ms"):
        backtest(_Pair(), _tapes(0.01), start_ms=0)


def test_symbols_quoted_in_different_assets_are_refused() -> None:
    class Cross(Strategy):
        symbols = ("BTCUSDT", "ETHBTC")

    data = {"BTCUSDT": list(synth_tapes("BTCUSDT", 0.01, 1)), "ETHBTC": []}
    with pytest.raises(BacktestError, match="share one quote asset"):
        backtest(Cross(), data)


def test_the_symbols_data_names_are_the_symbols_of_a_strategy_that_names_none() -> None:
    class Watcher(Strategy):
        def __init__(self) -> None:
            self.symbols_seen: set[str] = set()

        async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
            self.symbols_seen.add(trade.symbol)

    watcher = Watcher()
    result = backtest(watcher, _tapes(0.01))
    assert watcher.symbols_seen == {"BTCUSDT", "ETHUSDT"}
    assert result.run.symbol == "BTCUSDT"  # the first key is the primary
