"""Replayed market sources: recorded or synthetic Binance depth payloads, through the Rust book.

Each payload (raw ``depthUpdate`` bytes, as received) is applied to a Rust
:class:`~tradewire.OrderBook`; each applied one becomes a :class:`~tradewire.model.BookUpdate`
view of that book, so an event costs the parse and apply in Rust plus one small object, however
many levels the book holds. Stale payloads (already in the snapshot) are skipped; a gap raises
:class:`~tradewire.errors.SequenceGap`, as the recording is then unusable from that point on.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from tradewire._core import OrderBook
from tradewire.errors import ConfigError
from tradewire.model import BookUpdate, MarketTrade

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence

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
#: How late (wall seconds) a paced replay may be for a book before it skips it.
_LATE_S = 0.005
_LOADING_S = 0.001  # a step of the data longer than this was loading a tape, not the market


class _Side:
    """One side of a replayed book in integer units: quantities by price, and the prices kept
    sorted best first (a bisect per change, a slice per book: no sort per event)."""

    def __init__(self, descending: bool) -> None:
        self.sign = -1 if descending else 1
        self.qty: dict[int, int] = {}
        self.keys: list[int] = []  # sign * price, ascending: best first

    def set(self, price: int, qty: int) -> None:
        if qty > 0:
            if price not in self.qty:
                bisect.insort(self.keys, self.sign * price)
            self.qty[price] = qty
        elif self.qty.pop(price, None) is not None:
            del self.keys[bisect.bisect_left(self.keys, self.sign * price)]

    def clear(self) -> None:
        self.qty.clear()
        self.keys.clear()

    def top(self, depth: int) -> list[tuple[int, int]]:
        sign, qty = self.sign, self.qty
        return [(sign * key, qty[sign * key]) for key in self.keys[:depth]]


def _dec(units: int) -> Decimal:
    return Decimal(units) * _UNIT


class TapeMarket:
    """A market source over tapes (:mod:`tradewire.backtest.data` reads them from files): one
    :class:`BookUpdate` (the top ``depth`` levels) per book message, one
    :class:`~tradewire.model.MarketTrade` per trade, in the tapes' order and market time.

    This is how the :class:`~tradewire.trading.runner.Runner` replays what a backtest reads,
    event by event (paper trading on recorded data, and the paper-vs-backtest parity check).
    With ``speed`` the events come in wall time, market time compressed ``speed`` times (a demo
    shows an hour in 30 s at 120); without, as fast as the runner takes them.

    ``tapes`` is one symbol's tapes, or a mapping of several symbols' (``{"BTCUSDT": [...],
    "ETHUSDT": [...]}``): :meth:`events_of` then merges them in market time (by the tapes'
    µs times; at the same time, in the order the symbols are asked for), so no symbol's event
    comes before an earlier one of another.

    A paced replay that falls behind the wall clock skips the books it is late for, as a slow
    consumer of a live market gets the latest book rather than a backlog: every trade is
    still delivered (fills come from trades), and a book is sent again as soon as the replay
    is on time. Without ``speed`` every book is delivered.
    ``tapes`` is read once per :meth:`events` call; pass lists to replay more than once.
    """

    def __init__(
        self,
        tapes: Iterable[Tape] | Mapping[str, Iterable[Tape]],
        *,
        depth: int = 20,
        speed: float | None = None,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.tapes = tapes
        self.depth = depth
        self.speed = speed
        #: Books skipped because the paced replay was late for them.
        self.books_skipped = 0

    def __repr__(self) -> str:
        return f"TapeMarket(depth={self.depth}, speed={self.speed})"

    async def _pace(self, time_ms: int, start: list[float]) -> bool:
        """With a speed, wait until ``time_ms`` of market time is due in wall time (market time
        runs ``speed`` times faster than the wall clock from the first event on); returns
        whether the event is late by more than :data:`_LATE_S`."""
        speed = self.speed
        if speed is None:
            return False
        loop = asyncio.get_running_loop()
        if not start:
            start.extend((loop.time(), time_ms / 1000))
            return False
        due = start[0] + (time_ms / 1000 - start[1]) / speed
        delay = due - loop.time()
        if delay > 0.001:
            await asyncio.sleep(delay)
        return delay < -_LATE_S

    def _tapes_of(self, symbol: str) -> Iterable[Tape]:
        tapes = self.tapes
        if isinstance(tapes, Mapping):
            found = tapes.get(symbol)
            if found is None:
                raise ConfigError(
                    f"no tapes of {symbol} in this market (it has {', '.join(tapes)})"
                )
            return found
        return tapes

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Book and trade events of ``symbol`` until its tapes end."""
        async for event in self.events_of((symbol,)):
            yield event

    async def events_of(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        """Book and trade events of every symbol in ``symbols``, merged in market time, until
        all their tapes end.

        Raises:
            ConfigError: several symbols asked of one symbol's tapes, or a symbol without tapes.
        """
        if len(symbols) > 1 and not isinstance(self.tapes, Mapping):
            raise ConfigError(
                f"these tapes are one symbol's: a market of {', '.join(symbols)} needs the "
                "tapes of each, by symbol"
            )
        streams = [_Rows(symbol, self._tapes_of(symbol), self.depth) for symbol in symbols]
        rows = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_time_of)
        n = 0
        start: list[float] = []
        clock = time.perf_counter
        iterator = iter(rows)
        while True:
            asked = clock()
            row = next(iterator, None)
            if row is None:
                break
            if start:
                # Time spent making the data (reading or generating the next tape) is not the
                # market's: the paced clock waits it out, as a player buffers, so only a slow
                # consumer (the strategy, the broker) makes books late.
                spent = clock() - asked
                if spent > _LOADING_S:
                    start[0] += spent
            time_us, stream, trade = row
            if trade is None:  # a book: built only if it is delivered
                if await self._pace(time_us // 1000, start):
                    self.books_skipped += 1
                    continue
                yield stream.book(time_us // 1000)
            else:
                await self._pace(time_us // 1000, start)
                yield trade
            n += 1
            if n % _YIELD_EVERY == 0:
                await asyncio.sleep(0)


def _time_of(row: tuple[int, _Rows, MarketTrade | None]) -> int:
    return row[0]


class _Rows:
    """One symbol's rows from its tapes: ``(time_us, self, trade)`` per trade and
    ``(time_us, self, None)`` per book message, whose book :meth:`book` builds while the
    iteration stands there (the merge key is the time in µs)."""

    def __init__(self, symbol: str, tapes: Iterable[Tape], depth: int) -> None:
        self.symbol = symbol
        self.tapes = tapes
        self.depth = depth
        self.bids, self.asks = _Side(descending=True), _Side(descending=False)

    def book(self, time_ms: int) -> BookUpdate:
        """The book as the rows read so far leave it."""
        depth = self.depth
        return BookUpdate.of_units(
            self.symbol,
            self.bids.top(depth),
            self.asks.top(depth),
            time_ms=time_ms,
            received_ms=time_ms,
        )

    def __iter__(self) -> Iterator[tuple[int, _Rows, MarketTrade | None]]:
        symbol, bids, asks = self.symbol, self.bids, self.asks
        for tape in self.tapes:
            columns = zip(
                tape.kind.tolist(),
                tape.time_us.tolist(),
                tape.price.tolist(),
                tape.qty.tolist(),
                strict=True,
            )
            for kind, time_us, price, qty in columns:
                if kind == _BID:
                    bids.set(price, qty)
                elif kind == _ASK:
                    asks.set(price, qty)
                elif kind == _CLEAR:
                    bids.clear()
                    asks.clear()
                elif kind == _BOOK_END:
                    yield time_us, self, None
                else:
                    time_ms = time_us // 1000
                    yield (
                        time_us,
                        self,
                        MarketTrade(
                            symbol,
                            "",
                            _dec(price),
                            _dec(qty),
                            time_ms,
                            buyer_is_maker=kind == _TRADE_SELL,
                            received_ms=time_ms,
                        ),
                    )
