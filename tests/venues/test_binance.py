"""BinanceVenue against the local exchange over real sockets: exact neutral types, user data."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import OrderNotFound
from tradewire.model import OrderRequest
from tradewire.testing import eventually
from tradewire.testing.local_exchange import add_local_key
from tradewire.trading.journal import new_client_order_id
from tradewire.venues.binance import BinanceVenue
from tradewire.venues.protocols import Venue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.exchange import LocalExchange
    from tradewire.model import OrderUpdate


def user_data_subscriptions(ex: LocalExchange) -> int:
    """How many user data subscriptions the exchange serves."""
    return ex.user_data_subscriptions()


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
async def test_orders_balances_rules_and_updates_map_exactly(ex: LocalExchange) -> None:
    key = add_local_key(ex, balances={"USDT": "1000", "BTC": "0.5"})
    async with key.client() as client, add_local_key(ex).client() as taker:
        venue = BinanceVenue(client)
        assert isinstance(venue, Venue)
        rules = await venue.symbol_rules("BTCUSDT")
        filters = await client.filters("BTCUSDT")
        assert (rules.base_asset, rules.quote_asset) == ("BTC", "USDT")
        assert rules.tick_size == filters.tick_size and rules.step_size == filters.step_size
        assert rules.min_notional == filters.min_notional
        assert abs(await venue.server_time() - client.clock.now_ms()) < 1000

        balances = await venue.balances()
        assert balances["USDT"].free == Decimal("1000") and balances["BTC"].free == Decimal("0.5")

        updates = venue.order_updates()
        listen = asyncio.ensure_future(anext(updates))
        await eventually(lambda: user_data_subscriptions(ex) == 1)
        cid = new_client_order_id("t")
        request = OrderRequest(
            "BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), cid, price=Decimal("20000.01")
        )
        placed = await venue.place_order(request)
        assert (placed.client_order_id, placed.status, placed.side) == (cid, "NEW", "BUY")
        assert placed.price == Decimal("20000.01") and placed.quantity == Decimal("0.01")
        assert placed.executed_qty == 0 and placed.order_id is not None

        first = await asyncio.wait_for(listen, 5)
        assert first.order.client_order_id == cid and first.fill is None
        balances = await venue.balances()
        assert balances["USDT"].locked == Decimal("200.0001")
        assert balances["USDT"].free == Decimal("1000") - Decimal("200.0001")

        (open_order,) = await venue.open_orders("BTCUSDT")
        assert open_order.client_order_id == cid and open_order.price == placed.price
        got = await venue.get_order("BTCUSDT", cid)
        assert got is not None and got.status == "NEW" and got.order_id == placed.order_id
        assert await venue.get_order("BTCUSDT", "never-placed") is None

        # Another account sells into the order: half of it fills, as maker.
        await taker.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.004")
        partial = await next_update(updates, cid, "PARTIALLY_FILLED")
        fill = partial.fill
        assert fill is not None and fill.is_maker and fill.side == "BUY"
        assert fill.price == Decimal("20000.01") and fill.quantity == Decimal("0.004")
        assert fill.commission == Decimal("0.000004") and fill.commission_asset == "BTC"
        assert partial.order.executed_qty == Decimal("0.004")
        assert partial.order.cumulative_quote_qty == Decimal("80.00004")
        assert [f.trade_id for f in await venue.order_fills("BTCUSDT", cid)] == [fill.trade_id]

        canceled = await venue.cancel_order("BTCUSDT", cid)
        assert canceled.client_order_id == cid and canceled.status == "CANCELED"
        assert canceled.executed_qty == Decimal("0.004")
        update = await next_update(updates, cid, "CANCELED")
        assert update.fill is None and update.order.executed_qty == Decimal("0.004")
        with pytest.raises(OrderNotFound):
            await venue.cancel_order("BTCUSDT", cid)
        assert await venue.open_orders("BTCUSDT") == []

        await updates.aclose()


@pytest.mark.asyncio
async def test_switching_clients_keeps_updates_flowing_without_duplicates(
    ex: LocalExchange,
) -> None:
    key = add_local_key(ex)
    key2 = add_local_key(ex, account_of=key)  # a second key, same account
    async with (
        key.client() as old,
        key2.client() as new,
        add_local_key(ex).client() as taker,
    ):
        venue = BinanceVenue(old, overlap_s=0.3)
        updates = venue.order_updates()
        listen = asyncio.ensure_future(anext(updates))
        await eventually(lambda: user_data_subscriptions(ex) == 1)
        cid = new_client_order_id("t")
        await venue.place_order(
            OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), cid, Decimal("1000"))
        )
        assert (await asyncio.wait_for(listen, 5)).order.status == "NEW"
        assert await venue.switch_client(new) is old and venue.client is new
        ex.remove_key(key.api_key)  # the old key is gone from the exchange
        await taker.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.01")
        filled = await next_update(updates, cid, "FILLED")
        assert filled.fill is not None and filled.fill.quantity == Decimal("0.01")
        assert await venue.catch_up() == 0  # nothing was missed, nothing is sent twice
        # Signed with the new key: the exchange no longer knows the old one.
        cid2 = new_client_order_id("t")
        await venue.place_order(
            OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal("0.01"), cid2, Decimal("1000"))
        )
        assert (await next_update(updates, cid2, "NEW")).fill is None
        await updates.aclose()


@pytest.mark.asyncio
async def test_catch_up_reports_fills_the_stream_missed(ex: LocalExchange) -> None:
    client, taker = add_local_key(ex).client(), add_local_key(ex).client()
    async with client, taker:
        venue = BinanceVenue(client)
        cid = new_client_order_id("t")
        await venue.place_order(
            OrderRequest("BTCUSDT", "SELL", "LIMIT", Decimal("0.02"), cid, Decimal("50000"))
        )
        # Filled while nobody listened (as between a restart's resume and the user data
        # subscription): only a look over REST can tell, which the venue takes by itself once
        # the subscription is live.
        await taker.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.01")
        await taker.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.01")
        updates = venue.order_updates()
        got = [await asyncio.wait_for(anext(updates), 5) for _ in range(2)]
        assert user_data_subscriptions(ex) == 1
        fills = [u.fill for u in got if u.fill is not None]
        assert [f.quantity for f in fills] == [Decimal("0.01"), Decimal("0.01")]
        assert [u.order.status for u in got] == ["PARTIALLY_FILLED", "FILLED"]
        assert got[-1].order.executed_qty == Decimal("0.02")
        assert await venue.catch_up() == 0
        await updates.aclose()
