"""Client-side rate limiting: request weight and order counts, kept under Binance's limits.

Binance counts request weight per IP and new orders per account in fixed windows aligned to the
server clock (``REQUEST_WEIGHT`` per minute, ``ORDERS`` per 10 s and per day, ``RAW_REQUESTS`` per
5 minutes), reports the count so far in ``X-MBX-USED-WEIGHT-<n><unit>`` /
``X-MBX-ORDER-COUNT-<n><unit>`` headers, answers 429 + ``Retry-After`` past a limit and bans the IP
(418) if requests continue. :class:`RateLimiter` reserves each request's cost before it is sent,
waits for the next window instead of exceeding a limit, adopts the server's counts from the
headers (other processes on the same IP or account spend the same budget), pauses everything on a
429 and refuses to send during a ban.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewire.errors import IPBanned, RateLimitExceeded

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "LimitUsage",
    "RateLimit",
    "RateLimiter",
    "Reservation",
    "counts_order",
    "request_weight",
]

log = logging.getLogger("tradewire.binance")

_UNIT_MS = {"SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}
_HEADER_UNIT_MS = {"S": 1_000, "M": 60_000, "H": 3_600_000, "D": 86_400_000}
_HEADER = re.compile(r"^x-mbx-(used-weight|order-count)-(\d+)([smhd])$", re.IGNORECASE)


@dataclass(frozen=True)
class RateLimit:
    """One limit of exchangeInfo's ``rateLimits``: a kind, a window length and a ceiling."""

    kind: str  # REQUEST_WEIGHT, ORDERS or RAW_REQUESTS
    interval_ms: int
    limit: int

    @classmethod
    def from_exchange_info(cls, entry: Mapping[str, object]) -> RateLimit:
        """Read one ``rateLimits`` entry (``rateLimitType``, ``interval``, ``intervalNum``)."""
        unit = _UNIT_MS[str(entry["interval"])]
        num = entry.get("intervalNum", 1)
        limit = entry["limit"]
        assert isinstance(num, int)
        assert isinstance(limit, int)
        return cls(str(entry["rateLimitType"]), unit * num, limit)


# Binance Spot's published limits, used until exchangeInfo says otherwise.
DEFAULT_RATE_LIMITS = (
    RateLimit("REQUEST_WEIGHT", 60_000, 6000),
    RateLimit("ORDERS", 10_000, 50),
    RateLimit("ORDERS", 86_400_000, 160_000),
    RateLimit("RAW_REQUESTS", 300_000, 61_000),
)

# Request weights from Binance's rest-api.md, per (method, path); callables weigh by parameters.
_FIXED_WEIGHTS: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/ping"): 1,
    ("GET", "/api/v3/time"): 1,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/historicalTrades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/uiKlines"): 2,
    ("GET", "/api/v3/avgPrice"): 2,
    ("POST", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4,
    ("DELETE", "/api/v3/order"): 1,
    ("DELETE", "/api/v3/openOrders"): 1,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/sapi/v1/account/apiRestrictions"): 1,
}


def _symbol_count(params: Mapping[str, object]) -> int | None:
    """1 for ``symbol``, the list length for ``symbols``, None for all symbols."""
    if params.get("symbol"):
        return 1
    symbols = params.get("symbols")
    if symbols:
        return max(1, str(symbols).count(",") + 1)
    return None


def _depth_weight(params: Mapping[str, object]) -> int:
    limit = int(str(params.get("limit") or 100))
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def _ticker_24hr_weight(params: Mapping[str, object]) -> int:
    count = _symbol_count(params)
    if count is None:
        return 80
    return 2 * count if count <= 20 else 40 if count <= 100 else 80


def _per_symbol(one: int, every: int) -> Callable[[Mapping[str, object]], int]:
    return lambda p: one if _symbol_count(p) == 1 else every


_WEIGHT_RULES: dict[tuple[str, str], Callable[[Mapping[str, object]], int]] = {
    ("GET", "/api/v3/depth"): _depth_weight,
    ("GET", "/api/v3/ticker/24hr"): _ticker_24hr_weight,
    ("GET", "/api/v3/ticker/price"): _per_symbol(2, 4),
    ("GET", "/api/v3/ticker/bookTicker"): _per_symbol(2, 4),
    ("GET", "/api/v3/openOrders"): _per_symbol(6, 80),
    ("GET", "/api/v3/myTrades"): lambda p: 5 if p.get("orderId") else 20,
    ("POST", "/api/v3/order/test"): (
        lambda p: 20 if str(p.get("computeCommissionRates")).lower() == "true" else 1
    ),
}


def request_weight(method: str, path: str, params: Mapping[str, object] | None = None) -> int:
    """Binance's request weight of one REST call (1 for an endpoint not in the table)."""
    key = (method.upper(), path)
    rule = _WEIGHT_RULES.get(key)
    if rule is not None:
        return rule(params or {})
    return _FIXED_WEIGHTS.get(key, 1)


def counts_order(method: str, path: str) -> bool:
    """Whether the call counts against the ORDERS limits (placing a new order does)."""
    return method.upper() == "POST" and path == "/api/v3/order"


