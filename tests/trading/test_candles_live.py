"""Live, candles and named timers follow the wall clock: a quiet market still closes its candle
(``CANDLE_LAG_MS`` after its end, so trades on their way still count) and timers tick.

The clock is a stand-in whose every ``sleep`` moves its time on at once, so the test does not
wait in real time; the market sends a book and two trades, then nothing.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import TYPE_CHECKING

from tradewire.model import BookUpdate, MarketTrade, SymbolRules
from tradewire.trading.runner import CANDLE_LAG_MS, Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.model import Bar, MarketEvent
    from tradewire.trading.strategy import StrategyContext

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"))
T0 = 1_723_161_600_000


class SteppingClock:
    """Wall time that jumps forward by each sleep (to the ms), yielding to the loop once."""

    def __init__(self, start_ms: int) -> None:
        self.now = start_ms

    def now_ms(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(1, round(seconds * 1000))
        await asyncio.sleep(0)

    def observe(self, time_ms: int) -> bool:
        return False


class QuietMarket:
    """A book and two trades in the first minute, then silence."""

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        yield BookUpdate(symbol, ((D(99), D(1)),), ((D(101), D(1)),), time_ms=T0 + 1_000)
        yield MarketTrade(symbol, "1", D(100), D("0.5"), T0 + 2_000)
        yield MarketTrade(symbol, "2", D(102), D("0.25"), T0 + 30_000)
        await asyncio.Event().wait()


class Live(Strategy):
    candles = ("1m",)

    def __init__(self) -> None:
        self.candles_at: list[tuple[int, Bar]] = []
        self.ticks: list[int] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer("every10", 10.0)
        ctx.cancel_timer("default")
        self.started_ms = ctx.now_ms()

    async def on_timer(self, ctx: StrategyContext) -> None:
        assert ctx.timer == "every10"
        self.ticks.append(ctx.now_ms())

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.candles_at.append((ctx.now_ms(), candle))
        ctx.request_stop("the first candle closed")


def test_a_quiet_market_closes_its_candle_on_the_wall_clock() -> None:
    clock = SteppingClock(T0)
    strategy = Live()
    runner = Runner(
        strategy,
        PaperBroker(RULES, {"USDT": "1000"}),
        QuietMarket(),
        RULES,
        mode="paper",
        clock=clock,
    )
    result = asyncio.run(asyncio.wait_for(runner.run(), 30))
    assert result.stop_reason == "strategy"
    [(at, candle)] = strategy.candles_at
    assert (candle.open_time_ms, candle.trades, candle.close, candle.volume) == (
        T0,
        2,
        D(102),
        D("0.75"),
    )
    end = T0 + 60_000 + CANDLE_LAG_MS
    # The wall schedule looks every 100 ms; a loaded machine may run its loop later than that.
    assert end <= at <= end + 1000
    assert len(strategy.ticks) >= 5
    for i, tick in enumerate(strategy.ticks, 1):  # each tick at or just after its due time
        assert 0 <= tick - (strategy.started_ms + 10_000 * i) <= 100
