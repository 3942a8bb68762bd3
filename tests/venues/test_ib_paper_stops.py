"""A stop-market (IB's STP) on IB paper: a strategy's ``ctx.stop_loss`` goes to the paper broker
(nothing reaches the gateway), waits off the book, and fills as the local IB gateway fills an
STP: once a trade reaches the stop, at the touch (the bid for a SELL), no more than the touch
shows, paying IB's per-share commission. The market is the gateway's ``smd`` stream through
IBMarket, as ``tradewire paper ... --venue ib`` runs it."""

from __future__ import annotations

import asyncio
import datetime
import time
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.ib import IBClient
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.model import BookUpdate, MarketTrade
from tradewire.rules import per_share_commission
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.ib import IBMarket, IBVenue
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import Fill, Order, OrderUpdate
    from tradewire.trading.strategy import StrategyContext

MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()
QUESTIONS = ("o354", "o163", "o403", "o10151", "o10331")
SHARES = Decimal(10)


class StopUnderTheLast(Strategy):
    """Once a trade is seen, a stop-loss SELL of 10 shares a cent under it (trades bounce
    between the bid and the ask two cents apart: one soon reaches it); stops at the fill."""

    def __init__(self) -> None:
        self.order: Order | None = None
        self.fills: list[Fill] = []
        self.events: list[BookUpdate | MarketTrade] = []  # the market, from the placing on

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if self.order is not None:
            self.events.append(book)
        elif ctx.last_trade is not None:
            self.events.append(book)
            stop = ctx.last_trade.price - Decimal("0.01")
            self.order = await ctx.stop_loss("SELL", SHARES, stop)

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        if self.order is not None:
            self.events.append(trade)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        if update.fill is not None:
            self.fills.append(update.fill)
            ctx.request_stop("the stop filled")


@pytest.mark.asyncio
async def test_a_stop_market_on_ib_paper_triggers_on_a_trade_and_fills_at_the_bid(
    tmp_path: Path,
) -> None:
    t0 = time.time()
    async with AsyncExitStack() as stack:
        gw = await stack.enter_async_context(
            LocalIBGateway(symbols=("AAPL",), seed=4, clock=lambda: MONDAY_10AM + time.time() - t0)
        )
        client = await stack.enter_async_context(
            IBClient(
                gw.url,
                cafile=gw.cert_path,
                error_log=tmp_path / "ib-errors.jsonl",
                confirm_questions=QUESTIONS,
            )
        )
        venue = IBVenue(client)
        rules = await venue.symbol_rules("AAPL")
        start = {"USD": Decimal(100_000), "AAPL": Decimal(100)}
        broker = PaperBroker(rules, start, cash_commission=per_share_commission)
        strategy = StopUnderTheLast()
        runner = Runner(strategy, broker, IBMarket(venue), rules, mode="paper", bot="stp")
        result = await asyncio.wait_for(runner.run(duration_s=30), 40)

    assert result.stop_reason == "strategy", (result.stop_reason, result.error)
    assert not gw.blotter.orders  # paper: nothing was sent to IB
    order = strategy.order
    assert order is not None and order.stop_price is not None
    assert (order.type, order.status, order.price) == ("STOP_LOSS", "NEW", None)
    [fill] = strategy.fills
    # The trigger: the first trade after the placing at or under the stop...
    events = strategy.events
    first = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, MarketTrade) and e.price <= order.stop_price
    )
    assert all(e.price > order.stop_price for e in events[:first] if isinstance(e, MarketTrade))
    # ...then a MARKET sell into the bid of the last book before that trade, as taker, no
    # more than the bid showed, in whole shares.
    book = next(e for e in reversed(events[:first]) if isinstance(e, BookUpdate))
    bid, bid_size = book.bids[0]
    assert (fill.price, fill.is_maker, fill.time_ms) == (bid, False, events[first].time_ms)
    assert fill.quantity == min(SHARES, bid_size) and fill.quantity % 1 == 0
    # IB's fixed commission, in USD (its USD 1 minimum on 10 shares).
    assert (fill.commission, fill.commission_asset) == (Decimal(1), "USD")
    assert fill.commission == per_share_commission(fill.quantity, fill.price)
    end = await broker.balances()
    assert end["USD"].free == start["USD"] + fill.quantity * fill.price - fill.commission
    assert end["AAPL"].free + end["AAPL"].locked == start["AAPL"] - fill.quantity
