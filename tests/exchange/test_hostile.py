"""Hostile input: every malformed request gets Binance's error JSON, never a 500 or a dead session.

The fuzz tests send seeded random frames and requests built from what attackers (and unlucky
clients) send: floats and booleans where an id or integer belongs, lone surrogates, deep nesting,
NaN, non-ASCII digits, 5,000-digit numbers, trailing newlines. ``hostile_ws_frames`` and
``hostile_rest_requests`` return the counts, so the same code measures a build before and after.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tradewire import Signer
from tradewire.errors import ExchangeRejection
from tradewire.exchange import LocalExchange
from tradewire.exchange.auth import check_timestamp

WS_METHODS = [
    "ping",
    "time",
    "exchangeInfo",
    "depth",
    "trades.recent",
    "trades.aggregate",
    "klines",
    "avgPrice",
    "ticker.book",
    "ticker.price",
    "ticker.24hr",
    "order.place",
    "order.test",
    "order.status",
    "order.cancel",
    "openOrders.status",
    "openOrders.cancelAll",
    "allOrders",
    "account.status",
    "myTrades",
    "session.status",
    "session.logout",
    "userDataStream.subscribe",
    "userDataStream.unsubscribe",
    "nope",
]
NAMES = [
    "symbol",
    "symbols",
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
    "recvWindow",
    "timestamp",
    "newOrderRespType",
    "subscriptionId",
    "omitZeroBalances",
    "returnRateLimits",
    "x",
]
# string values that pass JSON and percent-encoding, and that the parameter parsers must refuse
HOSTILE_TEXT = [
    "",
    "BTCUSDT",
    "btcusdt",
    "BUY",
    "LIMIT",
    "MARKET",
    "GTC",
    "0.001",
    "0.001\n",
    "1\n",
    "²",
    "\u0663",  # an Arabic-Indic digit
    "\uff11",  # a full-width digit
    "-1",
    "1e5",
    "NaN",
    "Infinity",
    "9" * 20,
    "9" * 21,
    "9" * 5000,
    "0." + "1" * 30,
    "1m",
    '["BTCUSDT"]',
    '["BTCUSDT",1.5]',
    "[" * 3000,
    "{}",
    "true",
    "null",
    "\x00",
    "é",
    "FULL",
]
DEEP = "[" * 100_000 + "]" * 100_000


def hostile_value(rng: random.Random) -> Any:
    """A JSON parameter value: a hostile string, or a value of the wrong JSON type."""
    roll = rng.random()
    if roll < 0.55:
        return rng.choice(HOSTILE_TEXT)
    return rng.choice(
        [
            1.5,
            0.001,
            -0.0,
            10**30,
            -(10**25),
            True,
            False,
            None,
            [],
            ["BTCUSDT", 1.5],
            ["BTCUSDT", ["ETHUSDT"]],
            [{"a": 1}],
            {"a": 1},
            {"a": {"b": [1.5]}},
            "\ud800",
            ["\udfff"],
        ]
    )


def hostile_id(rng: random.Random) -> Any:
    """A request id: mostly allowed ones (int, string, null), else of a type Binance refuses."""
    return rng.choice(
        [1, 2**62, "a-uuid-like-id", None, 1.5, 1e300, True, [1], {"id": 1}, "\ud800", 10**100]
    )


def hostile_frame(rng: random.Random) -> str:
    """One WebSocket-API text frame."""
    roll = rng.random()
    if roll < 0.05:
        return rng.choice(
            [
                "not json",
                "{",
                "[]",
                "1",
                '"x"',
                "null",
                DEEP,
                '{"id":1,"method":"time","params":' + "[" * 5000 + "]" * 5000 + "}",
                '{"id":NaN,"method":"time"}',
                '{"id":1,"method":"time","params":{"limit":Infinity}}',
                '{"id":1e999,"method":"time"}',
                '{"id":1,"method":"depth","params":{"symbol":"BTCUSDT","limit":1'
                + "0" * 5000
                + "}}",
                '{"id":"\\ud800","method":"time"}',
                '{"id":1,"method":"time","params":{"\\udc00":1}}',
            ]
        )
    message: dict[str, Any] = {}
    if rng.random() < 0.95:
        message["id"] = hostile_id(rng)
    message["method"] = rng.choice(WS_METHODS) if rng.random() < 0.9 else hostile_value(rng)
    if rng.random() < 0.9:
        message["params"] = (
            {rng.choice(NAMES): hostile_value(rng) for _ in range(rng.randint(0, 6))}
            if rng.random() < 0.95
            else hostile_value(rng)
        )
    return json.dumps(message)


@dataclass
class Tally:
    """What the hostile requests got back."""

    sent: int = 0
    status_500: int = 0
    killed: int = 0  # sessions closed without a close frame
    bad_shape: list[str] = field(default_factory=list)


def check_ws_reply(reply: Any, tally: Tally) -> None:
    """Count a WebSocket-API reply that is a 5xx or not in Binance's shape."""
    if not isinstance(reply, dict) or not {"id", "status"} <= set(reply):
        tally.bad_shape.append(repr(reply)[:200])
        return
    if reply["status"] >= 500:
        tally.status_500 += 1
    if reply["status"] == 200:
        ok = "result" in reply
    else:
        error = reply.get("error")
        ok = (
            isinstance(error, dict)
            and isinstance(error.get("code"), int)
            and isinstance(error.get("msg"), str)
        )
    if not ok:
        tally.bad_shape.append(repr(reply)[:200])


