"""The WebSocket API under attack: key permissions on each request, clients that stop reading."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tradewire import Signer
from tradewire.exchange import LocalExchange, WsApiConfig

DATA = Path(__file__).parent / "data"
VECTORS = {
    v["id"]: v for v in json.loads((DATA / "binance-signing.json").read_text())["signatures"]
}
ED25519_PUBLIC = (DATA / "ed25519-vector-public.pem").read_text()
ED25519_PRIVATE = VECTORS["F1"]["secret"]


def signed(params: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """``params`` with the WebSocket-API signature: sorted, joined raw, apiKey included."""
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": signer.sign(payload)}


async def ask(ws: Any, request_id: int, method: str, params: dict[str, Any] | None = None) -> Any:
    """Send a request and return its answer; user data events on the way are collected."""
    message: dict[str, Any] = {"id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == request_id and "event" not in reply:
            return reply
        EVENTS.setdefault(id(ws), []).append(reply)


EVENTS: dict[int, list[Any]] = {}


async def logon(ws: Any, ex: LocalExchange, api_key: str) -> None:
    reply = await ask(
        ws,
        1,
        "session.logon",
        signed(
            {"apiKey": api_key, "timestamp": ex.server_time()}, Signer.from_secret(ED25519_PRIVATE)
        ),
    )
    assert reply["status"] == 200, reply


@pytest.mark.asyncio
async def test_a_logged_on_key_without_reading_gets_no_user_data() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        trader = ex.add_key(ED25519_PUBLIC, permissions=("spot",))
        async with websockets.connect(ex.ws_api_url) as ws:
            await logon(ws, ex, trader)
            refused = await ask(ws, 2, "userDataStream.subscribe")
            ex.deposit(trader, "USDT", "5")  # a private balance event, if anyone listens
            status = await ask(ws, 3, "session.status")
        assert (refused["status"], refused["error"]["code"]) == (401, -2015)
        assert ex.user_data_subscriptions(trader) == 0
        assert status["result"]["userDataStream"] is False
        assert EVENTS.pop(id(ws), []) == []


@pytest.mark.asyncio
async def test_a_removed_key_loses_its_session_and_its_user_data() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        api_key = ex.add_key(ED25519_PUBLIC)
        hmac_secret = secrets.token_hex(16)
        hmac_key = ex.add_key(hmac_secret, account_of=api_key)
        async with websockets.connect(ex.ws_api_url) as ws:
            await logon(ws, ex, api_key)
            assert (await ask(ws, 2, "userDataStream.subscribe"))["status"] == 200
            by_signature = await ask(
                ws,
                3,
                "userDataStream.subscribe.signature",
                signed(
                    {"apiKey": hmac_key, "timestamp": ex.server_time()},
                    Signer.from_secret(hmac_secret),
                ),
            )
            assert by_signature["result"] == {"subscriptionId": 1}
            ex.remove_key(api_key)
            ex.deposit(hmac_key, "USDT", "5")  # the account's other key still subscribes
            status = await ask(ws, 4, "session.status")
            again = await ask(ws, 5, "userDataStream.subscribe")
            account = await ask(ws, 6, "account.status", {"timestamp": ex.server_time()})
        events = EVENTS.pop(id(ws), [])
    assert status["result"]["apiKey"] is None
    assert status["result"]["userDataStream"] is True  # the HMAC key's subscription stays
    assert again["error"]["code"] == -2015
    assert account["error"]["code"] == -2014  # no longer logged on: the request is anonymous
    terminated = [e for e in events if e["event"]["e"] == "eventStreamTerminated"]
    assert [e["subscriptionId"] for e in terminated] == [0]
    after = events[events.index(terminated[0]) + 1 :]
    assert {e["subscriptionId"] for e in after} == {1}
    assert [e["event"]["e"] for e in after] == ["balanceUpdate", "outboundAccountPosition"]


# 36 symbols: each exchangeInfo answer is ~30 KB, so the socket buffers fill after ~1,000
SYMBOLS = [f"T{a}{b}USDT" for a in "ABCDEF" for b in "ABCDEF"]


async def stop_reading(ex: LocalExchange, ws: Any) -> int:
    """Send requests without reading the answers until the server gives up on the session."""
    request = json.dumps({"id": 1, "method": "exchangeInfo"})
    sent = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while ex.wsapi.sessions and all(s.closing is None for s in ex.wsapi.sessions):
        assert loop.time() < deadline, "a client that stopped reading was never cut off"
        for session in ex.wsapi.sessions:
            assert session.outbox.qsize() <= ex.wsapi.config.max_queued
        await ws.send(request)
        sent += 1
        if sent % 50 == 0:
            await asyncio.sleep(0.001)  # the server's timers run
    return sent


async def read_until_closed(ws: Any) -> ConnectionClosed:
    """Read everything the server sent; the exception that ends the connection."""
    while True:
        try:
            await ws.recv()
        except ConnectionClosed as closed:
            return closed


def unread_exchange(config: WsApiConfig) -> LocalExchange:
    return LocalExchange(
        symbols=SYMBOLS, market="none", request_weight_per_minute=10**9, ws_api=config
    )


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_client_that_stops_reading_is_cut_off() -> None:
    async with unread_exchange(WsApiConfig(max_queued=20, send_timeout_s=3)) as ex:
        # max_queue=1: the client library stops reading the socket as well; no compression,
        # so the answers fill the socket buffers rather than deflate to a few bytes each
        async with websockets.connect(
            ex.ws_api_url, max_queue=1, max_size=None, compression=None
        ) as ws:
            await stop_reading(ex, ws)
            # the client reads again: what was sent arrives, then the connection ends
            closed = await read_until_closed(ws)
        # The close frame (1008) comes after everything queued; when the server's close waits
        # longer than send_timeout_s for the client to drain the socket, the connection is cut
        # without it (seen under load): either way the session is gone and its memory freed.
        if closed.rcvd is not None:
            assert closed.rcvd.code == 1008
        await ex.wait_for(lambda: not ex.wsapi.sessions)


@pytest.mark.asyncio
async def test_a_client_that_never_reads_again_is_dropped_after_the_send_timeout() -> None:
    async with (
        unread_exchange(WsApiConfig(max_queued=20, send_timeout_s=0.5)) as ex,
        websockets.connect(
            ex.ws_api_url, max_queue=1, max_size=None, compression=None, close_timeout=0.1
        ) as ws,
    ):
        await stop_reading(ex, ws)
        await ex.wait_for(lambda: not ex.wsapi.sessions, timeout=5)


@pytest.mark.asyncio
async def test_a_client_that_answers_no_pings_is_dropped() -> None:
    config = WsApiConfig(ping_interval_s=0.05, pong_timeout_s=0.3)
    async with LocalExchange(symbols=("BTCUSDT",), market="none", ws_api=config) as ex:
        async with websockets.connect(ex.ws_api_url) as polite:
            await ex.wait_for(lambda: len(ex.wsapi.sessions) == 1)
            # websockets answers pings while something reads: this client stays
            await asyncio.sleep(0.6)
            assert len(ex.wsapi.sessions) == 1
            await polite.send(json.dumps({"id": 1, "method": "ping"}))
            assert json.loads(await polite.recv())["status"] == 200
        async with websockets.connect(ex.ws_api_url, ping_interval=None, close_timeout=0.1) as deaf:
            deaf.transport.pause_reading()  # reads nothing more, pings included
            await ex.wait_for(lambda: not ex.wsapi.sessions, timeout=5)
