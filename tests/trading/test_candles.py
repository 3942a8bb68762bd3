"""Candles from trades and named timers, in market time, in a backtest and a replay alike.

The tapes are made by hand: a two-sided book, trades at chosen times, book rows only in a
quiet minute. What the strategy gets is checked against values worked out here.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tradewire._core import Tape
from tradewire.backtest import run_tapes
from tradewire.clock import MarketClock
from tradewire.errors import BacktestError, ConfigError
from tradewire.model import Bar, SymbolRules
from tradewire.trading.candles import CandleSeries, interval_ms
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from tradewire.trading.strategy import StrategyContext

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"))
BALANCES = {"USDT": "100000", "BTC": "1"}
U = 10**8
BUY, SELL, BID, ASK, END = range(5)
T0 = 1_723_161_600_000  # ms, a whole minute (2024-08-09 00:00 UTC)


def _tape(rows: list[tuple[int, int, float, float]]) -> Tape:
    """Rows of (kind, time in ms, price, quantity) as a tape (units of 10^-8, µs)."""
    return Tape.from_columns(
        [r[0] for r in rows],
        [r[1] * 1000 for r in rows],
        [round(r[2] * U) for r in rows],
        [round(r[3] * U) for r in rows],
    )


def _book(t: int) -> list[tuple[int, int, float, float]]:
    return [(BID, t, 99.0, 5.0), (ASK, t, 101.0, 5.0), (END, t, 0, 0)]


def _market() -> list[Tape]:
    """Minute 0: three trades (closed by minute 1's first trade); minute 1: one (closed by a
    book); minute 2: books only (a flat candle); minute 3: two trades."""
    rows = _book(T0)
    rows += [
        (BUY, T0 + 1_000, 100.5, 0.25),
        (SELL, T0 + 30_000, 99.5, 0.5),
        (BUY, T0 + 59_999, 100.25, 0.125),  # the last ms of minute 0
        (SELL, T0 + 60_000, 99.75, 1.0),  # the first ms of minute 1
    ]
    rows += _book(T0 + 90_000)
    rows += _book(T0 + 125_000)  # minute 2: nothing trades; this book passes minute 1's end
    rows += _book(T0 + 185_000)  # passes minute 2's end: its flat candle closes here
    rows += [(BUY, T0 + 190_000, 101.0, 0.5), (BUY, T0 + 200_000, 102.0, 0.5)]
    rows += _book(T0 + 245_000)  # passes minute 3's end
    cut = 9
    return [_tape(rows[:cut]), _tape(rows[cut:])]


class CandleRecorder(Strategy):
    """Keeps every candle with the market time it arrived at, and the history at the end."""

    candles = ("1m",)

    def __init__(self) -> None:
        self.got: list[tuple[int, Bar]] = []
        self.history: tuple[list[int], list[float]] = ([], [])

    def needs_book(self) -> bool:
        return False

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.got.append((ctx.now_ms(), candle))
        arrays = ctx.history("1m")
        self.history = (arrays.time.tolist(), arrays.close.tolist())


def _replay(strategy: Strategy, tapes: list[Tape]) -> None:
    broker = PaperBroker(RULES, BALANCES)
    runner = Runner(strategy, broker, TapeMarket(tapes), RULES, mode="paper", clock=MarketClock())
    result = asyncio.run(runner.run())
    assert result.error is None, result.error


def _expected() -> list[tuple[int, Bar]]:
    def candle(i: int, o: str, h: str, lo: str, c: str, v: str, qv: str, n: int) -> Bar:
        start = T0 + i * 60_000
        return Bar("BTCUSDT", "1m", start, start + 59_999, D(o), D(h), D(lo), D(c), D(v), D(qv), n)

    # quote volume: 100.5 x 0.25 + 99.5 x 0.5 + 100.25 x 0.125 = 25.125 + 49.75 + 12.53125
    return [
        (T0 + 60_000, candle(0, "100.5", "100.5", "99.5", "100.25", "0.875", "87.40625", 3)),
        (T0 + 125_000, candle(1, "99.75", "99.75", "99.75", "99.75", "1", "99.75", 1)),
        (T0 + 185_000, candle(2, "99.75", "99.75", "99.75", "99.75", "0", "0", 0)),
        (T0 + 245_000, candle(3, "101", "102", "101", "102", "1", "101.5", 2)),
    ]


def test_candles_from_a_hand_made_tape_in_a_backtest() -> None:
    strategy = CandleRecorder()
    result = run_tapes(strategy, _market(), RULES, start_balances=BALANCES)
    assert result.error is None
    assert strategy.got == _expected()
    assert all(c.closed for _, c in strategy.got)
    assert strategy.history == (
        [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000],
        [100.25, 99.75, 99.75, 102.0],
    )


def test_the_same_candles_at_the_same_times_through_the_runner() -> None:
    strategy = CandleRecorder()
    _replay(strategy, _market())
    assert strategy.got == _expected()


def test_a_series_bins_on_the_interval_and_fills_an_empty_one_flat() -> None:
    series = CandleSeries("BTCUSDT", "1m", tick=D("0.01"), step=D("0.00001"), history=2)
    assert series.close_until(T0 + 10**9) == []  # nothing before the first trade
    series.add(T0 + 59_999, 100 * U, U)
    assert series.next_close_ms == T0 + 60_000
    assert series.close_until(T0 + 59_999) == []
    assert series.forming() == Bar(
        "BTCUSDT", "1m", T0, T0 + 59_999, *(D(100),) * 4, D(1), D(100), 1, closed=False
    )
    closed = series.close_until(T0 + 180_000)  # minutes 0, 1 (no trade) and 2 (no trade)
    assert [(c.open_time_ms, c.trades, c.volume) for c in closed] == [
        (T0, 1, D(1)),
        (T0 + 60_000, 0, D(0)),
        (T0 + 120_000, 0, D(0)),
    ]
    assert all(c.close == D(100) and c.high == c.low == D(100) for c in closed)
    assert len(series.closed) == 2  # the history keeps the last two
    series.add(T0 + 1_000, 200 * U, U)  # older than the forming candle: a late trade
    assert series.late_trades == 1
    assert series.forming() is not None and series.forming().trades == 0  # type: ignore[union-attr]


def test_weeks_start_on_monday_as_binance_aligns_them() -> None:
    series = CandleSeries("BTCUSDT", "1w", tick=D("0.01"), step=D("0.00001"))
    series.add(T0, 100 * U, U)  # Friday 2024-08-09
    monday = 1_722_816_000_000  # 2024-08-05 00:00 UTC
    assert series.forming().open_time_ms == monday  # type: ignore[union-attr]
    assert interval_ms("4h") == 4 * 3_600_000


def test_bad_intervals_and_unsubscribed_history_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown candle interval '7m'"):
        interval_ms("7m")

    class Asks(Strategy):
        candles = ("1m",)

        async def on_start(self, ctx: StrategyContext) -> None:
            with pytest.raises(ConfigError, match="subscribe first"):
                ctx.history("5m")
            with pytest.raises(ConfigError, match="unknown candle interval"):
                ctx.subscribe_candles("2m")
            ctx.subscribe_candles("5m", history=3)
            assert ctx.history("5m").close.size == 0
            self.started = True

    strategy = Asks()
    run_tapes(strategy, _market(), RULES, start_balances=BALANCES)
    assert strategy.started


def test_a_backtest_refuses_candles_a_strategy_did_not_declare() -> None:
    class Late(Strategy):
        async def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe_candles("1m")

    with pytest.raises(BacktestError) as raised:
        run_tapes(Late(), _market(), RULES, start_balances=BALANCES)
    assert isinstance(raised.value.__cause__, ConfigError)
    assert "overrides on_candle" in str(raised.value.__cause__)


class Forming(Strategy):
    """Asks for the forming candle of each trade."""

    def __init__(self) -> None:
        self.forming: list[tuple[bool, D, int]] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe_candles("1m", forming=True)

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.forming.append((candle.closed, candle.close, candle.trades))


def test_the_forming_candle_after_each_trade_on_request() -> None:
    backtest, replay = Forming(), Forming()
    run_tapes(backtest, _market(), RULES, start_balances=BALANCES)
    _replay(replay, _market())
    assert backtest.forming == replay.forming
    assert backtest.forming[:4] == [
        (False, D("100.5"), 1),
        (False, D("99.5"), 2),
        (False, D("100.25"), 3),
        (True, D("100.25"), 3),  # minute 0 closes before minute 1's first trade counts
    ]


class Timers(Strategy):
    """Two named timers; ``slow`` is canceled after its second tick; the default one is off."""

    def __init__(self) -> None:
        self.fired: list[tuple[str, int]] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.set_timer("fast", 20.0)
        ctx.set_timer("slow", 45.0)
        assert ctx.cancel_timer("default")
        assert not ctx.cancel_timer("nothing")
        self.start = ctx.now_ms()

    async def on_timer(self, ctx: StrategyContext) -> None:
        assert ctx.timer is not None
        self.fired.append((ctx.timer, ctx.now_ms()))
        if ctx.timer == "slow" and sum(1 for name, _ in self.fired if name == "slow") == 2:
            assert ctx.cancel_timer("slow")


def _timer_expectation(start: int, times: list[int]) -> list[tuple[str, int]]:
    """Each tick fires at the first event at or after it (once per event: a gap skips ticks)."""
    out: list[tuple[str, int]] = []
    due = {"fast": start + 20_000, "slow": start + 45_000}
    every = {"fast": 20_000, "slow": 45_000}
    slow_ticks = 0
    for t in times:
        ready = sorted((d, name) for name, d in due.items() if d <= t)
        for d, name in ready:
            out.append((name, t))
            following = d + every[name]
            while following <= t:
                following += every[name]
            due[name] = following
            if name == "slow":
                slow_ticks += 1
                if slow_ticks == 2:
                    del due["slow"]
    return out


def test_named_timers_fire_in_market_time_and_can_be_canceled() -> None:
    tapes = _market()
    backtest, replay = Timers(), Timers()
    run_tapes(backtest, tapes, RULES, start_balances=BALANCES)
    _replay(replay, tapes)
    times = sorted({t // 1000 for tape in tapes for t in tape.time_us.tolist()})
    expected = _timer_expectation(backtest.start, [t for t in times if t > backtest.start])
    assert backtest.fired == expected
    assert replay.fired == expected
    assert [name for name, _ in expected].count("slow") == 2
    assert ("fast", T0 + 245_000) in expected  # the quiet minutes still tick, on later events


def test_the_default_timer_is_named_and_bad_timers_are_refused() -> None:
    class Default(Strategy):
        def __init__(self) -> None:
            self.names: set[str | None] = set()

        async def on_start(self, ctx: StrategyContext) -> None:
            for bad in ("", "default"):
                with pytest.raises(ConfigError):
                    ctx.set_timer(bad, 1.0)
            with pytest.raises(ConfigError, match="1 ms or more"):
                ctx.set_timer("tiny", 0.0001)

        async def on_timer(self, ctx: StrategyContext) -> None:
            self.names.add(ctx.timer)

    strategy = Default()
    run_tapes(strategy, _market(), RULES, start_balances=BALANCES, timer_interval_s=30.0)
    assert strategy.names == {"default"}


def test_history_arrays_hold_the_last_n_closed_candles() -> None:
    series = CandleSeries("BTCUSDT", "1s", tick=D("0.01"), step=D("0.00001"))
    for i in range(5):
        series.close_until(T0 + i * 1000)  # as the runner does before each trade
        series.add(T0 + i * 1000, (100 + i) * U, U)
    series.close_until(T0 + 5000)
    arrays = series.history_arrays(3)
    assert arrays.time.tolist() == [T0 + 2000, T0 + 3000, T0 + 4000]
    assert arrays.close.dtype == np.float64
    assert arrays.close.tolist() == [102.0, 103.0, 104.0]
    assert series.history_arrays().volume.tolist() == [1.0] * 5


def test_one_interval_by_name_and_a_history_resized_later() -> None:
    class One(Strategy):
        candles = "1m"  # type: ignore[assignment]  # a lone name, as people write it

        async def on_start(self, ctx: StrategyContext) -> None:
            ctx.subscribe_candles("1m", history=2)
            with pytest.raises(ConfigError, match="one or more"):
                ctx.subscribe_candles("1m", history=0)

        async def on_stop(self, ctx: StrategyContext) -> None:
            self.times = ctx.history("1m").time.tolist()

    strategy = One()
    run_tapes(strategy, _market(), RULES, start_balances=BALANCES)
    assert strategy.times == [T0 + 120_000, T0 + 180_000]  # the last two of four
