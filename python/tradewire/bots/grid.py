"""The grid bot: buy orders on the grid lines below the price, sells above, re-placed on fills.

Of the ``grid_number + 1`` lines, the one nearest the start price stays empty. When a buy on
line k fills, a sell goes on line k + 1; when a sell on line k fills, a buy goes on line k - 1,
so each round trip earns one grid step on ``quantity`` (less fees). A price at or below
``stop_loss``, or at or above ``take_profit``, cancels the grid, sells what the bot bought
(``sell_on_stop``) and stops.

What the platforms add (the parameters of :class:`~tradewire.bots.params.GridParams`):

- **Trailing up / down**: when the price leaves the range (its end order filled, the price
  beyond the end line), the range follows it by one line: the farthest order is canceled and
  one placed on the near end, up to ``trailing_up_limit`` / down to ``trailing_down_limit``.
- **Infinity**: geometric lines with no upper bound; the order between lines a and b trades
  ``investment / a - investment / b`` base, so the base held stays worth ``investment`` at
  the line the price last crossed; as the price rises the range follows it.
- **Reverse**: starts holding base, with sells on the lines above the price and none below;
  each sell's quote buys back one line lower, so a round trip's profit stays in base.
- **Trigger price**: nothing is placed until the price crosses ``trigger_price``.
- **Start order**: the base (or quote) the starting orders need and the account lacks is
  bought (or sold) first, in one MARKET or LIMIT order (``start_order``), fees counted; the
  plan is logged before the order is placed.

The range (after trailing moves) and whether the trigger fired are journaled
(:meth:`~tradewire.trading.journal.Journal.record_state`); a restart that finds the bot's orders
open rebuilds the same lines, takes those orders back and places only the missing ones.

A grid whose step cannot pay the round trip's two maker fees is refused when it starts
(:func:`~tradewire.bots.params.check_fees`), unless ``force``: it then runs, with the warning
in the log and in :attr:`GridBot.warnings`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from tradewire.bots.params import (
    BINANCE_FEE,
    ceil_quantity,
    check_fees,
    check_funds,
    grid_levels,
    grid_line,
    grid_quantity,
    infinity_quantity,
    venue_fees,
)
from tradewire.errors import BotConfigError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.bots.params import GridParams
    from tradewire.model import Balance, BookUpdate, Order, OrderUpdate, Side, SymbolRules
    from tradewire.trading.strategy import StrategyContext

__all__ = ["GridBot", "GridPlan", "StartOrder"]

_ZERO = Decimal(0)


@dataclass(frozen=True)
class StartOrder:
    """The one order that buys (or sells) what the grid's starting orders lack."""

    side: Side
    quantity: Decimal
    price: Decimal
    """The best ask (a buy) or bid (a sell): a LIMIT order's price, a MARKET order's estimate."""
    type: str
    reason: str

    def describe(self, rules: SymbolRules) -> str:
        """``BUY 0.0038 BTC at market (about 247.00 USDT): ...``, for the run's plan."""
        how = "at market" if self.type == "MARKET" else f"LIMIT at {self.price}"
        worth = (self.quantity * self.price).quantize(rules.tick_size)
        return (
            f"{self.side} {self.quantity} {rules.base_asset} {how} (about {worth} "
            f"{rules.quote_asset}): {self.reason}"
        )


