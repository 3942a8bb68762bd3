"""Candles built from trades, in market time: the intervals, one builder per interval, history.

A :class:`CandleSeries` takes trades (price and quantity in integer 10^-8 units, the tapes'
units) and closes a candle when market time reaches the end of its interval: the first trade
of a later interval, or the runner's check that the time of any market event (or, live, the
wall clock) has passed the end, so a quiet minute still closes. Intervals are Binance's names
("1s", "1m", "5m", "1h", "1d", "1w", ...), aligned as Binance aligns klines: on multiples of
the interval since the epoch, weeks on Mondays. An interval in which nothing traded gives a
flat candle at the previous close with no volume, as Binance's klines do; nothing is built
before the first trade.

A series can instead take its closed candles from the venue (its klines: :meth:`CandleSeries.seed`
with the history, :meth:`CandleSeries.push` with each one as it closes): trades then still build
the forming candle, but the candles they close are dropped, so every closed candle is whole, as
the venue built it.

>>> from decimal import Decimal
>>> series = CandleSeries("BTCUSDT", "1m", tick=Decimal("0.01"), step=Decimal("0.001"))
>>> series.add(60_000, 100 * 10**8, 10**8)
>>> series.add(90_000, 101 * 10**8, 2 * 10**8)
>>> [c.close for c in series.close_until(120_000)]
[Decimal('101.00')]
>>> series.history_arrays().close.tolist()
[101.0]
"""

from __future__ import annotations

import collections
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from tradewire.errors import ConfigError
from tradewire.model import Bar

__all__ = ["INTERVALS", "NEVER", "CandleArrays", "CandleSeries", "interval_ms"]

_S = 1000
_M = 60 * _S
_H = 60 * _M
_D = 24 * _H
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
}
"""Binance's kline intervals and their length in ms (months, of uneven length, are not
offered)."""

NEVER = 1 << 62
"""A due time that never comes (ms)."""

_WEEK_OFFSET = 4 * _D  # the epoch was a Thursday; Binance's weeks start on Monday
_UNIT = Decimal(1).scaleb(-8)
_UNIT2 = Decimal(1).scaleb(-16)


def interval_ms(interval: str) -> int:
    """The length of ``interval`` (a Binance kline interval name) in ms.

    Raises:
        ConfigError: not one of :data:`INTERVALS`.
    """
    try:
        return INTERVALS[interval]
    except KeyError:
        raise ConfigError(
            f"unknown candle interval {interval!r}: one of {', '.join(INTERVALS)}"
        ) from None


class CandleArrays(NamedTuple):
    """The last closed candles of an interval as numpy arrays, oldest first.

    Prices and volumes are float64 (for indicators: analytics, not money); ``time`` is each
    candle's open time in ms (int64).
    """

    time: npt.NDArray[np.int64]
    open: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    close: npt.NDArray[np.float64]
    volume: npt.NDArray[np.float64]


def _exact(value: Decimal, places: Decimal) -> Decimal:
    """``value`` with the decimals of ``places`` when that is exact, else as it is."""
    if places > 0:
        short = value.quantize(places)
        if short == value:
            return short
    return value


