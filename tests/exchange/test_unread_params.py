"""-1104 on every endpoint: a captured signed request cannot be re-split into another meaning.

REST signs the query string followed by the body with no separator, so the same signed bytes can
be cut anywhere between the two. A cut inside a name or a value leaves a fragment that no
endpoint reads; Binance refuses it with -1104 and so must we, or the request means something
else (all open orders instead of one symbol's, balances without the zero ones, ...).
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets

from tradewire import Signer
from tradewire.exchange import LocalExchange
from tradewire.exchange.params import parse_form

# (method, path, parameters before the timestamp): each has a parameter whose cut changes meaning
CAPTURED = [
    ("GET", "/api/v3/openOrders", "symbol=BTCUSDT"),
    ("DELETE", "/api/v3/openOrders", "symbol=BTCUSDT&recvWindow=5000"),
    ("GET", "/api/v3/account", "omitZeroBalances=true"),
    ("GET", "/api/v3/allOrders", "symbol=BTCUSDT&limit=10"),
    ("GET", "/api/v3/myTrades", "symbol=BTCUSDT&limit=10"),
    ("GET", "/sapi/v1/account/apiRestrictions", "recvWindow=59999"),
    ("GET", "/api/v3/order", "symbol=BTCUSDT&orderId=1"),
    ("DELETE", "/api/v3/order", "symbol=BTCUSDT&orderId=1"),
]


async def accepted_resplits(ex: LocalExchange) -> tuple[int, int, list[str]]:
    """(accepted splits that change the meaning, splits tried, which ones)."""
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret, balances={"USDT": "1000", "BTC": "0"})
    signer = Signer.from_secret(secret)
    key = ex.core.keys.get(api_key)
    assert key is not None
    account = key.account
    headers = {"X-MBX-APIKEY": api_key, "Content-Type": "application/x-www-form-urlencoded"}
    accepted: list[str] = []
    tried = 0
    async with httpx.AsyncClient(base_url=ex.rest_url, timeout=10) as client:

        async def rest_order() -> None:
            query = (
                "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.01&price=1000"
                f"&timestamp={ex.server_time()}"
            )
            response = await client.post(
                f"/api/v3/order?{query}&signature={signer.sign(query)}", headers=headers
            )
            assert response.status_code == 200, response.text

        for method, path, fields in CAPTURED:
            payload = f"{fields}&timestamp={ex.server_time()}"
            signature = quote(signer.sign(payload), safe="")
            meaning = parse_form(payload)
            for cut in range(1, len(payload)):
                query, body = payload[:cut], payload[cut:]
                try:
                    same = {**parse_form(body), **parse_form(query)} == meaning
                except Exception:  # a split that repeats a name: refused anyway
                    same = False
                if same:
                    continue
                tried += 1
                if not ex.core.engine.open_orders(account, "BTCUSDT"):
                    await rest_order()  # something to cancel, and order 1 to look up
                response = await client.request(
                    method,
                    f"{path}?{query}",
                    content=f"{body}&signature={signature}",
                    headers=headers,
                )
                if response.status_code == 200:
                    accepted.append(f"{method} {path}?{query} | {body}")
    return len(accepted), tried, accepted


@pytest.mark.asyncio
async def test_a_signed_request_cut_elsewhere_between_query_and_body_is_minus_1104() -> None:
    async with LocalExchange(
        symbols=("BTCUSDT",), market="none", request_weight_per_minute=10**9, orders_per_10s=10**6
    ) as ex:
        count, tried, accepted = await accepted_resplits(ex)
    assert tried > 100
    assert count == 0, accepted


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v3/ping", "x=1"),
        ("/api/v3/time", "x=1"),
        ("/api/v3/depth", "symbol=BTCUSDT&lmit=5"),
        ("/api/v3/exchangeInfo", "symbol=BTCUSDT&extra=1"),
        ("/api/v3/ticker/price", "symbol=BTCUSDT&x="),
    ],
)
async def test_public_endpoints_refuse_unread_parameters(
    ex: LocalExchange, client: httpx.AsyncClient, path: str, params: str
) -> None:
    response = await client.get(f"{path}?{params}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == -1104
    sent = len(parse_form(params))
    assert body["msg"] == (
        f"Not all sent parameters were read; read '{sent - 1}' parameter(s) but was sent '{sent}'."
    )


@pytest.mark.asyncio
async def test_websocket_api_methods_refuse_unread_parameters(ex: LocalExchange) -> None:
    secret = secrets.token_hex(16)
    api_key = ex.add_key(secret)
    signer = Signer.from_secret(secret)
    params = {"apiKey": api_key, "omitZeroBalance": "true", "timestamp": ex.server_time()}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    requests: list[dict[str, Any]] = [
        {"id": 1, "method": "ping", "params": {"x": 1}},
        {"id": 2, "method": "depth", "params": {"symbol": "BTCUSDT", "lmit": 5}},
        {
            "id": 3,
            "method": "account.status",
            "params": {**params, "signature": signer.sign(payload)},
        },
        {"id": 4, "method": "session.status", "params": {"x": 1}},
    ]
    async with websockets.connect(ex.ws_api_url) as ws:
        for request in requests:
            await ws.send(json.dumps(request))
            reply = json.loads(await ws.recv())
            assert reply["error"]["code"] == -1104, reply
        await ws.send(
            json.dumps({"id": 5, "method": "ping", "params": {"returnRateLimits": False}})
        )
        quiet = json.loads(await ws.recv())
    assert quiet == {"id": 5, "status": 200, "result": {}}


@pytest.mark.asyncio
async def test_documented_optional_parameters_are_read(client: httpx.AsyncClient) -> None:
    # with -1104 everywhere, a documented parameter the exchange ignored would now be refused
    mini = await client.get("/api/v3/ticker/24hr?symbol=BTCUSDT&type=MINI")
    assert mini.status_code == 200, mini.text
    assert "priceChange" not in mini.json()
    assert {"openPrice", "lastPrice", "volume", "count"} <= set(mini.json())
    full = await client.get("/api/v3/ticker/24hr?symbol=BTCUSDT&type=FULL")
    assert "priceChange" in full.json()
    wrong = await client.get("/api/v3/ticker/24hr?symbol=BTCUSDT&type=TINY")
    assert wrong.json() == {"code": -1139, "msg": "Invalid ticker type."}
    info = await client.get(
        "/api/v3/exchangeInfo?symbol=BTCUSDT&showPermissionSets=false&symbolStatus=TRADING"
    )
    assert info.status_code == 200, info.text
    klines = await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&timeZone=0&limit=5")
    assert klines.status_code == 200, klines.text
