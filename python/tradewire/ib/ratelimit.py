"""The IB Web API request limiter: IB's documented limits, kept before a request, never a 429.

IB counts requests per IP: about 10 a second through the Client Portal gateway, and stricter
limits on some endpoints (one every 5 s for live orders, trades, P&L and portfolio accounts).
One request over draws a 429 and puts the whole IP in a penalty box for 10-15 minutes, so the
limiter waits before a request instead of learning from a 429: every rule is a sliding window
("at most N requests in any W seconds") that a request enters only when the window has room,
plus a concurrency cap for the history endpoint. After a 429 anyway, :meth:`IBLimiter.lock`
refuses every request until the lock ends (:class:`~tradewire.errors.IBPenaltyBox`): no retry
storm.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradewire.errors import IBPenaltyBox, IBRateLimited

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

__all__ = ["DEFAULT_RULES", "IBLimiter", "WindowRule"]


@dataclass(frozen=True)
class WindowRule:
    """At most ``count`` requests in any ``seconds``-long window."""

    count: int
    seconds: float

    def __post_init__(self) -> None:
        if self.count < 1 or self.seconds <= 0:
            raise ValueError("a rate rule needs count >= 1 and seconds > 0")


GLOBAL_RULE = WindowRule(10, 1.0)
"""The gateway-wide limit (research: cpapi-v1 says 10 requests a second)."""

# cpapi-v1's per-endpoint table (research/ib.md A.9), keyed by path (exact, or a prefix ending "/").
DEFAULT_RULES: dict[str, WindowRule] = {
    "/iserver/account/orders": WindowRule(1, 5.0),
    "/iserver/account/trades": WindowRule(1, 5.0),
    "/iserver/account/pnl/partitioned": WindowRule(1, 5.0),
    "/portfolio/accounts": WindowRule(1, 5.0),
    "/portfolio/subaccounts": WindowRule(1, 5.0),
    "/iserver/marketdata/snapshot": WindowRule(10, 1.0),
    "/iserver/scanner/params": WindowRule(1, 900.0),
    "/iserver/scanner/run": WindowRule(1, 1.0),
    "/pa/": WindowRule(1, 900.0),
    "/fyi/": WindowRule(1, 1.0),
    "/tickle": WindowRule(1, 1.0),
    "/sso/validate": WindowRule(1, 60.0),
}
HISTORY_PATH = "/iserver/marketdata/history"
HISTORY_CONCURRENCY = 5
# Clocks of client and server differ a little: each window is kept this much longer.
_MARGIN_S = 0.05
# How often a window full of requests in flight is looked at again.
_POLL_S = 0.02


class _Stamp:
    """When one request ended (``inf`` while it is in flight): the window counts it from then."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = math.inf


class _Window:
    """The stamps of one rule's recent requests."""

    def __init__(self, rule: WindowRule) -> None:
        self.rule = rule
        self.stamps: list[_Stamp] = []
        self.lock = asyncio.Lock()

    def recent(self, now: float) -> list[float]:
        """End times (inf: in flight) still inside the window, oldest first; drops the rest."""
        horizon = now - self.rule.seconds - _MARGIN_S
        self.stamps = [s for s in self.stamps if s.at > horizon]
        return sorted(s.at for s in self.stamps)

    def wait_s(self, now: float) -> float:
        """Seconds until one more request fits (``_POLL_S`` while the window is full of
        requests in flight)."""
        times = self.recent(now)
        if len(times) < self.rule.count:
            return 0.0
        blocking = times[len(times) - self.rule.count]
        if math.isinf(blocking):
            return _POLL_S
        return max(0.0, blocking + self.rule.seconds + _MARGIN_S - now)


class IBLimiter:
    """Waits before each request until IB's limits leave room; refuses all during a lock.

    Args:
        rules: Per-endpoint rules by path (a key ending in ``/`` is a prefix); IB's by default.
        global_rule: The limit over all requests (10 a second through the gateway).
        max_wait: Longest wait for room, in seconds; longer raises ``IBRateLimited``.
        clock: Monotonic seconds; ``sleep``: the matching sleep (both injectable for tests).
    """

    def __init__(
        self,
        rules: dict[str, WindowRule] | None = None,
        *,
        global_rule: WindowRule = GLOBAL_RULE,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._rules = {path: _Window(rule) for path, rule in (rules or DEFAULT_RULES).items()}
        self._global = _Window(global_rule)
        self._max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._history = asyncio.Semaphore(HISTORY_CONCURRENCY)
        self._locked_until = 0.0
        self.sent = 0

    def __repr__(self) -> str:
        return f"IBLimiter(rules={len(self._rules)}, global={self._global.rule})"

    @property
    def locked_for(self) -> float:
        """Seconds left in the penalty box (0 when not locked)."""
        return max(0.0, self._locked_until - self._clock())

    def lock(self, seconds: float) -> None:
        """IB answered 429: refuse every request for ``seconds``."""
        self._locked_until = max(self._locked_until, self._clock() + seconds)

    def headroom(self, path: str = "") -> int:
        """Requests that could be sent now without waiting (global, or for ``path``)."""
        now = self._clock()
        windows = [self._global, *([w] if (w := self._rule_for(path)) else [])]
        return min(w.rule.count - len(w.recent(now)) for w in windows)

    def _rule_for(self, path: str) -> _Window | None:
        exact = self._rules.get(path)
        if exact is not None:
            return exact
        for key, window in self._rules.items():
            if key.endswith("/") and path.startswith(key):
                return window
        return None

    def _check_lock(self, path: str) -> None:
        left = self.locked_for
        if left > 0:
            raise IBPenaltyBox(
                f"IB's penalty box: every request is refused for {left:.0f} s more",
                retry_after=left,
                endpoint=path,
                status=429,
            )

    async def _enter(self, window: _Window, path: str) -> None:
        while (wait := window.wait_s(self._clock())) > 0:
            if wait > self._max_wait:
                raise IBRateLimited(
                    f"{path} would have to wait {wait:.1f} s for IB's limit of "
                    f"{window.rule.count} per {window.rule.seconds:g} s",
                    retry_after=wait,
                    endpoint=path,
                )
            await self._sleep(wait)

    async def acquire(self, path: str) -> Callable[[], None]:
        """Wait until ``path`` may be requested now and count the request; returns the call
        that stamps its end (the window counts a request until a window's length after its
        answer, so a request delayed on the way is never counted too early)."""
        self._check_lock(path)
        stamp = _Stamp()
        window = self._rule_for(path)
        async with contextlib.AsyncExitStack() as stack:
            if window is not None:
                await stack.enter_async_context(window.lock)
                await self._enter(window, path)
            async with self._global.lock:
                await self._enter(self._global, path)
                self._check_lock(path)
                self._global.stamps.append(stamp)
                if window is not None:
                    window.stamps.append(stamp)
                self.sent += 1

        def done() -> None:
            stamp.at = self._clock()

        return done

    @contextlib.asynccontextmanager
    async def slot(self, path: str) -> AsyncIterator[None]:
        """Hold a request slot for ``path`` (history requests: at most 5 at once)."""
        async with contextlib.AsyncExitStack() as stack:
            if path == HISTORY_PATH:
                await stack.enter_async_context(self._history)
            done = await self.acquire(path)
            try:
                yield
            finally:
                done()
