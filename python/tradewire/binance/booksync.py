"""A local order book kept in sync by Binance's documented procedure, checked against bookTicker.

web-socket-streams.md, "How to manage a local order book correctly": open the diff stream and
buffer its events; fetch a depth snapshot; fetch again while the snapshot is older than the first
buffered event (``lastUpdateId < U``); drop events with ``u <= lastUpdateId``; apply the rest in
order; an event that skips ids (``U > last + 1``) means the book is wrong: start over. This module
also starts over after a stream reconnect, and whenever a ``bookTicker`` whose update id equals the
book's last update id disagrees with the book's best bid or ask.

The diff events go into the Rust ``OrderBook`` as raw bytes: once synced, no Python object is
made per event or per level.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire._core import OrderBook
from tradewire.binance.streams import Reconnected
from tradewire.binance.wire import BookTicker, DepthUpdate, parse_depth_snapshot, parse_message
from tradewire.errors import (
    BookError,
    ExchangeUnavailable,
    NetworkError,
    ParseError,
    SequenceGap,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Awaitable, Callable

    from tradewire.binance.streams import StreamClient

__all__ = ["BookSyncStats", "watch_book"]

log = logging.getLogger(__name__)

_MAX_PENDING_TICKERS = 4096
_SNAPSHOT_RETRY_S = 0.05
_MAX_SNAPSHOT_DELAY_S = 30.0
_ZERO = Decimal(0)


@dataclass
class BookSyncStats:
    """What happened while keeping a book: snapshots, resyncs and why, bookTicker checks."""

    snapshots: int = 0
    snapshot_refetches: int = 0
    snapshot_errors: int = 0
    syncs: int = 0
    resyncs: int = 0
    gaps: int = 0
    reconnects: int = 0
    bad_messages: int = 0
    updates: int = 0
    stale: int = 0
    ticker_checks: int = 0
    ticker_mismatches: int = 0


def _side_top(levels: list[tuple[str, str]]) -> tuple[Decimal, Decimal]:
    if not levels:
        return _ZERO, _ZERO
    price, qty = levels[0]
    return Decimal(price), Decimal(qty)


def _agrees(book: OrderBook, ticker: BookTicker) -> bool:
    """Whether the book's best bid and ask (price and quantity) are the ticker's."""
    bid = _side_top(book.bids(1, exact=True))
    ask = _side_top(book.asks(1, exact=True))
    return bid == (Decimal(ticker.bid_price), Decimal(ticker.bid_qty)) and ask == (
        Decimal(ticker.ask_price),
        Decimal(ticker.ask_qty),
    )


class _Syncer:
    """The state of one watched book between two messages."""

    def __init__(
        self,
        symbol: str,
        fetch_snapshot: Callable[[str, int], Awaitable[bytes]],
        limit: int,
        stats: BookSyncStats,
    ) -> None:
        self.book = OrderBook(symbol)
        self.symbol = symbol
        self.fetch_snapshot = fetch_snapshot
        self.limit = limit
        self.stats = stats
        self.tickers: dict[int, BookTicker] = {}

    def start_over(self, why: str) -> None:
        """Drop the book; the next diff event starts a new sync."""
        if self.book.is_synced or self.stats.syncs:
            self.stats.resyncs += 1
        log.info("book %s: resync (%s)", self.symbol, why)
        self.book.clear()
        self.tickers.clear()

    async def _snapshot(self) -> bytes:
        delay = _SNAPSHOT_RETRY_S
        while True:
            try:
                raw = await self.fetch_snapshot(self.symbol, self.limit)
                self.stats.snapshots += 1
                return raw
            except (NetworkError, ExchangeUnavailable, OSError, asyncio.TimeoutError) as exc:
                self.stats.snapshot_errors += 1
                log.warning("book %s: snapshot failed (%s), retrying", self.symbol, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _MAX_SNAPSHOT_DELAY_S)

    async def sync(self, first: DepthUpdate) -> None:
        """Load a snapshot no older than ``first``, the first buffered event."""
        while True:
            raw = await self._snapshot()
            last_id = parse_depth_snapshot(raw).last_update_id
            if last_id >= first.first_update_id:
                break
            self.stats.snapshot_refetches += 1
            await asyncio.sleep(_SNAPSHOT_RETRY_S)
        self.book.apply_snapshot(raw)
        self.stats.syncs += 1

    def apply(self, raw: bytes) -> bool:
        """Apply one diff event; False if it was stale or the book had to be dropped."""
        try:
            applied = self.book.apply_depth_update(raw)
        except SequenceGap as exc:
            self.stats.gaps += 1
            self.start_over(f"sequence gap: {exc}")
            return False
        except (ParseError, BookError) as exc:
            self.stats.bad_messages += 1
            self.start_over(f"bad depth message: {exc}")
            return False
        if not applied:
            self.stats.stale += 1
            return False
        self.stats.updates += 1
        return self.check_pending()

    def on_ticker(self, ticker: BookTicker) -> bool:
        """Check the book against ``ticker`` now or once the book reaches its update id."""
        last_id = self.book.last_update_id
        if last_id is None or ticker.update_id > last_id:
            if len(self.tickers) >= _MAX_PENDING_TICKERS:
                del self.tickers[next(iter(self.tickers))]
            self.tickers[ticker.update_id] = ticker
            return True
        if ticker.update_id == last_id:
            return self.check(ticker)
        return True

    def check_pending(self) -> bool:
        """Check the ticker of the book's update id, if one came; False after a mismatch."""
        if not self.tickers:
            return True
        last_id = self.book.last_update_id
        assert last_id is not None
        ticker = self.tickers.pop(last_id, None)
        for old in [u for u in self.tickers if u < last_id]:
            del self.tickers[old]
        return True if ticker is None else self.check(ticker)

    def check(self, ticker: BookTicker) -> bool:
        """Compare the top of the book with ``ticker``; start over on a mismatch."""
        self.stats.ticker_checks += 1
        if _agrees(self.book, ticker):
            return True
        self.stats.ticker_mismatches += 1
        self.start_over(f"bookTicker {ticker.update_id} disagrees with the book")
        return False


