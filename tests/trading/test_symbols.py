"""One strategy trading several symbols: the context's per-symbol state and the runner."""

from __future__ import annotations

import asyncio
import itertools
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.backtest import default_rules
from tradewire.backtest.synth import synth_tapes
from tradewire.clock import MarketClock
from tradewire.errors import ConfigError
from tradewire.model import BookUpdate
from tradewire.trading.runner import Runner
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from tradewire._core import Tape
    from tradewire.model import Bar, MarketTrade

BTC, ETH = default_rules("BTCUSDT"), default_rules("ETHUSDT")


def _context() -> tuple[StrategyContext, PaperBroker]:
    broker = PaperBroker(BTC, {"USDT": "10000"}, more_rules=[ETH])
    ctx = StrategyContext(broker, BTC, more_rules=[ETH], mode="paper")
    for event in (
        BookUpdate("BTCUSDT", ((D(60000), D(1)),), ((D("60000.02"), D(1)),), time_ms=1),
        BookUpdate("ETHUSDT", ((D(3000), D(9)),), ((D("3000.10"), D(9)),), time_ms=1),
    ):
        broker.on_market(event)
        ctx.observe(event)
    return ctx, broker


@pytest.mark.asyncio
async def test_each_symbol_has_its_own_rules_book_and_mark_the_primary_stays_the_default() -> None:
    ctx, _ = _context()
    assert ctx.symbols == ("BTCUSDT", "ETHUSDT") and ctx.symbol == "BTCUSDT"
    assert ctx.rules is BTC and ctx.rules_for("ETHUSDT") is ETH
    assert ctx.mark_price == D("60000.01") and ctx.mark_price_for("ETHUSDT") == D("3000.05")
    eth_book = ctx.book_for("ETHUSDT")
    assert eth_book is not None and eth_book.best_bid == D(3000)
    assert ctx.book is not None and ctx.book.best_bid == D(60000)
    with pytest.raises(ConfigError, match="BNBUSDT is not one of the strategy's symbols"):
        ctx.rules_for("BNBUSDT")


@pytest.mark.asyncio
async def test_an_order_of_another_symbol_takes_that_symbols_rules_and_pnl() -> None:
    ctx, broker = _context()
    ctx.start_balances = await broker.balances()
    order = await ctx.buy(D("0.123456"), D("2999.999"), symbol="ETHUSDT")
    assert (order.symbol, order.quantity, order.price) == ("ETHUSDT", D("0.1234"), D("2999.99"))
    market = await ctx.buy(D("0.0012345"), symbol="BTCUSDT")  # MARKET: fills at once
    for update in broker.take_updates():
        await ctx.apply_update(update)
    assert ctx.position == D("0.00123") - D("0.00000123")  # BTC's step; the fee in BTC
    assert ctx.position_for("ETHUSDT") == 0 and ctx.pnl("ETHUSDT").fills == 0
    assert ctx.pnl().fills == 1 and market.symbol == "BTCUSDT"
    assert [o.symbol for o in ctx.open_orders()] == ["ETHUSDT"]
    assert ctx.open_orders("BTCUSDT") == []
    assert await ctx.cancel(order.client_order_id) is not None  # canceled on its own symbol
    # One account: the equity (start balances at the marks plus the P&L of each symbol) is
    # what the account holds now, each base at its own symbol's mark.
    end = await broker.balances()
    assert end["USDT"].locked == 0 and end["ETH"].total == 0
    assert ctx.equity() == end["USDT"].total + end["BTC"].total * D("60000.01")


def test_symbols_must_share_the_quote_asset() -> None:
    broker = PaperBroker(BTC, {"USDT": "1"})
    with pytest.raises(ConfigError, match="share one quote asset"):
        StrategyContext(broker, BTC, more_rules=[default_rules("ETHBTC")], mode="paper")


class _Recorder(Strategy):
    """Notes what it is handed, per symbol, in order."""

    symbols = ("BTCUSDT", "ETHUSDT")
    candles = ("1m",)

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []
        self.bars: list[tuple[str, int]] = []
        self.ticks: list[int] = []
        self.started_with: tuple[D | None, D | None] | None = None

    async def on_start(self, ctx: StrategyContext) -> None:
        self.started_with = (ctx.mark_price, ctx.mark_price_for("ETHUSDT"))
        ctx.set_timer("check", 30)

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        self.events.append((book.symbol, book.time_ms))

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        self.events.append((trade.symbol, trade.time_ms))

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        self.bars.append((candle.symbol, candle.open_time_ms))
        history = ctx.history("1m", symbol=candle.symbol)
        assert history.time[-1] == candle.open_time_ms  # each symbol's own history

    async def on_timer(self, ctx: StrategyContext) -> None:
        if ctx.timer == "check":
            self.ticks.append(ctx.now_ms())


def _tapes(hours: float) -> dict[str, list[Tape]]:
    return {s: list(synth_tapes(s, hours, 4)) for s in ("BTCUSDT", "ETHUSDT")}


def test_the_runner_hands_over_both_symbols_in_market_time_with_candles_and_timers() -> None:
    strategy = _Recorder()
    broker = PaperBroker(BTC, {"USDT": "10000"}, more_rules=[ETH])
    runner = Runner(
        strategy,
        broker,
        TapeMarket(_tapes(0.1)),
        BTC,
        more_rules=[ETH],
        mode="paper",
        clock=MarketClock(),
    )
    result = asyncio.run(runner.run())
    assert result.stop_reason == "market_ended" and result.symbols == ("BTCUSDT", "ETHUSDT")
    assert strategy.started_with is not None and None not in strategy.started_with
    times = [t for _, t in strategy.events]
    assert times == sorted(times)  # never an event of one symbol before an earlier other's
    assert {s for s, _ in strategy.events} == {"BTCUSDT", "ETHUSDT"}
    # A candle of each symbol for each of the 6 minutes, a minute apart, oldest first.
    for symbol in ("BTCUSDT", "ETHUSDT"):
        opens = [t for s, t in strategy.bars if s == symbol]
        assert len(opens) == 6
        assert {b - a for a, b in itertools.pairwise(opens)} == {60_000}
    # The named timer every 30 s of market time (6 minutes: 11 or 12 ticks after the start).
    gaps = {b - a for a, b in itertools.pairwise(strategy.ticks)}
    assert len(strategy.ticks) >= 11 and max(gaps) < 31_000 and min(gaps) >= 29_000


class _OneSymbolSource:
    """A market source of one symbol only (no ``events_of``)."""

    def events(self, symbol: str) -> TapeMarket:  # pragma: no cover - never read
        raise AssertionError


def test_a_strategy_of_two_symbols_is_refused_on_a_one_symbol_run() -> None:
    broker = PaperBroker(BTC, {"USDT": "1"})
    with pytest.raises(ConfigError, match="trades BTCUSDT, ETHUSDT"):
        Runner(_Recorder(), broker, TapeMarket([]), BTC, mode="paper", clock=MarketClock())
    source = _OneSymbolSource()
    with pytest.raises(ConfigError, match="serves one symbol"):
        Runner(_Recorder(), broker, source, BTC, more_rules=[ETH], mode="paper")  # type: ignore[arg-type]