@dataclass
class _Bucket:
    """Spending in fixed windows of one limit, per reservation, with the server's own count."""

    limit: RateLimit
    guard_ms: float
    # (server ms, cost, cumulative cost after it), oldest first.
    entries: deque[tuple[float, int, int]] = field(default_factory=deque)
    cumulative: int = 0
    total: int = 0  # the cost of the entries held
    foreign: int = 0  # spent by others in ``foreign_window``, learnt from headers
    foreign_window: int = -1

    def start_of(self, t: float) -> int:
        return int(t) - int(t) % self.limit.interval_ms

    def _prune(self, now: float) -> None:
        # Keep what might still count in the window the server may be in now (guarded).
        keep_from = self.start_of(now - self.guard_ms) - self.guard_ms
        while self.entries and self.entries[0][0] < keep_from:
            self.total -= self.entries.popleft()[1]

    def used_in(self, start: int) -> int:
        """Cost counted in the window starting at ``start`` (edge reservations count in both)."""
        lo = start - self.guard_ms
        if self.entries and self.entries[0][0] >= lo:
            own = self.total  # every entry held is in the window (none is in the future)
        else:
            own = 0
            for t, cost, _ in reversed(self.entries):
                if t < lo:
                    break
                own += cost
        foreign = self.foreign if self.foreign_window == start else 0
        return own + foreign

    def wait_ms(self, now: float, cost: int) -> float:
        """0 if ``cost`` fits in every window the server may be in now, else ms to wait."""
        self._prune(now)
        for start in {self.start_of(now - self.guard_ms), self.start_of(now + self.guard_ms)}:
            if self.used_in(start) + cost > self.limit.limit:
                return start + self.limit.interval_ms + self.guard_ms - now
        return 0.0

    def reserve(self, now: float, cost: int) -> tuple[float, int, int]:
        self.cumulative += cost
        entry = (now, cost, self.cumulative)
        self.entries.append(entry)
        self.total += cost
        return entry

    def report(self, entry: tuple[float, int, int], used: int, now: float) -> None:
        """Adopt the server's count ``used`` from the answer to the request of ``entry``."""
        sent = entry[0]
        start = self.start_of(sent)
        ambiguous = {
            self.start_of(sent - self.guard_ms),
            self.start_of(now + self.guard_ms),
        } != {start}
        if ambiguous or not self.entries or self.entries[0][0] > sent:
            return  # the window may have turned meanwhile, or the entry is gone: no sure reading
        # Concurrent requests reach the server in any order, so compare with everything reserved
        # so far: what the server counts beyond that was spent by someone else.
        self._prune(now)
        own = self.used_in(start) - (self.foreign if self.foreign_window == start else 0)
        extra = used - own
        if self.foreign_window != start:
            self.foreign_window, self.foreign = start, 0
        if extra > self.foreign:
            self.foreign = extra

    def fill(self, now: float) -> None:
        """Count the current window as used up (the server said so with a 429)."""
        start = self.start_of(now)
        self._prune(now)
        if self.foreign_window != start:
            self.foreign_window, self.foreign = start, 0
        own = self.used_in(start) - self.foreign
        self.foreign = max(self.foreign, self.limit.limit - own)


@dataclass(frozen=True)
class LimitUsage:
    """How much of one limit is spent in its current window, as known here.

    ``reported`` tells whether the exchange's own count (a ``X-MBX-USED-WEIGHT-*`` or
    ``X-MBX-ORDER-COUNT-*`` header seen in this window) is part of ``used``; without it,
    ``used`` is only what this limiter reserved.
    """

    limit: RateLimit
    used: int
    reported: bool

    @property
    def share(self) -> float:
        """``used`` as a fraction of the limit."""
        return self.used / self.limit.limit if self.limit.limit else 1.0


@dataclass(frozen=True)
class Reservation:
    """What one request reserved: its entries in each bucket, for correcting by the headers."""

    entries: tuple[tuple[_Bucket, tuple[float, int, int]], ...]


