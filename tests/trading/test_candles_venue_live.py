"""Paper on the local exchange's live market: closed candles are the exchange's klines.

The strategy has the venue's closed history at its first callback, and every candle
``on_candle`` gets equals the exchange's REST kline of the same second, read after the run; a
dropped stream connection, or an outage of the stream, neither loses nor repeats a candle (an
outage's gap is refilled from REST).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.binance import BinanceClient
from tradewire.exchange import LocalExchange
from tradewire.testing.waiting import eventually
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy
from tradewire.venues.binance import BinanceMarket, bar_from_candlestick, rules_from_filters
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tradewire.binance.answers import Candlestick
    from tradewire.model import Bar, SymbolRules
    from tradewire.trading.strategy import StrategyContext

pytestmark = pytest.mark.asyncio

SYMBOL = "BTCUSDT"


class Seconds(Strategy):
    """1s candles: notes the history at ``on_start`` and each closed candle; stops after
    ``count``; calls ``after_first`` once the first candle came."""

    candles = ("1s",)

    def __init__(self, count: int, after_first: Any = None) -> None:
        self.count = count
        self.after_first = after_first
        self.history_at_start: list[int] = []
        self.bars: list[Bar] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        self.history_at_start = ctx.history("1s").time.tolist()

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.bars.append(candle)
        if len(self.bars) == 1 and self.after_first is not None:
            self.after_first()
        if len(self.bars) == self.count:
            ctx.request_stop("enough candles")


class CountingClient:
    """A BinanceClient's market data, noting every REST klines read from a start time (the
    refills of a gap)."""

    def __init__(self, client: BinanceClient) -> None:
        self.client = client
        self.refills: list[int] = []

    def watch_book(self, symbol: str) -> AsyncIterator[Any]:
        return self.client.watch_book(symbol)

    def stream(self, *names: str) -> AsyncIterator[Any]:
        return self.client.stream(*names)

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        limit: int = 500,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Candlestick]:
        if start_time is not None:
            self.refills.append(start_time)
        return await self.client.klines(
            symbol, interval, limit=limit, start_time=start_time, end_time=end_time
        )


async def _run(
    ex: LocalExchange, client: BinanceClient, market: BinanceMarket, strategy: Seconds
) -> dict[int, Bar]:
    """Run ``strategy`` on paper; the exchange's closed 1s klines after the run, by open time."""
    rules: SymbolRules = rules_from_filters(await client.filters(SYMBOL))
    broker = PaperBroker(rules, {"USDT": "10000"})
    runner = Runner(strategy, broker, market, rules, mode="paper")
    assert runner.venue_candles is not None  # auto: the venue's klines
    result = await asyncio.wait_for(runner.run(duration_s=15), 20)
    assert result.stop_reason == "strategy", result.stop_detail
    last = strategy.bars[-1].close_time_ms
    rows = await client.klines(SYMBOL, "1s", limit=1000)
    return {
        r.open_time: bar_from_candlestick(SYMBOL, "1s", r) for r in rows if r.close_time <= last
    }


def _consecutive(times: list[int]) -> bool:
    return all(b - a == 1000 for a, b in itertools.pairwise(times))


async def test_a_paper_run_gets_the_exchange_history_then_its_closed_klines() -> None:
    async with (
        LocalExchange(symbols=(SYMBOL,), seed=5, market_interval_ms=20) as ex,
        BinanceClient(rest_url=ex.rest_url, stream_url=ex.stream_url) as client,
    ):

        async def closed_klines() -> int:
            rows = await client.klines(SYMBOL, "1s", limit=10)
            return len(rows) - 1 if len(rows) > 3 else 0  # the last one may still be forming

        await eventually(closed_klines, timeout=10, interval=0.1)
        strategy = Seconds(3)
        venue = await _run(ex, client, BinanceMarket(client), strategy)
    history = strategy.history_at_start
    assert len(history) >= 3 and _consecutive(history)
    got = [b.open_time_ms for b in strategy.bars]
    # No hole between the history and the first closed candle, none between candles.
    assert _consecutive([*history, *got])
    assert all(b.closed and b.trades > 0 for b in strategy.bars)  # whole candles, with trades
    assert strategy.bars == [venue[t] for t in got]


@pytest.mark.parametrize("outage", [False, True], ids=["drop", "outage"])
async def test_a_dropped_stream_neither_loses_nor_repeats_a_candle(
    outage: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A drop: the stream is back at once (the exchange sends the closes it owes again). An
    outage: connections are refused for 1.5 s, so candles close unseen and come from REST."""
    async with (
        LocalExchange(symbols=(SYMBOL,), seed=6, market_interval_ms=20) as ex,
        BinanceClient(rest_url=ex.rest_url, stream_url=ex.stream_url) as client,
    ):

        def cut() -> None:
            if outage:
                ex.set_faults(refuse_connections=True)
                asyncio.get_running_loop().call_later(1.5, ex.set_faults)
            ex.streams.drop_all()

        counting = CountingClient(client)
        strategy = Seconds(6, after_first=cut)
        venue = await _run(ex, client, BinanceMarket(counting), strategy)
    assert any("kline_1s: reconnecting" in r.getMessage() for r in caplog.records)
    got = [b.open_time_ms for b in strategy.bars]
    assert _consecutive(got)
    assert strategy.bars == [venue[t] for t in got]
    if outage:  # the candles that closed while the stream was away came from REST
        assert any(start > got[0] for start in counting.refills)
