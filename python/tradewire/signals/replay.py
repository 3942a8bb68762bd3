"""Replay protection: a signal's timestamp must be fresh, and its nonce never seen before.

A nonce is remembered for as long as a signal carrying it could still pass the timestamp check
(its timestamp plus the window, or the time it came plus the window if later); the store is
bounded, and when it is full of nonces still in their window new signals are refused (503)
rather than any nonce forgotten early.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from tradewire.clock import WallClock
from tradewire.errors import SignalRefused

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.clock import Clock

__all__ = ["ReplayGuard"]


class ReplayGuard:
    """Checks timestamps against a window and remembers the nonces used within it.

    Args:
        window_s: How far (either way) a signal's timestamp may be from the clock.
        max_nonces: How many nonces are kept at most.
        clock: The clock the timestamps are checked against (wall time by default).
    """

    def __init__(
        self, window_s: float = 30.0, *, max_nonces: int = 100_000, clock: Clock | None = None
    ) -> None:
        if not window_s > 0 or max_nonces < 1:
            raise ValueError("the window must be positive and the store hold one nonce at least")
        self.window_ms = round(window_s * 1000)
        self.max_nonces = max_nonces
        self.clock: Clock = clock or WallClock()
        self._expiry: dict[tuple[str, str], int] = {}
        self._heap: list[tuple[int, str, str]] = []

    def __repr__(self) -> str:
        return f"ReplayGuard(window_ms={self.window_ms}, nonces={len(self._expiry)})"

    def __len__(self) -> int:
        return len(self._expiry)

    def check_time(self, timestamp_ms: int) -> None:
        """Refuse (401 ``stale``) a timestamp further than the window from the clock."""
        now = self.clock.now_ms()
        off = timestamp_ms - now
        if abs(off) > self.window_ms:
            when = "old" if off < 0 else "in the future"
            raise SignalRefused(
                401,
                "stale",
                f"timestamp is {abs(off) / 1000:.1f} s {when}: more than the "
                f"{self.window_ms / 1000:g} s allowed (check the sender's clock)",
            )

    def claim(self, bot: str, nonce: str, timestamp_ms: int) -> None:
        """Take ``nonce`` for ``bot``: 409 ``replayed`` if it was taken within its window."""
        now = self.clock.now_ms()
        self._expire(now)
        key = (bot, nonce)
        if key in self._expiry:
            raise SignalRefused(409, "replayed", f"nonce {nonce!r} was already used")
        if len(self._expiry) >= self.max_nonces:
            raise SignalRefused(
                503, "busy", "too many signals within the window: try again in a moment"
            )
        expiry = max(timestamp_ms, now) + self.window_ms
        self._expiry[key] = expiry
        heapq.heappush(self._heap, (expiry, bot, nonce))

    def release(self, bot: str, nonce: str) -> None:
        """Forget ``nonce`` (the signal was not carried out: the sender may send it again)."""
        self._expiry.pop((bot, nonce), None)

    def remember(self, bot: str, nonces: Mapping[str, int]) -> None:
        """Take the nonces a bot carried out before (from its journal), with their times in ms."""
        now = self.clock.now_ms()
        for nonce, time_ms in nonces.items():
            expiry = time_ms + 2 * self.window_ms
            if expiry > now and (bot, nonce) not in self._expiry:
                self._expiry[(bot, nonce)] = expiry
                heapq.heappush(self._heap, (expiry, bot, nonce))

    def _expire(self, now: int) -> None:
        heap = self._heap
        while heap and heap[0][0] <= now:
            expiry, bot, nonce = heapq.heappop(heap)
            if self._expiry.get((bot, nonce)) == expiry:
                del self._expiry[(bot, nonce)]
