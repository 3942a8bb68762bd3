"""A simple market maker: one bid and one ask around the mid, with an inventory limit.

It quotes ``amount`` of the quote asset's worth (20 USDT by default, on any symbol) at
``half_spread_bps`` below and above the mid, and quotes again when the mid has moved
``requote_bps`` from where it last quoted. Once the base it bought beyond what it sold is worth
``max_inventory`` of the quote, it stops bidding (and at ``-max_inventory`` stops offering), so
a trend cannot pile up inventory without bound. Fees count: on Binance's default 0.1% a side,
a spread under 0.2% loses on every round trip, which is why ``half_spread_bps`` defaults to 15
(0.3% wide) and the test runs it with a 0.01% maker fee, as a market maker's fee tier would be.

Run it::

    tradewire backtest run examples/market_maker.py:MarketMaker --data sample --maker-fee 0.0001
    tradewire paper run examples/market_maker.py:MarketMaker --param amount=50
"""

from __future__ import annotations

from decimal import Decimal

from tradewire import BookUpdate, Strategy, StrategyContext

BPS = Decimal("0.0001")


class MarketMaker(Strategy):
    """Quotes both sides around the mid, within an inventory limit."""

    name = "market-maker"

    def __init__(
        self,
        amount: Decimal = Decimal(20),
        half_spread_bps: Decimal = Decimal(15),
        requote_bps: Decimal = Decimal(5),
        max_inventory: Decimal = Decimal(100),
    ) -> None:
        if amount <= 0 or half_spread_bps <= 0 or requote_bps <= 0 or max_inventory < 0:
            raise ValueError("amount, half_spread_bps and requote_bps must be positive")
        self.amount = amount
        self.half_spread = half_spread_bps * BPS
        self.requote = requote_bps * BPS
        self.max_inventory = max_inventory
        self.quoted_mid: Decimal | None = None

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        mid = book.mid
        if mid is None:
            return
        if self.quoted_mid is not None and abs(mid - self.quoted_mid) < mid * self.requote:
            return  # close enough to where we quote: keep our place in the queues
        await ctx.cancel_all()
        self.quoted_mid = mid
        size = ctx.rules.floor_quantity(self.amount / mid)
        if size * mid < ctx.rules.min_notional:
            ctx.request_stop(f"amount {self.amount} is below {ctx.symbol}'s minimum order value")
            return
        inventory = ctx.position * mid
        if inventory < self.max_inventory:
            await ctx.buy(size, mid * (1 - self.half_spread))
        if inventory > -self.max_inventory:
            await ctx.sell(size, mid * (1 + self.half_spread))
