"""The runner pauses while the market is closed: live over the local IB gateway's hours (its
clock crosses the 16:00 close into extended hours, where its market still moves), and in
market time over a replay with a closed gap."""

from __future__ import annotations

import datetime
import json
import time
from contextlib import AsyncExitStack
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.clock import MarketClock
from tradewire.ib import IBClient
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.model import SymbolRules, TradingSessions
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.ib import IBMarket, IBVenue
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import RawDepthMarket

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import BookUpdate
    from tradewire.trading.strategy import StrategyContext

CLOSE = datetime.datetime(2026, 11, 30, 16, 0, tzinfo=NEW_YORK).timestamp()


class Recorder(Strategy):
    """Records when each book and timer reached it (market time)."""

    def __init__(self) -> None:
        self.books: list[int] = []
        self.timers: list[int] = []

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.books.append(book.time_ms)

    async def on_timer(self, ctx: StrategyContext) -> None:
        self.timers.append(ctx.now_ms())


@pytest.mark.asyncio
async def test_a_live_run_pauses_at_the_gateways_close(tmp_path: Path) -> None:
    t0 = time.time()
    start = CLOSE - 1.5  # 15:59:58.5 in New York on a Monday

    def clock() -> float:
        return start + time.time() - t0

    async with AsyncExitStack() as stack:
        gw = await stack.enter_async_context(
            LocalIBGateway(symbols=("AAPL",), seed=3, clock=clock, step_s=0.05)
        )
        client = await stack.enter_async_context(
            IBClient(gw.url, cafile=gw.cert_path, error_log=tmp_path / "errors.jsonl")
        )
        venue = IBVenue(client)
        rules = await venue.symbol_rules("AAPL")
        strategy = Recorder()
        runner = Runner(strategy, venue, IBMarket(venue), rules, mode="live", bot="recorder")
        await runner.run(duration_s=3.5)
    close_ms = int(CLOSE * 1000)
    assert runner.sessions is not None  # from the venue's trading schedule
    assert strategy.books, "no book before the close"
    assert max(strategy.books) < close_ms
    assert runner.paused_events > 0  # the extended-hours market moved on, the strategy did not


@pytest.mark.asyncio
async def test_a_replay_pauses_over_a_closed_gap_and_resumes_at_the_open() -> None:
    stream = SyntheticDepthStream(seed=8)
    snapshot = stream.snapshot()
    payloads = list(stream.events(2_000))
    times = [json.loads(p)["E"] for p in payloads]
    first, last = times[0], times[-1]
    third = (last - first) // 3
    closes, opens = first + third, first + 2 * third
    sessions = TradingSessions(((first, closes), (opens, last + 1)))
    rules = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
    clock = MarketClock()
    strategy = Recorder()
    broker = PaperBroker(rules, {"USDT": "1000"}, clock=clock)
    runner = Runner(
        strategy,
        broker,
        RawDepthMarket(snapshot, payloads),
        rules,
        mode="paper",
        clock=clock,
        sessions=sessions,
    )
    await runner.run()
    closed = [t for t in times if closes <= t < opens]
    assert closed
    assert not [t for t in strategy.books if closes <= t < opens]
    assert not [t for t in strategy.timers if closes <= t < opens]
    assert runner.paused_events == len(closed)
    assert [t for t in strategy.books if t >= opens]  # resumed at the open
    assert [t for t in strategy.timers if t >= opens]
