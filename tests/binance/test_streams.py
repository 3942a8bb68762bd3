"""StreamClient: parsed events, reconnects, pings, the silence watchdog and the bounded queue."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from websockets.asyncio.server import ServerConnection, serve

from tradewire.binance import DepthUpdate, Trade
from tradewire.binance.streams import Reconnected, StreamClient, StreamOverflow
from tradewire.exchange import LocalExchange
from tradewire.exchange.streams import StreamConfig
from tradewire.testing import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable


TRADE = {
    "e": "trade",
    "E": 1,
    "s": "BTCUSDT",
    "t": 7,
    "p": "65000.01000000",
    "q": "0.00100000",
    "T": 1,
    "m": False,
    "M": True,
}


def trade_frame(trade_id: int) -> str:
    """A combined-stream trade message."""
    return json.dumps({"stream": "btcusdt@trade", "data": {**TRADE, "t": trade_id}})


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """A fast-moving exchange with Binance's ping timings shortened a hundredfold."""
    config = StreamConfig(ping_interval_s=0.2, pong_timeout_s=0.6, fast_ms=20)
    async with LocalExchange(
        symbols=("BTCUSDT",), market_interval_ms=5, streams=config
    ) as exchange:
        yield exchange


@contextlib.asynccontextmanager
async def scripted_server(handler: Callable[[ServerConnection], Awaitable[None]]) -> Any:
    """A WebSocket server on 127.0.0.1 running ``handler`` per connection; yields its URL."""
    async with serve(handler, "127.0.0.1", 0, close_timeout=0.5) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def take(
    source: AsyncIterator[Any], n: int, timeout: float = 10.0, markers: bool = True
) -> list[Any]:
    """The next ``n`` items of ``source`` (``Reconnected`` markers counted only if ``markers``)."""
    out: list[Any] = []

    async def run() -> None:
        async for item in source:
            if markers or not isinstance(item, Reconnected):
                out.append(item)
            if len(out) >= n:
                return

    await asyncio.wait_for(run(), timeout)
    return out


@pytest.mark.asyncio
async def test_combined_streams_yield_parsed_events(ex: LocalExchange) -> None:
    async with StreamClient(ex.stream_url) as client:
        events = client.events("btcusdt@depth@100ms", "btcusdt@trade")
        got = await take(events, 40)
        await events.aclose()
    assert {type(e) for e in got} == {DepthUpdate, Trade}
    assert {e.stream for e in got} == {"btcusdt@depth@100ms", "btcusdt@trade"}
    depth = [e for e in got if isinstance(e, DepthUpdate)]
    assert all(b.first_update_id == a.final_update_id + 1 for a, b in itertools.pairwise(depth))
    assert client.stats.connects == 1 and client.stats.messages >= 40
    assert client.stats.reconnects == 0 and client.stats.parse_errors == 0


@pytest.mark.slow
@pytest.mark.asyncio
async def test_pings_are_answered_under_a_short_ping_config(ex: LocalExchange) -> None:
    """The server pings every 0.2 s and drops after 0.6 s without a pong: nothing drops."""
    ex.pause()  # no market flow: only pings keep the connection alive
    async with StreamClient(ex.stream_url, ping_timeout=5.0) as client:
        events = client.events("btcusdt@trade")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(events), 2.0)
        await events.aclose()
    assert client.stats.connects == 1 and client.stats.reconnects == 0


@pytest.mark.asyncio
async def test_silence_is_probed_and_a_live_server_keeps_the_connection(
    ex: LocalExchange,
) -> None:
    ex.pause()
    async with StreamClient(ex.stream_url, ping_timeout=0.3) as client:
        events = client.events("btcusdt@trade")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(events), 1.5)
        await events.aclose()
    assert client.stats.silence_probes >= 2
    assert client.stats.reconnects == 0


@pytest.mark.asyncio
async def test_a_dead_server_is_detected_and_replaced() -> None:
    """A server that stops reading (no pong, no data) is dropped after the watchdog's probe."""
    connections = 0
    done = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        if connections == 1:
            ws.transport.pause_reading()  # our pings are never read, so never answered
            await done.wait()
            return
        await ws.send(trade_frame(connections))
        await ws.wait_closed()

    async with scripted_server(handler) as url, StreamClient(url, ping_timeout=0.3) as client:
        events = client.events("btcusdt@trade")
        got = await take(events, 2)
        await events.aclose()
        done.set()
    assert isinstance(got[0], Reconnected) and "silence" in got[0].reason
    assert isinstance(got[1], Trade) and got[1].trade_id == 2
    assert client.stats.silence_probes == 1 and client.stats.reconnects == 1


