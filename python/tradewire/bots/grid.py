"""The grid bot: buy orders on the grid lines below the price, sells above, re-placed on fills.

Of the ``grid_number + 1`` lines, the one nearest the start price stays empty. When a buy on
line i fills, a sell goes on line i + 1; when a sell on line i fills, a buy goes on line i - 1,
so each round trip earns one grid step on ``quantity`` (less fees). A price at or below
``stop_loss``, or at or above ``take_profit``, cancels the grid, sells what the bot bought
(``sell_on_stop``) and stops.

A grid whose step cannot pay the round trip's two maker fees is refused when it starts
(:func:`~tradewire.bots.params.check_fees`), unless ``force``: it then runs, with the warning
in the log and in :attr:`GridBot.warnings`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.bots.params import (
    check_fees,
    check_funds,
    grid_levels,
    grid_quantity,
    venue_fees,
)
from tradewire.errors import BotConfigError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.bots.params import GridParams
    from tradewire.model import Balance, BookUpdate, Order, OrderUpdate, Side, SymbolRules
    from tradewire.trading.strategy import StrategyContext

__all__ = ["GridBot", "GridPlan"]

_ZERO = Decimal(0)


class GridPlan:
    """The grid's lines, its quantity and the orders it starts with, at a start price."""

    def __init__(
        self,
        params: GridParams,
        rules: SymbolRules,
        price: Decimal,
        *,
        kept: Iterable[Order] = (),
    ) -> None:
        self.levels = grid_levels(params, rules)
        self.quantity = grid_quantity(params, rules, self.levels)
        levels = self.levels
        if not levels[0] <= price <= levels[-1]:
            raise BotConfigError(
                f"the price {price} is outside the grid [{levels[0]}, {levels[-1]}]"
            )
        # The line left empty is one of the two around the price: the nearest, unless the other
        # keeps more of the orders an earlier run left (``kept``) where they are.
        below = max(i for i, p in enumerate(levels) if p <= price)
        above = min(i for i, p in enumerate(levels) if p >= price)
        candidates = sorted({below, above}, key=lambda i: abs(levels[i] - price))
        held = {(o.side, o.price) for o in kept if o.quantity == self.quantity}
        self.empty = max(
            candidates, key=lambda e: sum((s, p) in held for _, s, p in self._orders_around(e))
        )
        self.orders: list[tuple[int, Side, Decimal]] = self._orders_around(self.empty)

    def _orders_around(self, empty: int) -> list[tuple[int, Side, Decimal]]:
        return [
            (i, "BUY" if i < empty else "SELL", p) for i, p in enumerate(self.levels) if i != empty
        ]

    @property
    def quote_needed(self) -> Decimal:
        """Quote locked by the starting buys."""
        return sum((p * self.quantity for _, s, p in self.orders if s == "BUY"), _ZERO)

    @property
    def base_needed(self) -> Decimal:
        """Base locked by the starting sells."""
        return sum((self.quantity for _, s, _ in self.orders if s == "SELL"), _ZERO)

    def check(self, balances: dict[str, Balance], rules: SymbolRules) -> None:
        """Raise :class:`BotConfigError` if the account cannot fund the starting orders."""
        check_funds(balances, rules, self.quote_needed, self.base_needed)


class GridBot(Strategy):
    """A spot grid bot (arithmetic or geometric lines).

    ``maker_fee`` and ``taker_fee`` are the rates its fee check counts with (fractions:
    ``0.001`` is 0.1%); left out, they are the venue's (a paper broker's), else Binance's 0.1%.
    """

    name = "grid"

    def __init__(
        self,
        params: GridParams,
        *,
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> None:
        self.params = params
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.warnings: list[str] = []
        """Why the parameters may lose money (set when forced past the fee check)."""
        self.plan: GridPlan | None = None
        self._line: dict[str, int] = {}  # open order -> grid line
        self.round_trips = 0

    async def on_start(self, ctx: StrategyContext) -> None:
        """Check the plan against the rules and balances, then place the starting orders.

        After a restart the open orders of the last run that sit on the plan's lines are taken
        back (:meth:`StrategyContext.claim`), the others canceled, and only the missing ones
        placed.
        """
        price = ctx.mark_price
        assert price is not None
        plan = GridPlan(self.params, ctx.rules, price, kept=ctx.unclaimed)
        maker, taker = venue_fees(ctx.venue, self.maker_fee, self.taker_fee)
        self.warnings = check_fees(self.params, ctx.rules, price, maker_fee=maker, taker_fee=taker)
        plan.check(await ctx.balances(), ctx.rules)
        self.plan = plan
        ctx.log(
            f"grid {plan.levels[0]}..{plan.levels[-1]}, {len(plan.levels) - 1} grids, "
            f"{plan.quantity} per grid, start {price}"
        )
        for warning in self.warnings:
            ctx.log(f"warning: {warning}")
        missing: list[tuple[int, Side, Decimal]] = []
        for line, side, line_price in plan.orders:
            kept = ctx.claim(side, plan.quantity, line_price)
            if kept is None:
                missing.append((line, side, line_price))
            else:
                self._line[kept.client_order_id] = line
        await ctx.cancel_unclaimed()  # frees what they lock before the missing ones are placed
        for line, side, line_price in missing:
            await self._place(ctx, line, side, line_price)

    async def _place(self, ctx: StrategyContext, line: int, side: Side, price: Decimal) -> None:
        assert self.plan is not None
        order = await ctx.place(side, self.plan.quantity, price)
        self._line[order.client_order_id] = line

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """On a filled grid order, place the opposite order one line away."""
        order = update.order
        if order.status != "FILLED" or self.plan is None:
            return
        line = self._line.pop(order.client_order_id, None)
        if line is None:
            return
        levels = self.plan.levels
        if order.side == "BUY" and line + 1 < len(levels):
            await self._place(ctx, line + 1, "SELL", levels[line + 1])
        elif order.side == "SELL" and line > 0:
            self.round_trips += 1
            await self._place(ctx, line - 1, "BUY", levels[line - 1])

    def needs_book(self) -> bool:
        """Only a stop-loss or take-profit watches the book."""
        return self.params.stop_loss is not None or self.params.take_profit is not None

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Stop on the stop-loss or take-profit price."""
        price = ctx.mark_price
        if price is None or self.plan is None or ctx.stop_requested.is_set():
            return
        params = self.params
        if params.stop_loss is not None and price <= params.stop_loss:
            await self._stop(ctx, f"stop-loss: price {price} <= {params.stop_loss}")
        elif params.take_profit is not None and price >= params.take_profit:
            await self._stop(ctx, f"take-profit: price {price} >= {params.take_profit}")

    async def _stop(self, ctx: StrategyContext, reason: str) -> None:
        await ctx.cancel_all()
        self._line.clear()
        qty = ctx.rules.floor_quantity(ctx.position)
        if self.params.sell_on_stop and qty > 0 and qty >= ctx.rules.min_qty:
            await ctx.sell(qty)
        ctx.request_stop(reason)
