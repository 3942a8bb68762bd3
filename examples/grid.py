"""A spot grid written against the public API: buy on each line below the price, and sell one
line above each buy once it fills (and buy one line below each filled sell).

The lines are ``step_pct`` apart around the first mid, each buying ``amount`` of the quote
asset's worth (20 USDT by default, on any symbol); a buy that fills at line ``i`` is
answered by a sell at line ``i + 1``, so each completed pair earns one step minus fees. The
step should be at least 2-3 times the round-trip fee (0.2% on Binance's default rates): the
default, 0.5%, is 2.5 of them. The built-in ``tradewire paper grid`` does the same and more
(ranges, geometric lines, stop loss, restarts); this is the version to read and change.

Run it::

    tradewire backtest run examples/grid.py:Grid --data sample --param step_pct=0.05
    tradewire paper run examples/grid.py:Grid
"""

from __future__ import annotations

from decimal import Decimal

from tradewire import OrderUpdate, Strategy, StrategyContext


class Grid(Strategy):
    """``lines`` buy lines below the first mid, each answered by a sell one line up."""

    name = "grid-example"

    def __init__(
        self, step_pct: Decimal = Decimal("0.5"), lines: int = 5, amount: Decimal = Decimal(20)
    ) -> None:
        if step_pct <= 0 or lines < 1 or amount <= 0:
            raise ValueError("step_pct, lines and amount must be positive")
        self.step = step_pct / 100
        self.lines = lines
        self.amount = amount  # of the quote asset, per line
        self.prices: list[Decimal] = []  # line i's price, lowest first

    async def on_start(self, ctx: StrategyContext) -> None:
        mid = ctx.mark_price
        assert mid is not None  # on_start comes after the first book
        top = self.lines  # line ``lines`` is the mid itself
        self.prices = [mid * (1 - self.step) ** (top - i) for i in range(top + 2)]
        for i in range(top):
            await ctx.buy(ctx.rules.floor_quantity(self.amount / self.prices[i]), self.prices[i])

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        order = update.order
        if order.status != "FILLED" or order.price is None:
            return
        line = self._line(order.price)
        if order.side == "BUY":
            await ctx.sell(order.quantity, self.prices[line + 1])
        elif line >= 1:
            await ctx.buy(order.quantity, self.prices[line - 1])

    def _line(self, price: Decimal) -> int:
        """The line nearest ``price`` (orders are rounded to the tick, so not exactly on it)."""
        return min(range(len(self.prices)), key=lambda i: abs(self.prices[i] - price))

    def needs_book(self) -> bool:
        return False  # it acts on its fills only
