"""The strategy API's stop-market orders (``ctx.stop_loss``, ``ctx.take_profit``): through the
one rules path (the stop rounded to the tick away from the market, the notional checked at the
stop), journaled with their stop price, and filled on paper as MARKET orders once triggered."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, MarketTrade, SymbolRules
from tradewire.trading.journal import Journal
from tradewire.trading.strategy import StrategyContext
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from pathlib import Path

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
T0 = 1_700_000_000_000


def paper(journal: Journal | None = None) -> tuple[StrategyContext, PaperBroker]:
    """A paper context on a market of bid 100 / ask 101 after a trade at 100.50."""
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    broker.on_market(MarketTrade("BTCUSDT", "1", D("100.50"), D("1"), T0))
    book = BookUpdate("BTCUSDT", ((D("100"), D("1")),), ((D("101"), D("1")),), T0 + 1)
    broker.on_market(book)
    ctx = StrategyContext(broker, RULES, mode="paper", bot="stops", journal=journal)
    ctx.book = book
    return ctx, broker


@pytest.mark.asyncio
async def test_stop_markets_round_the_stop_and_are_journaled_without_a_price(
    tmp_path: Path,
) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        ctx, broker = paper(journal)
        stop = await ctx.stop_loss("SELL", D("0.1234567"), D("99.001"))
        assert (stop.type, stop.status, stop.price, stop.stop_price, stop.quantity) == (
            "STOP_LOSS",
            "NEW",
            None,
            D("99.01"),  # a SELL's stop rounds up to the tick
            D("0.12345"),
        )
        profit = await ctx.take_profit("BUY", D("0.1"), D("99.999"))
        assert (profit.type, profit.price, profit.stop_price) == ("TAKE_PROFIT", None, D("99.99"))
        recorded = journal.get(stop.client_order_id)
        assert recorded is not None
        assert (recorded.type, recorded.price, recorded.stop_price, recorded.time_in_force) == (
            "STOP_LOSS",
            None,
            D("99.01"),
            None,
        )
        balances = await broker.balances()
        assert balances["BTC"].locked == D("0.12345")
        assert balances["USDT"].locked == D("10.050")  # 0.1 at the last price, 100.50


@pytest.mark.asyncio
async def test_stop_markets_are_refused_by_the_notional_at_the_stop_and_when_reached() -> None:
    ctx, _ = paper()
    with pytest.raises(InvalidOrder, match="NOTIONAL"):
        await ctx.stop_loss("SELL", D("0.04"), D("99"))  # 3.96 USDT at the stop < 5
    with pytest.raises(InvalidOrder) as reached:
        await ctx.take_profit("SELL", D("0.1"), D("100"))  # the last price 100.50 >= 100
    assert (reached.value.code, reached.value.msg) == (-2010, "Order would trigger immediately.")
    with pytest.raises(InvalidOrder, match="takes no price"):
        await ctx.place("SELL", D("0.1"), D("99"), type="STOP_LOSS", stop_price=D("99"))
    with pytest.raises(InvalidOrder, match="needs a stop price"):
        await ctx.place("SELL", D("0.1"), type="TAKE_PROFIT")
    assert ctx.run_log.orders_rejected == 4


@pytest.mark.asyncio
async def test_a_triggered_stop_market_fills_as_taker_and_reaches_the_context() -> None:
    ctx, broker = paper()
    stop = await ctx.stop_loss("SELL", D("0.5"), D("100"))
    assert broker.on_market(MarketTrade("BTCUSDT", "2", D("100.20"), D("1"), T0 + 2)) == []
    updates = broker.on_market(
        MarketTrade("BTCUSDT", "3", D("100"), D("0.2"), T0 + 3, buyer_is_maker=True)
    )
    assert [await ctx.apply_update(update) for update in updates] == [True]
    fills = [u.fill for u in updates if u.fill is not None]
    assert [(f.price, f.quantity, f.is_maker) for f in fills] == [(D("100"), D("0.5"), False)]
    assert fills[0].commission == D("0.05")  # the taker fee, 0.1% of 50 USDT
    order = ctx.order(stop.client_order_id)
    assert order is not None and order.status == "FILLED" and order.price is None
    assert ctx.run_log.fills == fills