class RateLimiter:
    """Reserves each request's weight and order count, waiting rather than exceeding a limit."""

    def __init__(
        self,
        now_ms: Callable[[], float] | None = None,
        limits: Iterable[RateLimit] = DEFAULT_RATE_LIMITS,
        *,
        guard_ms: float = 250.0,
    ) -> None:
        self._now = now_ms or (lambda: time.time_ns() / 1_000_000)
        self._guard_ms = guard_ms
        self._buckets: list[_Bucket] = []
        self._paused_until = 0.0  # local monotonic seconds
        self._banned_until: int | None = None  # server ms
        # The last count each header reported: (kind, interval ms) -> (count, server ms seen).
        self._reported: dict[tuple[str, int], tuple[int, float]] = {}
        self.waits = 0
        self.set_limits(limits)

    def __repr__(self) -> str:
        limits = ", ".join(
            f"{b.limit.kind}/{b.limit.interval_ms // 1000}s={b.limit.limit}" for b in self._buckets
        )
        return f"RateLimiter({limits})"

    @property
    def limits(self) -> tuple[RateLimit, ...]:
        """The limits being enforced."""
        return tuple(b.limit for b in self._buckets)

    def set_limits(self, limits: Iterable[RateLimit]) -> None:
        """Enforce ``limits`` from now on (keeping what was spent in windows that carry over)."""
        old = {(b.limit.kind, b.limit.interval_ms): b for b in self._buckets}
        buckets = []
        for limit in limits:
            if limit.kind not in ("REQUEST_WEIGHT", "ORDERS", "RAW_REQUESTS"):
                continue
            bucket = old.get((limit.kind, limit.interval_ms))
            if bucket is None:
                bucket = _Bucket(limit, self._guard_ms)
            else:
                bucket.limit = limit
            buckets.append(bucket)
        self._buckets = buckets

    def set_limits_from_exchange_info(self, rate_limits: Iterable[Mapping[str, object]]) -> None:
        """Enforce exchangeInfo's ``rateLimits``."""
        self.set_limits(RateLimit.from_exchange_info(e) for e in rate_limits)

    @property
    def banned_until(self) -> int | None:
        """End of the current IP ban in server ms, if banned."""
        if self._banned_until is not None and self._banned_until <= self._now():
            self._banned_until = None
        return self._banned_until

    def _costs(self, weight: int, orders: int) -> list[tuple[_Bucket, int]]:
        costs = []
        for b in self._buckets:
            cost = {"REQUEST_WEIGHT": weight, "ORDERS": orders, "RAW_REQUESTS": 1}[b.limit.kind]
            if cost:
                costs.append((b, cost))
        return costs

    async def acquire(self, weight: int, orders: int = 0) -> Reservation:
        """Wait until a request of ``weight`` (placing ``orders`` orders) fits, then reserve it.

        Raises:
            IPBanned: the IP is banned (nothing is sent until the ban ends).
            RateLimitExceeded: the request alone is heavier than a whole window allows.
        """
        while True:
            banned_until = self.banned_until
            if banned_until is not None:
                raise IPBanned(
                    f"IP banned until {banned_until}; request not sent",
                    banned_until=banned_until,
                    status=418,
                )
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                self.waits += 1
                await asyncio.sleep(pause)
                continue
            now = self._now()
            costs = self._costs(weight, orders)
            wait = 0.0
            for bucket, cost in costs:
                if cost > bucket.limit.limit:
                    raise RateLimitExceeded(
                        f"request costs {cost} but the {bucket.limit.kind} limit is "
                        f"{bucket.limit.limit} per {bucket.limit.interval_ms // 1000} s",
                        hint="Ask for less per request (e.g. a smaller depth limit).",
                    )
                wait = max(wait, bucket.wait_ms(now, cost))
            if wait <= 0:
                return Reservation(tuple((b, b.reserve(now, c)) for b, c in costs))
            self.waits += 1
            log.debug("rate limit: waiting %.0f ms for the next window", wait)
            await asyncio.sleep(wait / 1000)

    def update_from_headers(self, reservation: Reservation, headers: Mapping[str, str]) -> None:
        """Correct the counts from ``X-MBX-USED-WEIGHT-*`` / ``X-MBX-ORDER-COUNT-*`` headers."""
        now = self._now()
        for name, value in headers.items():
            match = _HEADER.match(name)
            if match is None:
                continue
            kind = "REQUEST_WEIGHT" if match[1].lower() == "used-weight" else "ORDERS"
            interval = int(match[2]) * _HEADER_UNIT_MS[match[3].upper()]
            try:
                used = int(value)
            except ValueError:
                continue
            self._reported[(kind, interval)] = (used, now)
            for bucket, entry in reservation.entries:
                if bucket.limit.kind == kind and bucket.limit.interval_ms == interval:
                    bucket.report(entry, used, now)

    def usage(self) -> tuple[LimitUsage, ...]:
        """Each enforced limit with what is spent in its current window (headers included)."""
        now = self._now()
        out = []
        for bucket in self._buckets:
            start = bucket.start_of(now)
            used = bucket.used_in(start)
            seen = self._reported.get((bucket.limit.kind, bucket.limit.interval_ms))
            reported = seen is not None and bucket.start_of(seen[1]) == start
            if seen is not None and reported:
                used = max(used, seen[0])
            out.append(LimitUsage(bucket.limit, used, reported))
        return tuple(out)

    def pause(self, seconds: float, *, kind: str = "REQUEST_WEIGHT") -> None:
        """Hold every request for ``seconds`` (a 429's ``Retry-After``); ``kind`` is used up."""
        until = time.monotonic() + max(0.0, seconds)
        self._paused_until = max(self._paused_until, until)
        now = self._now()
        for bucket in self._buckets:
            if bucket.limit.kind == kind and bucket.limit.interval_ms <= 60_000:
                bucket.fill(now)

    def ban(self, banned_until_ms: int) -> None:
        """Refuse every request until ``banned_until_ms`` (server time) after a 418."""
        self._banned_until = max(self._banned_until or 0, banned_until_ms)
