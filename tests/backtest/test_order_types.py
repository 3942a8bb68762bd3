"""Stop-market orders in backtests: a STOP_LOSS sell below the market waits; the trade that
falls through its stop makes it a MARKET sell that takes the book as it stands after that
trade (as taker, the taker fee charged), never more than the book shows or the prints trade."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire._core import Tape
from tradewire.backtest import backtest
from tradewire.backtest.symbols import default_rules
from tradewire.errors import BacktestError
from tradewire.model import SymbolRules
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from tradewire.trading.strategy import StrategyContext

D = Decimal
U = 10**8
S = 1_000_000  # one second in µs
BUY, SELL, BID, ASK, END, CLEAR = range(6)
RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


def tape(*rows: tuple[int, float, str, str]) -> Tape:
    """Rows of (kind, seconds, price, qty) as a tape."""
    return Tape.from_columns(
        [r[0] for r in rows],
        [round(r[1] * S) for r in rows],
        [int(D(r[2]) * U) for r in rows],
        [int(D(r[3]) * U) for r in rows],
    )


class StopLossSell(Strategy):
    """Sells ``qty`` with a STOP_LOSS at ``stop`` once started."""

    def __init__(self, qty: str, stop: str) -> None:
        self.qty, self.stop = D(qty), D(stop)
        self.placed_status = ""

    async def on_start(self, ctx: StrategyContext) -> None:
        order = await ctx.stop_loss("SELL", self.qty, self.stop)
        self.placed_status = order.status


# Bids 100 (0.3), 99.50 (0.3), 99 (1) under an ask at 101, after a trade at 100.50.
BOOK = tape(
    (CLEAR, 1, "0", "0"),
    (BID, 1, "100", "0.3"),
    (BID, 1, "99.50", "0.3"),
    (BID, 1, "99", "1"),
    (ASK, 1, "101", "1"),
    (END, 1, "0", "0"),
    (BUY, 1, "100.50", "0.1"),
)


def test_a_stop_loss_sell_falls_through_and_takes_the_bids_after_the_trigger() -> None:
    strategy = StopLossSell("0.5", "99.80")
    prices = tape(
        (SELL, 2, "100", "0.1"),  # above the stop: nothing
        (SELL, 3, "99.50", "0.2"),  # through the stop: 100 is gone, 0.1 left at 99.50
        (SELL, 4, "98", "5"),  # after the order has filled: nothing more
    )
    result = backtest(strategy, [BOOK, prices], rules=RULES, start_balances={"BTC": "1"})
    assert strategy.placed_status == "NEW"
    assert [(f.price, f.quantity, f.is_maker, f.time_ms) for f in result.fills] == [
        (D("99.50"), D("0.1"), False, 3000),
        (D("99"), D("0.4"), False, 3000),
    ]
    # The taker fee (0.1%) in the quote asset received, on each fill.
    assert [f.commission for f in result.fills] == [D("0.00995"), D("0.0396")]
    assert all(f.commission_asset == "USDT" for f in result.fills)
    [order] = result.orders
    assert (order.type, order.status, order.price, order.stop_price) == (
        "STOP_LOSS",
        "FILLED",
        None,
        D("99.80"),
    )
    end = result.run.end_balances
    assert end["BTC"].free == D("0.5") and end["BTC"].locked == 0
    assert end["USDT"].free == D("9.95") + D("39.6") - D("0.00995") - D("0.0396")


def test_without_a_book_it_takes_the_next_sell_prints_never_more_than_they_traded() -> None:
    strategy = StopLossSell("0.5", "99.80")
    prints = tape(
        (BUY, 1, "100.50", "1"),
        (SELL, 1, "100.40", "1"),
        (SELL, 1.5, "100.30", "1"),  # the strategy starts on the first two-sided view
        (SELL, 2, "99.80", "3"),  # the trigger: it does not fill the order
        (SELL, 3, "99.70", "0.15"),
        (BUY, 4, "99.90", "2"),  # a buyer took: no seller's liquidity
        (SELL, 5, "99.20", "0.05"),
    )
    result = backtest(strategy, [prints], rules=RULES, start_balances={"BTC": "1"})
    assert [(f.price, f.quantity, f.is_maker) for f in result.fills] == [
        (D("99.70"), D("0.15"), False),
        (D("99.20"), D("0.05"), False),
    ]
    [order] = result.orders
    assert (order.status, order.executed_qty) == ("PARTIALLY_FILLED", D("0.2"))
    assert result.run.end_balances["BTC"].locked == D("0.3")  # the rest still waits to sell


def test_the_built_in_2021_rules_do_not_list_stop_markets() -> None:
    # Binance's 2021 exchangeInfo (the built-in rules) has no STOP_LOSS: refused by name.
    assert "STOP_LOSS" not in default_rules("BTCUSDT").order_types
    with pytest.raises(BacktestError, match="STOP_LOSS is not allowed"):
        backtest(StopLossSell("0.5", "99.80"), [BOOK], start_balances={"BTC": "1"})