class CandleSeries:
    """The candles of one symbol and interval: the forming one and a window of closed ones.

    ``tick`` and ``step`` (the symbol's) only set how many decimals the candles' prices and
    volumes show; ``history`` is how many closed candles are kept.
    """

    def __init__(
        self,
        symbol: str,
        interval: str,
        *,
        tick: Decimal,
        step: Decimal,
        history: int = 500,
    ) -> None:
        if history < 1:
            raise ConfigError(f"a candle history keeps at least one candle, not {history}")
        self.symbol = symbol
        self.interval = interval
        self.length_ms = interval_ms(interval)
        self._offset = _WEEK_OFFSET if interval == "1w" else 0
        self._tick, self._step, self._quote = tick, step, tick * step
        self.closed: collections.deque[Bar] = collections.deque(maxlen=history)
        #: Trades older than the forming candle (late live trades), left out.
        self.late_trades = 0
        self._open_ms: int | None = None
        self._o = self._h = self._l = self._c = 0
        self._volume = self._quote_volume = self._count = 0
        self._arrays: CandleArrays | None = None
        #: Whether the closed candles come from the venue (:meth:`seed`, :meth:`push`), not
        #: from the trades.
        self.from_venue = False

    def __repr__(self) -> str:
        return f"CandleSeries({self.symbol!r}, {self.interval!r}, closed={len(self.closed)})"

    def resize(self, history: int) -> None:
        """Keep the last ``history`` closed candles from now on."""
        self.closed = collections.deque(self.closed, maxlen=history)
        self._arrays = None

    @property
    def next_close_ms(self) -> int:
        """When the forming candle closes (the start of the next interval); :data:`NEVER`
        before the first trade."""
        return NEVER if self._open_ms is None else self._open_ms + self.length_ms

    def add(self, time_ms: int, price: int, qty: int) -> None:
        """Count one trade (units of 10^-8) in the forming candle.

        A trade at or after the forming candle's end must come after :meth:`close_until`
        closed it (the runner and the backtest driver do that first); one before the forming
        candle's start (a late live trade) is left out and counted in :attr:`late_trades`.
        """
        if self._count:
            start = self._open_ms
            assert start is not None
            if time_ms < start:
                self.late_trades += 1
                return
            if price > self._h:
                self._h = price
            elif price < self._l:
                self._l = price
        else:
            start = self._open_ms
            if start is None:
                self._open_ms = time_ms - (time_ms - self._offset) % self.length_ms
            elif time_ms < start:
                self.late_trades += 1
                return
            self._o = self._h = self._l = price
        self._c = price
        self._volume += qty
        self._quote_volume += price * qty
        self._count += 1

    def seed(self, candles: list[Bar]) -> None:
        """Take the closed candles from the venue from now on, starting with ``candles`` (its
        history, oldest first) in place of the history kept so far."""
        self.from_venue = True
        self.closed.clear()
        self.closed.extend(c for c in candles if c.closed)
        self._arrays = None

    def push(self, candle: Bar) -> bool:
        """Add one closed candle from the venue to the history; False (and left out) if it is
        not later than the last one kept (a duplicate) or not closed."""
        closed = self.closed
        if not candle.closed or (closed and candle.open_time_ms <= closed[-1].open_time_ms):
            return False
        closed.append(candle)
        self._arrays = None
        return True

    def close_until(self, now_ms: int) -> list[Bar]:
        """Close every candle whose interval ended at or before ``now_ms``, oldest first (the
        intervals without trades in between as flat candles); they join the history.

        A series fed by the venue (:attr:`from_venue`) only moves its forming candle on: the
        venue's closed candles come through :meth:`push`, and none is returned.
        """
        start = self._open_ms
        if start is None or now_ms < start + self.length_ms:
            return []
        out: list[Bar] = []
        length = self.length_ms
        venue = self.from_venue
        while now_ms >= start + length:
            if not venue:
                candle = self._candle(start, closed=True)
                out.append(candle)
                self.closed.append(candle)
            start += length
            self._o = self._h = self._l = self._c  # the next one opens at this close, flat
            self._volume = self._quote_volume = self._count = 0
        self._open_ms = start
        self._arrays = None
        return out

    def forming(self) -> Bar | None:
        """The candle of the current interval so far (``closed`` False); None before a trade."""
        start = self._open_ms
        return None if start is None else self._candle(start, closed=False)

    def _candle(self, start: int, *, closed: bool) -> Bar:
        tick, step = self._tick, self._step
        return Bar(
            self.symbol,
            self.interval,
            start,
            start + self.length_ms - 1,
            _exact(self._o * _UNIT, tick),
            _exact(self._h * _UNIT, tick),
            _exact(self._l * _UNIT, tick),
            _exact(self._c * _UNIT, tick),
            _exact(self._volume * _UNIT, step),
            _exact(self._quote_volume * _UNIT2, self._quote),
            self._count,
            closed,
        )

    def history_arrays(self, n: int | None = None) -> CandleArrays:
        """The last ``n`` closed candles (all kept, without ``n``) as numpy arrays."""
        arrays = self._arrays
        if arrays is None:
            candles = self.closed
            count = len(candles)
            arrays = self._arrays = CandleArrays(
                np.fromiter((c.open_time_ms for c in candles), np.int64, count),
                np.fromiter((c.open for c in candles), np.float64, count),
                np.fromiter((c.high for c in candles), np.float64, count),
                np.fromiter((c.low for c in candles), np.float64, count),
                np.fromiter((c.close for c in candles), np.float64, count),
                np.fromiter((c.volume for c in candles), np.float64, count),
            )
        if n is None or n >= len(arrays.time):
            return arrays
        cut = len(arrays.time) - n
        return CandleArrays(
            arrays.time[cut:],
            arrays.open[cut:],
            arrays.high[cut:],
            arrays.low[cut:],
            arrays.close[cut:],
            arrays.volume[cut:],
        )
