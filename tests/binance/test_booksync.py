"""watch_book: Binance's local-book procedure under faults, and the bookTicker cross-check."""

from __future__ import annotations

import asyncio
import contextlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradewire.binance.booksync import BookSyncStats, watch_book
from tradewire.binance.streams import Reconnected, StreamClient
from tradewire.exchange import LocalExchange
from tradewire.exchange.streams import StreamConfig
from tradewire.testing import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator

    from tradewire import OrderBook


DEPTH = "/api/v3/depth?symbol=BTCUSDT"


def levels(rows: list[Any]) -> list[tuple[Decimal, Decimal]]:
    """Price levels as exact (price, quantity) pairs."""
    return [(Decimal(p), Decimal(q)) for p, q in rows]


@pytest.mark.slow
@pytest.mark.asyncio
async def test_book_equals_the_exchange_after_a_long_faulty_run() -> None:
    config = StreamConfig(fast_ms=20, ping_interval_s=0.5, pong_timeout_s=2.0)
    async with (
        LocalExchange(symbols=("BTCUSDT",), market_interval_ms=2, streams=config) as ex,
        httpx.AsyncClient(base_url=ex.rest_url, timeout=10) as http,
        StreamClient(ex.stream_url, reconnect_delay=0.01, max_reconnect_delay=0.2) as streams,
    ):

        async def fetch(symbol: str, limit: int) -> bytes:
            response = await http.get("/api/v3/depth", params={"symbol": symbol, "limit": limit})
            response.raise_for_status()
            return response.content

        stats = BookSyncStats()
        seen: list[OrderBook] = []

        async def consume() -> None:
            async for book in watch_book(streams, "BTCUSDT", fetch, limit=5000, stats=stats):
                if not seen:
                    seen.append(book)

        consumer = asyncio.create_task(consume())
        try:
            ex.set_faults(skip_sequence_every=25, drop_streams_every_s=0.6, delay_ms=30)
            # At least ~3 s of wall time and several thousand market steps, and on until both
            # faults have hit a few times (a loaded machine gets fewer updates through).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            rounds = 0
            while rounds < 60 or not (
                stats.gaps >= 3 and stats.reconnects >= 2 and stats.ticker_checks > 50
            ):
                if loop.time() > deadline:
                    break  # the assertions below say which fault did not hit
                ex.advance(25)
                rounds += 1
                # Wall time is part of the behaviour: the faults (dropped connections every
                # 0.6 s, delays) are timed, and the stream pushes at its own pace meanwhile.
                await asyncio.sleep(0.05)
            steps = ex.metrics()
            ex.pause()
            ex.set_faults()
            expected: dict[str, Any] = {}

            async def caught_up() -> bool:
                # One more change, sent without faults. A book dropped by the last fault
                # resyncs only on a diff event (Binance's procedure), and a paused market sends
                # none: each step gives it one, until it holds the exchange's latest update.
                ex.advance(1)
                expected.update((await http.get(f"{DEPTH}&limit=5000")).json())
                try:
                    await eventually(
                        lambda: bool(seen) and seen[0].last_update_id == expected["lastUpdateId"],
                        timeout=1.0,
                    )
                except TimeoutError:
                    return False
                return True

            await eventually(caught_up, timeout=20, message=f"the local book to catch up ({stats})")
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
    book = seen[0]
    assert book.last_update_id == expected["lastUpdateId"], stats
    assert levels(book.bids(5000, exact=True)) == levels(expected["bids"])
    assert levels(book.asks(5000, exact=True)) == levels(expected["asks"])
    assert len(expected["bids"]) > 10 and len(expected["asks"]) > 10
    assert stats.gaps >= 3 and stats.reconnects >= 2  # both faults hit, and were survived
    assert stats.resyncs >= stats.gaps + stats.reconnects - 1
    assert stats.ticker_checks > 50 and stats.ticker_mismatches == 0
    assert steps["stream_connections"] >= 3
    assert stats.updates > 50


class ScriptedStreams(StreamClient):
    """A StreamClient that plays back given frames instead of opening a socket."""

    def __init__(self, frames: list[bytes | Reconnected]) -> None:
        super().__init__("ws://127.0.0.1:1")
        self.frames = frames
        self.asked: tuple[str, ...] = ()

    async def messages(self, *streams: str) -> AsyncGenerator[bytes | Reconnected, None]:
        """Yield the scripted frames."""
        self.asked = streams
        for frame in self.frames:
            yield frame


def depth(first: int, last: int, bids: list[list[str]], asks: list[list[str]]) -> bytes:
    """A combined-stream depthUpdate frame."""
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": last, "b": bids, "a": asks}
    return json.dumps({"stream": "btcusdt@depth@100ms", "data": data}).encode()


