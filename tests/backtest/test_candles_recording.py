"""Candles on the shipped recording (six minutes of Binance BTCUSDT): the same candles and the
same orders in a backtest and in a replay through the runner, and candles equal to those worked
out here from the recording's trades with numpy."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tradewire.backtest import run_tapes
from tradewire.backtest.data import read_tape
from tradewire.clock import MarketClock
from tradewire.model import Bar, SymbolRules
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from tradewire._core import Tape
    from tradewire.trading.strategy import StrategyContext

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
RULES = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
BALANCES = {"USDT": "100000", "BTC": "1"}
UNIT = Decimal(1).scaleb(-8)


class Bands(Strategy):
    """Every ten 1 s candles, quotes a buy at the lowest low and a sell at the highest high of
    the last ten (replacing the last quotes); keeps every candle and order it saw."""

    candles = ("1s", "1m")

    def __init__(self) -> None:
        self.seen: list[tuple[int, Bar]] = []
        self.placed: list[tuple[int, str, Decimal, Decimal | None]] = []
        self.closed: dict[str, list[Bar]] = {}

    def needs_book(self) -> bool:
        return False

    async def on_start(self, ctx: StrategyContext) -> None:
        ctx.subscribe_candles("1s", history=1000)

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.seen.append((ctx.now_ms(), candle))
        if candle.interval != "1s" or candle.open_time_ms % 10_000 != 9_000:
            return
        last = ctx.history("1s", 10)
        if last.close.size < 10:
            return
        await ctx.cancel_all()
        buy = await ctx.buy(Decimal("0.01"), Decimal(str(last.low.min())))
        sell = await ctx.sell(Decimal("0.01"), Decimal(str(last.high.max())))
        for order in (buy, sell):
            self.placed.append((ctx.now_ms(), order.side, order.quantity, order.price))

    async def on_stop(self, ctx: StrategyContext) -> None:
        self.closed = {i: list(s.closed) for i, s in ctx.schedule.series.items()}


@pytest.fixture(scope="module")
def tapes() -> list[Tape]:
    return list(read_tape(RECORDING, "BTCUSDT"))


def _numpy_candles(tapes: list[Tape], interval_ms: int, label: str) -> list[Bar]:
    """The recording's closed candles of one interval, from its trades, by numpy: a candle per
    interval from the first trade's until the last event's, flat where nothing traded."""
    kind = np.concatenate([t.kind for t in tapes])
    time_ms = np.concatenate([t.time_us for t in tapes]) // 1000
    price = np.concatenate([t.price for t in tapes])
    qty = np.concatenate([t.qty for t in tapes])
    trades = kind <= 1
    t, p, q = time_ms[trades], price[trades], qty[trades]
    bucket = t // interval_ms
    first, last_closed = int(bucket[0]), int(time_ms[-1]) // interval_ms - 1
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)]
    by_bucket = {int(bucket[s]): (s, e) for s, e in zip(starts, ends, strict=True)}
    out: list[Bar] = []
    close = 0
    for b in range(first, last_closed + 1):
        if b in by_bucket:
            s, e = by_bucket[b]
            o, h, lo, close = int(p[s]), int(p[s:e].max()), int(p[s:e].min()), int(p[e - 1])
            volume = int(q[s:e].sum())
            quote = sum(int(x) * int(y) for x, y in zip(p[s:e], q[s:e], strict=True))
            count = e - s
        else:
            o = h = lo = close
            volume = quote = count = 0
        out.append(
            Bar(
                "BTCUSDT",
                label,
                b * interval_ms,
                b * interval_ms + interval_ms - 1,
                o * UNIT,
                h * UNIT,
                lo * UNIT,
                close * UNIT,
                volume * UNIT,
                quote * UNIT * UNIT,
                count,
            )
        )
    return out


def _replay(strategy: Strategy, tapes: list[Tape]) -> list[tuple[object, ...]]:
    broker = PaperBroker(RULES, BALANCES)
    runner = Runner(strategy, broker, TapeMarket(tapes), RULES, mode="paper", clock=MarketClock())
    result = asyncio.run(runner.run())
    assert result.error is None, result.error
    return [(f.time_ms, f.side, f.price, f.quantity) for f in result.log.fills]


def test_the_recording_gives_the_same_candles_and_orders_in_a_backtest_and_a_replay(
    tapes: list[Tape],
) -> None:
    backtest, replay = Bands(), Bands()
    result = run_tapes(backtest, tapes, RULES, start_balances=BALANCES)
    replay_fills = _replay(replay, tapes)
    assert result.error is None
    assert len(backtest.seen) > 300  # six minutes of 1 s candles and six 1 m ones
    assert len(backtest.placed) >= 60
    assert backtest.seen == replay.seen
    assert backtest.placed == replay.placed
    assert [(f.time_ms, f.side, f.price, f.quantity) for f in result.fills] == replay_fills
    assert replay_fills  # the quotes traded


def test_candles_on_the_recording_equal_candles_worked_out_from_its_trades(
    tapes: list[Tape],
) -> None:
    strategy = Bands()
    run_tapes(strategy, tapes, RULES, start_balances=BALANCES)
    for label, length in (("1s", 1000), ("1m", 60_000)):
        expected = _numpy_candles(tapes, length, label)
        assert strategy.closed[label] == expected, label
    assert len(strategy.closed["1m"]) == 6  # 23:54 (from the first trade at :15) to 23:59
    assert any(c.trades == 0 for c in strategy.closed["1s"])  # quiet seconds: flat candles
