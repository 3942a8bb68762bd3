"""Backtests of a strategy trading several symbols: merged in market time, one account."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire._core import Tape
from tradewire.backtest import backtest
from tradewire.backtest.samples import sample_path
from tradewire.backtest.synth import synth_tapes
from tradewire.errors import BacktestError
from tradewire.trading.strategy import Strategy, StrategyContext

if TYPE_CHECKING:
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


U = 10**8
MS = 1000  # µs
BUY, SELL, BID, ASK, END, CLEAR = range(6)
T0 = 1_704_067_200_000 * MS


def _tape(rows: list[tuple[int, int, float, float]]) -> Tape:
    """A tape from (kind, ms after T0, price, quantity) rows."""
    return Tape.from_columns(
        [r[0] for r in rows],
        [T0 + r[1] * MS for r in rows],
        [round(r[2] * U) for r in rows],
        [round(r[3] * U) for r in rows],
    )


def _book(ms: int, bid: float, ask: float) -> list[tuple[int, int, float, float]]:
    return [(CLEAR, ms, 0, 0), (BID, ms, bid, 5), (ASK, ms, ask, 5), (END, ms, 0, 0)]


class _Watcher(Strategy):
    """Notes each trade with both symbols' best bids as the strategy sees them then."""

    symbols = ("BTCUSDT", "ETHUSDT")

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, D | None, D | None]] = []
        self.ticks: list[int] = []

    def _bid(self, ctx: StrategyContext, symbol: str) -> D | None:
        book = ctx.book_for(symbol)
        return None if book is None else book.best_bid

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        offset = trade.time_ms - T0 // MS
        self.seen.append(
            (trade.symbol, offset, self._bid(ctx, "BTCUSDT"), self._bid(ctx, "ETHUSDT"))
        )

    async def on_timer(self, ctx: StrategyContext) -> None:
        if ctx.timer == "default":
            self.ticks.append(ctx.now_ms() - T0 // MS)


def test_several_symbols_go_in_market_time_ties_in_their_order_and_never_ahead() -> None:
    """At the same time the primary's rows go first; a callback sees the other symbol's book
    as of its own time: not a row later, even at the same millisecond."""
    btc = _tape([*_book(1, 100, 101), (SELL, 2, 100, 0.1), (BUY, 3, 101, 0.1), (SELL, 5, 100, 0.1)])
    eth = _tape(
        [
            *_book(1, 10, 11),
            *_book(3, 12, 13),
            (BUY, 3, 13, 0.1),
            (SELL, 4, 12, 0.1),
            *_book(4, 14, 15),
            (BUY, 6, 15, 0.1),
        ]
    )
    watcher = _Watcher()
    result = backtest(watcher, {"BTCUSDT": [btc], "ETHUSDT": [eth]}, book_every_ms=0)
    assert result.error is None and result.run.started_ms == T0 // MS + 1
    assert watcher.seen == [
        ("BTCUSDT", 2, D(100), D(10)),
        ("BTCUSDT", 3, D(100), D(10)),  # ETHUSDT's rows at 3 ms come after the primary's
        ("ETHUSDT", 3, D(100), D(12)),
        ("ETHUSDT", 4, D(100), D(12)),  # its next book, at 4 ms too, is after this trade
        ("BTCUSDT", 5, D(100), D(14)),
        ("ETHUSDT", 6, D(100), D(14)),
    ]
    # The order of the symbols is the strategy's: ETHUSDT first now, so its rows go first.
    watcher = _Watcher()
    watcher.symbols = ("ETHUSDT", "BTCUSDT")
    backtest(watcher, {"BTCUSDT": [btc], "ETHUSDT": [eth]}, book_every_ms=0)
    assert [(s, t) for s, t, _, _ in watcher.seen][:3] == [
        ("BTCUSDT", 2),
        ("ETHUSDT", 3),
        ("BTCUSDT", 3),
    ]


def test_the_default_timer_follows_the_merged_market_not_a_quiet_symbol() -> None:
    """ETHUSDT is quiet for five seconds: the timer still ticks every second of market time,
    before the first event (of either symbol) at or after each tick."""
    btc = _tape([row for ms in range(0, 5000, 100) for row in _book(ms, 100 + ms % 3, 102)])
    eth = _tape([*_book(0, 10, 11), *_book(5050, 10, 11)])
    watcher = _Watcher()
    backtest(watcher, {"BTCUSDT": [btc], "ETHUSDT": [eth]})
    assert watcher.ticks == [1000, 2000, 3000, 4000, 5050]


def test_several_symbols_start_and_end_where_asked() -> None:
    data = _tapes(0.02)
    first = min(int(t.time_us[0]) for tapes in data.values() for t in tapes[:1]) // MS
    start, end = first + 20_000, first + 50_000
    strategy = _Pair()
    result = backtest(strategy, data, start_ms=start, end_ms=end, start_balances={"USDT": "1000"})
    assert result.run.stop_reason == "duration"
    assert start <= result.run.started_ms < end  # at the first change of a book from start
    assert strategy.seen and all(start <= t < end for _, t in strategy.seen)
    assert all(f.time_ms < end for f in result.fills)