def ticker(update_id: int, bid: str, bid_qty: str, ask: str, ask_qty: str) -> bytes:
    """A combined-stream bookTicker frame."""
    data = {"u": update_id, "s": "BTCUSDT", "b": bid, "B": bid_qty, "a": ask, "A": ask_qty}
    return json.dumps({"stream": "btcusdt@bookTicker", "data": data}).encode()


def snapshot(last_id: int) -> bytes:
    """A depth snapshot with one level per side."""
    body = {"lastUpdateId": last_id, "bids": [["100.00", "1.0"]], "asks": [["101.00", "2.0"]]}
    return json.dumps(body).encode()


async def run_script(
    frames: list[bytes | Reconnected], snapshots: list[bytes]
) -> tuple[BookSyncStats, list[tuple[int | None, list[Any]]], ScriptedStreams, list[int]]:
    """Run watch_book over scripted frames and snapshots; what it yielded (update id, bids)."""
    stats = BookSyncStats()
    streams = ScriptedStreams(frames)
    limits: list[int] = []

    async def fetch(symbol: str, limit: int) -> bytes:
        assert symbol == "BTCUSDT"
        limits.append(limit)
        return snapshots.pop(0)

    out = [
        (b.last_update_id, b.bids(5, exact=True))
        async for b in watch_book(streams, "btcusdt", fetch, limit=50, stats=stats)
    ]
    return stats, out, streams, limits


@pytest.mark.asyncio
async def test_documented_procedure_refetch_drop_stale_then_apply() -> None:
    frames: list[bytes | Reconnected] = [
        depth(11, 12, [["100.00", "1.5"]], []),  # first buffered event: U = 11
        depth(13, 15, [["99.00", "3"]], []),
        depth(16, 16, [["100.00", "0"]], []),
    ]
    # The first snapshot (10) is older than U = 11: fetch again; 14 is fine.
    stats, out, streams, limits = await run_script(frames, [snapshot(10), snapshot(14)])
    assert streams.asked == ("btcusdt@depth@100ms", "btcusdt@bookTicker")
    assert limits == [50, 50] and stats.snapshot_refetches == 1
    # Event 11-12 is stale (u <= 14) and dropped; 13-15 straddles 14 and is applied.
    assert out == [
        (
            14,
            [
                ("100", "1"),
            ],
        ),
        (15, [("100", "1"), ("99", "3")]),
        (16, [("99", "3")]),
    ]
    assert stats.stale == 1 and stats.updates == 2 and stats.resyncs == 0


@pytest.mark.asyncio
async def test_a_gap_and_a_reconnect_each_start_over() -> None:
    frames: list[bytes | Reconnected] = [
        depth(5, 5, [], []),
        depth(6, 6, [["100.00", "2"]], []),
        depth(8, 8, [], []),  # 7 is missing: a gap
        depth(9, 9, [["100.00", "3"]], []),  # the next sync starts here
        Reconnected("test", 1),
        depth(20, 21, [], [["101.00", "5"]]),
    ]
    stats, out, _, _ = await run_script(frames, [snapshot(5), snapshot(9), snapshot(21)])
    assert [u for u, _ in out] == [5, 6, 9, 21]
    assert stats.gaps == 1 and stats.reconnects == 1 and stats.resyncs == 2
    assert stats.syncs == 3


@pytest.mark.asyncio
async def test_a_book_ticker_mismatch_forces_a_resync() -> None:
    frames: list[bytes | Reconnected] = [
        ticker(6, "100.00", "2.0", "101.00", "2.0"),  # arrives before the diff it describes
        depth(5, 5, [], []),
        depth(6, 6, [["100.00", "2"]], []),  # checked against ticker 6: agrees
        ticker(6, "100.00", "2.0", "101.00", "2.0"),  # same id again: checked at once, agrees
        ticker(7, "100.50", "1.0", "101.00", "2.0"),
        depth(7, 7, [["99.00", "1"]], []),  # the book's best bid is still 100: disagrees
        depth(8, 8, [], []),  # starts a new sync
    ]
    stats, out, _, _ = await run_script(frames, [snapshot(5), snapshot(8)])
    assert stats.ticker_checks == 3 and stats.ticker_mismatches == 1
    assert stats.resyncs == 1 and stats.syncs == 2
    assert [u for u, _ in out] == [5, 6, 8]


@pytest.mark.asyncio
async def test_without_the_ticker_check_only_depth_is_subscribed() -> None:
    streams = ScriptedStreams([depth(5, 5, [], [])])

    async def fetch(symbol: str, limit: int) -> bytes:
        return snapshot(5)

    books = [
        b.last_update_id
        async for b in watch_book(streams, "BTCUSDT", fetch, check_book_ticker=False)
    ]
    assert streams.asked == ("btcusdt@depth@100ms",) and books == [5]
