"""BinanceVenue sends LIMIT_MAKER and the stop-limits with Binance's fields, against the local
exchange over real sockets (which refuses a field sent where Binance refuses it)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tradewire.errors import InvalidOrder
from tradewire.exchange import LocalExchange
from tradewire.exchange.symbols import ALL_ORDER_TYPES
from tradewire.model import OrderRequest
from tradewire.testing import eventually
from tradewire.testing.local_exchange import add_local_key
from tradewire.trading.journal import new_client_order_id
from tradewire.venues.binance import BinanceVenue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.model import OrderUpdate

D = Decimal


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """A local exchange without market flow whose symbols also list the stop-market types (the
    bundled 2021 exchangeInfo's do not)."""
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), market="none", order_types=ALL_ORDER_TYPES
    ) as exchange:
        yield exchange


async def next_update(
    updates: AsyncIterator[OrderUpdate], cid: str, status: str, timeout: float = 5.0
) -> OrderUpdate:
    """The first update of ``cid`` with ``status``."""

    async def find() -> OrderUpdate:
        async for update in updates:
            if update.order.client_order_id == cid and update.order.status == status:
                return update
        raise AssertionError("the update stream ended")

    return await asyncio.wait_for(find(), timeout)


@pytest.mark.asyncio
async def test_post_only_and_stop_limits_are_sent_as_binance_wants_them(ex: LocalExchange) -> None:
    key = add_local_key(ex, balances={"USDT": "1000", "BTC": "0.5"})
    async with (
        key.client() as client,
        add_local_key(ex).client() as other,
        add_local_key(ex).client() as third,
    ):
        venue = BinanceVenue(client)
        updates = venue.order_updates()
        listen = asyncio.ensure_future(anext(updates))
        await eventually(lambda: ex.user_data_subscriptions() == 1)

        # LIMIT_MAKER: no timeInForce (the exchange refuses one, -1106), rests as NEW.
        maker_cid = new_client_order_id("t")
        maker = await venue.place_order(
            OrderRequest("BTCUSDT", "BUY", "LIMIT_MAKER", D("0.01"), maker_cid, price=D("19000"))
        )
        assert (maker.type, maker.status, maker.stop_price) == ("LIMIT_MAKER", "NEW", None)
        assert (await asyncio.wait_for(listen, 5)).order.client_order_id == maker_cid
        sent = await client.get_order("BTCUSDT", client_order_id=maker_cid)
        assert sent.order_type == "LIMIT_MAKER" and D(sent.stop_price or "0") == 0

        # One that would cross an ask is refused with Binance's code and message.
        await other.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="21000", time_in_force="GTC"
        )
        with pytest.raises(InvalidOrder) as refused:
            await venue.place_order(
                OrderRequest(
                    "BTCUSDT", "BUY", "LIMIT_MAKER", D("0.01"), new_client_order_id("t"),
                    price=D("21000"),
                )
            )  # fmt: skip
        assert (refused.value.code, refused.value.msg) == (
            -2010,
            "Order would immediately match and take.",
        )

        # STOP_LOSS_LIMIT: type, stopPrice and timeInForce GTC; NEW until triggered.
        stop_cid = new_client_order_id("t")
        stop = await venue.place_order(
            OrderRequest(
                "BTCUSDT", "SELL", "STOP_LOSS_LIMIT", D("0.01"), stop_cid,
                price=D("19500"), stop_price=D("20000"),
            )
        )  # fmt: skip
        assert (stop.type, stop.status, stop.stop_price, stop.price) == (
            "STOP_LOSS_LIMIT",
            "NEW",
            D("20000"),
            D("19500"),
        )
        sent = await client.get_order("BTCUSDT", client_order_id=stop_cid)
        assert (sent.order_type, sent.time_in_force) == ("STOP_LOSS_LIMIT", "GTC")
        assert D(sent.stop_price or "0") == D("20000")
        assert (await venue.balances())["BTC"].locked == D("0.01")

        # A sale at 19000 (into our post-only bid) is a last price below the stop: it
        # triggers; the limit at 19500 rests until a buyer takes it, as maker.
        await third.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.001")
        await third.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.01", price="19500", time_in_force="GTC"
        )
        filled = await next_update(updates, stop_cid, "FILLED")
        assert filled.fill is not None and filled.fill.is_maker
        assert filled.fill.price == D("19500") and filled.fill.quantity == D("0.01")
        assert filled.order.type == "STOP_LOSS_LIMIT" and filled.order.stop_price == D("20000")

        # TAKE_PROFIT_LIMIT, canceled before its trigger: its funds come back.
        profit_cid = new_client_order_id("t")
        profit = await venue.place_order(
            OrderRequest(
                "BTCUSDT", "BUY", "TAKE_PROFIT_LIMIT", D("0.01"), profit_cid,
                price=D("18000"), stop_price=D("18000"),
            )
        )  # fmt: skip
        assert (profit.type, profit.stop_price) == ("TAKE_PROFIT_LIMIT", D("18000"))
        sent = await client.get_order("BTCUSDT", client_order_id=profit_cid)
        assert (sent.order_type, sent.time_in_force) == ("TAKE_PROFIT_LIMIT", "GTC")
        canceled = await venue.cancel_order("BTCUSDT", profit_cid)
        assert (canceled.status, canceled.stop_price) == ("CANCELED", D("18000"))
        await updates.aclose()


