"""Where closed candles come from: a series seeded with the venue's history and fed its closed
candles, the runner's choice by ``candle_source``, and its refusal where klines are not served."""

from __future__ import annotations

import asyncio
import dataclasses
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire._core import Tape
from tradewire.backtest import backtest
from tradewire.clock import WallClock
from tradewire.errors import ConfigError
from tradewire.model import Bar, BookUpdate, MarketTrade, SymbolRules
from tradewire.trading.candle_feed import venue_candles
from tradewire.trading.candles import CandleSeries
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.model import MarketEvent
    from tradewire.trading.strategy import CandleSourceChoice, StrategyContext

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"))
S = 1000
T0 = 1_723_161_600_000
U = 10**8


def bar(n: int, close: int = 100, *, interval: str = "1s") -> Bar:
    """The hand-made closed 1s candle of second ``n`` from T0."""
    return Bar(
        "BTCUSDT",
        interval,
        T0 + n * S,
        T0 + (n + 1) * S - 1,
        D(close),
        D(close + 1),
        D(close - 1),
        D(close),
        D("0.5"),
        D(close) / 2,
        3,
    )


# --- the series -----------------------------------------------------------------------------------


def test_a_seeded_series_keeps_the_venue_history_and_drops_candles_built_from_trades() -> None:
    series = CandleSeries("BTCUSDT", "1s", tick=D("0.01"), step=D("0.00001"), history=3)
    series.seed([bar(n) for n in range(5)])
    assert [c.open_time_ms for c in series.closed] == [T0 + 2 * S, T0 + 3 * S, T0 + 4 * S]
    assert series.history_arrays().close.tolist() == [100.0, 100.0, 100.0]
    # Trades still build the forming candle ...
    series.add(T0 + 5 * S + 10, 120 * U, U)
    forming = series.forming()
    assert forming is not None and forming.close == D(120) and not forming.closed
    # ... but the candle they close is dropped: the venue's comes through push.
    assert series.close_until(T0 + 6 * S) == []
    assert series.forming() is not None and series.next_close_ms == T0 + 7 * S
    assert [c.open_time_ms for c in series.closed][-1] == T0 + 4 * S
    assert series.push(bar(5, 121))
    assert series.history_arrays().close.tolist() == [100.0, 100.0, 121.0]


def test_push_refuses_a_candle_twice_an_older_one_and_a_forming_one() -> None:
    series = CandleSeries("BTCUSDT", "1s", tick=D("0.01"), step=D("0.00001"))
    series.seed([bar(0), bar(1)])
    assert not series.push(bar(1))
    assert not series.push(bar(0))
    assert not series.push(dataclasses.replace(bar(2), closed=False))
    assert series.push(bar(2))
    assert len(series.closed) == 3


# --- the runner, on a market that serves hand-made klines -------------------------------------


class KlineMarket:
    """A book and trades, then silence; klines: ``history`` closed, then ``live`` as they close."""

    def __init__(self, history: list[Bar], live: list[Bar]) -> None:
        self.history = history
        self.live = live
        self.asked: list[tuple[str, str, int]] = []
        self.since: list[int | None] = []
        self.go = asyncio.Event()

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        yield BookUpdate(symbol, ((D(99), D(1)),), ((D(101), D(1)),), time_ms=T0 + 10 * S)
        yield MarketTrade(symbol, "1", D(100), D("0.5"), T0 + 10 * S + 1)
        self.go.set()
        await asyncio.Event().wait()

    async def candle_history(self, symbol: str, interval: str, limit: int) -> list[Bar]:
        self.asked.append((symbol, interval, limit))
        return self.history[-limit:]

    async def closed_candles(
        self, symbol: str, interval: str, *, since_ms: int | None = None
    ) -> AsyncIterator[Bar]:
        self.since.append(since_ms)
        await self.go.wait()  # the closed candles come after the strategy started
        for one in self.live:
            yield one
        await asyncio.Event().wait()