class GridPlan:
    """The grid's lines, its quantity and the orders it starts with, at a start price.

    ``first`` is the index of the lowest line (0: ``lower_price``; a trailing grid's moves
    change it). With ``clamp`` a price outside the lines is allowed (a trailing grid, or a
    restart after the price left the range): the end line nearest it stays empty.
    """

    def __init__(
        self,
        params: GridParams,
        rules: SymbolRules,
        price: Decimal,
        *,
        kept: Iterable[Order] = (),
        first: int = 0,
        clamp: bool = False,
    ) -> None:
        self.params = params
        self.rules = rules
        self.first = first
        self.levels = grid_levels(params, rules, first)
        base_levels = self.levels if params.infinity else grid_levels(params, rules)
        self.quantity = grid_quantity(params, rules, base_levels)
        levels = self.levels
        if not levels[0] <= price <= levels[-1] and not clamp:
            raise BotConfigError(
                f"the price {price} is outside the grid [{levels[0]}, {levels[-1]}]"
            )
        # The line left empty is one of the two around the price: the nearest, unless the other
        # keeps more of the orders an earlier run left (``kept``) where they are.
        n = len(levels) - 1
        below = max((i for i, p in enumerate(levels) if p <= price), default=0)
        above = min((i for i, p in enumerate(levels) if p >= price), default=n)
        candidates = sorted({below, above}, key=lambda i: abs(levels[i] - price))
        held = {(o.side, o.price, o.quantity) for o in kept}
        empty = max(
            candidates,
            key=lambda e: sum((s, p, q) in held for _, s, p, q in self._orders_around(first + e)),
        )
        self.empty = first + empty
        self.sized: list[tuple[int, Side, Decimal, Decimal]] = self._orders_around(self.empty)
        """The starting orders: (line, side, price, quantity)."""
        self.orders: list[tuple[int, Side, Decimal]] = [(k, s, p) for k, s, p, _ in self.sized]
        """The starting orders: (line, side, price)."""

    @property
    def top(self) -> int:
        """The index of the highest line."""
        return self.first + self.params.grid_number

    def line(self, k: int) -> Decimal:
        """The price of line ``k`` (inside the range or past it)."""
        if self.first <= k <= self.top:
            return self.levels[k - self.first]
        return grid_line(self.params, self.rules, k)

    def shift(self, by: int) -> None:
        """Move the range ``by`` lines (up if positive)."""
        self.first += by
        self.levels = grid_levels(self.params, self.rules, self.first)

    def buy_quantity(self, k: int) -> Decimal:
        """The quantity of a buy on line ``k`` (whose sell goes on line ``k + 1``)."""
        params = self.params
        if params.infinity:
            assert params.investment is not None
            return infinity_quantity(params.investment, self.line(k), self.line(k + 1), self.rules)
        if params.reverse:
            with localcontext() as c:
                c.prec = 34
                return self.rules.floor_quantity(self.quantity * self.line(k + 1) / self.line(k))
        return self.quantity

    def sell_quantity(self, k: int) -> Decimal:
        """The quantity of a sell on line ``k`` (whose buy goes on line ``k - 1``)."""
        params = self.params
        if params.infinity:
            assert params.investment is not None
            return infinity_quantity(params.investment, self.line(k - 1), self.line(k), self.rules)
        return self.quantity

    def _orders_around(self, empty: int) -> list[tuple[int, Side, Decimal, Decimal]]:
        out: list[tuple[int, Side, Decimal, Decimal]] = []
        for i, p in enumerate(self.levels):
            k = self.first + i
            if k < empty and not self.params.reverse:
                out.append((k, "BUY", p, self.buy_quantity(k)))
            elif k > empty:
                out.append((k, "SELL", p, self.sell_quantity(k)))
        return out

    @property
    def quote_needed(self) -> Decimal:
        """Quote locked by the starting buys."""
        return sum((p * q for _, s, p, q in self.sized if s == "BUY"), _ZERO)

    @property
    def base_needed(self) -> Decimal:
        """Base locked by the starting sells (an infinity grid: the base worth ``investment``
        at the empty line, which its sells above take from)."""
        sells = sum((q for _, s, _, q in self.sized if s == "SELL"), _ZERO)
        if self.params.infinity:
            assert self.params.investment is not None
            with localcontext() as c:
                c.prec = 34
                held = ceil_quantity(self.rules, self.params.investment / self.line(self.empty))
            return max(sells, held)
        return sells

    def start_order(
        self,
        balances: dict[str, Balance],
        *,
        bid: Decimal | None,
        ask: Decimal | None,
        fee: Decimal = BINANCE_FEE,
    ) -> StartOrder | None:
        """The order that buys the base the starting sells lack (or sells the base that pays
        for the buys), fees counted; None if the balances cover both, or ``start_order`` is
        ``none``.

        A buy's fee is taken in base, so it buys ``shortfall / (1 - fee)``; a sell's in quote,
        so it sells enough for ``shortfall / (1 - fee)`` quote. Raised to the symbol's minimum
        quantity and notional if below them.
        """
        rules = self.rules
        if self.params.start_order == "none":
            return None
        free_base = balances[rules.base_asset].free if rules.base_asset in balances else _ZERO
        free_quote = balances[rules.quote_asset].free if rules.quote_asset in balances else _ZERO
        kind = "MARKET" if self.params.start_order == "market" else "LIMIT"
        with localcontext() as c:
            c.prec = 34
            base_short = self.base_needed - free_base
            if base_short > 0 and ask is not None:
                qty = self._at_least_minimum(ceil_quantity(rules, base_short / (1 - fee)), ask)
                return StartOrder(
                    "BUY",
                    qty,
                    ask,
                    kind,
                    f"the grid's sells need {self.base_needed} {rules.base_asset}, the account "
                    f"has {free_base} free",
                )
            quote_short = self.quote_needed - free_quote
            if quote_short > 0 and bid is not None:
                qty = ceil_quantity(rules, quote_short / (bid * (1 - fee)))
                qty = self._at_least_minimum(qty, bid)
                return StartOrder(
                    "SELL",
                    qty,
                    bid,
                    kind,
                    f"the grid's buys need {self.quote_needed} {rules.quote_asset}, the account "
                    f"has {free_quote} free",
                )
        return None

    def _at_least_minimum(self, qty: Decimal, price: Decimal) -> Decimal:
        rules = self.rules
        qty = max(qty, rules.min_qty)
        if qty * price < rules.min_notional:
            qty = ceil_quantity(rules, rules.min_notional / price)
        return qty

    def check(
        self,
        balances: dict[str, Balance],
        rules: SymbolRules,
        *,
        bid: Decimal | None = None,
        ask: Decimal | None = None,
        fee: Decimal = BINANCE_FEE,
    ) -> StartOrder | None:
        """Raise :class:`BotConfigError` if the account cannot fund the starting orders, after
        the start order (:meth:`start_order`, with ``bid``/``ask`` given) bought or sold what
        they lack; returns that order (None if none is needed)."""
        order = self.start_order(balances, bid=bid, ask=ask, fee=fee)
        quote, base = self.quote_needed, self.base_needed
        if order is not None and order.side == "BUY":
            quote += order.quantity * order.price
            base = _ZERO
        elif order is not None:
            base += order.quantity
            quote = _ZERO
        check_funds(balances, rules, quote, base)
        return order


