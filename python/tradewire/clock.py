"""The one clock every part of a run reads: wall time live, market time in replays and backtests.

Nothing in :mod:`tradewire.trading`, :mod:`tradewire.venues` or :mod:`tradewire.bots` reads the
system clock itself: it asks the :class:`Clock` it was given. :class:`WallClock` is the default
for paper and live runs. :class:`MarketClock` is driven by the market data: the runner tells it
each event's exchange time (:meth:`Clock.observe`), and timers, durations and timestamps follow
that time, so a replayed hour runs as fast as the machine can and the strategy sees the same
timestamps every run.

>>> import asyncio
>>> clock = MarketClock(start_ms=1_000)
>>> async def timer() -> int:
...     await clock.sleep(2.5)
...     return clock.now_ms()
>>> async def main() -> int:
...     task = asyncio.create_task(timer())
...     await asyncio.sleep(0)
...     for t in (2_000, 3_000, 3_600):
...         clock.observe(t)
...     return await task
>>> asyncio.run(main())
3600
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "MarketClock", "WallClock"]


@runtime_checkable
class Clock(Protocol):
    """Time as a run sees it: ``now_ms``, ``sleep``, and ``observe`` for market timestamps."""

    def now_ms(self) -> int:
        """The current time, in ms since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...

    def observe(self, time_ms: int) -> bool:
        """A market event stamped ``time_ms`` (exchange time) arrived; True if a timer is due."""
        ...


class WallClock:
    """The system clock and asyncio's timers (paper and live runs)."""

    def __repr__(self) -> str:
        return "WallClock()"

    def now_ms(self) -> int:
        """The system time, in ms since the epoch."""
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``."""
        await asyncio.sleep(seconds)

    def observe(self, time_ms: int) -> bool:
        """Market timestamps do not move the wall clock: always False."""
        return False


class MarketClock:
    """Time that moves only with the market: the latest event time observed (never backwards).

    ``sleep`` waits until an observed event is at or past the deadline, so timers fire in market
    time, in order, whatever the replay speed. Before the first event, time is ``start_ms``;
    without one, it starts at the first event observed, and sleeps begun before then count
    from it (a run's duration and timers start with its data).
    """

    def __init__(self, start_ms: int | None = None) -> None:
        self._now = start_ms or 0
        self._started = start_ms is not None
        self._timers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._unanchored: list[tuple[int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __repr__(self) -> str:
        return f"MarketClock(now_ms={self._now}, timers={len(self._timers)})"

    def now_ms(self) -> int:
        """The latest market time observed."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the market clock has advanced by ``seconds``."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        delay = max(1, round(seconds * 1000))
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._started:
            heapq.heappush(self._timers, (self._now + delay, next(self._seq), future))
        else:
            self._unanchored.append((delay, future))
        await future

    def observe(self, time_ms: int) -> bool:
        """Move market time to ``time_ms`` (if later); wake the timers now due, True if any."""
        if not self._started:
            self._started = True
            self._now = time_ms
            for delay, future in self._unanchored:
                heapq.heappush(self._timers, (time_ms + delay, next(self._seq), future))
            self._unanchored.clear()
            return False
        if time_ms <= self._now:
            return False
        self._now = time_ms
        timers = self._timers
        woke = False
        while timers and timers[0][0] <= time_ms:
            _, _, future = heapq.heappop(timers)
            if not future.done():
                future.set_result(None)
                woke = True
        return woke
