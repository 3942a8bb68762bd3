"""Closed candles taken from the venue's klines, for the runner: a warm history, then the stream.

Where the market source serves the venue's candles (a
:class:`~tradewire.venues.protocols.CandleSource`: Binance's, or the local exchange's, klines)
and the strategy's ``candle_source`` allows it, a :class:`VenueCandles` seeds each subscribed
series with the venue's closed history (``history=`` candles) before the strategy's first
callback, then hands over each candle as the kline stream closes it. Trades still build the
forming candle; the candles they close are dropped. Elsewhere (backtests, replays in market
time, a market source without klines) the candles are built from trades.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from tradewire.clock import MarketClock
from tradewire.errors import ConfigError
from tradewire.venues.protocols import CandleSource

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tradewire.clock import Clock
    from tradewire.model import Bar
    from tradewire.trading.candles import CandleSeries
    from tradewire.trading.strategy import Strategy
    from tradewire.trading.timers import Schedule
    from tradewire.venues.protocols import MarketSource

__all__ = ["CANDLE_SOURCES", "VenueCandles", "push_candle", "venue_candles"]

CANDLE_SOURCES = ("auto", "trades", "venue")
"""The values of ``Strategy.candle_source``."""


def venue_candles(strategy: Strategy, market: MarketSource | None, clock: Clock) -> bool:
    """Whether the strategy's closed candles come from the venue's klines in this run.

    ``market`` is None, or ``clock`` a :class:`~tradewire.clock.MarketClock`, for runs in
    market time (backtests, replays): those build candles from trades.

    Raises:
        ConfigError: ``candle_source`` is not one of :data:`CANDLE_SOURCES`, or is
            ``"venue"`` where the venue's klines are not served.
    """
    choice = strategy.candle_source
    if choice not in CANDLE_SOURCES:
        raise ConfigError(
            f"candle_source must be one of {', '.join(map(repr, CANDLE_SOURCES))}, not {choice!r}"
        )
    if choice == "trades":
        return False
    offered = (
        market is not None
        and not isinstance(clock, MarketClock)
        and isinstance(market, CandleSource)
    )
    if choice == "venue" and not offered:
        where = (
            "a run in market time (backtest or replay)"
            if market is None or isinstance(clock, MarketClock)
            else f"the market source {type(market).__name__}"
        )
        raise ConfigError(
            f"{strategy.name}: candle_source = 'venue' but {where} serves no venue klines: "
            "candles there are built from trades (candle_source = 'auto' or 'trades')"
        )
    return offered


class VenueCandles:
    """The venue's candles for every series of a run's :class:`~tradewire.trading.timers.Schedule`.

    :meth:`seed` fills the series subscribed so far with the venue's closed history and starts
    a reader of closed candles for each; it is called again after ``on_start`` for the series
    subscribed there. Each candle read goes to ``deliver`` (the runner: it adds it to its series
    and calls ``on_candle``, one callback at a time). :meth:`watch` raises the first error of
    a reader (a stream that failed, a callback that raised) and stops them all when canceled.
    """

    def __init__(
        self,
        market: CandleSource,
        schedule: Schedule,
        symbols: tuple[str, ...],
        deliver: Callable[[Bar], Awaitable[None]],
    ) -> None:
        self.market = market
        self.schedule = schedule
        self.symbols = symbols
        self._deliver = deliver
        self._readers: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._failed: asyncio.Future[None] | None = None

    def __repr__(self) -> str:
        return f"VenueCandles({type(self.market).__name__}, readers={len(self._readers)})"

    def _waiting(self) -> list[CandleSeries]:
        out = []
        for symbol in self.symbols:
            for interval, series in self.schedule.series_of(symbol).items():
                if (symbol, interval) not in self._readers:
                    out.append(series)
        return out

    async def seed(self) -> int:
        """Seed the series not fed yet with the venue's history and start their readers; how
        many series it took on."""
        waiting = self._waiting()
        histories = await asyncio.gather(
            *(
                self.market.candle_history(s.symbol, s.interval, s.closed.maxlen or 500)
                for s in waiting
            )
        )
        for series, history in zip(waiting, histories, strict=True):
            series.seed(history)
            since = history[-1].close_time_ms + 1 if history else None
            key = (series.symbol, series.interval)
            self._readers[key] = task = asyncio.create_task(
                self._read(series.symbol, series.interval, since),
                name=f"tradewire-candles-{series.symbol}-{series.interval}",
            )
            task.add_done_callback(self._ended)
        return len(waiting)

    async def _read(self, symbol: str, interval: str, since_ms: int | None) -> None:
        async for bar in self.market.closed_candles(symbol, interval, since_ms=since_ms):
            await self._deliver(bar)

    def _ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        failed = self._future()
        if exc is not None and not failed.done():
            failed.set_exception(exc)

    def _future(self) -> asyncio.Future[None]:
        if self._failed is None:
            self._failed = asyncio.get_running_loop().create_future()
        return self._failed

    async def watch(self) -> None:
        """Wait until a reader fails, and raise its error; canceled, stop every reader."""
        try:
            await self._future()
        finally:
            readers = list(self._readers.values())
            for task in readers:
                task.cancel()
            for task in readers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


def push_candle(schedule: Schedule, bar: Bar) -> bool:
    """Add a closed candle from the venue to its series in ``schedule``; False if it is not
    later than the last one kept (or its series is not subscribed)."""
    series = schedule.series_of(bar.symbol).get(bar.interval)
    return series is not None and series.push(bar)