class GridBot(Strategy):
    """A spot grid bot (arithmetic or geometric lines; trailing, infinity or reverse).

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
        self.trailing_moves = 0
        """How many lines the range moved (up or down) since the bot started."""
        self.triggered = params.trigger_price is None
        """Whether the price crossed ``trigger_price`` (always, without one)."""
        self.start_placed: Order | None = None
        """The order that bought (or sold) what the starting orders lacked, if one was needed."""
        self.start_plan: str | None = None
        """The start order the command line showed before the run (estimated at its price)."""
        self._trigger_from: Decimal | None = None
        self._start_cid: str | None = None
        self._taker = BINANCE_FEE
        self._saved: dict[str, Any] | None = None  # the state the journal holds last

    def _restored(self, ctx: StrategyContext) -> dict[str, Any] | None:
        """The journaled state of the last run, if its orders are open again (a restart)."""
        if ctx.journal is None or not ctx.unclaimed:
            return None
        state = ctx.journal.last_state()
        if state is None or state.get("bot") != "grid" or not isinstance(state.get("first"), int):
            return None
        return state

    def _state(self, first: int) -> dict[str, Any]:
        return {
            "bot": "grid",
            "first": first,
            "triggered": self.triggered,
            "trailing_moves": self.trailing_moves,
        }

    async def _save(self, ctx: StrategyContext) -> None:
        """Journal the range and trigger when they changed (a plain grid writes nothing)."""
        if ctx.journal is None or self.plan is None:
            return
        state = self._state(self.plan.first)
        if state == self._saved:
            return
        await asyncio.to_thread(ctx.journal.record_state, state)
        self._saved = state

    def _clamps(self) -> bool:
        p = self.params
        return p.trailing_up or p.trailing_down or p.infinity

    async def on_start(self, ctx: StrategyContext) -> None:
        """Check the plan against the rules and balances, then place the starting orders.

        After a restart the open orders of the last run that sit on the plan's lines are taken
        back (:meth:`StrategyContext.claim`), the others canceled, and only the missing ones
        placed; the range is the journaled one (after trailing moves).
        """
        price = ctx.mark_price
        assert price is not None
        last = ctx.journal.last_state() if ctx.journal is not None else None
        # What the journal holds now: a grid that keeps its first range, untriggered trigger
        # and no moves needs no record.
        self._saved = last if last is not None else self._state(0)
        state = self._restored(ctx)
        first = 0
        if state is not None:
            first = state["first"]
            self.triggered = self.triggered or bool(state.get("triggered"))
            self.trailing_moves = int(state.get("trailing_moves", 0))
            ctx.log(f"range from the journal: line {first} at the bottom")
        plan = GridPlan(
            self.params,
            ctx.rules,
            price,
            kept=ctx.unclaimed,
            first=first,
            # a restart that takes back open orders keeps them, the price inside or not
            clamp=state is not None or self._clamps() or bool(ctx.unclaimed),
        )
        maker, taker = venue_fees(ctx.venue, self.maker_fee, self.taker_fee)
        self._taker = taker
        self.warnings = check_fees(self.params, ctx.rules, price, maker_fee=maker, taker_fee=taker)
        book = ctx.book
        plan.check(
            await ctx.balances(),
            ctx.rules,
            bid=book.best_bid if book is not None else None,
            ask=book.best_ask if book is not None else None,
            fee=taker,
        )
        self.plan = plan
        ctx.log(
            f"grid {plan.levels[0]}..{plan.levels[-1]}, {len(plan.levels) - 1} grids, "
            f"{plan.quantity} per grid, start {price}"
        )
        for warning in self.warnings:
            ctx.log(f"warning: {warning}")
        if not self.triggered and price == self.params.trigger_price:
            self.triggered = True
        if not self.triggered:
            self._trigger_from = price
            ctx.log(f"waiting for the price to cross {self.params.trigger_price} (now {price})")
            return
        await self._begin(ctx, price)

    async def _begin(self, ctx: StrategyContext, price: Decimal) -> None:
        """Buy (or sell) what the starting orders lack, then place them."""
        assert self.plan is not None
        plan = GridPlan(
            self.params,
            ctx.rules,
            price,
            kept=ctx.unclaimed,
            first=self.plan.first,
            clamp=True,
        )
        self.plan = plan
        book = ctx.book
        order = plan.start_order(
            await ctx.balances(),
            bid=book.best_bid if book is not None else None,
            ask=book.best_ask if book is not None else None,
            fee=self._taker,
        )
        if order is None:
            await self._place_grid(ctx)
            return
        ctx.log(f"plan: {order.describe(ctx.rules)}")
        await ctx.cancel_unclaimed()  # frees what an earlier run's orders locked
        placed = await ctx.place(
            order.side, order.quantity, None if order.type == "MARKET" else order.price
        )
        self.start_placed = placed
        self._start_cid = placed.client_order_id
        await self._save(ctx)
        if placed.status == "FILLED":
            self._start_cid = None
            await self._place_grid(ctx)
        elif not placed.is_open:
            self._start_cid = None
            ctx.request_stop(f"the start order ended {placed.status}")

    async def _place_grid(self, ctx: StrategyContext) -> None:
        plan = self.plan
        assert plan is not None
        missing: list[tuple[int, Side, Decimal, Decimal]] = []
        for line, side, line_price, qty in plan.sized:
            kept = ctx.claim(side, qty, line_price)
            if kept is None:
                missing.append((line, side, line_price, qty))
            else:
                self._line[kept.client_order_id] = line
        await ctx.cancel_unclaimed()  # frees what they lock before the missing ones are placed
        await self._save(ctx)
        for line, side, line_price, qty in missing:
            await self._place(ctx, line, side, line_price, qty)
        if self.params.infinity:
            await self._trail_infinity(ctx)

    async def _place(
        self, ctx: StrategyContext, line: int, side: Side, price: Decimal, qty: Decimal
    ) -> None:
        order = await ctx.place(side, qty, price)
        self._line[order.client_order_id] = line

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """On a filled grid order, place the opposite order one line away."""
        order = update.order
        cid = order.client_order_id
        if cid == self._start_cid:
            if order.status == "FILLED":
                self._start_cid = None
                await self._place_grid(ctx)
            elif not order.is_open:
                self._start_cid = None
                ctx.request_stop(f"the start order ended {order.status}")
            return
        plan = self.plan
        if order.status != "FILLED" or plan is None:
            return
        line = self._line.pop(cid, None)
        if line is None:
            return
        if order.side == "BUY" and (line + 1 <= plan.top or self.params.infinity):
            if self.params.reverse:
                self.round_trips += 1
            await self._place(
                ctx, line + 1, "SELL", plan.line(line + 1), plan.sell_quantity(line + 1)
            )
        elif order.side == "SELL" and line - 1 >= plan.first:
            if not self.params.reverse:
                self.round_trips += 1
            await self._place(
                ctx, line - 1, "BUY", plan.line(line - 1), plan.buy_quantity(line - 1)
            )
        if self.params.infinity:
            await self._trail_infinity(ctx)

    def needs_book(self) -> bool:
        """A stop, a trigger or a trailing range watches the book."""
        p = self.params
        return (
            p.stop_loss is not None
            or p.take_profit is not None
            or p.trigger_price is not None
            or p.trailing_up
            or p.trailing_down
        )

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Start on the trigger; stop on the stop-loss or take-profit price; trail the range."""
        price = ctx.mark_price
        if price is None or self.plan is None or ctx.stop_requested.is_set():
            return
        params = self.params
        if not self.triggered:
            trigger, start = params.trigger_price, self._trigger_from
            assert trigger is not None
            assert start is not None
            if (start < trigger <= price) or (start > trigger >= price):
                self.triggered = True
                ctx.log(f"trigger: price {price} crossed {trigger}")
                await self._save(ctx)
                await self._begin(ctx, price)
            return
        if params.stop_loss is not None and price <= params.stop_loss:
            await self._stop(ctx, f"stop-loss: price {price} <= {params.stop_loss}")
        elif params.take_profit is not None and price >= params.take_profit:
            await self._stop(ctx, f"take-profit: price {price} >= {params.take_profit}")
        elif self._start_cid is None:
            if params.trailing_up:
                await self._trail_up(ctx, price)
            if params.trailing_down:
                await self._trail_down(ctx, price)

    def _at(self, line: int) -> list[str]:
        return [cid for cid, k in self._line.items() if k == line]

    async def _cancel_line(self, ctx: StrategyContext, line: int) -> bool:
        """Cancel the order on ``line``; False if one filled meanwhile (its update follows)."""
        for cid in self._at(line):
            if await ctx.cancel(cid) is None:
                return False
            self._line.pop(cid, None)
        return True

    async def _trail_up(self, ctx: StrategyContext, price: Decimal) -> None:
        plan = self.plan
        assert plan is not None
        top = plan.top
        if price <= plan.line(top) or self._at(top):
            return
        limit = self.params.trailing_up_limit
        if limit is not None and plan.line(top + 1) > limit:
            return
        if not await self._cancel_line(ctx, plan.first):
            return
        plan.shift(1)
        self.trailing_moves += 1
        await self._save(ctx)
        ctx.log(f"trailing up: range {plan.levels[0]}..{plan.levels[-1]} (price {price})")
        await self._place(ctx, top, "BUY", plan.line(top), plan.buy_quantity(top))

    async def _trail_down(self, ctx: StrategyContext, price: Decimal) -> None:
        plan = self.plan
        assert plan is not None
        first = plan.first
        if price >= plan.line(first) or self._at(first):
            return
        low = plan.line(first - 1)
        limit = self.params.trailing_down_limit
        if low <= 0 or low < ctx.rules.min_price or (limit is not None and low < limit):
            return
        if not await self._cancel_line(ctx, plan.top):
            return
        plan.shift(-1)
        self.trailing_moves += 1
        await self._save(ctx)
        ctx.log(f"trailing down: range {plan.levels[0]}..{plan.levels[-1]} (price {price})")
        await self._place(ctx, first, "SELL", plan.line(first), plan.sell_quantity(first))

    async def _trail_infinity(self, ctx: StrategyContext) -> None:
        """Keep half the lines' orders sells: as sells fill on a rise, move the range up."""
        plan = self.plan
        assert plan is not None
        want = max(1, self.params.grid_number // 2)
        while self._sells(ctx) < want:
            if not await self._cancel_line(ctx, plan.first):
                return
            plan.shift(1)
            self.trailing_moves += 1
            await self._save(ctx)
            top = plan.top
            qty = plan.sell_quantity(top)
            if qty < ctx.rules.min_qty or qty * plan.line(top) < ctx.rules.min_notional:
                ctx.log(f"infinity: a sell of {qty} at {plan.line(top)} is below the minimum")
                return
            ctx.log(f"infinity: range {plan.levels[0]}..{plan.levels[-1]}")
            await self._place(ctx, top, "SELL", plan.line(top), qty)

    def _sells(self, ctx: StrategyContext) -> int:
        orders = (ctx.order(cid) for cid in self._line)
        return sum(o is not None and o.side == "SELL" for o in orders)

    async def _stop(self, ctx: StrategyContext, reason: str) -> None:
        await ctx.cancel_all()
        self._line.clear()
        qty = ctx.rules.floor_quantity(ctx.position)
        if self.params.sell_on_stop and qty > 0 and qty >= ctx.rules.min_qty:
            await ctx.sell(qty)
        ctx.request_stop(reason)
