"""Request weight and order limits: headers, 429 with Retry-After, then a 418 ban."""

from __future__ import annotations

import asyncio
import json
import secrets
import time

import httpx
import pytest
import websockets

from tradewire import Signer
from tradewire.exchange import LocalExchange


async def away_from_window_end(window_ms: int, margin_ms: int = 1500) -> None:
    """Wait until the current fixed window has ``margin_ms`` left, so a test stays inside it.

    The limits are fixed windows of wall-clock time (as Binance's are): waiting one out is the
    behaviour, not a synchronisation, so this sleep stays.
    """
    left = window_ms - time.time_ns() // 1_000_000 % window_ms
    if left < margin_ms:
        await asyncio.sleep(left / 1000 + 0.01)  # the next window starts


@pytest.mark.asyncio
async def test_weight_limit_429_then_418_ban() -> None:
    await away_from_window_end(60_000)
    async with (
        LocalExchange(
            symbols=("BTCUSDT",),
            market="none",
            request_weight_per_minute=10,
            ban_after_violations=2,
            ban_ms=5000,
        ) as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
    ):
        weights = [
            int((await client.get("/api/v3/ping")).headers["X-MBX-USED-WEIGHT-1M"])
            for _ in range(10)
        ]
        assert weights == list(range(1, 11))
        throttled = await client.get("/api/v3/ping")
        assert throttled.status_code == 429
        assert throttled.json() == {
            "code": -1003,
            "msg": "Too much request weight used; current limit is 10 request weight per 1 MINUTE. "
            "Please use WebSocket Streams for live updates to avoid polling the API.",
        }
        assert 1 <= int(throttled.headers["Retry-After"]) <= 60
        assert throttled.headers["X-MBX-USED-WEIGHT-1M"] == "11"
        assert (await client.get("/api/v3/ping")).status_code == 429
        banned = await client.get("/api/v3/ping")
        assert banned.status_code == 418
        assert banned.json()["msg"].startswith("Way too much request weight used; IP banned until ")
        assert 1 <= int(banned.headers["Retry-After"]) <= 5
        assert (await client.get("/api/v3/time")).status_code == 418
        metrics = ex.metrics()
    assert (metrics["responses_429"], metrics["responses_418"]) == (2, 2)
    assert metrics["requests"] == 14


@pytest.mark.asyncio
async def test_order_count_limit_per_account() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), market="none", orders_per_10s=3) as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
    ):
        secret = secrets.token_hex(16)
        api_key = ex.add_key(secret)
        await away_from_window_end(10_000)
        signer = Signer.from_secret(secret)
        statuses = []
        for i in range(4):
            query = (
                f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001"
                f"&price={50000 + i}&timestamp={ex.server_time()}"
            )
            response = await client.post(
                f"/api/v3/order?{query}&signature={signer.sign(query)}",
                headers={"X-MBX-APIKEY": api_key},
            )
            statuses.append((response.status_code, response.headers.get("X-MBX-ORDER-COUNT-10S")))
        assert statuses == [(200, "1"), (200, "2"), (200, "3"), (429, "3")]
        assert response.json() == {
            "code": -1015,
            "msg": "Too many new orders; current limit is 3 orders per 10 SECOND.",
        }
        assert "Retry-After" in response.headers
        assert ex.metrics()["orders_placed"] == 3


@pytest.mark.asyncio
async def test_websocket_api_shares_the_ip_weight() -> None:
    await away_from_window_end(60_000)
    async with (
        LocalExchange(symbols=("BTCUSDT",), market="none", request_weight_per_minute=3) as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
        websockets.connect(ex.ws_api_url) as ws,
    ):
        assert (await client.get("/api/v3/ping")).status_code == 200
        answers = []
        for i in range(3):
            await ws.send(json.dumps({"id": i, "method": "ping"}))
            answers.append(json.loads(await ws.recv()))
    assert [a["status"] for a in answers] == [200, 200, 429]
    assert answers[1]["rateLimits"][0]["count"] == 3
    assert answers[2]["error"]["code"] == -1003
    assert answers[2]["error"]["data"]["retryAfter"] > answers[2]["error"]["data"]["serverTime"]
