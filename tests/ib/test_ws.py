"""The WebSocket against the local gateway: drops, resubscription, session pushes."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.ib import IBOrderRequest

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ib import IBOrder
    from tradewire.ibgateway import LocalIBGateway

AAPL = 265598


@pytest.mark.asyncio
async def test_a_dropped_socket_reconnects_and_resubscribes(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354", "o403", "o163", "o10151")) as ib:
        seen: list[IBOrder] = []

        async def collect() -> None:
            async for order in ib.order_updates():
                seen.append(order)

        collector = asyncio.create_task(collect())
        await gw.wait_for(lambda: any(c.orders for c in gw.ws.clients))
        stream = await ib.stream()
        assert await gw.drop_websockets() == 1
        await gw.wait_for(lambda: stream.connects == 2)
        await gw.wait_for(lambda: any(c.orders for c in gw.ws.clients))  # sor re-sent
        ack = await ib.place_order(IBOrderRequest(AAPL, "BUY", Decimal(3), "MKT", "after-drop"))
        await gw.wait_for(
            lambda: any(o.order_id == ack.order_id and o.status == "Filled" for o in seen)
        )
        collector.cancel()


@pytest.mark.asyncio
async def test_quotes_resume_after_a_drop(gw: LocalIBGateway, connect: Callable[..., Any]) -> None:
    async with connect() as ib:
        quotes = ib.quotes(AAPL)
        await asyncio.wait_for(anext(quotes), 5)
        stream = await ib.stream()
        await gw.drop_websockets()
        await gw.wait_for(lambda: stream.connects == 2)
        await gw.wait_for(lambda: any(AAPL in c.smd for c in gw.ws.clients))  # smd re-sent
        quote = await asyncio.wait_for(anext(quotes), 5)
        assert quote.conid == AAPL and quote.bid is not None
        await quotes.aclose()


@pytest.mark.asyncio
async def test_an_ended_session_is_seen_on_the_socket(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect() as ib:
        stream = await ib.stream()
        await gw.wait_for(lambda: stream.authenticated is True)
        gw.expire_session()
        await gw.wait_for(lambda: stream.authenticated is False)
        assert ib.session.state == "closed"
        await ib.session.upkeep_once()
        assert ib.session.state == "ready" and gw.session.authenticated
