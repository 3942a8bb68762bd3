"""Market streams: depth diffs that sync with REST snapshots, subscriptions, pings and faults."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
import websockets

from tradewire.exchange import LocalExchange, StreamConfig

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

FAST = StreamConfig(ping_interval_s=0.1, pong_timeout_s=0.5, fast_ms=20, slow_ms=100, kline_ms=50)


@pytest_asyncio.fixture
async def live() -> AsyncIterator[LocalExchange]:
    """An exchange whose synthetic market moves every 10 ms, with fast stream timers."""
    async with LocalExchange(
        symbols=("BTCUSDT", "ETHUSDT"), seed=3, market_interval_ms=10, streams=FAST
    ) as exchange:
        yield exchange


async def read_until_closed(ws: Any) -> tuple[list[Any], websockets.ConnectionClosed]:
    """Every message until the server closes the connection, and how it closed."""
    messages = []
    for _ in range(10_000):
        try:
            messages.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
        except websockets.ConnectionClosed as closed:
            return messages, closed
    raise AssertionError("the connection stayed open")


async def read_for(ws: Any, seconds: float) -> None:
    """Keep reading (and so answering pings) for ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:  # not the builtin before Python 3.11
            return


async def connect_once(url: str) -> None:
    """Open and close one connection."""
    async with websockets.connect(url, open_timeout=2):
        pass


def apply(book: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
    for price, qty in levels:
        if Decimal(qty) == 0:
            book.pop(Decimal(price), None)
        else:
            book[Decimal(price)] = Decimal(qty)


@pytest.mark.asyncio
async def test_diff_depth_syncs_with_snapshots_as_binance_documents(live: LocalExchange) -> None:
    async with (
        websockets.connect(f"{live.stream_url}/ws/btcusdt@depth@100ms") as ws,
        httpx.AsyncClient(base_url=live.rest_url) as client,
    ):
        first = json.loads(await ws.recv())
        snapshot = (await client.get("/api/v3/depth?symbol=BTCUSDT&limit=1000")).json()
        bids = {Decimal(p): Decimal(q) for p, q in snapshot["bids"]}
        asks = {Decimal(p): Decimal(q) for p, q in snapshot["asks"]}
        last = snapshot["lastUpdateId"]
        assert first["U"] <= last + 1
        applied = 0
        event = first
        while True:
            if event["u"] > last:
                assert event["U"] <= last + 1 <= event["u"]  # no gap
                apply(bids, event["b"])
                apply(asks, event["a"])
                last = event["u"]
                applied += 1
            if applied >= 30:
                break
            event = json.loads(await ws.recv())
        live.pause()  # no market step runs after pause() returns
        final = (await client.get("/api/v3/depth?symbol=BTCUSDT&limit=1000")).json()
        while last < final["lastUpdateId"]:
            event = json.loads(await ws.recv())
            assert event["U"] == last + 1
            apply(bids, event["b"])
            apply(asks, event["a"])
            last = event["u"]
    assert last == final["lastUpdateId"]
    assert sorted(bids.items(), reverse=True) == [
        (Decimal(p), Decimal(q)) for p, q in final["bids"]
    ]
    assert sorted(asks.items()) == [(Decimal(p), Decimal(q)) for p, q in final["asks"]]
    assert max(bids) < min(asks)


@pytest.mark.asyncio
async def test_combined_streams_carry_every_kind(live: LocalExchange) -> None:
    names = [
        "btcusdt@depth@100ms",
        "btcusdt@depth5@100ms",
        "btcusdt@bookTicker",
        "btcusdt@trade",
        "btcusdt@aggTrade",
        "btcusdt@kline_1m",
        "ethusdt@depth10",
    ]
    seen: dict[str, Any] = {}
    async with websockets.connect(f"{live.stream_url}/stream?streams={'/'.join(names)}") as ws:
        while len(seen) < len(names):
            message = json.loads(await asyncio.wait_for(ws.recv(), 5))
            seen.setdefault(message["stream"], message["data"])
    assert seen["btcusdt@depth@100ms"]["e"] == "depthUpdate"
    assert len(seen["btcusdt@depth5@100ms"]["bids"]) == 5
    assert len(seen["ethusdt@depth10"]["asks"]) == 10
    assert set(seen["btcusdt@bookTicker"]) == {"u", "s", "b", "B", "a", "A"}
    assert set(seen["btcusdt@trade"]) == {"e", "E", "s", "t", "p", "q", "T", "m", "M"}
    assert set(seen["btcusdt@aggTrade"]) == {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"}
    kline = seen["btcusdt@kline_1m"]["k"]
    assert (kline["i"], kline["s"], kline["T"] - kline["t"]) == ("1m", "BTCUSDT", 59_999)
    assert live.metrics()["stream_messages"] >= len(names)


@pytest.mark.asyncio
async def test_subscribe_list_unsubscribe(live: LocalExchange) -> None:
    async with websockets.connect(f"{live.stream_url}/ws") as ws:
        await ws.send(
            json.dumps(
                {"method": "SUBSCRIBE", "params": ["btcusdt@trade", "ethusdt@bookTicker"], "id": 1}
            )
        )
        assert json.loads(await ws.recv()) == {"result": None, "id": 1}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 3}))
        while (reply := json.loads(await ws.recv())).get("id") != 3:
            pass
        assert reply == {"result": ["btcusdt@trade", "ethusdt@bookTicker"], "id": 3}
        await ws.send(json.dumps({"method": "UNSUBSCRIBE", "params": ["btcusdt@trade"], "id": 312}))
        while (reply := json.loads(await ws.recv())).get("id") != 312:
            pass
        assert reply == {"result": None, "id": 312}
        await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 4}))
        while (reply := json.loads(await ws.recv())).get("id") != 4:
            pass
        assert reply["result"] == ["ethusdt@bookTicker"]
        await read_for(ws, 1.0)  # at most 5 incoming messages per second
        await ws.send(json.dumps({"method": "SET_PROPERTY", "params": ["combined", True], "id": 5}))
        while (reply := json.loads(await ws.recv())).get("id") != 5:
            pass
        assert reply == {"result": None, "id": 5}
        await ws.send(json.dumps({"method": "GET_PROPERTY", "params": ["combined"], "id": 2}))
        while (reply := json.loads(await ws.recv())).get("id") != 2:
            pass
        assert reply == {"result": True, "id": 2}
        event = json.loads(await ws.recv())
        assert (event["stream"], event["data"]["s"]) == ("ethusdt@bookTicker", "ETHUSDT")
        await ws.send("{not json")
        while "result" not in (reply := json.loads(await ws.recv())) and "code" not in reply:
            pass
        assert reply["code"] == 3