async def hostile_ws_frames(ex: LocalExchange, frames: int, seed: int) -> Tally:
    """Send ``frames`` hostile frames; one reply is expected for each, on a session that lives."""
    rng = random.Random(seed)
    tally = Tally()
    ws = await websockets.connect(ex.ws_api_url, max_size=None)
    try:
        while tally.sent < frames:
            frame = hostile_frame(rng)
            tally.sent += 1
            try:
                await ws.send(frame)
                while True:  # skip user data events (the fuzz may subscribe)
                    reply = json.loads(await ws.recv())
                    if not (isinstance(reply, dict) and "event" in reply):
                        break
            except ConnectionClosed as closed:
                if closed.rcvd is None:
                    tally.killed += 1
                else:
                    tally.bad_shape.append(f"closed with {closed.rcvd.code}: {frame[:100]}")
                ws = await websockets.connect(ex.ws_api_url, max_size=None)
                continue
            check_ws_reply(reply, tally)
    finally:
        await ws.close()
    return tally


def sign_rest(secret: str, params: list[tuple[str, str]]) -> str:
    """The percent-encoded query with a fresh timestamp and its HMAC signature."""
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)
    return f"{query}&signature={Signer.from_secret(secret).sign(query)}"


REST_ROUTES = [
    ("GET", "/api/v3/depth"),
    ("GET", "/api/v3/trades"),
    ("GET", "/api/v3/aggTrades"),
    ("GET", "/api/v3/klines"),
    ("GET", "/api/v3/exchangeInfo"),
    ("GET", "/api/v3/ticker/24hr"),
    ("POST", "/api/v3/order"),
    ("POST", "/api/v3/order/test"),
    ("GET", "/api/v3/order"),
    ("DELETE", "/api/v3/order"),
    ("GET", "/api/v3/openOrders"),
    ("DELETE", "/api/v3/openOrders"),
    ("GET", "/api/v3/allOrders"),
    ("GET", "/api/v3/account"),
    ("GET", "/api/v3/myTrades"),
    ("GET", "/sapi/v1/account/apiRestrictions"),
]


async def hostile_rest_requests(ex: LocalExchange, requests: int, seed: int) -> Tally:
    """Send ``requests`` signed REST requests with hostile parameter values (and timestamps)."""
    rng = random.Random(seed)
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret)
    tally = Tally()
    async with httpx.AsyncClient(base_url=ex.rest_url, timeout=30) as client:
        for _ in range(requests):
            method, path = rng.choice(REST_ROUTES)
            params = [
                (rng.choice(NAMES), rng.choice(HOSTILE_TEXT)) for _ in range(rng.randint(0, 6))
            ]
            names = {name for name, _ in params}
            params = list(dict(params).items())
            if "timestamp" not in names or rng.random() < 0.5:
                params = [(k, v) for k, v in params if k != "timestamp"]
                params.append(("timestamp", str(ex.server_time())))
            query = sign_rest(secret, params)
            if len(query) > 8000:  # aiohttp refuses request lines over 8190 bytes (plain 400)
                continue
            tally.sent += 1
            response = await client.request(
                method, f"{path}?{query}", headers={"X-MBX-APIKEY": api_key}
            )
            check_rest_response(response, tally)
    return tally


def check_rest_response(response: httpx.Response, tally: Tally) -> None:
    """Count a 5xx, or an error that is not Binance's ``{"code", "msg"}``."""
    if response.status_code >= 500:
        tally.status_500 += 1
    if response.status_code == 200:
        return
    try:
        body = response.json()
    except ValueError:
        tally.bad_shape.append(f"{response.status_code} {response.text[:100]}")
        return
    if not (
        isinstance(body, dict)
        and set(body) == {"code", "msg"}
        and isinstance(body["code"], int)
        and isinstance(body["msg"], str)
    ):
        tally.bad_shape.append(f"{response.status_code} {response.text[:100]}")


def fuzz_exchange() -> LocalExchange:
    """An exchange without a market and without a weight limit in the way of the fuzz."""
    return LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), market="none", request_weight_per_minute=10**9
    )


