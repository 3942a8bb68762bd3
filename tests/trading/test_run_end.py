"""How a run ends: always with a reason, at once on an error, with the report still written."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.binance import BinanceClient
from tradewire.bots import GridBot, GridParams
from tradewire.clock import MarketClock
from tradewire.errors import ConfigError
from tradewire.exchange import LocalExchange
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.journal import Journal
from tradewire.trading.report import figures, write_report
from tradewire.trading.runner import RunFailure, Runner, RunResult
from tradewire.trading.strategy import Strategy
from tradewire.venues.binance import BinanceMarket, rules_from_filters
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import RawDepthMarket, ReplayMarket

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.model import BookUpdate, OrderUpdate
    from tradewire.trading.strategy import StrategyContext

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


class Fails(Strategy):
    """Rests a buy far below the market on start, then raises in ``callback``."""

    def __init__(self, callback: str, *, after: int = 1) -> None:
        self.callback = callback
        self.after = after
        self.calls: dict[str, int] = {}
        self.raised_at: float | None = None
        self.stopped = False

    def _maybe_raise(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        if name == self.callback and self.calls[name] == self.after:
            self.raised_at = time.perf_counter()
            raise ZeroDivisionError(f"{name} divided by zero")

    async def on_start(self, ctx: StrategyContext) -> None:
        assert ctx.book is not None and ctx.book.best_bid is not None
        await ctx.buy(D("0.001"), ctx.book.best_bid - 100)  # rests
        if self.callback == "on_order_update":
            assert ctx.book.best_ask is not None
            await ctx.buy(D("0.001"), ctx.book.best_ask)  # crosses: fills, and an update comes
        self._maybe_raise("on_start")

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self._maybe_raise("on_book")

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        self._maybe_raise("on_order_update")

    async def on_timer(self, ctx: StrategyContext) -> None:
        self._maybe_raise("on_timer")

    async def on_stop(self, ctx: StrategyContext) -> None:
        self.stopped = True


@pytest.mark.asyncio
async def test_an_on_timer_error_in_a_paper_run_stops_it_at_once_with_its_report(
    tmp_path: Path,
) -> None:
    async with (
        LocalExchange(symbols=("BTCUSDT",), seed=4, market_interval_ms=20) as ex,
        BinanceClient(rest_url=ex.rest_url, stream_url=ex.stream_url) as client,
    ):
        rules = rules_from_filters(await client.filters("BTCUSDT"))
        broker = PaperBroker(rules, {"USDT": "10000", "BTC": "0.1"})
        strategy = Fails("on_timer", after=2)
        runner = Runner(
            strategy, broker, BinanceMarket(client), rules, mode="paper", timer_interval_s=0.2
        )
        started = time.perf_counter()
        result = await runner.run(duration_s=10)
        ended = time.perf_counter()
    assert strategy.raised_at is not None
    assert ended - strategy.raised_at < 1.0  # not at the end of the 10 s
    assert ended - started < 5.0
    assert result.stop_reason == "error"
    assert result.error == RunFailure("ZeroDivisionError", "on_timer divided by zero", "on_timer")
    assert isinstance(runner.exception, ZeroDivisionError)
    assert not strategy.stopped  # a failed strategy is not called again
    # Its resting order is canceled on the simulated venue, and the context knows it.
    assert result.open_orders == [] and await broker.open_orders("BTCUSDT") == []
    assert result.log.orders_canceled == 1
    json_path, _ = write_report(result, tmp_path / "report")
    fig = json.loads(json_path.read_text())
    assert fig["stop_reason"] == "error"
    assert fig["error"] == {
        "type": "ZeroDivisionError",
        "message": "on_timer divided by zero",
        "callback": "on_timer",
    }
    assert fig["stop_detail"] == "on_timer raised ZeroDivisionError: on_timer divided by zero"
    assert fig["duration_s"] < 3


def _replay(count: int) -> tuple[RawDepthMarket, MarketClock, list[int]]:
    stream = SyntheticDepthStream(seed=8)
    snapshot = stream.snapshot()
    payloads = list(stream.events(count))
    times = [json.loads(p)["E"] for p in payloads]
    return RawDepthMarket(snapshot, payloads), MarketClock(), times


@pytest.mark.asyncio
@pytest.mark.parametrize("callback", ["on_start", "on_book", "on_order_update", "on_timer"])
async def test_every_callback_that_raises_ends_a_replay_at_once(callback: str) -> None:
    market, clock, times = _replay(3_000)
    broker = PaperBroker(RULES, {"USDT": "10000"}, clock=clock)
    strategy = Fails(callback)
    runner = Runner(strategy, broker, market, RULES, mode="paper", clock=clock)
    result = await runner.run()
    assert result.stop_reason == "error"
    assert result.error is not None and result.error.callback == callback
    assert result.error.type == "ZeroDivisionError"
    # It stopped where it raised: the timer's first tick is one market second in (~10 events).
    assert result.log.market_events <= 20 < len(times)
    assert await broker.open_orders("BTCUSDT") == []


class StopsItself(Strategy):
    """Asks to stop (or sets ``stop``) at its 50th book, if ``at_50``."""

    def __init__(self, stop: asyncio.Event | None = None, *, at_50: bool = True) -> None:
        self.books = 0
        self.stop = stop
        self.at_50 = at_50

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.books += 1
        if self.books == 50 and self.at_50:
            if self.stop is None:
                ctx.request_stop("enough books")
            else:
                self.stop.set()


async def _stopped(
    strategy: Strategy, duration_s: float | None = None, stop: asyncio.Event | None = None
) -> RunResult:
    market, clock, _ = _replay(2_000)
    broker = PaperBroker(RULES, {"USDT": "1"}, clock=clock)
    return await Runner(strategy, broker, market, RULES, mode="paper", clock=clock).run(
        duration_s, stop
    )


@pytest.mark.asyncio
async def test_every_run_says_why_it_ended() -> None:
    result = await _stopped(StopsItself(at_50=False))
    assert (result.stop_reason, result.stop_detail) == ("market_ended", None)
    assert result.log.market_events == 2_000

    result = await _stopped(StopsItself(at_50=False), duration_s=30)
    assert result.stop_reason == "duration"
    assert 30_000 <= result.ended_ms - result.started_ms <= 30_200

    result = await _stopped(StopsItself())
    assert (result.stop_reason, result.stop_detail) == ("strategy", "enough books")
    assert result.log.market_events == 50

    stop = asyncio.Event()
    result = await _stopped(StopsItself(stop), stop=stop)
    assert result.stop_reason == "interrupted"
    assert result.log.market_events == 50


def test_a_replay_keeps_no_journal(tmp_path: Path) -> None:
    clock = MarketClock()
    with Journal(tmp_path / "j.sqlite3") as journal, pytest.raises(ConfigError, match="journal"):
        Runner(
            StopsItself(),
            PaperBroker(RULES, {"USDT": "1"}, clock=clock),
            ReplayMarket(SyntheticDepthStream(seed=1), 10),
            RULES,
            mode="paper",
            journal=journal,
            clock=clock,
        )


@pytest.mark.asyncio
async def test_a_replay_reports_in_market_time_without_reading_the_wall_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market, clock, times = _replay(3_000)
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"}, clock=clock)
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    runner = Runner(bot, broker, market, RULES, mode="paper", clock=clock)

    def no_wall_clock() -> int:
        raise AssertionError("the wall clock was read")

    monkeypatch.setattr(time, "time_ns", no_wall_clock)
    result = await runner.run(duration_s=120)
    monkeypatch.undo()
    fig = figures(result)
    assert times[0] <= result.started_ms < result.ended_ms <= times[-1]
    assert fig["duration_s"] == pytest.approx(120, abs=0.2)
    assert fig["stop_reason"] == "duration" and fig["fills"] > 0
    curve = result.log.curve
    # Sampled at most every 200 ms of market time (events come about every 100 ms).
    gaps = [b[0] - a[0] for a, b in zip(curve.points[:-2], curve.points[1:-1], strict=True)]
    assert min(gaps) >= 200 and 120 * 3 <= curve.samples <= 120 * 5 + 2
    assert all(times[0] <= t <= times[-1] for t, _, _, _ in curve.points)
    assert all(result.started_ms <= f.time_ms <= result.ended_ms for f in result.log.fills)
