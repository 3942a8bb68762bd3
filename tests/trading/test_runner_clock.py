"""A replay in market time: timers, durations and timestamps follow the data, not the wall."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.clock import MarketClock
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import RawDepthMarket

if TYPE_CHECKING:
    from tradewire.model import BookUpdate
    from tradewire.trading.strategy import StrategyContext

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


class Recorder(Strategy):
    """Records the market time of each timer and the last book's time."""

    def __init__(self) -> None:
        self.timers: list[int] = []
        self.book_times: list[int] = []

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.book_times.append(book.time_ms)

    async def on_timer(self, ctx: StrategyContext) -> None:
        self.timers.append(ctx.now_ms())


def _market(count: int) -> tuple[RawDepthMarket, list[int]]:
    stream = SyntheticDepthStream(seed=8)
    snapshot = stream.snapshot()
    payloads = list(stream.events(count))
    return RawDepthMarket(snapshot, payloads), [json.loads(p)["E"] for p in payloads]


@pytest.mark.asyncio
async def test_timers_fire_once_per_market_second_before_the_event_that_passes_it() -> None:
    market, times = _market(3_000)  # about five minutes of market time
    clock = MarketClock()
    strategy = Recorder()
    broker = PaperBroker(RULES, {"USDT": "1000"}, clock=clock)
    runner = Runner(
        strategy, broker, market, RULES, mode="paper", clock=clock, timer_interval_s=1.0
    )
    started = time.perf_counter()
    result = await runner.run()
    wall_s = time.perf_counter() - started
    span_s = (times[-1] - times[0]) / 1000
    assert span_s > 250
    assert wall_s < span_s / 10  # replayed much faster than real time
    # The first timer fires at the first event a second or more after the first event; later
    # ones on a fixed one-second schedule from it, each at the first event at or past its time.
    first = next(x for x in times if x >= times[0] + 1000)
    expected = [first]
    for x in times:
        if x >= expected[0] + 1000 * len(expected):
            expected.append(x)
    assert strategy.timers == expected
    assert len(expected) == pytest.approx(span_s, abs=2)
    assert result.started_ms == times[0] and result.ended_ms == times[-1]
    assert strategy.book_times[-1] == times[-1]


@pytest.mark.asyncio
async def test_a_duration_is_market_time() -> None:
    market, times = _market(3_000)
    clock = MarketClock()
    strategy = Recorder()
    runner = Runner(
        strategy, PaperBroker(RULES, {"USDT": "1000"}, clock=clock), market, RULES,
        mode="paper", clock=clock,
    )  # fmt: skip
    result = await runner.run(duration_s=60)
    elapsed = result.ended_ms - result.started_ms
    assert 60_000 <= elapsed <= 60_000 + 200  # stops at the first event past one minute
    assert len(strategy.book_times) < len(times) // 3


class Overlaps(Strategy):
    """A timer that awaits for real; records any callback that starts while another runs."""

    def __init__(self) -> None:
        self.inside: str | None = None
        self.overlaps: list[tuple[str, str]] = []
        self.timers = 0
        self.books = 0

    def _enter(self, name: str) -> None:
        if self.inside is not None:
            self.overlaps.append((self.inside, name))
        self.inside = name

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self._enter("book")
        self.books += 1
        self.inside = None

    async def on_timer(self, ctx: StrategyContext) -> None:
        self._enter("timer")
        self.timers += 1
        await asyncio.sleep(0.002)  # suspends: market events keep arriving meanwhile
        self.inside = None


@pytest.mark.asyncio
async def test_callbacks_never_overlap_when_a_timer_suspends() -> None:
    market, times = _market(20_000)
    strategy = Overlaps()
    runner = Runner(
        strategy, PaperBroker(RULES, {"USDT": "1000"}), market, RULES, mode="paper",
        timer_interval_s=0.001,
    )  # fmt: skip
    await runner.run()
    assert strategy.timers > 0  # the timer did run, on the wall clock, during the replay
    assert strategy.books == len(times)
    assert strategy.overlaps == []
