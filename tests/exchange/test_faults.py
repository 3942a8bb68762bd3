"""Faults on demand: delays, a skewed clock, and orders accepted but answered with a 503."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_clock_skew_and_delay(ex: LocalExchange, client: httpx.AsyncClient) -> None:
    ex.set_faults(clock_skew_ms=-30_000, delay_ms=150)
    started = time.monotonic()
    server_time = (await client.get("/api/v3/time")).json()["serverTime"]
    assert time.monotonic() - started >= 0.15
    assert abs(server_time - (time.time_ns() // 1_000_000 - 30_000)) < 1000
    ex.set_faults()
    started = time.monotonic()
    server_time = (await client.get("/api/v3/time")).json()["serverTime"]
    assert time.monotonic() - started < 0.15
    assert abs(server_time - time.time_ns() // 1_000_000) < 1000


@pytest.mark.asyncio
async def test_skewed_clock_rejects_requests_as_binance_would(
    ex: LocalExchange, alice: Any
) -> None:
    ex.set_faults(clock_skew_ms=-5000)  # the server runs behind: our timestamps are "ahead"
    response = await alice.call("GET", "/api/v3/account")
    assert response.json() == {
        "code": -1021,
        "msg": "Timestamp for this request was 1000ms ahead of the server's time.",
    }


@pytest.mark.asyncio
async def test_error_after_accept_answers_503_but_keeps_the_order(
    ex: LocalExchange, alice: Any
) -> None:
    ex.set_faults(error_after_accept=1.0)
    response = await alice.call(
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="50000",
        newClientOrderId="unknown-fate",
    )
    assert response.status_code == 503
    assert response.json()["code"] == -1007
    ex.set_faults()
    found = await alice.ok(
        "GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="unknown-fate"
    )
    assert found["status"] == "NEW"
    assert ex.metrics()["orders_placed"] == 1
