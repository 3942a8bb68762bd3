"""The paper broker: fills against the book and the tape, with exact balances and fees."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tradewire.model import BookUpdate, MarketTrade, OrderRequest, SymbolRules
from tradewire.venues.paper import PaperBroker

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"), D("5"))
BOOK = BookUpdate(
    "BTCUSDT",
    bids=((D("100.00"), D("1")), (D("99.00"), D("2"))),
    asks=((D("101.00"), D("1")), (D("102.00"), D("2"))),
    time_ms=1,
)


def _broker() -> PaperBroker:
    broker = PaperBroker(RULES, {"USDT": "1000", "BTC": "5"})
    broker.on_market(BOOK)
    return broker


@pytest.mark.asyncio
async def test_market_buy_walks_the_book_and_pays_fees_in_base() -> None:
    broker = _broker()
    order = await broker.place_order(OrderRequest("BTCUSDT", "BUY", "MARKET", D("1.5"), "m1"))
    fills = [u.fill for u in broker.take_updates() if u.fill]
    assert [(f.price, f.quantity) for f in fills] == [(D("101.00"), D(1)), (D("102.00"), D("0.5"))]
    assert order.status == "FILLED" and order.cumulative_quote_qty == D("152.00")
    bal = await broker.balances()
    assert bal["USDT"].free == D("1000") - D("152.00")
    assert bal["BTC"].free == D("5") + D("1.5") - D("0.0015")


@pytest.mark.asyncio
async def test_an_order_meets_the_book_less_what_the_trades_since_it_took() -> None:
    broker = _broker()  # no order rests: the book waits to be fed until one is placed
    # A buyer takes the whole 101.00 ask and half the 102.00 one after the book was sent.
    broker.on_market(MarketTrade("BTCUSDT", "t1", D("101.00"), D("1"), 2, buyer_is_maker=False))
    broker.on_market(MarketTrade("BTCUSDT", "t2", D("102.00"), D("1"), 3, buyer_is_maker=False))
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "MARKET", D("1.5"), "m1"))
    fills = [u.fill for u in broker.take_updates() if u.fill]
    # What is left: 1 at 102.00; the 101.00 the trades took is not taken again.
    assert [(f.price, f.quantity) for f in fills] == [(D("102.00"), D(1))]


@pytest.mark.asyncio
async def test_a_market_order_on_its_way_meets_the_book_of_when_it_arrives() -> None:
    broker = PaperBroker(RULES, {"USDT": "1000", "BTC": "5"}, order_latency_ms=50)
    broker.on_market(BOOK)  # at 1 ms: asks 101.00 and 102.00
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "MARKET", D("1"), "m1"))
    # While it travels the asks move up; it reaches the exchange at 51 ms.
    moved = BookUpdate(
        "BTCUSDT",
        bids=((D("104.00"), D("1")),),
        asks=((D("105.00"), D("3")),),
        time_ms=20,
    )
    updates = broker.on_market(moved)
    late = MarketTrade("BTCUSDT", "t1", D("104.00"), D("0.1"), 60, buyer_is_maker=True)
    updates += broker.on_market(late)  # market time passes 51 ms
    fills = [u.fill for u in updates if u.fill]
    assert [(f.price, f.quantity) for f in fills] == [(D("105.00"), D(1))]


@pytest.mark.asyncio
async def test_limit_rests_locks_funds_and_fills_what_the_crossing_book_offers() -> None:
    broker = _broker()
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("2"), "b1", D("99.50")))
    assert broker.take_updates() == []
    bal = await broker.balances()
    assert (bal["USDT"].free, bal["USDT"].locked) == (D("801.0000"), D("199.0000"))
    # The ask drops under the bid: 1 is offered at 99.40, so 1 of the 2 fills, at 99.50.
    moved = BookUpdate("BTCUSDT", ((D("99.00"), D(1)),), ((D("99.40"), D(1)),), time_ms=2)
    (update,) = broker.on_market(moved)
    assert update.fill is not None and update.fill.price == D("99.50") and update.fill.is_maker
    assert (update.fill.quantity, update.order.status) == (D(1), "PARTIALLY_FILLED")
    bal = await broker.balances()
    assert bal["USDT"] == type(bal["USDT"])("USDT", D("801.0000"), D("99.50"))
    assert bal["BTC"].free == D("5") + D("1") - D("0.001")
    # The same book again offers the same 1 BTC: it was taken, nothing more fills.
    assert broker.on_market(moved) == []


@pytest.mark.asyncio
async def test_touch_fills_in_full_when_the_book_reaches_the_price() -> None:
    broker = PaperBroker(RULES, {"USDT": "1000", "BTC": "5"}, fill_model="touch")
    broker.on_market(BOOK)
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("2"), "b1", D("99.50")))
    moved = BookUpdate("BTCUSDT", ((D("99.00"), D(1)),), ((D("99.50"), D(1)),), time_ms=2)
    (update,) = broker.on_market(moved)
    assert update.fill is not None and update.fill.quantity == D(2)
    bal = await broker.balances()
    assert bal["USDT"] == type(bal["USDT"])("USDT", D("801.0000"), D("0"))
    assert bal["BTC"].free == D("5") + D("2") - D("0.002")


@pytest.mark.asyncio
async def test_a_trade_through_the_price_fills_a_resting_sell() -> None:
    broker = _broker()
    await broker.place_order(OrderRequest("BTCUSDT", "SELL", "LIMIT", D("1"), "s1", D("103")))
    assert broker.on_market(MarketTrade("BTCUSDT", "t", D("103"), D(1))) == []
    (update,) = broker.on_market(MarketTrade("BTCUSDT", "t2", D("103.01"), D(1)))
    assert update.order.status == "FILLED"
    bal = await broker.balances()
    assert bal["USDT"].free == D("1000") + D("103") - D("0.103")
    assert bal["BTC"].total == D("4")


@pytest.mark.asyncio
async def test_cancel_releases_and_refuses_twice() -> None:
    broker = _broker()
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("1"), "b1", D("90")))
    await broker.cancel_order("BTCUSDT", "b1")
    assert (await broker.balances())["USDT"].free == D("1000")
    with pytest.raises(OrderNotFound):
        await broker.cancel_order("BTCUSDT", "b1")


@pytest.mark.asyncio
async def test_insufficient_funds_is_refused_without_change() -> None:
    broker = _broker()
    with pytest.raises(InsufficientFunds):
        await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("11"), "b1", D("99")))
    assert (await broker.balances())["USDT"].free == D("1000")


@pytest.mark.asyncio
async def test_orders_are_rounded_by_the_rules_and_fees_to_the_nearest_8th_decimal() -> None:
    broker = PaperBroker(RULES, {"USDT": "1000", "BTC": "5"}, taker_fee="0.00075")
    broker.on_market(
        BookUpdate("BTCUSDT", ((D("99.99"), D(1)),), ((D("101.00"), D(1)),), time_ms=1)
    )
    sold = await broker.place_order(OrderRequest("BTCUSDT", "SELL", "MARKET", D("0.1234"), "m1"))
    assert sold.quantity == D("0.123")  # floored to the step 0.001
    (fill,) = [u.fill for u in broker.take_updates() if u.fill]
    assert fill.commission == D("0.00922408")  # 12.29877 x 0.00075 = 0.0092240775, nearest
    bought = await broker.place_order(
        OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.1999"), "b1", D("50.005"))
    )
    assert (bought.quantity, bought.price) == (D("0.199"), D("50.00"))  # a BUY rounds down
    with pytest.raises(InvalidOrder, match="below NOTIONAL minNotional 5"):
        await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D("0.01"), "b2", D(50)))
