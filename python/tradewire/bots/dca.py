"""The DCA bot (long): a market base order, limit safety orders below it, a take profit above.

A deal starts with a market buy of ``base_order_size`` (quote). Once it fills, the safety orders
of :func:`~tradewire.bots.params.dca_ladder` go on the book below the base order's average
price. After every filled buy the take-profit sell is re-placed at the deal's average price
(fees included) plus ``take_profit`` percent, for all the deal holds. When it fills the deal is
closed, the remaining safety orders canceled, and a new deal starts until ``max_deals``. A price
``stop_loss`` percent below the base order's price cancels everything and sells the deal.

A take profit that cannot pay the deal's round trip (the base order's taker fee and the take
profit's maker fee) is refused when the bot starts (:func:`~tradewire.bots.params.check_fees`),
unless ``force``: it then runs, with the warning in the log and in :attr:`DcaBot.warnings`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.bots.params import check_fees, check_funds, dca_ladder, venue_fees
from tradewire.errors import BotConfigError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from tradewire.bots.params import DcaParams
    from tradewire.model import BookUpdate, OrderUpdate, SymbolRules
    from tradewire.trading.strategy import StrategyContext

__all__ = ["DcaBot", "funds_needed"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def funds_needed(params: DcaParams, rules: SymbolRules, price: Decimal) -> Decimal:
    """Quote a deal started at ``price`` can spend: the base order plus every safety order."""
    ladder = dca_ladder(params, rules, price)
    return params.base_order_size + sum((o.price * o.quantity for o in ladder), _ZERO)


class DcaBot(Strategy):
    """A long DCA bot with safety orders (3Commas-style parameters).

    ``maker_fee`` and ``taker_fee`` are the rates its fee check counts with (fractions:
    ``0.001`` is 0.1%); left out, they are the venue's (a paper broker's), else Binance's 0.1%.
    """

    name = "dca"

    def __init__(
        self,
        params: DcaParams,
        *,
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> None:
        self.params = params
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.warnings: list[str] = []
        """Why the parameters may lose money (set when forced past the fee check)."""
        self.deals_done = 0
        self.base_price: Decimal | None = None
        self._base_cid: str | None = None
        self._safety: set[str] = set()
        self._tp_cid: str | None = None
        self._qty = _ZERO  # base the deal holds (after fees)
        self._cost = _ZERO  # quote the deal spent

    async def on_start(self, ctx: StrategyContext) -> None:
        """Check the fees, ladder and funds at the current price, then open the first deal."""
        price = ctx.book.best_ask if ctx.book is not None else None
        if price is None:
            raise BotConfigError("no ask in the book: cannot size the base order")
        maker, taker = venue_fees(ctx.venue, self.maker_fee, self.taker_fee)
        self.warnings = check_fees(self.params, ctx.rules, price, maker_fee=maker, taker_fee=taker)
        for warning in self.warnings:
            ctx.log(f"warning: {warning}")
        check_funds(
            await ctx.balances(), ctx.rules, funds_needed(self.params, ctx.rules, price), _ZERO
        )
        await self._open_deal(ctx)

    async def _open_deal(self, ctx: StrategyContext) -> None:
        assert ctx.book is not None
        assert ctx.book.best_ask is not None
        qty = ctx.rules.floor_quantity(self.params.base_order_size / ctx.book.best_ask)
        self._qty = self._cost = _ZERO
        self.base_price = None
        ctx.log(f"deal {self.deals_done + 1}: base order {qty}")
        order = await ctx.buy(qty)
        self._base_cid = order.client_order_id

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """Follow the deal: safety orders after the base order, a new take profit per buy."""
        order, fill = update.order, update.fill
        cid = order.client_order_id
        if (
            fill is not None
            and order.side == "BUY"
            and (cid == self._base_cid or cid in self._safety)
        ):
            fee = fill.commission if fill.commission_asset == ctx.rules.base_asset else _ZERO
            self._qty += fill.quantity - fee
            self._cost += fill.quote_quantity
        if order.is_open:
            return
        if cid == self._base_cid:
            self._base_cid = None
            if order.executed_qty == 0:
                ctx.request_stop("the base order did not fill")
                return
            self.base_price = order.cumulative_quote_qty / order.executed_qty
            for so in dca_ladder(self.params, ctx.rules, self.base_price):
                placed = await ctx.buy(so.quantity, so.price)
                self._safety.add(placed.client_order_id)
            await self._take_profit(ctx)
        elif cid in self._safety and order.status == "FILLED":
            self._safety.discard(cid)
            await self._take_profit(ctx)
        elif cid == self._tp_cid and order.status == "FILLED":
            self._tp_cid = None
            self.deals_done += 1
            for so_cid in list(self._safety):
                await ctx.cancel(so_cid)
            self._safety.clear()
            ctx.log(f"deal {self.deals_done} closed at {fill.price if fill else order.price}")
            if self.deals_done >= self.params.max_deals:
                ctx.request_stop(f"take profit: {self.deals_done} deal(s) closed")
            else:
                await self._open_deal(ctx)

    async def _take_profit(self, ctx: StrategyContext) -> None:
        if self._tp_cid is not None:
            await ctx.cancel(self._tp_cid)
            self._tp_cid = None
        qty = ctx.rules.floor_quantity(self._qty)
        if qty <= 0 or qty < ctx.rules.min_qty:
            return
        average = self._cost / self._qty
        price = ctx.rules.round_price(
            average * (_HUNDRED + self.params.take_profit) / _HUNDRED, "SELL"
        )
        order = await ctx.sell(qty, price)
        self._tp_cid = order.client_order_id

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Close the deal at a loss when the price falls ``stop_loss`` percent below the base."""
        sl = self.params.stop_loss
        if sl is None or self.base_price is None or ctx.stop_requested.is_set():
            return
        bid = book.best_bid
        if bid is not None and bid <= self.base_price * (_HUNDRED - sl) / _HUNDRED:
            await ctx.cancel_all()
            self._safety.clear()
            self._tp_cid = None
            qty = ctx.rules.floor_quantity(self._qty)
            if qty > 0 and qty >= ctx.rules.min_qty:
                await ctx.sell(qty)
            ctx.request_stop(
                f"stop-loss: bid {bid} is {sl}% below the base price {self.base_price}"
            )
