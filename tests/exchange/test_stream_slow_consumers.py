"""A stream client that stops reading is cut, and what waits for it stays bounded.

The attack: open market-stream connections that subscribe to busy streams and never read. The
server's socket buffer fills, its writer blocks, and every further message waits in that
connection's queue. The queue is bounded: past the bound (or past the send timeout) the
connection is aborted without waiting on the blocked writer, and a client that reads is not
affected.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
from typing import TYPE_CHECKING, Any

import pytest
import websockets

from tradewire.exchange import LocalExchange, StreamConfig

if TYPE_CHECKING:
    from collections.abc import Iterator

SYMBOLS = ("BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "ADAUSDT")
BUSY = "/".join(
    f"{s.lower()}@{kind}"
    for s in SYMBOLS
    for kind in ("depth@100ms", "depth20@100ms", "depth20", "trade", "aggTrade", "bookTicker")
)


async def stalled_client(port: int, path: str) -> socket.socket:
    """Open a WebSocket connection by hand, read the handshake answer, then never read again.

    The receive buffer is as small as the kernel allows, so the server's sends back up soon.
    """
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    handshake = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, handshake.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def ended(sock: socket.socket) -> bool:
    """Read what is left on a stalled client's socket; whether the server ended the connection."""
    loop = asyncio.get_running_loop()
    for _ in range(10_000):
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), 5)
        except (ConnectionResetError, BrokenPipeError):
            return True
        if not data:
            return True
    return False


@contextlib.contextmanager
def closing(socks: list[socket.socket]) -> Iterator[None]:
    try:
        yield
    finally:
        for sock in socks:
            sock.close()


async def keep_reading(url: str, received: list[Any]) -> None:
    """A polite client: reads (and answers pings) until cancelled."""
    async with websockets.connect(url) as ws:
        async for message in ws:
            received.append(json.loads(message))


async def cut_all(ex: LocalExchange, stalled: int, timeout: float) -> tuple[int, int]:
    """Wait until ``stalled`` connections were cut; the most (messages, bytes) ever queued."""
    peak = [0, 0]

    def done() -> bool:
        messages, size = ex.streams.queued()
        peak[0], peak[1] = max(peak[0], messages), max(peak[1], size)
        return ex.streams.slow_consumers_cut >= stalled

    await ex.wait_for(done, timeout=timeout, poll_s=0.01)
    return peak[0], peak[1]


@pytest.mark.asyncio
async def test_a_client_that_stops_reading_is_cut_at_the_queue_bound() -> None:
    config = StreamConfig(
        fast_ms=20,
        slow_ms=100,
        send_queue_messages=200,
        send_queue_bytes=128 * 1024,
        send_timeout_s=60,  # longer than the test: the queue bound is what cuts
    )
    async with LocalExchange(symbols=SYMBOLS, seed=7, market_interval_ms=2, streams=config) as ex:
        received: list[Any] = []
        polite = asyncio.create_task(keep_reading(f"{ex.stream_url}/ws/btcusdt@trade", received))
        await ex.wait_for_stream_connections(1)
        socks = [await stalled_client(ex.port, f"/stream?streams={BUSY}") for _ in range(3)]
        with closing(socks):
            await ex.wait_for_stream_connections(4)
            peak_messages, peak_bytes = await cut_all(ex, stalled=3, timeout=30)
            await ex.wait_for_stream_connections(1)  # the reading client is still served
            assert all([await ended(sock) for sock in socks])
        seen = len(received)
        await ex.wait_for(lambda: len(received) > seen + 10)
        polite.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polite
    assert ex.streams.slow_consumers_cut == 3
    # Each connection holds at most its bound: 3 x 200 messages, 3 x 128 KiB.
    assert peak_messages <= 3 * 200
    assert peak_bytes <= 3 * 128 * 1024
    assert ex.streams.queued() == (0, 0)


@pytest.mark.asyncio
async def test_a_send_blocked_past_the_timeout_cuts_the_connection() -> None:
    config = StreamConfig(
        fast_ms=20,
        slow_ms=100,
        send_queue_messages=10**9,  # no queue bound: the send timeout is what cuts
        send_queue_bytes=10**12,
        send_timeout_s=0.5,
    )
    async with LocalExchange(symbols=SYMBOLS, seed=8, market_interval_ms=2, streams=config) as ex:
        sock = await stalled_client(ex.port, f"/stream?streams={BUSY}")
        with closing([sock]):
            await ex.wait_for_stream_connections(1)
            await cut_all(ex, stalled=1, timeout=30)
            await ex.wait_for_stream_connections(0)
            assert await ended(sock)
    assert ex.streams.queued() == (0, 0)
