"""A replay in market time: timers, durations and timestamps follow the data, not the wall."""

from __future__ import annotations

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
