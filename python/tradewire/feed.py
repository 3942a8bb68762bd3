"""Market sources: a replayed depth stream, and Binance-compatible live data (book + trades)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewire import OrderBook
from tradewire.binance.wire import Trade
from tradewire.venue import BookUpdate, MarketTrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.synthetic import SyntheticDepthStream
    from tradewire.venue import MarketEvent

__all__ = ["BinanceMarket", "ReplayMarket", "book_update"]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def book_update(book: OrderBook, depth: int = 20) -> BookUpdate:
    """The top ``depth`` levels of a Rust ``OrderBook`` as an exact :class:`BookUpdate`."""
    return BookUpdate(
        symbol=book.symbol,
        bids=tuple((Decimal(p), Decimal(q)) for p, q in book.bids(depth, exact=True)),
        asks=tuple((Decimal(p), Decimal(q)) for p, q in book.asks(depth, exact=True)),
        time_ms=book.last_event_time,
        received_ms=_now_ms(),
    )


class ReplayMarket:
    """A deterministic market: a synthetic depth stream's snapshot, then ``count`` updates."""

    def __init__(self, stream: SyntheticDepthStream, count: int, *, depth: int = 20) -> None:
        self.stream = stream
        self.count = count
        self.depth = depth

    def __repr__(self) -> str:
        return f"ReplayMarket({self.stream.symbol!r}, count={self.count})"

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """The snapshot's book, then one book update per depth event."""
        book = OrderBook(symbol)
        book.apply_snapshot(self.stream.snapshot())
        yield book_update(book, self.depth)
        for raw in self.stream.events(self.count):
            if book.apply_depth_update(raw):
                yield book_update(book, self.depth)
            await asyncio.sleep(0)


class BinanceMarket:
    """Live market data through a ``BinanceClient``: the synced book and the trade stream."""

    def __init__(self, client: Any, *, depth: int = 20, queue_size: int = 10_000) -> None:
        self.client = client
        self.depth = depth
        self.queue_size = queue_size
        self.book_lag_ms: list[int] = []

    def __repr__(self) -> str:
        return f"BinanceMarket({self.client!r})"

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Book updates (after each applied diff) and trades, merged in arrival order."""
        queue: asyncio.Queue[MarketEvent] = asyncio.Queue(self.queue_size)

        async def books() -> None:
            async for book in self.client.watch_book(symbol):
                update = book_update(book, self.depth)
                if update.time_ms:
                    self.book_lag_ms.append(update.received_ms - update.time_ms)
                    del self.book_lag_ms[:-1000]
                await queue.put(update)

        async def trades() -> None:
            async for event in self.client.stream(f"{symbol.lower()}@trade"):
                if isinstance(event, Trade):
                    await queue.put(
                        MarketTrade(
                            symbol=event.symbol,
                            trade_id=str(event.trade_id),
                            price=Decimal(event.price),
                            quantity=Decimal(event.quantity),
                            time_ms=event.trade_time,
                            buyer_is_maker=event.is_buyer_maker,
                            received_ms=_now_ms(),
                        )
                    )

        tasks = [asyncio.create_task(books()), asyncio.create_task(trades())]
        getter: asyncio.Future[MarketEvent] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait([getter, *tasks], return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                for task in tasks:
                    if task.done() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
                return
        finally:
            if getter is not None:
                getter.cancel()
            for task in tasks:
                task.cancel()
            pending: list[asyncio.Future[Any]] = [*tasks, *([getter] if getter else [])]
            for future in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await future
