"""The strategy API's order types: post-only and stop-limits go through the one rules path
(rounded as the client sends them, refused with the rule's name), are journaled exactly, and a
journal written before the stop price column still opens."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, MarketTrade, OrderRequest, SymbolRules
from tradewire.trading.journal import Journal, OrderIntent
from tradewire.trading.strategy import StrategyContext
from tradewire.venues.paper import PaperBroker
from tradewire.venues.readonly import ReadOnlyVenue

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
    ctx = StrategyContext(broker, RULES, mode="paper", bot="types", journal=journal)
    ctx.book = book
    return ctx, broker


@pytest.mark.asyncio
async def test_post_only_is_rounded_like_a_limit_and_refused_when_it_would_take() -> None:
    ctx, _ = paper()
    buy = await ctx.buy(D("0.1234567"), D("100.239"), post_only=True)
    assert (buy.type, buy.price, buy.quantity, buy.status) == (
        "LIMIT_MAKER",
        D("100.23"),  # a BUY price rounds down to the tick
        D("0.12345"),  # the quantity floors to the step
        "NEW",
    )
    sell = await ctx.sell(D("0.1"), D("101.001"), post_only=True)
    assert (sell.type, sell.price) == ("LIMIT_MAKER", D("101.01"))  # a SELL rounds up
    with pytest.raises(InvalidOrder) as refused:
        await ctx.buy(D("0.1"), D("101"), post_only=True)
    assert (refused.value.code, refused.value.msg) == (
        -2010,
        "Order would immediately match and take.",
    )
    assert ctx.run_log.orders_rejected == 1
    assert {o.client_order_id for o in ctx.open_orders()} == {
        buy.client_order_id,
        sell.client_order_id,
    }


@pytest.mark.asyncio
async def test_a_post_only_order_below_a_filter_is_refused_with_the_rules_name() -> None:
    ctx, _ = paper()
    with pytest.raises(InvalidOrder, match="NOTIONAL"):
        await ctx.buy(D("0.01"), D("100"), post_only=True)  # 1 USDT < minNotional 5
    with pytest.raises(InvalidOrder, match="LOT_SIZE"):
        await ctx.sell(D("0.000001"), D("102"), post_only=True)


@pytest.mark.asyncio
async def test_stop_limits_round_both_prices_and_wait_with_their_funds_locked() -> None:
    ctx, broker = paper()
    stop = await ctx.stop_loss_limit("SELL", D("0.1"), D("99.001"), D("98.501"))
    assert (stop.type, stop.status, stop.stop_price, stop.price) == (
        "STOP_LOSS_LIMIT",
        "NEW",
        D("99.01"),  # a SELL's prices round up to the tick
        D("98.51"),
    )
    profit = await ctx.take_profit_limit("BUY", D("0.1"), D("99.999"), D("99.999"))
    assert (profit.type, profit.stop_price, profit.price) == (
        "TAKE_PROFIT_LIMIT",
        D("99.99"),  # a BUY's round down
        D("99.99"),
    )
    balances = await broker.balances()
    assert balances["BTC"].locked == D("0.1")
    assert balances["USDT"].locked == D("9.999")
    placed = await ctx.place(
        "SELL", D("0.1"), D("102"), type="TAKE_PROFIT_LIMIT", stop_price=D("102")
    )
    assert placed.type == "TAKE_PROFIT_LIMIT" and placed.stop_price == D("102")


@pytest.mark.asyncio
async def test_stop_limits_need_a_stop_price_and_refuse_one_the_market_reached() -> None:
    ctx, _ = paper()
    with pytest.raises(InvalidOrder, match="needs a stop price"):
        await ctx.place("SELL", D("0.1"), D("99"), type="STOP_LOSS_LIMIT")
    with pytest.raises(InvalidOrder, match="takes no stop price"):
        await ctx.place("SELL", D("0.1"), D("99"), stop_price=D("99"))
    with pytest.raises(InvalidOrder, match="stopPrice must be positive"):
        await ctx.stop_loss_limit("SELL", D("0.1"), D("0"), D("99"))
    with pytest.raises(InvalidOrder) as reached:
        await ctx.stop_loss_limit("SELL", D("0.1"), D("101"), D("100"))  # last 100.50 <= 101
    assert (reached.value.code, reached.value.msg) == (-2010, "Order would trigger immediately.")


@pytest.mark.asyncio
async def test_a_stop_order_is_journaled_with_its_stop_price(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        ctx, _ = paper(journal)
        order = await ctx.stop_loss_limit("SELL", D("0.1"), D("99.001"), D("98.5"))
        maker = await ctx.buy(D("0.1"), D("99.5"), post_only=True)
        recorded = journal.get(order.client_order_id)
        assert recorded is not None
        assert (recorded.type, recorded.price, recorded.stop_price, recorded.time_in_force) == (
            "STOP_LOSS_LIMIT",
            D("98.50"),
            D("99.01"),
            "GTC",
        )
        assert recorded.state == "NEW"
        made = journal.get(maker.client_order_id)
        assert made is not None
        assert (made.type, made.stop_price, made.time_in_force) == ("LIMIT_MAKER", None, None)


def test_a_journal_written_before_the_stop_price_column_opens_and_gains_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    with Journal(path) as journal:
        journal.record_intent(OrderIntent("old-1", "BTCUSDT", "BUY", "LIMIT", "0.1", "100", "GTC"))
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE orders DROP COLUMN stop_price")  # as the first schema wrote it
    db.commit()
    assert "stop_price" not in {r[1] for r in db.execute("PRAGMA table_info(orders)")}
    db.close()
    with Journal(path) as journal:
        old = journal.get("old-1")
        assert old is not None and (old.price, old.stop_price) == (D("100"), None)
        journal.record_intent(
            OrderIntent(
                "new-1", "BTCUSDT", "SELL", "STOP_LOSS_LIMIT", "0.1", "99", "GTC", stop_price="99.5"
            )
        )
        new = journal.get("new-1")
        assert new is not None and new.stop_price == D("99.5")


@pytest.mark.asyncio
async def test_read_only_logs_a_stop_order_and_keeps_its_stop_price(
    caplog: pytest.LogCaptureFixture,
) -> None:
    venue = ReadOnlyVenue(RULES, {"USDT": "1000"})
    ctx = StrategyContext(venue, RULES, mode="read-only")
    with caplog.at_level("INFO", logger="tradewire.venues.readonly"):
        order = await ctx.take_profit_limit("SELL", D("0.1"), D("105"), D("104.5"))
    assert order.stop_price == D("105") and order.status == "NEW"
    assert venue.placed[0].stop_price == D("105")
    assert "TAKE_PROFIT_LIMIT" in caplog.text and "stop 105" in caplog.text


def test_order_request_checks_the_fields_of_each_type() -> None:
    def req(type_: str, price: str | None, stop: str | None, tif: str | None = None) -> object:
        return OrderRequest(
            "BTCUSDT",
            "BUY",
            type_,  # type: ignore[arg-type]
            D("1"),
            "c",
            price=None if price is None else D(price),
            stop_price=None if stop is None else D(stop),
            time_in_force=tif,
        )

    with pytest.raises(ValueError, match="needs a stop_price"):
        req("STOP_LOSS_LIMIT", "1", None)
    with pytest.raises(ValueError, match="takes no stop_price"):
        req("LIMIT", "1", "1")
    with pytest.raises(ValueError, match="needs a price"):
        req("TAKE_PROFIT_LIMIT", None, "1")
    with pytest.raises(ValueError, match="no time in force"):
        req("LIMIT_MAKER", "1", None, "GTC")
    with pytest.raises(ValueError, match="type must be one of"):
        req("TRAILING_STOP", None, "1")
    with pytest.raises(ValueError, match="takes no price"):
        req("STOP_LOSS", "1", "1")
    with pytest.raises(ValueError, match="takes no price"):
        req("TAKE_PROFIT", "1", "1")
    stop_market = req("STOP_LOSS", None, "1")
    assert isinstance(stop_market, OrderRequest) and stop_market.time_in_force is None
    stop = req("STOP_LOSS_LIMIT", "1", "1")
    assert isinstance(stop, OrderRequest) and stop.time_in_force == "GTC"
    maker = req("LIMIT_MAKER", "1", None)
    assert isinstance(maker, OrderRequest) and maker.time_in_force is None
