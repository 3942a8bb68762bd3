"""What a strategy asked to happen at given times: named timers and candle closes.

One :class:`Schedule` per run, held by the :class:`~tradewire.trading.strategy.StrategyContext`.
The runner and the backtest driver ask it the same two things: when is the next thing due
(:attr:`Schedule.next_ms`) and, once the run's time reached it, what is due now
(:meth:`Schedule.due`): the candles that closed (oldest first, intervals in the order they
were subscribed), then the timers, in the order they fell due. Times are the run's: market
time in backtests and replays, wall time live.

>>> schedule = Schedule("BTCUSDT")
>>> schedule.set_timer("rebalance", 2.5, now_ms=1_000)
>>> schedule.next_ms
3500
>>> schedule.due(7_000)  # a gap in the data: the ticks it skipped are not made up
['rebalance']
>>> schedule.next_ms
8500
"""

from __future__ import annotations

import heapq
import itertools
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.errors import ConfigError
from tradewire.trading.candles import NEVER, CandleSeries

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.model import Bar

__all__ = ["DEFAULT_TIMER", "Schedule"]

DEFAULT_TIMER = "default"
"""The name of the runner's own timer (every ``timer_interval_s``), as ``ctx.timer`` shows it."""


class Schedule:
    """Named periodic timers and the candle series of one run, and when each is due next."""

    def __init__(self, symbol: str, tick: Decimal = Decimal(0), step: Decimal = Decimal(0)) -> None:
        self.symbol = symbol
        self._tick, self._step = tick, step
        #: The candle series of the run's (primary) symbol, by interval.
        self.series: dict[str, CandleSeries] = {}
        #: The other symbols a strategy trades: their tick and step, and their series.
        self._others: dict[str, tuple[Decimal, Decimal]] = {}
        self.other_series: dict[str, dict[str, CandleSeries]] = {}
        self._all: list[CandleSeries] = []
        #: Intervals whose forming candle is handed to ``on_candle`` after every trade.
        self.forming: set[str] = set()
        #: Whether the runner's own timer still calls ``on_timer`` (``cancel_timer("default")``).
        self.default_timer = True
        self._every: dict[str, int] = {}
        self._token: dict[str, int] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._seq = itertools.count()
        #: The earliest due time (ms) of a timer or a candle close; :data:`NEVER` if none.
        self.next_ms = NEVER
        self._unstarted = False
        self._adders: list[Callable[[int, int, int], None]] = []
        self._other_adders: dict[str, list[Callable[[int, int, int], None]]] = {}

    def __repr__(self) -> str:
        return f"Schedule(timers={sorted(self._every)}, candles={list(self.series)})"

    def add_symbol(
        self, symbol: str, tick: Decimal = Decimal(0), step: Decimal = Decimal(0)
    ) -> None:
        """Build candles of ``symbol`` too (a strategy trading several symbols): every interval
        subscribed is built for each symbol, from that symbol's trades."""
        if symbol == self.symbol or symbol in self._others:
            return
        self._others[symbol] = (tick, step)
        self.other_series[symbol] = {}
        for interval, series in self.series.items():
            self._subscribe_other(symbol, interval, series.closed.maxlen or 500)
        self._rebuild()

    def series_of(self, symbol: str) -> dict[str, CandleSeries]:
        """The candle series of ``symbol`` by interval (empty for a symbol not traded)."""
        if symbol == self.symbol:
            return self.series
        return self.other_series.get(symbol, {})

    def _subscribe_other(self, symbol: str, interval: str, history: int) -> None:
        tick, step = self._others[symbol]
        series = self.other_series[symbol].get(interval)
        if series is None:
            self.other_series[symbol][interval] = CandleSeries(
                symbol, interval, tick=tick, step=step, history=history
            )
        elif series.closed.maxlen != history:
            series.resize(history)

    def _rebuild(self) -> None:
        self._all = [*self.series.values()]
        for by_interval in self.other_series.values():
            self._all.extend(by_interval.values())
        self._adders = [series.add for series in self.series.values()]
        self._other_adders = {
            symbol: [series.add for series in by_interval.values()]
            for symbol, by_interval in self.other_series.items()
        }
        self._unstarted = True
        self._update()

    # --- timers ---------------------------------------------------------------------------------

    def set_timer(self, name: str, every_s: float, *, now_ms: int) -> None:
        """A timer ``name`` due every ``every_s`` from ``now_ms`` on (replacing one so named).

        Raises:
            ConfigError: an empty name, the default timer's name, or a period under 1 ms.
        """
        if not name or name == DEFAULT_TIMER:
            raise ConfigError(
                f"a timer needs a name other than {DEFAULT_TIMER!r} (the runner's own timer)"
            )
        every_ms = round(every_s * 1000)
        if every_ms < 1:
            raise ConfigError(f"timer {name!r} must repeat after 1 ms or more, not {every_s} s")
        seq = next(self._seq)
        self._every[name] = every_ms
        self._token[name] = seq
        heapq.heappush(self._heap, (now_ms + every_ms, seq, name))
        self._update()

    def cancel_timer(self, name: str) -> bool:
        """Stop timer ``name``; False if there was none. ``"default"`` stops the runner's own."""
        if name == DEFAULT_TIMER:
            was, self.default_timer = self.default_timer, False
            return was
        if self._every.pop(name, None) is None:
            return False
        del self._token[name]
        self._update()
        return True

    @property
    def timers(self) -> dict[str, float]:
        """The named timers set now and their periods in seconds."""
        return {name: every / 1000 for name, every in self._every.items()}

    # --- candles --------------------------------------------------------------------------------

    def subscribe(self, interval: str, *, history: int = 500, forming: bool = False) -> None:
        """Build candles of ``interval`` (again: only the history length and ``forming`` change).

        Raises:
            ConfigError: an unknown interval or a history under one candle.
        """
        if not isinstance(interval, str) or history < 1:
            raise ConfigError(
                f"candles need an interval name and a history of one or more, not "
                f"{interval!r} and {history}"
            )
        series = self.series.get(interval)
        if series is None:
            self.series[interval] = CandleSeries(
                self.symbol, interval, tick=self._tick, step=self._step, history=history
            )
        elif series.closed.maxlen != history:
            series.resize(history)
        for symbol in self._others:
            self._subscribe_other(symbol, interval, history)
        if forming:
            self.forming.add(interval)
        else:
            self.forming.discard(interval)
        self._rebuild()

    def add_trade(self, time_ms: int, price: int, qty: int, symbol: str | None = None) -> None:
        """A public trade (units of 10^-8) of ``symbol`` (default: the primary) for its series
        (after :meth:`due` at its time)."""
        adders = (
            self._adders
            if symbol is None or symbol == self.symbol
            else self._other_adders.get(symbol, ())
        )
        for add in adders:
            add(time_ms, price, qty)
        if self._unstarted or time_ms >= self.next_ms:
            self._unstarted = False
            self._update()

    def forming_candles(self, symbol: str | None = None) -> list[Bar]:
        """The forming candles of ``symbol`` (default: the primary) of the intervals subscribed
        with ``forming``."""
        series = self.series if symbol is None else self.series_of(symbol)
        out = []
        for interval in self.forming:
            one = series.get(interval)
            candle = None if one is None else one.forming()
            if candle is not None:
                out.append(candle)
        return out

    # --- both -----------------------------------------------------------------------------------

    def due(
        self, now_ms: int, *, candle_lag_ms: int = 0, timers_now_ms: int | None = None
    ) -> list[Bar | str]:
        """What is due at ``now_ms``: closed candles first, then timer names (each timer at most
        once: ticks a gap in the data skipped are not made up, as the runner's timer does).

        ``candle_lag_ms`` closes candles only that long after their end (live, so trades that
        travel a little still count in their candle); ``timers_now_ms`` is the clock the timers
        follow when it is not the one of the market data (live: the wall clock).
        """
        out: list[Bar | str] = []
        candle_now = now_ms - candle_lag_ms
        if timers_now_ms is not None:
            now_ms = timers_now_ms
        for series in self._all:
            if candle_now >= series.next_close_ms:
                out.extend(series.close_until(candle_now))
        heap, every, token = self._heap, self._every, self._token
        while heap and heap[0][0] <= now_ms:
            due, seq, name = heapq.heappop(heap)
            if token.get(name) != seq:
                continue  # canceled or set again since
            out.append(name)
            step = every[name]
            following = due + step
            while following <= now_ms:
                following += step
            seq = next(self._seq)
            token[name] = seq
            heapq.heappush(heap, (following, seq, name))
        self._update()
        return out

    def wake_ms(self, candle_lag_ms: int = 0) -> int:
        """When something is due if candles close ``candle_lag_ms`` after their end (ms)."""
        heap = self._heap
        soonest = heap[0][0] if heap else NEVER
        for series in self._all:
            end = series.next_close_ms
            if end != NEVER:
                soonest = min(soonest, end + candle_lag_ms)
        return soonest

    def _update(self) -> None:
        heap, token = self._heap, self._token
        while heap and token.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)
        soonest = heap[0][0] if heap else NEVER
        for series in self._all:
            soonest = min(soonest, series.next_close_ms)
        self.next_ms = soonest
