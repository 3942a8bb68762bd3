"""What counts toward X-MBX-ORDER-COUNT-10S/-1D and the WebSocket API's ORDERS rate limits.

rest-api.md, "Unfilled Order Count": "Every successful order response will contain a
X-MBX-ORDER-COUNT-(intervalNum)(intervalLetter) header indicating how many orders you have placed
for that interval" and "if your orders are consistently filled by trades, you can continuously
place orders". errors.md, -1013: "The request is rejected by the API. (i.e. The request didn't
reach the Matching Engine.)". order_count_decrement.md: "When any order is filled for the first
time (partially or fully), the order count will be decremented by 1", and an order that fills at
once returns "the order count at the time of order placement".
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import TYPE_CHECKING

import pytest
import websockets

from tradewire import Signer
from tradewire.exchange import LocalExchange
from tradewire.exchange.wsapi import signing_payload

if TYPE_CHECKING:
    from typing import Any

pytestmark = pytest.mark.asyncio

BUY = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}


async def away_from_window_end(margin_ms: int = 1500) -> None:
    """Start in a fresh part of the 10 s order window (fixed windows of wall-clock time, as
    Binance's are: waiting one out is the behaviour, so this sleep stays)."""
    left = 10_000 - time.time_ns() // 1_000_000 % 10_000
    if left < margin_ms:
        await asyncio.sleep(left / 1000 + 0.01)


async def _counts(trader: Any, **params: object) -> tuple[int, str | None, str | None]:
    response = await trader.call("POST", "/api/v3/order", **params)
    return (
        response.status_code,
        response.headers.get("X-MBX-ORDER-COUNT-10S"),
        response.headers.get("X-MBX-ORDER-COUNT-1D"),
    )


async def test_orders_refused_by_a_filter_do_not_count(make_trader: Any) -> None:
    trader = make_trader()
    await away_from_window_end()
    # An unlucky bot: prices off the tick grid, quantities under the lot size, all -1013.
    for i in range(5):
        bad = await trader.call(
            "POST", "/api/v3/order", **BUY, quantity="0.001", price=f"50000.00{i + 1}"
        )
        assert bad.json() == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    tiny = await trader.call("POST", "/api/v3/order", **BUY, quantity="0.000001", price="50000")
    assert tiny.json()["msg"] == "Filter failure: LOT_SIZE"
    # ... and then places its two real orders: they are the first two counted.
    first = await _counts(trader, **BUY, quantity="0.001", price="50000")
    second = await _counts(trader, **BUY, quantity="0.001", price="50001")
    assert first == (200, "1", "1")
    assert second == (200, "2", "2")


async def test_a_filled_order_leaves_the_count_after_its_answer(
    ex: LocalExchange, alice: Any, bob: Any
) -> None:
    maker, taker = alice, bob
    await away_from_window_end()
    assert await _counts(maker, **BUY, quantity="0.002", price="50000") == (200, "1", "1")
    sell = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.001"}
    # The taker fills at once: its answer still counts it (the decrement comes after) ...
    assert await _counts(taker, **sell) == (200, "1", "1")
    answered = ex.server_time()
    await ex.wait_for(lambda: ex.server_time() > answered)  # a later millisecond
    # ... and its next order sees it gone; the partly filled maker's was taken off once.
    assert await _counts(taker, **sell) == (200, "1", "1")
    assert await _counts(maker, **BUY, quantity="0.001", price="49000") == (200, "1", "1")


async def test_the_websocket_api_reports_the_same_counts() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        secret = secrets.token_hex(32)
        api_key = ex.add_key(secret)
        signer = Signer.from_secret(secret)
        await away_from_window_end()

        def request(i: int, price: str) -> str:
            params = {**BUY, "quantity": "0.001", "price": price, "apiKey": api_key}
            params["timestamp"] = str(ex.server_time())
            params["signature"] = signer.sign(signing_payload(params).decode())
            return json.dumps({"id": i, "method": "order.place", "params": params})

        async with websockets.connect(ex.ws_api_url) as ws:
            await ws.send(request(1, "50000.001"))
            refused = json.loads(await ws.recv())
            await ws.send(request(2, "50000"))
            placed = json.loads(await ws.recv())
    assert refused["error"]["code"] == -1013
    orders = [r for r in placed["rateLimits"] if r["rateLimitType"] == "ORDERS"]
    assert [(r["interval"], r["count"]) for r in orders] == [("SECOND", 1), ("DAY", 1)]