@pytest.mark.asyncio
async def test_bad_stream_name_is_refused_on_combined_streams(live: LocalExchange) -> None:
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{live.stream_url}/stream?streams=btcusdt@nonsense"):
            pass


@pytest.mark.asyncio
async def test_no_pong_means_disconnect_but_pongs_keep_it_open(live: LocalExchange) -> None:
    async with aiohttp.ClientSession() as session:
        silent = await session.ws_connect(f"{live.stream_url}/ws/btcusdt@trade", autoping=False)
        pings = 0
        async for message in silent:
            if message.type == aiohttp.WSMsgType.PING:
                pings += 1
        assert pings >= 2
        assert silent.closed
    async with websockets.connect(f"{live.stream_url}/ws") as polite:  # answers pings itself
        # The connection outlives two pong timeouts because the client answers the pings.
        await asyncio.sleep(1.0)  # the behaviour under test: two pong timeouts (0.5 s) pass
        assert live.stream_connections == 1
        await polite.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 9}))
        assert json.loads(await polite.recv()) == {"result": [], "id": 9}


@pytest.mark.asyncio
async def test_too_many_incoming_messages_disconnect(live: LocalExchange) -> None:
    async with websockets.connect(f"{live.stream_url}/ws") as ws:
        for i in range(7):
            await ws.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
        replies, _ = await read_until_closed(ws)
    assert len(replies) <= 5


@pytest.mark.asyncio
async def test_skip_sequence_fault_makes_a_gap(live: LocalExchange) -> None:
    live.set_faults(skip_sequence_every=3)
    async with websockets.connect(f"{live.stream_url}/ws/btcusdt@depth@100ms") as ws:
        previous = json.loads(await ws.recv())
        gaps = 0
        for _ in range(10):
            event = json.loads(await ws.recv())
            gaps += event["U"] != previous["u"] + 1
            previous = event
    assert gaps >= 2


@pytest.mark.asyncio
async def test_server_shutdown_event_then_close(live: LocalExchange) -> None:
    async with websockets.connect(f"{live.stream_url}/stream?streams=btcusdt@trade") as ws:
        await live.wait_for_stream_connections(1)  # accepted: the server knows about it
        await live.server_shutdown()
        messages, closed = await read_until_closed(ws)
    assert messages[-1]["e"] == "serverShutdown"
    assert isinstance(closed, websockets.ConnectionClosedOK)


@pytest.mark.asyncio
async def test_drop_streams_fault_cuts_connections(live: LocalExchange) -> None:
    live.set_faults(drop_streams_every_s=0.2)
    async with websockets.connect(f"{live.stream_url}/ws/btcusdt@depth@100ms") as ws:
        messages, closed = await read_until_closed(ws)
        await live.wait_for_stream_connections(0)
    assert isinstance(closed, websockets.ConnectionClosedError)  # cut, no close frame
    assert all(m["e"] == "depthUpdate" for m in messages)


@pytest.mark.asyncio
async def test_refused_connections_then_accepted_again(live: LocalExchange) -> None:
    async with websockets.connect(f"{live.stream_url}/ws/btcusdt@trade") as open_before:
        live.set_faults(refuse_connections=True)
        with pytest.raises(ConnectionRefusedError):
            await connect_once(f"{live.stream_url}/ws/btcusdt@trade")
        live.set_faults()
        await live.wait_for_faults()  # listening again
        await connect_once(f"{live.stream_url}/ws/btcusdt@trade")
        await open_before.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
        while (reply := json.loads(await open_before.recv())).get("id") != 1:
            pass
        assert reply["result"] == ["btcusdt@trade"]