class Watcher(Strategy):
    """Notes the history at its first callback and each candle; stops after ``stop_after``."""

    def __init__(
        self,
        stop_after: int,
        *,
        subscribe: tuple[str, int] | None = None,
        source: CandleSourceChoice = "auto",
    ) -> None:
        self.stop_after = stop_after
        self.subscribe = subscribe
        self.candle_source = source
        self.first_history: list[int] = []
        self.bars: list[Bar] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        if self.subscribe is not None:
            interval, history = self.subscribe
            ctx.subscribe_candles(interval, history=history)
        else:
            self.first_history = ctx.history("1s").time.tolist()

    def _note(self, ctx: StrategyContext) -> None:
        """The history of a series subscribed in on_start, at the first callback after it."""
        if self.subscribe is not None and not self.first_history:
            self.first_history = ctx.history(self.subscribe[0]).time.tolist()

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self._note(ctx)

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        self._note(ctx)

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.bars.append(candle)
        if len(self.bars) == self.stop_after:
            ctx.request_stop("enough candles")


def _run(strategy: Strategy, market: KlineMarket) -> Runner:
    runner = Runner(strategy, PaperBroker(RULES, {"USDT": "1000"}), market, RULES, mode="paper")
    result = asyncio.run(asyncio.wait_for(runner.run(), 20))
    assert result.stop_reason == "strategy", result.stop_detail
    return runner


def test_the_history_is_full_at_the_first_callback_and_candles_come_from_the_venue() -> None:
    class Declared(Watcher):
        candles = ("1s",)

    market = KlineMarket([bar(n) for n in range(10)], [bar(10, 105), bar(11, 106)])
    strategy = Declared(2)
    runner = _run(strategy, market)
    assert runner.venue_candles is not None
    assert market.asked == [("BTCUSDT", "1s", 500)]
    assert strategy.first_history == [T0 + n * S for n in range(10)]
    assert strategy.bars == [bar(10, 105), bar(11, 106)]  # as the venue built them
    # The reader asked for the candles from the one after the history on.
    assert market.since == [T0 + 10 * S]


def test_a_series_subscribed_in_on_start_is_seeded_with_its_history_length() -> None:
    market = KlineMarket([bar(n) for n in range(10)], [bar(9), bar(10, 105)])
    strategy = Watcher(1, subscribe=("1s", 4))
    _run(strategy, market)
    assert market.asked == [("BTCUSDT", "1s", 4)]
    assert strategy.first_history == [T0 + n * S for n in range(6, 10)]
    assert strategy.bars == [bar(10, 105)]  # bar(9), already in the history, not twice


def test_candle_source_trades_builds_them_from_trades_on_a_market_with_klines() -> None:
    class Declared(Watcher):
        candles = ("1s",)

    market = KlineMarket([bar(n) for n in range(10)], [])
    strategy = Declared(1, source="trades")
    runner = Runner(strategy, PaperBroker(RULES, {"USDT": "1000"}), market, RULES, mode="paper")
    assert runner.venue_candles is None
    assert market.asked == []


def test_the_choice_of_candle_source() -> None:
    market = KlineMarket([], [])
    clock = WallClock()
    assert venue_candles(Watcher(1), market, clock)
    assert not venue_candles(Watcher(1, source="trades"), market, clock)
    assert venue_candles(Watcher(1, source="venue"), market, clock)
    tape = TapeMarket([Tape.from_columns([], [], [], [])])
    assert not venue_candles(Watcher(1), tape, clock)  # auto: trades
    with pytest.raises(ConfigError, match="TapeMarket serves no venue klines"):
        venue_candles(Watcher(1, source="venue"), tape, clock)
    bad = Watcher(1)
    bad.candle_source = "klines"  # type: ignore[assignment]
    with pytest.raises(ConfigError, match="candle_source must be one of"):
        venue_candles(bad, market, clock)


def test_candle_source_venue_is_refused_on_a_tape_market_and_in_a_backtest() -> None:
    class Venue(Strategy):
        candles = ("1m",)
        candle_source = "venue"

    tape = Tape.from_columns([], [], [], [])
    with pytest.raises(ConfigError, match="TapeMarket serves no venue klines"):
        Runner(
            Venue(), PaperBroker(RULES, {"USDT": "1000"}), TapeMarket([tape]), RULES, mode="paper"
        )
    with pytest.raises(ConfigError, match=r"market time .* serves no venue klines"):
        backtest(Venue(), [tape])
