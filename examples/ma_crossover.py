"""A moving-average crossover on candles: long while the fast average is above the slow one.

On every closed candle of ``interval`` it computes the ``fast`` and ``slow`` simple moving
averages of the closes (``tradewire.indicators.sma``, TA-Lib's): when the fast one crosses
above the slow one it buys ``amount`` of the quote asset's worth at the market (20 USDT by
default, on any symbol), and when it crosses back below it sells what it holds. It never holds
more than one lot and never sells what it does not hold.

Run it (``pip install 'tradewire[indicators]'`` for TA-Lib)::

    tradewire backtest run examples/ma_crossover.py:MaCrossover --data sample --param interval=1s
    tradewire paper run examples/ma_crossover.py:MaCrossover
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire import Strategy, StrategyContext
from tradewire.indicators import sma

if TYPE_CHECKING:
    from tradewire.model import Bar


class MaCrossover(Strategy):
    """Buys when the fast SMA crosses above the slow one, sells when it crosses back below."""

    name = "ma-crossover"

    def __init__(
        self,
        fast: int = 10,
        slow: int = 30,
        amount: Decimal = Decimal(20),
        interval: str = "1m",
    ) -> None:
        if not 1 < fast < slow:
            raise ValueError("fast and slow must satisfy 1 < fast < slow")
        if amount <= 0:
            raise ValueError("amount must be positive")
        self.fast, self.slow, self.amount, self.interval = fast, slow, amount, interval
        #: The crossings seen: (the candle's close time, "up" or "down").
        self.crossings: list[tuple[int, str]] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe_candles(self.interval, history=self.slow + 1)

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        if candle.interval != self.interval or candle.symbol != ctx.symbol:
            return
        closes = ctx.history(self.interval).close
        if len(closes) <= self.slow:
            return  # the slow average needs slow closes, and one more to see a crossing
        fast, slow = sma(closes, self.fast), sma(closes, self.slow)
        above, was_above = fast[-1] > slow[-1], fast[-2] > slow[-2]
        if above == was_above:
            return
        self.crossings.append((candle.close_time_ms, "up" if above else "down"))
        held, mark, rules = ctx.position, ctx.mark_price, ctx.rules
        if mark is None:
            return
        if above and held * mark < self.amount / 2:
            quantity = rules.floor_quantity(self.amount / mark, market=True)
            if quantity * mark >= rules.min_notional:
                await ctx.buy(quantity)
        elif not above and held > 0:
            quantity = rules.floor_quantity(held, market=True)
            if quantity * mark >= rules.min_notional:
                await ctx.sell(quantity)
