"""Request weight per IP and order counts per account, in fixed windows, with 429s and 418 bans."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeThrottled
from tradewire.exchange.events import OrderChanged

if TYPE_CHECKING:
    from tradewire.exchange.events import EngineEvent

__all__ = ["Limits", "RequestLimiter"]

MINUTE_MS = 60_000
TEN_S_MS = 10_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Limits:
    """The limits the exchange enforces and reports in exchangeInfo's rateLimits."""

    request_weight_per_minute: int = 6000
    orders_per_10s: int = 50
    orders_per_day: int = 160_000
    raw_requests_per_5m: int = 61_000
    ban_after_violations: int = 10
    ban_ms: int = 120_000

    def exchange_info(self) -> list[dict[str, object]]:
        """exchangeInfo's ``rateLimits``."""
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": self.request_weight_per_minute,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": self.orders_per_10s,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": self.orders_per_day,
            },
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": self.raw_requests_per_5m,
            },
        ]


@dataclass
class _Window:
    """A counter that resets at the start of each fixed window of ``length_ms``."""

    length_ms: int
    start: int = 0
    count: int = 0

    def add(self, amount: int, now: int) -> int:
        start = now - now % self.length_ms
        if start != self.start:
            self.start, self.count = start, 0
        self.count += amount
        return self.count

    def current(self, now: int) -> int:
        return self.count if now - now % self.length_ms == self.start else 0

    def retry_after_s(self, now: int) -> int:
        return max(1, math.ceil((self.start + self.length_ms - now) / 1000))


@dataclass
class _OrderWindow(_Window):
    """An order count that filled orders are taken off again, each once.

    order_count_decrement.md: "When any order is filled for the first time (partially or fully),
    the order count will be decremented by 1 for the current 10-second and 24-hour order count
    windows", and the decrement is asynchronous: "orders that immediately fill (such as a MARKET
    order that takes immediately) will return the order count at the time of order placement".
    So a decrement counts for reads after the millisecond of its fill, never below zero.
    """

    taken: int = 0  # fills in this window already taken off
    pending: list[int] = field(default_factory=list)  # times of fills not yet taken off

    def _settle(self, now: int) -> None:
        """Take off the fills of this window that happened before ``now``."""
        start = now - now % self.length_ms
        if start != self.start:
            self.start, self.count, self.taken = start, 0, 0
        keep = []
        for t in self.pending:
            if t >= now:
                keep.append(t)
            elif t >= start and self.taken < self.count:  # never below zero
                self.taken += 1
        self.pending = keep

    def add(self, amount: int, now: int) -> int:
        self._settle(now)
        return super().add(amount, now)

    def filled(self, now: int) -> None:
        self.pending.append(now)

    def current(self, now: int) -> int:
        self._settle(now)
        return self.count - self.taken


@dataclass
class _IpState:
    weight: _Window = field(default_factory=lambda: _Window(MINUTE_MS))
    violations: int = 0
    banned_until: int = 0


@dataclass
class _AccountState:
    ten_s: _OrderWindow = field(default_factory=lambda: _OrderWindow(TEN_S_MS))
    day: _OrderWindow = field(default_factory=lambda: _OrderWindow(DAY_MS))


class RequestLimiter:
    """Counts request weight per IP and orders per account; raises 429/418 as Binance does."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._ips: dict[str, _IpState] = {}
        self._accounts: dict[int, _AccountState] = {}

    def weigh(self, ip: str, weight: int, now: int) -> int:
        """Count a request's weight for ``ip``; raise ExchangeThrottled past a limit."""
        state = self._ips.setdefault(ip, _IpState())
        if state.banned_until > now:
            raise self._banned(state, now)
        used = state.weight.add(weight, now)
        limit = self.limits.request_weight_per_minute
        if used > limit:
            state.violations += 1
            if state.violations > self.limits.ban_after_violations:
                state.banned_until = now + self.limits.ban_ms
                state.violations = 0
                raise self._banned(state, now)
            raise ExchangeThrottled(
                -1003,
                f"Too much request weight used; current limit is {limit} request weight per "
                "1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.",
                429,
                state.weight.retry_after_s(now),
            )
        return used

    @staticmethod
    def _banned(state: _IpState, now: int) -> ExchangeThrottled:
        return ExchangeThrottled(
            -1003,
            f"Way too much request weight used; IP banned until {state.banned_until}. "
            "Please use WebSocket Streams for live updates to avoid bans.",
            418,
            max(1, math.ceil((state.banned_until - now) / 1000)),
        )

    def used_weight(self, ip: str, now: int) -> int:
        """The weight ``ip`` used in the current minute."""
        state = self._ips.get(ip)
        return 0 if state is None else state.weight.current(now)

    def check_order(self, account: int, now: int) -> None:
        """-1015 (429) if ``account`` is at its 10 s or daily order limit; counts nothing."""
        state = self._accounts.get(account)
        if state is None:
            return
        for window, limit, label in (
            (state.ten_s, self.limits.orders_per_10s, "10 SECOND"),
            (state.day, self.limits.orders_per_day, "1 DAY"),
        ):
            if window.current(now) >= limit:
                raise ExchangeThrottled(
                    -1015,
                    f"Too many new orders; current limit is {limit} orders per {label}.",
                    429,
                    window.retry_after_s(now),
                )

    def count_order(self, account: int, now: int) -> None:
        """Count one order the engine accepted (call :meth:`check_order` before placing it).

        Only accepted orders count: an order refused by a filter (-1013) "didn't reach the
        Matching Engine" (errors.md) and is not an unfilled order (order_count_decrement.md).
        """
        state = self._accounts.setdefault(account, _AccountState())
        state.ten_s.add(1, now)
        state.day.add(1, now)

    def on_event(self, event: EngineEvent) -> None:
        """Take an order off its account's counts at its first fill (an engine listener)."""
        if not isinstance(event, OrderChanged) or event.exec_type != "TRADE":
            return
        if event.last_qty is None or event.order.executed_qty != event.last_qty:
            return  # not the first fill
        state = self._accounts.setdefault(event.order.account, _AccountState())
        state.ten_s.filled(event.time)
        state.day.filled(event.time)

    def order_counts(self, account: int, now: int) -> tuple[int, int]:
        """(orders in the current 10 s, orders today) for ``account``."""
        state = self._accounts.get(account)
        if state is None:
            return 0, 0
        return state.ten_s.current(now), state.day.current(now)
