"""The grid bot: exact ladders, validation, and a paper run on a replayed market."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.bots.grid import GridPlan
from tradewire.bots.params import grid_levels
from tradewire.errors import BotConfigError
from tradewire.model import Balance, SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


def test_arithmetic_and_geometric_ladders_are_exact() -> None:
    arith = GridParams(D("100"), D("110"), 4, quantity_per_grid=D("0.1"))
    assert grid_levels(arith, RULES) == [D("100"), D("102.50"), D("105.00"), D("107.50"), D("110")]
    geo = GridParams(D("100"), D("400"), 2, grid_mode="geometric", quantity_per_grid=D("0.1"))
    assert grid_levels(geo, RULES) == [D("100"), D("200.00"), D("400")]


def test_plan_leaves_the_line_nearest_the_price_empty() -> None:
    plan = GridPlan(GridParams(D("100"), D("110"), 4, quantity_per_grid=D("0.1")), RULES, D("104"))
    assert plan.orders == [
        (0, "BUY", D("100")),
        (1, "BUY", D("102.50")),
        (3, "SELL", D("107.50")),
        (4, "SELL", D("110")),
    ]
    assert plan.quote_needed == D("20.250") and plan.base_needed == D("0.2")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lower_price": D("110"), "upper_price": D("100")}, "lower_price < upper_price"),
        ({"grid_number": 1}, "grid_number"),
        ({"investment": D("10")}, "exactly one"),
        ({"upper_price": D("100.03"), "grid_number": 4}, "same tick"),
        ({"quantity_per_grid": D("0.00001")}, "minimum notional"),
        ({"stop_loss": D("101")}, "stop_loss"),
    ],
)
def test_bad_parameters_are_explained(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = {
        "lower_price": D("100"),
        "upper_price": D("110"),
        "grid_number": 4,
        "quantity_per_grid": D("0.1"),
    }
    base.update(kwargs)

    def build() -> GridPlan:
        return GridPlan(GridParams(**base), RULES, D("100.01"))  # type: ignore[arg-type]

    with pytest.raises(BotConfigError, match=message):
        build()


def test_not_enough_balance_is_explained() -> None:
    plan = GridPlan(GridParams(D("100"), D("110"), 4, quantity_per_grid=D("1")), RULES, D("104"))
    with pytest.raises(BotConfigError, match=r"needs 202\.50 USDT"):
        plan.check({"USDT": Balance("USDT", D("50")), "BTC": Balance("BTC", D("5"))}, RULES)


@pytest.mark.asyncio
async def test_grid_on_a_replayed_market_adds_up_exactly() -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001")))
    market = ReplayMarket(SyntheticDepthStream(seed=3), 2000)
    result = await Runner(bot, broker, market, RULES, mode="paper").run()
    fills = result.log.fills
    assert len(fills) >= 6 and bot.round_trips >= 2
    assert bot.plan is not None
    assert all(f.price in bot.plan.levels and f.quantity == D("0.001") for f in fills)
    # Every fill's effect on balances, recomputed independently.
    usdt = D("10000") + sum(
        (-(f.price * f.quantity) if f.side == "BUY" else f.price * f.quantity - f.commission)
        for f in fills
    )
    btc = D("1") + sum(
        (f.quantity - f.commission if f.side == "BUY" else -f.quantity) for f in fills
    )
    end = result.end_balances
    assert end["USDT"].total == usdt and end["BTC"].total == btc
    # Realized + unrealized (net of fees) is the equity change at the end price, exactly.
    mark = result.end_mark
    assert mark is not None
    assert result.pnl.total == (usdt - D("10000")) + (btc - D("1")) * mark
    assert result.pnl.fees == sum(
        (f.commission * (f.price if f.commission_asset == "BTC" else 1) for f in fills), D(0)
    )
    # One line stays empty: the grid always has grid_number open orders.
    assert len(result.open_orders) == 10