@pytest.mark.asyncio
async def test_dropped_connections_reconnect_with_a_marker(ex: LocalExchange) -> None:
    ex.set_faults(drop_streams_every_s=0.3)
    async with StreamClient(ex.stream_url, reconnect_delay=0.01) as client:
        events = client.events("btcusdt@trade")
        markers: list[Reconnected] = []
        trades_after = 0

        async def run() -> None:
            nonlocal trades_after
            async for item in events:
                if isinstance(item, Reconnected):
                    markers.append(item)
                elif markers:
                    trades_after += 1
                if len(markers) >= 3 and trades_after >= 5:
                    return

        await asyncio.wait_for(run(), 15)
        await events.aclose()
    assert [m.reconnects for m in markers] == [1, 2, 3]
    assert client.stats.reconnects >= 3 and client.stats.connects == client.stats.reconnects + 1


@pytest.mark.asyncio
async def test_server_shutdown_reconnects_at_once(ex: LocalExchange) -> None:
    async with StreamClient(ex.stream_url, reconnect_delay=5.0) as client:
        events = client.events("btcusdt@trade", markers=True)
        await take(events, 1)
        await ex.server_shutdown()
        after: list[Any] = []

        async def until_a_trade_after_the_marker() -> None:
            async for item in events:
                if after or isinstance(item, Reconnected):
                    after.append(item)
                if len(after) == 2:
                    return

        await asyncio.wait_for(until_a_trade_after_the_marker(), 3.0)  # well under 5 s backoff
        await events.aclose()
    assert isinstance(after[0], Reconnected) and after[0].reason == "serverShutdown"
    assert isinstance(after[1], Trade)
    assert client.stats.server_shutdowns == 1 and client.stats.reconnects == 1


@pytest.mark.asyncio
async def test_connections_are_replaced_before_the_age_limit(ex: LocalExchange) -> None:
    async with StreamClient(ex.stream_url, max_connection_age=0.4) as client:
        events = client.events("btcusdt@trade")
        got = await take(events, 1)
        markers = await take(
            (e async for e in events if isinstance(e, Reconnected)), 2, timeout=5.0
        )
        await events.aclose()
    assert isinstance(got[0], Trade)
    assert [m.reason for m in markers] == ["connection age limit"] * 2
    assert client.stats.reconnects == 2


@pytest.mark.asyncio
async def test_a_malformed_message_is_counted_and_skipped() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(trade_frame(1))
        await ws.send('{"stream":"btcusdt@trade","data":{"e":"trade","s":"BTCUSDT","t":"x"}}')
        await ws.send("not json at all")
        await ws.send(trade_frame(2))
        await ws.wait_closed()

    async with scripted_server(handler) as url, StreamClient(url) as client:
        events = client.events("btcusdt@trade")
        got = await take(events, 2)
        await events.aclose()
    assert [e.trade_id for e in got] == [1, 2]
    assert client.stats.parse_errors == 2 and client.stats.messages == 4


async def flood(ws: ServerConnection) -> None:
    """Send 200 trades at once, then wait."""
    for i in range(200):
        await ws.send(trade_frame(i))
    await ws.wait_closed()


def all_read(client: StreamClient, n: int) -> Callable[[], bool]:
    """Whether the client's reader has taken ``n`` messages off the socket."""
    return lambda: client.stats.messages >= n


@pytest.mark.asyncio
async def test_a_slow_consumer_loses_the_oldest_messages_counted() -> None:
    async with scripted_server(flood) as url, StreamClient(url, queue_size=50) as client:
        events = client.events("btcusdt@trade")
        first = asyncio.ensure_future(anext(events))  # connects; the consumer then stalls
        await eventually(all_read(client, 200), message="all 200 messages read")
        delivered: list[Any] = [await first]
        while delivered[-1].trade_id != 199:
            delivered += await take(events, 1)
        await events.aclose()
    ids = [e.trade_id for e in delivered]
    assert ids[-50:] == list(range(150, 200))  # the newest 50 survive, in order
    assert len(ids) + client.stats.dropped == 200 and client.stats.dropped >= 149


@pytest.mark.asyncio
async def test_a_slow_consumer_can_ask_for_an_error_instead() -> None:
    async with (
        scripted_server(flood) as url,
        StreamClient(url, queue_size=50, overflow="raise") as client,
    ):
        events = client.events("btcusdt@trade")
        first = asyncio.ensure_future(anext(events))
        await eventually(all_read(client, 51), message="51 messages read")
        kept = [await first, *await take(events, 49)]  # what was queued is still delivered
        with pytest.raises(StreamOverflow):
            await anext(events)
        await events.aclose()
    assert client.stats.dropped == 0
    assert [e.trade_id for e in kept] == list(range(50))


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="overflow"):
        StreamClient("ws://127.0.0.1:1", overflow="drop_newest")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="queue_size"):
        StreamClient("ws://127.0.0.1:1", queue_size=0)
    client = StreamClient("wss://stream.binance.com:9443/")
    assert client.url_for(("btcusdt@trade", "btcusdt@depth")) == (
        "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@depth"
    )
