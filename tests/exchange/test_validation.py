"""Every malformed request gets a Binance error body, never a 500 or a traceback."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tradewire.exchange.handlers import ROUTES

NAMES = [
    "symbol",
    "side",
    "type",
    "timeInForce",
    "quantity",
    "quoteOrderQty",
    "price",
    "stopPrice",
    "orderId",
    "origClientOrderId",
    "newClientOrderId",
    "limit",
    "interval",
    "startTime",
    "endTime",
    "fromId",
    "symbols",
    "recvWindow",
    "newOrderRespType",
    "x",
]
VALUES = [
    "",
    "BTCUSDT",
    "btcusdt",
    "ETHUSDT",
    "BUY",
    "SELL",
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS_LIMIT",
    "GTC",
    "IOC",
    "FOK",
    "0",
    "-1",
    "0.01",
    "60000",
    "1e5",
    "NaN",
    "1m",
    "99999999999999999999999",
    '["BTCUSDT"]',
    "[",
    "ACK",
    "%FF",
    "é",
    "null",
    "0.00000001",
]


@pytest.mark.asyncio
async def test_random_requests_get_binance_errors(alice: Any) -> None:
    rng = random.Random(4)
    statuses = set()
    for _ in range(400):
        method, path = rng.choice(list(ROUTES))
        params = {rng.choice(NAMES): rng.choice(VALUES) for _ in range(rng.randint(0, 7))}
        response = await alice.call(method, path, **params)
        statuses.add(response.status_code)
        assert response.status_code in (200, 400, 401), response.text
        body = response.json()
        if response.status_code != 200:
            assert set(body) == {"code", "msg"}
            assert isinstance(body["code"], int)
            assert "Traceback" not in body["msg"]
    assert statuses == {200, 400}
