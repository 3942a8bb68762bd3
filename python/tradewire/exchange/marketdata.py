"""Public market data computed from the tape: aggTrades, klines, tickers, average price."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import ZERO, fmt

if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal

    from tradewire.exchange.orders import TapeTrade

__all__ = ["INTERVALS", "Candle", "aggregate", "candles", "interval_start", "kline_row"]

_S, _M, _H, _D = 1000, 60_000, 3_600_000, 86_400_000
INTERVALS: dict[str, int] = {
    "1s": _S,
    "1m": _M,
    "3m": 3 * _M,
    "5m": 5 * _M,
    "15m": 15 * _M,
    "30m": 30 * _M,
    "1h": _H,
    "2h": 2 * _H,
    "4h": 4 * _H,
    "6h": 6 * _H,
    "8h": 8 * _H,
    "12h": 12 * _H,
    "1d": _D,
    "3d": 3 * _D,
    "1w": 7 * _D,
    "1M": 0,
}
_MONDAY_OFFSET = 3 * _D  # 1970-01-01 was a Thursday: weeks start on Monday


def check_interval(interval: str) -> str:
    """``interval`` if Binance knows it, else -1120."""
    if interval not in INTERVALS:
        raise ExchangeRejection(-1120, "Invalid interval.")
    return interval


def interval_start(interval: str, ms: int) -> tuple[int, int]:
    """(open time, close time) of the candle of ``interval`` that contains ``ms`` (UTC)."""
    if interval == "1M":
        day = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
        first = dt.datetime(day.year, day.month, 1, tzinfo=dt.timezone.utc)
        days = calendar.monthrange(day.year, day.month)[1]
        start = int(first.timestamp() * 1000)
        return start, start + days * _D - 1
    length = INTERVALS[interval]
    offset = _MONDAY_OFFSET if interval == "1w" else 0
    start = ms - (ms + offset) % length
    return start, start + length - 1


class Candle:
    """One kline being built from trades."""

    __slots__ = (
        "close",
        "close_time",
        "count",
        "first_id",
        "high",
        "last_id",
        "low",
        "open",
        "open_time",
        "quote_volume",
        "taker_base",
        "taker_quote",
        "volume",
    )

    def __init__(self, open_time: int, close_time: int, price: Decimal, first_id: int) -> None:
        self.open_time, self.close_time = open_time, close_time
        self.open = self.high = self.low = self.close = price
        self.volume = self.quote_volume = self.taker_base = self.taker_quote = ZERO
        self.count = 0
        self.first_id = self.last_id = first_id

    def add(self, trade: TapeTrade) -> None:
        """Fold one trade into the candle."""
        self.high = max(self.high, trade.price)
        self.low = min(self.low, trade.price)
        self.close = trade.price
        self.volume += trade.qty
        self.quote_volume += trade.qty * trade.price
        if not trade.buyer_is_maker:
            self.taker_base += trade.qty
            self.taker_quote += trade.qty * trade.price
        self.count += 1
        self.last_id = trade.trade_id


def candles(trades: Iterable[TapeTrade], interval: str) -> list[Candle]:
    """Candles of ``interval`` over ``trades`` (in time order); a gap gets flat empty candles."""
    out: list[Candle] = []
    for trade in trades:
        start, end = interval_start(interval, trade.time)
        while out and out[-1].open_time < start:
            last = out[-1]
            nxt = interval_start(interval, last.close_time + 1)
            if nxt[0] >= start:
                break
            empty = Candle(nxt[0], nxt[1], last.close, -1)
            empty.last_id = -1
            out.append(empty)
        if not out or out[-1].open_time != start:
            out.append(Candle(start, end, trade.price, trade.trade_id))
        out[-1].add(trade)
    return out


def kline_row(c: Candle) -> list[object]:
    """A candle as a row of GET /api/v3/klines."""
    return [
        c.open_time,
        fmt(c.open),
        fmt(c.high),
        fmt(c.low),
        fmt(c.close),
        fmt(c.volume),
        c.close_time,
        fmt(c.quote_volume),
        c.count,
        fmt(c.taker_base),
        fmt(c.taker_quote),
        "0",
    ]


def aggregate(trades: Iterable[TapeTrade]) -> list[dict[str, object]]:
    """aggTrades bodies: consecutive trades with the same aggregate id merged."""
    out: list[dict[str, object]] = []
    current: list[TapeTrade] = []

    def flush() -> None:
        if current:
            first = current[0]
            out.append(
                {
                    "a": first.agg_id,
                    "p": fmt(first.price),
                    "q": fmt(sum((t.qty for t in current), ZERO)),
                    "f": first.trade_id,
                    "l": current[-1].trade_id,
                    "T": first.time,
                    "m": first.buyer_is_maker,
                    "M": True,
                }
            )

    for trade in trades:
        if current and current[0].agg_id != trade.agg_id:
            flush()
            current = []
        current.append(trade)
    flush()
    return out
