"""The legacy listenKey user data stream, behind ``LocalExchange(legacy_listen_key=True)``.

Off by default (Binance retired it): the routes then answer as unknown ones. On: REST
``/api/v3/userDataStream`` and the WebSocket API's ``userDataStream.start/ping/stop`` manage a
key tied to its API key, and ``/ws/<listenKey>`` carries the account's events until the key
expires, is closed, or its API key is removed.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import pytest_asyncio
import websockets

from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

PATH = "/api/v3/userDataStream"
LIMIT_BUY = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.001",
    "price": "50000",
}


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """This module's exchange: no market flow, legacy listenKeys served."""
    async with LocalExchange(
        symbols=("BTCUSDT",), market="none", legacy_listen_key=True
    ) as exchange:
        yield exchange


def header(api_key: str) -> dict[str, str]:
    return {"X-MBX-APIKEY": api_key}


async def start(client: httpx.AsyncClient, api_key: str) -> str:
    response = await client.post(PATH, headers=header(api_key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["listenKey"]
    assert isinstance(body["listenKey"], str)
    return str(body["listenKey"])


async def next_event(ws: Any, kind: str) -> dict[str, Any]:
    """The next event of type ``kind`` on a user data stream (others are skipped)."""
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if event["e"] == kind:
            return dict(event)


async def rest_of(ws: Any) -> list[Any]:
    """Every message until the server closes ``ws`` (TimeoutError if it never does)."""
    received = []
    try:
        while True:
            received.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
    except websockets.ConnectionClosed:
        return received


async def closed(ws: Any) -> bool:
    """Whether the server closes ``ws`` (what it sends first is read and dropped)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed:
        return True


@pytest.mark.asyncio
async def test_off_by_default_the_routes_answer_as_unknown_ones() -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), market="none") as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
    ):
        api_key = ex.add_key(secrets.token_hex(32))
        refused = await client.post(PATH, headers=header(api_key))
        async with websockets.connect(ex.ws_api_url) as ws:
            await ws.send(
                json.dumps(
                    {"id": 1, "method": "userDataStream.start", "params": {"apiKey": api_key}}
                )
            )
            reply = json.loads(await ws.recv())
    assert refused.status_code == 404
    assert refused.headers["Content-Type"].startswith("application/json")
    assert refused.json()["code"] == -1020
    assert (reply["status"], reply["error"]["code"]) == (400, -1102)


@pytest.mark.asyncio
async def test_rest_start_keepalive_close(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any, bob: Any
) -> None:
    listen_key = await start(client, alice.api_key)
    assert len(listen_key) == 60
    posted = await client.post(PATH, headers=header(alice.api_key))
    assert int(posted.headers["X-MBX-USED-WEIGHT-1M"]) == 4  # 2 per call
    assert posted.json() == {"listenKey": listen_key}  # the active key, not a second one
    assert await start(client, bob.api_key) != listen_key

    expires = ex.listen_keys.expires_at(listen_key) if ex.listen_keys else None
    assert expires is not None
    assert expires - ex.server_time() <= 3_600_000
    await ex.wait_for(lambda: ex.server_time() > expires - 3_600_000)
    kept = await client.put(PATH, params={"listenKey": listen_key}, headers=header(alice.api_key))
    assert (kept.status_code, kept.json()) == (200, {})
    assert ex.listen_keys is not None
    extended = ex.listen_keys.expires_at(listen_key)
    assert extended is not None and extended > expires

    # another API key cannot keep alive or close it: to it, the key does not exist
    for method in ("PUT", "DELETE"):
        theirs = await client.request(
            method, PATH, params={"listenKey": listen_key}, headers=header(bob.api_key)
        )
        assert (theirs.status_code, theirs.json()["code"]) == (400, -1125)
    assert ex.listen_keys.expires_at(listen_key) == extended

    closed_key = await client.delete(
        PATH, params={"listenKey": listen_key}, headers=header(alice.api_key)
    )
    assert (closed_key.status_code, closed_key.json()) == (200, {})
    again = await client.put(PATH, params={"listenKey": listen_key}, headers=header(alice.api_key))
    assert again.json()["code"] == -1125


@pytest.mark.asyncio
async def test_rest_errors(client: httpx.AsyncClient, alice: Any) -> None:
    no_key = await client.post(PATH)
    assert (no_key.status_code, no_key.json()["code"]) == (401, -2014)
    unknown = await client.post(PATH, headers=header("A" * 64))
    assert (unknown.status_code, unknown.json()["code"]) == (401, -2015)
    missing = await client.put(PATH, headers=header(alice.api_key))
    assert missing.json()["code"] == -1102
    extra = await client.post(PATH, params={"listenKey": "x"}, headers=header(alice.api_key))
    assert extra.json()["code"] == -1104
    wrong = await client.get(PATH, headers=header(alice.api_key))
    assert (wrong.status_code, wrong.json()["code"]) == (405, -1020)


@pytest.mark.asyncio
async def test_a_listen_key_stream_receives_the_accounts_events(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any, bob: Any
) -> None:
    listen_key = await start(client, alice.api_key)
    async with websockets.connect(f"{ex.stream_url}/ws/{listen_key}") as ws:
        await ex.wait_for_user_data(alice.api_key)
        placed = await alice.order(**LIMIT_BUY)
        await bob.order(**{**LIMIT_BUY, "price": "40000"})  # another account: not on this stream
        report = await next_event(ws, "executionReport")
        position = await next_event(ws, "outboundAccountPosition")
        ex.deposit(alice.api_key, "USDT", "5")
        deposit = await next_event(ws, "balanceUpdate")
        await alice.ok("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
        cancel = await next_event(ws, "executionReport")
    assert (report["x"], report["X"], report["i"], report["c"]) == (
        "NEW",
        "NEW",
        placed["orderId"],
        placed["clientOrderId"],
    )
    assert report["p"] == "50000.00000000"
    assert {b["a"] for b in position["B"]} == {"USDT"}
    assert (deposit["a"], deposit["d"]) == ("USDT", "5.00000000")
    assert (cancel["x"], cancel["i"]) == ("CANCELED", placed["orderId"])


@pytest.mark.asyncio
async def test_a_combined_stream_wraps_the_events(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any
) -> None:
    listen_key = await start(client, alice.api_key)
    url = f"{ex.stream_url}/stream?streams={listen_key}/btcusdt@trade"
    async with websockets.connect(url) as ws:
        await ex.wait_for_user_data(alice.api_key)
        await alice.order(**LIMIT_BUY)
        message = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert message["stream"] == listen_key
    assert message["data"]["e"] == "executionReport"


@pytest.mark.asyncio
async def test_a_listen_key_subscribed_on_a_ws_connection(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any
) -> None:
    """binance-connector's user_data() connects to ``/ws`` and SUBSCRIBEs the listenKey."""
    listen_key = await start(client, alice.api_key)

    async def ask(ws: Any, request_id: int, method: str, params: list[str]) -> Any:
        await ws.send(json.dumps({"method": method, "params": params, "id": request_id}))
        return json.loads(await asyncio.wait_for(ws.recv(), 5))

    async with websockets.connect(f"{ex.stream_url}/ws") as ws:
        subscribed = await ask(ws, 1, "SUBSCRIBE", [listen_key])
        listed = await ask(ws, 2, "LIST_SUBSCRIPTIONS", [])
        await ex.wait_for_user_data(alice.api_key)
        placed = await alice.order(**LIMIT_BUY)
        report = await next_event(ws, "executionReport")
        await next_event(ws, "outboundAccountPosition")
        unsubscribed = await ask(ws, 3, "UNSUBSCRIBE", [listen_key])
        await ex.wait_for_user_data(alice.api_key, subscriptions=0)
        ex.deposit(alice.api_key, "USDT", "1")  # no longer on this connection
        after = await ask(ws, 4, "LIST_SUBSCRIPTIONS", [])
        unknown = await ask(ws, 5, "SUBSCRIBE", ["x" * 60])
    assert subscribed == {"result": None, "id": 1}
    assert listed == {"result": [listen_key], "id": 2}
    assert (report["e"], report["i"], report["x"]) == ("executionReport", placed["orderId"], "NEW")
    assert unsubscribed == {"result": None, "id": 3}
    assert after == {"result": [], "id": 4}  # and no balanceUpdate came before it
    assert unknown["code"] == 2  # a string that is neither a stream nor an active listenKey


@pytest.mark.asyncio
async def test_an_expired_key_sends_listen_key_expired_and_closes(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any
) -> None:
    assert ex.listen_keys is not None
    ex.listen_keys.lifetime_ms = 300
    listen_key = await start(client, alice.api_key)
    async with websockets.connect(f"{ex.stream_url}/ws/{listen_key}") as ws:
        expired = await next_event(ws, "listenKeyExpired")
        assert await closed(ws)
    assert expired["listenKey"] == listen_key
    assert int(expired["E"]) > 0
    assert ex.user_data_subscriptions(alice.api_key) == 0
    kept = await client.put(PATH, params={"listenKey": listen_key}, headers=header(alice.api_key))
    assert kept.json()["code"] == -1125
    # after expiry, a new start gives a new key
    assert await start(client, alice.api_key) != listen_key


@pytest.mark.asyncio
async def test_closing_the_key_closes_its_stream_without_an_event(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any
) -> None:
    listen_key = await start(client, alice.api_key)
    async with websockets.connect(f"{ex.stream_url}/ws/{listen_key}") as ws:
        await ex.wait_for_user_data(alice.api_key)
        await client.delete(PATH, params={"listenKey": listen_key}, headers=header(alice.api_key))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ex.user_data_subscriptions(alice.api_key) == 0


@pytest.mark.asyncio
async def test_a_removed_api_key_ends_its_listen_key_stream(
    ex: LocalExchange, client: httpx.AsyncClient, alice: Any
) -> None:
    """Removing a key must stop the private events its listenKey was receiving."""
    other = secrets.token_hex(32)
    second = ex.add_key(other, account_of=alice.api_key)  # the same account keeps trading
    listen_key = await start(client, alice.api_key)
    async with websockets.connect(f"{ex.stream_url}/ws/{listen_key}") as ws:
        await ex.wait_for_user_data(alice.api_key)
        ex.remove_key(alice.api_key)
        expired = await next_event(ws, "listenKeyExpired")
        ex.deposit(second, "USDT", "1")  # an event of the account after the removal
        received = await rest_of(ws)
    assert expired["listenKey"] == listen_key
    assert received == []
    assert ex.user_data_subscriptions(second) == 0
    # the listenKey is gone with its API key, and the stream URL no longer subscribes
    assert ex.listen_keys is not None and listen_key not in ex.listen_keys
    async with websockets.connect(f"{ex.stream_url}/ws/{listen_key}") as ws:
        await ex.wait_for_stream_connections(1)
        assert ex.user_data_subscriptions(second) == 0


@pytest.mark.asyncio
async def test_websocket_api_start_ping_stop(
    ex: LocalExchange, alice: Any, bob: Any, client: httpx.AsyncClient
) -> None:
    async def ask(ws: Any, request_id: int, method: str, params: dict[str, Any]) -> Any:
        await ws.send(json.dumps({"id": request_id, "method": method, "params": params}))
        return json.loads(await ws.recv())

    async with websockets.connect(ex.ws_api_url) as ws:
        started = await ask(ws, 1, "userDataStream.start", {"apiKey": alice.api_key})
        listen_key = started["result"]["listenKey"]
        rest_key = await start(client, alice.api_key)
        pinged = await ask(
            ws, 2, "v3/userDataStream.ping", {"apiKey": alice.api_key, "listenKey": listen_key}
        )
        theirs = await ask(
            ws, 3, "userDataStream.ping", {"apiKey": bob.api_key, "listenKey": listen_key}
        )
        no_key = await ask(ws, 4, "userDataStream.start", {})
        stopped = await ask(
            ws, 5, "userDataStream.stop", {"apiKey": alice.api_key, "listenKey": listen_key}
        )
        gone = await ask(
            ws, 6, "userDataStream.ping", {"apiKey": alice.api_key, "listenKey": listen_key}
        )
    assert started["status"] == 200
    assert rest_key == listen_key  # REST and WebSocket API share the key
    limits = {r["rateLimitType"]: r["count"] for r in started["rateLimits"]}
    assert limits["REQUEST_WEIGHT"] == 2
    assert (pinged["status"], pinged["result"]) == (200, {})
    assert (theirs["status"], theirs["error"]["code"]) == (400, -1125)
    assert (no_key["status"], no_key["error"]["code"]) == (401, -2014)
    assert (stopped["status"], stopped["result"]) == (200, {})
    assert gone["error"]["code"] == -1125
