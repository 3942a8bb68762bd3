"""A replayed market source: a synthetic depth stream's snapshot, then its updates."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire._core import OrderBook
from tradewire.model import BookUpdate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.model import MarketEvent
    from tradewire.testing.synthetic import SyntheticDepthStream

__all__ = ["ReplayMarket", "book_update"]


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
