"""Replayed market sources: recorded or synthetic Binance depth payloads, through the Rust book.

Each payload (raw ``depthUpdate`` bytes, as received) is applied to a Rust
:class:`~tradewire.OrderBook`; each applied one becomes a :class:`~tradewire.model.BookUpdate`
view of that book, so an event costs the parse and apply in Rust plus one small object, however
many levels the book holds. Stale payloads (already in the snapshot) are skipped; a gap raises
:class:`~tradewire.errors.SequenceGap`, as the recording is then unusable from that point on.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from tradewire._core import OrderBook
from tradewire.model import BookUpdate, MarketTrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable

    from tradewire._core import Tape
    from tradewire.model import MarketEvent

__all__ = ["DepthStream", "RawDepthMarket", "ReplayMarket", "TapeMarket", "book_update"]


class DepthStream(Protocol):
    """Depth data on demand (:class:`tradewire.testing.synthetic.SyntheticDepthStream` is one)."""

    @property
    def symbol(self) -> str:
        """The symbol it makes data for."""
        ...

    def snapshot(self) -> bytes:
        """A REST depth snapshot."""
        ...

    def events(self, count: int) -> Iterable[bytes]:
        """``count`` depthUpdate payloads following the snapshot."""
        ...


_YIELD_EVERY = 256
"""Events between two yields to the event loop, so timers and views run during a replay."""


def book_update(book: OrderBook, depth: int = 20, received_ms: int = 0) -> BookUpdate:
    """The event of ``book``'s latest update: a view that reads the Rust book when asked."""
    return BookUpdate.of_book(book, depth=depth, received_ms=received_ms)


class RawDepthMarket:
    """A market source over a depth snapshot and the raw ``depthUpdate`` payloads after it.

    ``payloads`` is read once per :meth:`events` call; pass a list (or a factory returning a
    fresh iterable) to replay it more than once. Events carry the exchange's event time as both
    ``time_ms`` and ``received_ms``: a replay has no network in between.
    """

    def __init__(
        self,
        snapshot: bytes,
        payloads: Iterable[bytes] | Callable[[], Iterable[bytes]],
        *,
        depth: int = 20,
    ) -> None:
        self.snapshot = snapshot
        self.payloads = payloads
        self.depth = depth

    def __repr__(self) -> str:
        return f"RawDepthMarket(depth={self.depth})"

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """One book event per applied payload (the snapshot alone has no event time)."""
        book = OrderBook(symbol)
        book.apply_snapshot(self.snapshot)
        depth = self.depth
        of_book = BookUpdate.of_book
        payloads = self.payloads() if callable(self.payloads) else self.payloads
        for n, raw in enumerate(payloads, 1):
            if book.apply_depth_update(raw):
                yield of_book(book, depth=depth, received_ms=book.last_event_time)
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)


class ReplayMarket(RawDepthMarket):
    """A deterministic market: a synthetic depth stream's snapshot, then ``count`` updates."""

    def __init__(self, stream: DepthStream, count: int, *, depth: int = 20) -> None:
        super().__init__(stream.snapshot(), lambda: stream.events(count), depth=depth)
        self.stream = stream
        self.count = count

    def __repr__(self) -> str:
        return f"ReplayMarket({self.stream.symbol!r}, count={self.count})"


# Tape row kinds (rust/src/sim/tape.rs).
_TRADE_BUY, _TRADE_SELL, _BID, _ASK, _BOOK_END, _CLEAR = range(6)
_UNIT = Decimal(1).scaleb(-8)


class TapeMarket:
    """A market source over tapes (:mod:`tradewire.backtest.data` reads them from files): one
    :class:`BookUpdate` (the top ``depth`` levels) per book message, one
    :class:`~tradewire.model.MarketTrade` per trade, in the tapes' order and market time.

    This is how the :class:`~tradewire.trading.runner.Runner` replays what a backtest reads,
    event by event (paper trading on recorded data, and the paper-vs-backtest parity check).
    ``tapes`` is read once per :meth:`events` call; pass a list to replay more than once.
    """

    def __init__(self, tapes: Iterable[Tape], *, depth: int = 20) -> None:
        self.tapes = tapes
        self.depth = depth

    def __repr__(self) -> str:
        return f"TapeMarket(depth={self.depth})"

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Book and trade events until the tapes end."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        depth = self.depth
        n = 0

        def dec(units: int) -> Decimal:
            return Decimal(units) * _UNIT

        for tape in self.tapes:
            columns = zip(
                tape.kind.tolist(),
                tape.time_us.tolist(),
                tape.price.tolist(),
                tape.qty.tolist(),
                strict=True,
            )
            for kind, time_us, price, qty in columns:
                time_ms = time_us // 1000
                if kind in (_BID, _ASK):
                    side = bids if kind == _BID else asks
                    if qty > 0:
                        side[price] = qty
                    else:
                        side.pop(price, None)
                    continue
                if kind == _CLEAR:
                    bids.clear()
                    asks.clear()
                    continue
                if kind == _BOOK_END:
                    top_bids = sorted(bids.items(), reverse=True)[:depth]
                    top_asks = sorted(asks.items())[:depth]
                    yield BookUpdate(
                        symbol,
                        tuple((dec(p), dec(q)) for p, q in top_bids),
                        tuple((dec(p), dec(q)) for p, q in top_asks),
                        time_ms=time_ms,
                        received_ms=time_ms,
                    )
                else:
                    yield MarketTrade(
                        symbol,
                        "",
                        dec(price),
                        dec(qty),
                        time_ms,
                        buyer_is_maker=kind == _TRADE_SELL,
                        received_ms=time_ms,
                    )
                n += 1
                if n % _YIELD_EVERY == 0:
                    await asyncio.sleep(0)