@pytest.mark.asyncio
async def test_stop_markets_are_sent_without_a_price_and_fill_as_takers(ex: LocalExchange) -> None:
    key = add_local_key(ex, balances={"USDT": "1000", "BTC": "0.5"})
    async with (
        key.client() as client,
        add_local_key(ex).client() as other,
        add_local_key(ex).client() as third,
    ):
        venue = BinanceVenue(client)
        updates = venue.order_updates()
        listen = asyncio.ensure_future(anext(updates))
        await eventually(lambda: ex.user_data_subscriptions() == 1)
        rules = await venue.symbol_rules("BTCUSDT")  # this exchangeInfo's orderTypes list them
        assert {"STOP_LOSS", "TAKE_PROFIT"} <= rules.order_types

        # A bid at 19900 and 19800, and a last price of 20000.
        await other.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.005", price="19900", time_in_force="GTC"
        )
        await other.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.01", price="19800", time_in_force="GTC"
        )
        await other.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.001", price="20000", time_in_force="GTC"
        )
        await third.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.001")

        # STOP_LOSS: type and stopPrice, no price and no timeInForce (the exchange refuses
        # either, -1106/-1114); NEW, its quantity locked, until the last price falls to it.
        stop_cid = new_client_order_id("t")
        stop = await venue.place_order(
            OrderRequest(
                "BTCUSDT", "SELL", "STOP_LOSS", D("0.01"), stop_cid, stop_price=D("19950")
            )
        )  # fmt: skip
        assert (stop.type, stop.status, stop.stop_price, stop.price) == (
            "STOP_LOSS",
            "NEW",
            D("19950"),
            None,
        )
        assert (await asyncio.wait_for(listen, 5)).order.client_order_id == stop_cid
        sent = await client.get_order("BTCUSDT", client_order_id=stop_cid)
        assert sent.order_type == "STOP_LOSS" and D(sent.stop_price or "0") == D("19950")
        assert (await venue.balances())["BTC"].locked == D("0.01")

        # Someone sells 0.001 at 19900: the last price reaches the stop, and ours sells the
        # rest of the bids as a MARKET order, as taker.
        await third.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.001")
        filled = await next_update(updates, stop_cid, "FILLED")
        assert filled.order.type == "STOP_LOSS" and filled.order.price is None
        assert filled.order.executed_qty == D("0.01")
        assert filled.order.cumulative_quote_qty == D("0.004") * 19900 + D("0.006") * 19800
        assert filled.fill is not None and not filled.fill.is_maker

        # TAKE_PROFIT, canceled before its trigger: its lock comes back.
        profit_cid = new_client_order_id("t")
        profit = await venue.place_order(
            OrderRequest(
                "BTCUSDT", "SELL", "TAKE_PROFIT", D("0.01"), profit_cid, stop_price=D("21000")
            )
        )  # fmt: skip
        assert (profit.type, profit.stop_price, profit.price) == ("TAKE_PROFIT", D("21000"), None)
        assert (await venue.balances())["BTC"].locked == D("0.01")
        canceled = await venue.cancel_order("BTCUSDT", profit_cid)
        assert (canceled.status, canceled.stop_price) == ("CANCELED", D("21000"))
        assert (await venue.balances())["BTC"].locked == 0
        await updates.aclose()
