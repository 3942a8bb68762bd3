"""Backtests on hand-made tapes: fills each model must give, fees, latency, errors, determinism."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire._core import SimEngine, Tape
from tradewire.backtest import BacktestResult, backtest
from tradewire.errors import BacktestError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from tradewire.model import OrderUpdate
    from tradewire.trading.strategy import StrategyContext

U = 10**8
S = 1_000_000  # one second in µs
BUY, SELL, BID, ASK, END, CLEAR = range(6)


def tape(*rows: tuple[int, float, float, float]) -> Tape:
    """Rows of (kind, seconds, price, qty) as a tape."""
    return Tape.from_columns(
        [r[0] for r in rows],
        [round(r[1] * S) for r in rows],
        [round(Decimal(str(r[2])) * U) for r in rows],
        [round(Decimal(str(r[3])) * U) for r in rows],
    )


class BuyAt(Strategy):
    """Places one LIMIT buy at ``price`` once started."""

    def __init__(self, qty: str, price: str | None) -> None:
        self.qty = Decimal(qty)
        self.price = None if price is None else Decimal(price)
        self.updates: list[OrderUpdate] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        await ctx.buy(self.qty, self.price)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        self.updates.append(update)


# A two-sided market (sell print 100, buy print 101), then prints at and through 99.
MARKET = tape(
    (SELL, 1, 100, 1),
    (BUY, 2, 101, 1),
    (SELL, 3, 99, 5),  # at the price: no fill unless touching counted
    (SELL, 4, 98.5, 0.02),  # through: 0.02 traded
    (SELL, 5, 98, 0.03),
    (BUY, 6, 100, 1),
)


def test_trade_through_fills_no_more_than_traded() -> None:
    result = backtest(BuyAt("0.2", "99"), [MARKET], start_balances={"USDT": "1000"})
    assert [(f.quantity, f.price, f.is_maker) for f in result.fills] == [
        (Decimal("0.02"), Decimal(99), True),
        (Decimal("0.03"), Decimal(99), True),
    ]
    assert [o.status for o in result.orders] == ["PARTIALLY_FILLED"]
    # 0.1% maker fee on a buy, paid in the base asset received, rounded at 8 dp.
    assert [f.commission for f in result.fills] == [Decimal("0.00002"), Decimal("0.00003")]
    assert all(f.commission_asset == "BTC" for f in result.fills)
    end = result.run.end_balances
    assert end["BTC"].free == Decimal("0.05") - Decimal("0.00005")
    assert end["USDT"].free + end["USDT"].locked == 1000 - Decimal("0.05") * 99


def test_touch_fills_in_full_on_the_first_print_through() -> None:
    result = backtest(BuyAt("0.2", "99"), [MARKET], fill_model="touch")
    assert [(f.quantity, f.time_ms) for f in result.fills] == [(Decimal("0.2"), 4000)]


def test_queue_waits_for_the_size_ahead() -> None:
    book = tape(
        (CLEAR, 1, 0, 0),
        (BID, 1, 99, 2),
        (ASK, 1, 100, 1),
        (END, 1, 0, 0),
        (SELL, 2, 99, 1.5),  # 1.5 of the 2 ahead
        (SELL, 3, 99, 0.6),  # 0.5 ahead, then 0.1 for the order
        (SELL, 4, 99, 1),
    )
    result = backtest(BuyAt("0.3", "99"), [book], fill_model="queue")
    assert [(f.quantity, f.time_ms) for f in result.fills] == [
        (Decimal("0.1"), 3000),
        (Decimal("0.2"), 4000),
    ]
    # trade-through: prints at the price never fill
    assert backtest(BuyAt("0.3", "99"), [book]).fills == []


def test_market_order_walks_the_book_as_taker() -> None:
    book = tape(
        (CLEAR, 1, 0, 0),
        (BID, 1, 99, 1),
        (ASK, 1, 100, 0.05),
        (ASK, 1, 101, 1),
        (END, 1, 0, 0),
        (BUY, 2, 100, 0.01),
    )
    result = backtest(BuyAt("0.15", None), [book])
    assert [(f.price, f.quantity, f.is_maker) for f in result.fills] == [
        (Decimal(100), Decimal("0.05"), False),
        (Decimal(101), Decimal("0.1"), False),
    ]
    assert result.orders[0].status == "FILLED"


def test_latency_keeps_an_order_off_earlier_prints() -> None:
    # Started at 2 s; with 1.5 s of latency the order works from 3.5 s: the 98.5 print at
    # 4 s fills it, the 99-through print at 3 s cannot.
    market = tape(
        (SELL, 1, 100, 1),
        (BUY, 2, 101, 1),
        (SELL, 3, 98, 5),
        (SELL, 4, 98.5, 0.02),
    )
    slow = backtest(BuyAt("0.2", "99"), [market], order_latency_ms=1500)
    assert [(f.quantity, f.time_ms) for f in slow.fills] == [(Decimal("0.02"), 4000)]
    late = backtest(BuyAt("0.2", "99"), [market], order_latency_ms=500, market_data_latency_ms=1000)
    assert [(f.quantity, f.time_ms) for f in late.fills] == [(Decimal("0.02"), 4000)]
    assert late.report["market_data_latency_ms"] == 1000
    fast = backtest(BuyAt("0.2", "99"), [market])
    assert [(f.quantity, f.time_ms) for f in fast.fills] == [
        (Decimal("0.2"), 3000),
    ]


def test_runs_are_deterministic() -> None:
    a = backtest(BuyAt("0.2", "99"), [MARKET])
    b = backtest(BuyAt("0.2", "99"), [MARKET])

    def what(r: BacktestResult) -> list[tuple[object, ...]]:
        return [(f.time_ms, f.side, f.price, f.quantity, f.commission, f.is_maker) for f in r.fills]

    assert what(a) == what(b)
    assert len(what(a)) == 2
    drop = ("api_latency",)  # the wall time of the calls
    assert {k: v for k, v in a.report.items() if k not in drop} == {
        k: v for k, v in b.report.items() if k not in drop
    }


def test_a_raising_callback_stops_the_run_and_keeps_the_report() -> None:
    class Boom(Strategy):
        async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
            raise RuntimeError("bad strategy")

        async def on_start(self, ctx: StrategyContext) -> None:
            await ctx.buy(Decimal("0.2"), Decimal("99"))

    with pytest.raises(BacktestError, match="bad strategy") as info:
        backtest(Boom(), [MARKET])
    result = info.value.result  # type: ignore[attr-defined]
    assert result.report["error"] == {
        "type": "RuntimeError",
        "message": "bad strategy",
        "callback": "on_order_update",
    }
    assert result.report["stop_reason"] == "error"
    assert result.run.ended_ms == 4000  # stopped at the first fill, not at the end of the data
    quiet = backtest(Boom(), [MARKET], raise_errors=False)
    assert quiet.error == "on_order_update raised RuntimeError: bad strategy"


def test_a_callback_that_waits_is_an_error() -> None:
    class Sleeper(Strategy):
        async def on_start(self, ctx: StrategyContext) -> None:
            await asyncio.sleep(1)

    with pytest.raises(BacktestError, match="waited"):
        backtest(Sleeper(), [MARKET])


def test_timers_run_in_market_time() -> None:
    class Ticker(Strategy):
        def __init__(self) -> None:
            self.times: list[int] = []

        async def on_timer(self, ctx: StrategyContext) -> None:
            self.times.append(ctx.now_ms())

    s = Ticker()
    backtest(s, [MARKET], timer_interval_s=2)
    assert s.times == [3000, 5000]


def test_bad_settings_and_data_are_typed_errors() -> None:
    with pytest.raises(BacktestError, match="fill model"):
        backtest(BuyAt("1", "1"), [MARKET], fill_model="magic")  # type: ignore[arg-type]
    with pytest.raises(BacktestError, match="no built-in trading rules"):
        backtest(BuyAt("1", "1"), [MARKET], symbol="NOPEUSDT")
    engine = SimEngine("touch")
    engine.feed(tape((BUY, 5, 1, 1)))
    while engine.advance()[0] != 0:
        pass
    with pytest.raises(BacktestError, match="back in time"):
        engine.feed(tape((BUY, 4, 1, 1)))
    with pytest.raises(ValueError, match="same length"):
        Tape.from_columns([0], [1, 2], [1], [1])


class StopLossAt(Strategy):
    """Places one STOP_LOSS_LIMIT sell once started."""

    def __init__(self, stop: str, price: str) -> None:
        self.stop, self.price = Decimal(stop), Decimal(price)
        self.updates: list[OrderUpdate] = []

    async def on_start(self, ctx: StrategyContext) -> None:
        # 0.2 at 98: 19.6 USDT, over the built-in rules' 10 USDT minimum (MIN_NOTIONAL)
        await ctx.stop_loss_limit("SELL", Decimal("0.2"), self.stop, self.price)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        self.updates.append(update)


def test_a_stop_triggers_in_market_time_on_a_trade_after_it_arrived() -> None:
    # Started at 2 s. A dip to 98.5 at 3 s comes before a 1.5 s latency lets the order
    # arrive (3.5 s, the price back at 100): it cannot trigger it; the 99 print at 4 s does,
    # and the limit at 98 then takes the next sell prints.
    market = tape(
        (SELL, 1, 100, 1),
        (BUY, 2, 101, 1),
        (SELL, 3, 98.5, 1),
        (BUY, 3.2, 100, 1),
        (SELL, 4, 99, 1),
        (SELL, 5, 98.5, 0.05),
        (SELL, 6, 98.2, 1),
    )
    balances = {"USDT": "1000", "BTC": "1"}
    slow = backtest(
        StopLossAt("99", "98"), [market], order_latency_ms=1500, start_balances=balances
    )
    assert [(f.price, f.quantity, f.time_ms, f.is_maker) for f in slow.fills] == [
        (Decimal("98.50"), Decimal("0.05"), 5000, False),
        (Decimal("98.20"), Decimal("0.15"), 6000, False),
    ]
    # Without latency the order works from 2 s: the dip at 3 s triggers it.
    fast = backtest(StopLossAt("99", "98"), [market], start_balances=balances)
    assert [(f.price, f.quantity, f.time_ms) for f in fast.fills] == [
        (Decimal("99.00"), Decimal("0.2"), 4000)
    ]


def test_a_stop_the_market_reached_while_it_travelled_is_rejected_on_arrival() -> None:
    market = tape((SELL, 1, 100, 1), (BUY, 2, 101, 1), (SELL, 3, 98.5, 1), (SELL, 5, 98, 1))
    strategy = StopLossAt("99", "98")
    result = backtest(
        strategy, [market], order_latency_ms=1500, start_balances={"USDT": "0", "BTC": "1"}
    )
    assert result.fills == []
    assert [u.order.status for u in strategy.updates] == ["REJECTED"]
    assert [(o.type, o.status, o.stop_price) for o in result.orders] == [
        ("STOP_LOSS_LIMIT", "REJECTED", Decimal("99.00"))
    ]
