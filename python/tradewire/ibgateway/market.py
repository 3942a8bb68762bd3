"""The gateway's stock market: a seeded walk of the top of book, trading hours, IB's formatting."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from tradewire.ibgateway.contracts import tick_for

if TYPE_CHECKING:
    from tradewire.ibgateway.contracts import Contract

__all__ = [
    "NEW_YORK",
    "Quote",
    "StockMarket",
    "format_lots",
    "format_price",
    "format_volume",
    "session_of",
]

NEW_YORK = ZoneInfo("America/New_York")
_RTH = (datetime.time(9, 30), datetime.time(16, 0))
_EXTENDED = (datetime.time(4, 0), datetime.time(20, 0))


def session_of(epoch_s: float) -> str:
    """``"regular"``, ``"extended"`` or ``"closed"``: the US stock session at ``epoch_s``."""
    now = datetime.datetime.fromtimestamp(epoch_s, NEW_YORK)
    if now.weekday() >= 5:
        return "closed"
    clock = now.time()
    if _RTH[0] <= clock < _RTH[1]:
        return "regular"
    if _EXTENDED[0] <= clock < _EXTENDED[1]:
        return "extended"
    return "closed"


def format_price(price: Decimal) -> str:
    """A price as IB's snapshot shows it: two decimals (four below a dollar), comma thousands."""
    places = Decimal("0.0001") if price < 1 else Decimal("0.01")
    return f"{price.quantize(places, ROUND_HALF_UP):,}"


def format_lots(shares: int) -> str:
    """A US stock size as IB's bid/ask size fields show it: in lots of 100, comma thousands."""
    return f"{shares // 100:,}"


def format_volume(shares: int) -> str:
    """Field 87: volume with IB's K/M suffix."""
    if shares >= 1_000_000:
        return f"{shares / 1_000_000:.2f}M"
    if shares >= 1_000:
        return f"{shares / 1_000:.1f}K"
    return str(shares)


@dataclass(slots=True)
class Quote:
    """One contract's top of book and day statistics."""

    bid: Decimal
    ask: Decimal
    bid_size: int
    ask_size: int
    last: Decimal
    last_size: int
    volume: int
    open: Decimal
    high: Decimal
    low: Decimal
    prior_close: Decimal
    updated_ms: int = 0
    changed: set[str] = field(default_factory=set)


class StockMarket:
    """Seeded top-of-book walks for the gateway's contracts; ``step`` moves each one."""

    def __init__(self, contracts: dict[int, Contract], seed: int) -> None:
        self._rng = random.Random(seed)
        self.quotes: dict[int, Quote] = {}
        for conid, contract in contracts.items():
            mid = contract.start_price
            tick = tick_for(mid)
            self.quotes[conid] = Quote(
                bid=mid - tick,
                ask=mid + tick,
                bid_size=self._size(),
                ask_size=self._size(),
                last=mid,
                last_size=100,
                volume=self._rng.randrange(1_000_000, 30_000_000, 100),
                open=mid,
                high=mid,
                low=mid,
                prior_close=mid,
            )

    def _size(self) -> int:
        # Mostly a few lots, now and then a block large enough to show a thousands separator.
        lots = self._rng.choice((1, 2, 3, 5, 8, 13, 20, 40, 1_300, 2_500))
        return lots * 100

    def step(self, now_ms: int) -> list[int]:
        """Move every contract one step (a trade between the quotes, a new quote); conids moved."""
        moved = []
        for conid, q in self.quotes.items():
            if self._rng.random() < 0.3:
                continue
            tick = tick_for(q.last)
            side = self._rng.random() < 0.5
            q.last = q.ask if side else q.bid
            q.last_size = self._rng.choice((1, 10, 100, 200, 500))
            q.volume += q.last_size
            drift = self._rng.choice((-2, -1, -1, 0, 1, 1, 2))
            mid_ticks = (q.bid + q.ask) / 2 / tick
            mid = mid_ticks.to_integral_value() * tick + drift * tick
            if mid - tick <= 0:
                mid = tick * 2
            q.bid, q.ask = mid - tick, mid + tick
            q.bid_size, q.ask_size = self._size(), self._size()
            q.high = max(q.high, q.last)
            q.low = min(q.low, q.last)
            q.updated_ms = now_ms
            q.changed = {"31", "7059", "87", "7762", "84", "86", "88", "85", "70", "71", "7635"}
            moved.append(conid)
        return moved

    def new_day(self) -> None:
        """The nightly roll: the last price becomes the prior close; the day's figures restart."""
        for q in self.quotes.values():
            q.prior_close = q.last
            q.open = q.high = q.low = q.last
            q.volume = 0

    def fields(self, conid: int, symbol: str) -> dict[str, str]:
        """Every snapshot field the gateway serves for ``conid``, as IB formats them."""
        q = self.quotes[conid]
        mark = (q.bid + q.ask) / 2
        return {
            "31": format_price(q.last),
            "55": symbol,
            "6008": str(conid),
            "6509": "RpB",
            "70": format_price(q.high),
            "71": format_price(q.low),
            "7059": f"{q.last_size:,}",
            "7295": format_price(q.open),
            "7635": format_price(mark),
            "7741": format_price(q.prior_close),
            "7762": str(q.volume),
            "7768": "1",
            "84": format_price(q.bid),
            "85": format_lots(q.ask_size),
            "86": format_price(q.ask),
            "87": format_volume(q.volume),
            "88": format_lots(q.bid_size),
        }

    def bars(self, conid: int, count: int, bar_s: int, end_ms: int) -> list[dict[str, float]]:
        """``count`` seeded OHLCV bars ending at the current last price (history endpoint)."""
        q = self.quotes[conid]
        rng = random.Random(conid * 7919 + bar_s)
        tick = tick_for(q.last)
        close = q.last
        bars: list[dict[str, float]] = []
        for i in range(count):
            open_ = close + tick * rng.randint(-20, 20)
            if open_ <= 0:
                open_ = close
            high = max(open_, close) + tick * rng.randint(0, 10)
            low = max(min(open_, close) - tick * rng.randint(0, 10), tick)
            t = end_ms - (i + 1) * bar_s * 1000
            bars.append(
                {
                    "o": float(open_),
                    "c": float(close),
                    "h": float(high),
                    "l": float(low),
                    "v": float(rng.randrange(100, 100_000)) / 100,
                    "t": t,
                }
            )
            close = open_
        bars.reverse()
        return bars