@pytest.mark.asyncio
async def test_fuzzed_websocket_api_frames_get_binance_errors_on_a_live_session() -> None:
    async with fuzz_exchange() as ex:
        tally = await hostile_ws_frames(ex, frames=3000, seed=15)
    assert (tally.status_500, tally.killed, tally.bad_shape) == (0, 0, [])
    assert tally.sent == 3000


@pytest.mark.slow
@pytest.mark.asyncio
async def test_fuzzed_rest_requests_get_binance_errors() -> None:
    async with fuzz_exchange() as ex:
        tally = await hostile_rest_requests(ex, requests=1500, seed=15)
    assert (tally.status_500, tally.bad_shape) == (0, [])


# --- the cases found under attack, one by one ----------------------------------------------------


async def ws_reply(ex: LocalExchange, frame: str) -> Any:
    """Send one raw frame; return its reply (a dead session fails the test)."""
    async with websockets.connect(ex.ws_api_url, max_size=None) as ws:
        await ws.send(frame)
        reply = json.loads(await ws.recv())
        # the session lives on: it still answers
        await ws.send('{"id":"after","method":"ping"}')
        assert json.loads(await ws.recv())["status"] == 200
        return reply


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"id":1.5,"method":"ping"}', -1135),
        ('{"id":true,"method":"ping"}', -1135),
        ('{"id":{"a":1},"method":"ping"}', -1135),
        ('{"id":NaN,"method":"ping"}', -1135),
        ('{"id":"\\ud800","method":"ping"}', -1135),
        ('{"id":7,"method":"ticker.price","params":{"symbols":["BTCUSDT",1.5]}}', -1100),
        ('{"id":7,"method":"ticker.price","params":{"symbols":[["BTCUSDT"]]}}', -1135),
        ('{"id":7,"method":"depth","params":{"symbol":"\\ud800"}}', -1135),
        ('{"id":7,"method":"depth","params":{"symbol":{"a":[1.5]}}}', -1135),
        ('{"id":7,"method":"ping","params":' + "[" * 50_000 + "]" * 50_000 + "}", -1135),
        ("[" * 50_000 + "]" * 50_000, -1135),
        ('{"id":7,"method":"depth","params":{"symbol":"BTCUSDT","limit":"²"}}', -1100),
        ('{"id":7,"method":"depth","params":{"symbol":"BTCUSDT","limit":1.5}}', -1100),
    ],
)
async def test_hostile_websocket_api_frames(frame: str, code: int) -> None:
    async with fuzz_exchange() as ex:
        reply = await ws_reply(ex, frame)
    assert reply["status"] == 400, reply
    assert reply["error"]["code"] == code, reply
    assert isinstance(reply["error"]["msg"], str)
    assert reply["id"] in (None, 7)


@pytest.mark.asyncio
async def test_hostile_rest_values_are_minus_1100(make_trader: Any) -> None:
    trader = make_trader()
    cases = [
        ("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "limit": "²"}),
        ("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT", "orderId": "\u0663"}),
        ("GET", "/api/v3/account", {"timestamp": "9" * 5000}),
        ("GET", "/api/v3/account", {"timestamp": "²"}),
        ("GET", "/api/v3/account", {"recvWindow": "\u0665\u0660\u0660\u0660"}),
        ("GET", "/api/v3/depth", {"symbol": "BTCUSDT", "limit": "5\n"}),
    ]
    for method, path, params in cases:
        response = await trader.call(method, path, **params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["code"] in (-1100, -1102), (params, response.text)


@pytest.mark.asyncio
async def test_a_quantity_with_a_trailing_newline_places_no_order(make_trader: Any) -> None:
    trader = make_trader()
    for field_name in ("quantity", "price"):
        params = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "50000",
        }
        params[field_name] += "\n"  # sent as %0A
        response = await trader.call("POST", "/api/v3/order", **params)
        assert response.json()["code"] == -1100, response.text
    assert await trader.ok("GET", "/api/v3/openOrders") == []


@pytest.mark.asyncio
async def test_a_body_over_1_mib_is_413(ex: LocalExchange, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v3/order",
        content=b"symbol=" + b"A" * (1 << 20) + b"&timestamp=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == -1100
    # and the server carries on
    assert (await client.get("/api/v3/ping")).status_code == 200


def test_timestamps_are_checked_as_ascii_before_any_arithmetic() -> None:

    now = int(time.time() * 1000)
    for timestamp in ("²", "9" * 5000, f"{now}\n", "\u0663" * 13, f"+{now}", f" {now}"):
        with pytest.raises(ExchangeRejection) as raised:
            check_timestamp(timestamp, None, now)
        assert raised.value.code == -1100
    check_timestamp(str(now), "5000.5", now)  # still fine
