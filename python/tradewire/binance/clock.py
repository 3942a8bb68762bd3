"""The exchange's clock, as seen from here: the server-time offset, measured and kept fresh.

The offset is measured from ``GET /api/v3/time``: each sample takes the midpoint of the round
trip as the moment the server read its clock, and the sample with the lowest round-trip time
wins (its midpoint is the tightest bound). ``now_ms()`` is the local clock plus that offset, and
is what every signed request carries as ``timestamp``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["ServerClock", "local_ms"]

log = logging.getLogger("tradewire.binance")


def local_ms() -> float:
    """The local wall clock in ms (float, sub-ms resolution)."""
    return time.time_ns() / 1_000_000


class ServerClock:
    """Server time = local time + a measured offset; resynced periodically and on demand."""

    def __init__(
        self,
        fetch_server_time: Callable[[], Awaitable[int]],
        *,
        samples: int = 5,
        refresh_interval_s: float = 300.0,
    ) -> None:
        if samples < 1:
            raise ValueError("samples must be at least 1")
        self._fetch = fetch_server_time
        self._samples = samples
        self._refresh_interval_s = refresh_interval_s
        self._offset_ms = 0.0
        self._rtt_ms: float | None = None
        self._synced_at: float | None = None
        self._sync_count = 0
        self._lock = asyncio.Lock()
        self._refresher: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"ServerClock(offset_ms={self._offset_ms:.1f}, rtt_ms={self._rtt_ms})"

    @property
    def offset_ms(self) -> float:
        """Server time minus local time, in ms, as last measured."""
        return self._offset_ms

    @property
    def rtt_ms(self) -> float | None:
        """The round-trip time of the sample the offset came from (None before the first sync)."""
        return self._rtt_ms

    @property
    def sync_count(self) -> int:
        """How many times the offset has been measured."""
        return self._sync_count

    @property
    def is_synced(self) -> bool:
        """Whether the offset has been measured at least once."""
        return self._synced_at is not None

    def now_ms(self) -> int:
        """The exchange's current time in ms, as estimated from here."""
        return int(local_ms() + self._offset_ms)

    async def sync(self) -> float:
        """Measure the offset now (best of ``samples`` by lowest RTT); returns the offset in ms."""
        best: tuple[float, float] | None = None  # (rtt, offset)
        for _ in range(self._samples):
            t0 = local_ms()
            server = await self._fetch()
            t1 = local_ms()
            rtt = t1 - t0
            offset = server - (t0 + t1) / 2
            if best is None or rtt < best[0]:
                best = (rtt, offset)
        assert best is not None
        self._rtt_ms, self._offset_ms = best
        self._synced_at = time.monotonic()
        self._sync_count += 1
        log.debug("server clock offset %.1f ms (rtt %.1f ms)", self._offset_ms, self._rtt_ms)
        return self._offset_ms

    async def resync(self, *, seen_sync_count: int | None = None) -> float:
        """Measure again; concurrent callers that saw the same stale offset share one sync.

        ``seen_sync_count`` is :attr:`sync_count` when the caller noticed the problem: if another
        task has measured since then, that measurement is used instead of taking a new one.
        """
        async with self._lock:
            if seen_sync_count is not None and self._sync_count != seen_sync_count:
                return self._offset_ms
            return await self.sync()

    async def ensure_synced(self) -> None:
        """Measure once if never measured."""
        if not self.is_synced:
            await self.resync(seen_sync_count=0)

    def start(self) -> None:
        """Start refreshing the offset every ``refresh_interval_s`` in the background."""
        if self._refresher is None and self._refresh_interval_s > 0:
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def aclose(self) -> None:
        """Stop the background refresh."""
        task, self._refresher = self._refresher, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval_s)
            try:
                await self.resync()
            except Exception as exc:  # keep the last offset; the next tick tries again
                log.warning("server clock refresh failed: %s", exc)