async def watch_book(
    streams: StreamClient,
    symbol: str,
    fetch_snapshot: Callable[[str, int], Awaitable[bytes]],
    *,
    limit: int = 1000,
    check_book_ticker: bool = True,
    stats: BookSyncStats | None = None,
) -> AsyncGenerator[OrderBook, None]:
    """Yield ``symbol``'s synced ``OrderBook`` after the sync and after every applied update.

    ``fetch_snapshot(symbol, limit)`` returns a raw ``GET /api/v3/depth`` body. The same book
    object is yielded each time; read it before the next iteration. Pass ``stats`` to watch the
    counters (resyncs, gaps, bookTicker mismatches).
    """
    symbol = symbol.upper()
    low = symbol.lower()
    names = [f"{low}@depth@100ms"]
    if check_book_ticker:
        names.append(f"{low}@bookTicker")
    syncer = _Syncer(symbol, fetch_snapshot, limit, stats if stats is not None else BookSyncStats())
    book = syncer.book
    source = streams.messages(*names)
    try:
        async for raw in source:
            if isinstance(raw, Reconnected):
                syncer.stats.reconnects += 1
                syncer.start_over(f"stream reconnected ({raw.reason})")
                continue
            if raw.find(b"@bookTicker", 0, 64) >= 0:
                try:
                    ticker = parse_message(raw)
                except ParseError:
                    syncer.stats.bad_messages += 1
                    continue
                if isinstance(ticker, BookTicker):
                    syncer.on_ticker(ticker)
                continue
            if book.is_synced:
                if syncer.apply(raw):
                    yield book
                continue
            try:
                event = parse_message(raw)
            except ParseError:
                syncer.stats.bad_messages += 1
                continue
            if not isinstance(event, DepthUpdate):
                continue
            await syncer.sync(event)
            syncer.apply(raw)
            if book.is_synced:
                yield book
    finally:
        await source.aclose()
