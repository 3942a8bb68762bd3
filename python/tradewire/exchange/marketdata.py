"""Public market data computed from the tape: aggTrades, klines, tickers, average price.

One computation serves the REST API, the WebSocket API and the market streams.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import ZERO, fmt

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tradewire.exchange.engine import ExchangeEngine
    from tradewire.exchange.orders import TapeTrade

__all__ = [
    "AVG_PRICE_MINS",
    "INTERVALS",
    "WINDOWS",
    "Candle",
    "TickerStats",
    "aggregate",
    "average_price",
    "candle_at",
    "candles",
    "interval_start",
    "kline_row",
    "parse_time_zone",
    "parse_window_size",
    "rolling_ticker",
    "trading_day",
    "window_open",
]

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
WINDOWS: dict[str, int] = {"1h": _H, "4h": 4 * _H, "1d": _D}
"""Window sizes of the rolling window ticker streams (``<symbol>@ticker_<window>``)."""
_WINDOW_SIZE = re.compile(r"([1-9][0-9]?)([mhd])")
_WINDOW_UNITS = {"m": (_M, 59), "h": (_H, 23), "d": (_D, 7)}
_TIME_ZONE = re.compile(r"([+-]?)([0-9]{1,2})(?::([0-9]{2}))?")
AVG_PRICE_MINS = 5
"""Minutes of trades behind the average price (exchangeInfo's ``avgPriceMins``)."""


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


def fill_to(out: list[Candle], interval: str, now_ms: int, keep: int | None = None) -> list[Candle]:
    """``out`` with flat empty candles after its last one up to the one open at ``now_ms`` (as
    Binance answers for a quiet market: the forming candle too, at the last close). With
    ``keep``, a long quiet gap gets only the last ``keep`` of its flat candles (the caller
    answers no more than that many)."""
    if out and keep is not None and interval != "1M":
        length = INTERVALS[interval]
        if (now_ms - out[-1].close_time) // length > keep + 1:
            start, end = interval_start(interval, now_ms - keep * length)
            jump = Candle(start, end, out[-1].close, -1)
            jump.last_id = -1
            out.append(jump)
    while out:
        last = out[-1]
        start, end = interval_start(interval, last.close_time + 1)
        if start > now_ms:
            break
        empty = Candle(start, end, last.close, -1)
        empty.last_id = -1
        out.append(empty)
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


def candle_at(engine: ExchangeEngine, symbol: str, interval: str, open_time: int) -> Candle:
    """The candle of ``interval`` that opens at ``open_time``, from the tape as it is now.

    A candle without trades is flat at the price of the last trade before it (ids -1).
    """
    start, end = interval_start(interval, open_time)
    recent = engine.recent_trades(symbol, since=start)
    inside = [t for t in recent if t.time <= end]
    if not inside:
        before = engine.recent_trades(symbol, len(recent) + 1)
        price = before[0].price if len(before) > len(recent) else ZERO
        candle = Candle(start, end, price, -1)
        candle.last_id = -1
        return candle
    candle = Candle(start, end, inside[0].price, inside[0].trade_id)
    for trade in inside:
        candle.add(trade)
    return candle


def _time(trade: TapeTrade) -> int:
    return trade.time


def _signed(value: Decimal) -> str:
    return fmt(value) if value >= 0 else "-" + fmt(-value)


@dataclass(frozen=True)
class TickerStats:
    """Rolling window statistics of one symbol's trades (ticker/24hr and the ticker streams).

    ``open_time`` is the window's start and ``close_time`` its end (now). Without a trade in the
    window, open and last are the last price (0 before the first trade), high, low and the
    volumes 0, and the ids -1. ``previous`` is the price of the last trade before the window
    (what Binance calls the first trade(F)-1 price), 0 when the tape holds none.
    """

    symbol: str
    open_time: int
    close_time: int
    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    last_qty: Decimal
    previous: Decimal
    volume: Decimal
    quote_volume: Decimal
    first_id: int
    last_id: int
    count: int

    @property
    def price_change(self) -> str:
        """Last minus open, signed."""
        return _signed(self.last - self.open)

    @property
    def price_change_percent(self) -> str:
        """The change as a percentage of the open, 3 decimals."""
        change = (self.last - self.open) / self.open * 100 if self.open else ZERO
        return f"{change:.3f}"

    @property
    def weighted_average(self) -> str:
        """Quote volume over base volume (0 without trades)."""
        return fmt(self.quote_volume / self.volume if self.volume else ZERO)

    def rest_body(self, book: Mapping[str, object]) -> dict[str, object]:
        """GET /api/v3/ticker/24hr (FULL) for this window; ``book`` is the symbol's bookTicker."""
        return {
            "symbol": self.symbol,
            "priceChange": self.price_change,
            "priceChangePercent": self.price_change_percent,
            "weightedAvgPrice": self.weighted_average,
            "prevClosePrice": fmt(self.previous),
            "lastPrice": fmt(self.last),
            "lastQty": fmt(self.last_qty),
            "bidPrice": book["bidPrice"],
            "bidQty": book["bidQty"],
            "askPrice": book["askPrice"],
            "askQty": book["askQty"],
            "openPrice": fmt(self.open),
            "highPrice": fmt(self.high),
            "lowPrice": fmt(self.low),
            "volume": fmt(self.volume),
            "quoteVolume": fmt(self.quote_volume),
            "openTime": self.open_time,
            "closeTime": self.close_time,
            "firstId": self.first_id,
            "lastId": self.last_id,
            "count": self.count,
        }

    def window_body(self, *, mini: bool) -> dict[str, object]:
        """GET /api/v3/ticker and ticker/tradingDay: FULL, or MINI without the change fields."""
        body: dict[str, object] = {"symbol": self.symbol}
        if not mini:
            body["priceChange"] = self.price_change
            body["priceChangePercent"] = self.price_change_percent
            body["weightedAvgPrice"] = self.weighted_average
        body.update(
            {
                "openPrice": fmt(self.open),
                "highPrice": fmt(self.high),
                "lowPrice": fmt(self.low),
                "lastPrice": fmt(self.last),
                "volume": fmt(self.volume),
                "quoteVolume": fmt(self.quote_volume),
                "openTime": self.open_time,
                "closeTime": self.close_time,
                "firstId": self.first_id,
                "lastId": self.last_id,
                "count": self.count,
            }
        )
        return body


def rolling_ticker(
    engine: ExchangeEngine, symbol: str, open_time: int, close_time: int
) -> TickerStats:
    """Statistics of ``symbol``'s trades from ``open_time`` to ``close_time`` (both included)."""
    tape = engine.recent_trades(symbol)
    start = bisect_left(tape, open_time, key=_time)
    end = bisect_right(tape, close_time, lo=start, key=_time)
    trades = tape[start:end]
    previous = tape[start - 1].price if start else ZERO
    if not trades:
        last = engine.last_price(symbol) or ZERO
        return TickerStats(
            symbol,
            open_time,
            close_time,
            open=last,
            high=ZERO,
            low=ZERO,
            last=last,
            last_qty=ZERO,
            previous=previous,
            volume=ZERO,
            quote_volume=ZERO,
            first_id=-1,
            last_id=-1,
            count=0,
        )
    prices = [t.price for t in trades]
    qtys = [t.qty for t in trades]
    volume = sum(qtys, ZERO)
    quote = sum(map(Decimal.__mul__, qtys, prices), ZERO)  # a C loop: 3x the plain for loop
    high, low = max(prices), min(prices)
    first, final = trades[0], trades[-1]
    return TickerStats(
        symbol,
        open_time,
        close_time,
        open=first.price,
        high=high,
        low=low,
        last=final.price,
        last_qty=final.qty,
        previous=previous,
        volume=volume,
        quote_volume=quote,
        first_id=first.trade_id,
        last_id=final.trade_id,
        count=len(trades),
    )


def window_open(window: str | int, now: int) -> int:
    """Open time of a rolling window ticker: ``window`` before ``now``, down to the minute.

    ``window`` is a stream's window name (``1h``, ``4h``, ``1d``) or a length in ms.
    """
    start = now - (WINDOWS[window] if isinstance(window, str) else window)
    return start - start % _M


def parse_window_size(text: str) -> int:
    """The length in ms of a ``windowSize`` (1m..59m, 1h..23h, 1d..7d), else -1130."""
    m = _WINDOW_SIZE.fullmatch(text)
    if m is not None:
        unit, most = _WINDOW_UNITS[m[2]]
        if int(m[1]) <= most:
            return int(m[1]) * unit
    raise ExchangeRejection(-1130, "Data sent for parameter 'windowSize' is not valid.")


def parse_time_zone(text: str | None) -> int:
    """A ``timeZone`` (``0``, ``8``, ``-1:00``, ``05:45``) as an offset in ms, else -1130.

    The accepted range is -12:00 to +14:00, both included (rest-api.md).
    """
    if text is None:
        return 0
    m = _TIME_ZONE.fullmatch(text)
    if m is not None:
        minutes = int(m[3] or 0)
        offset = (int(m[2]) * 60 + minutes) * (-1 if m[1] == "-" else 1)
        if minutes < 60 and -12 * 60 <= offset <= 14 * 60:
            return offset * _M
    raise ExchangeRejection(-1130, "Data sent for parameter 'timeZone' is not valid.")


def trading_day(now: int, offset_ms: int = 0) -> tuple[int, int]:
    """(open, close) in UTC ms of the trading day holding ``now``, in a zone ``offset_ms`` east."""
    local = now + offset_ms
    start = local - local % _D - offset_ms
    return start, start + _D - 1


def average_price(engine: ExchangeEngine, symbol: str, now: int) -> tuple[Decimal, int]:
    """(average price, time of its last trade) over the last ``AVG_PRICE_MINS`` minutes.

    The volume-weighted price of those trades; without one, the last price (or the symbol's
    starting price) at ``now``.
    """
    recent = engine.recent_trades(symbol, since=now - AVG_PRICE_MINS * _M)
    if not recent:
        return engine.last_price(symbol) or engine.spec(symbol).start_price, now
    qtys = [t.qty for t in recent]
    quote = sum(map(Decimal.__mul__, qtys, [t.price for t in recent]), ZERO)
    return quote / sum(qtys, ZERO), recent[-1].time
