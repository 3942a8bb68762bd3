"""The grid bot: exact ladders, validation, and a paper run on a replayed market."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from typing import Literal

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.bots.grid import GridPlan
from tradewire.bots.params import check_fees, grid_levels
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
    # Steps of 0.04 USDT pay far less than the fees: forced, so the run goes ahead, warned.
    params = GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    bot = GridBot(params)
    market = ReplayMarket(SyntheticDepthStream(seed=3), 2000)
    result = await Runner(bot, broker, market, RULES, mode="paper").run()
    fills = result.log.fills
    [warning] = bot.warnings
    assert "grid step 0.04 USDT" in warning and "running anyway" in warning
    assert any(m == f"warning: {warning}" for m in result.log.messages)
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


FEES = {"maker_fee": D("0.001"), "taker_fee": D("0.001")}


def test_a_step_under_the_round_trip_fee_is_refused_in_numbers() -> None:
    # 10 grids over 0.60 USDT at 65,000: steps of 0.06 USDT against 130 USDT of fees per BTC.
    params = GridParams(D("64999.70"), D("65000.30"), 10, quantity_per_grid=D("0.001"))
    with pytest.raises(BotConfigError) as refused:
        check_fees(params, RULES, D("65000"), **FEES)
    assert str(refused.value) == (
        "grid step 0.06 USDT (from 65000.24 to 65000.30) is 0.0000923% of the price; a round "
        "trip (a buy and a sell, each paying the maker fee 0.1%) costs 0.2% = 130 USDT per BTC "
        "there, so every round trip loses money after fees: widen the range or use fewer grids "
        "(the default step is 0.5% = 325 USDT at 65000), or pass --force (force=True) to run "
        "anyway"
    )
    forced = replace(params, force=True)
    [warning] = check_fees(forced, RULES, D("65000"), **FEES)
    assert warning.startswith("grid step 0.06 USDT") and warning.endswith(
        "(running anyway: forced)"
    )
    # Without fees the same step earns: nothing to refuse.
    assert check_fees(params, RULES, D("65000"), maker_fee=D(0), taker_fee=D(0)) == []


@pytest.mark.parametrize("mode", ["arithmetic", "geometric"])
def test_the_fee_check_takes_the_narrowest_step_of_either_spacing(
    mode: Literal["arithmetic", "geometric"],
) -> None:
    # 100 to 110.5 in 5 grids. A pair of lines a < b pays its two fees if (b - a) / (a + b) is
    # above the fee: arithmetic steps are 2.1 everywhere, 1.04% of a + b at the bottom but
    # 0.96% at the top; geometric steps are 2.02% of their buy price, about 1.00% throughout.
    params = GridParams(D("100"), D("110.5"), 5, grid_mode=mode, quantity_per_grid=D("0.1"))
    fee = D("0.0099")  # between the two: the arithmetic grid's top pair loses
    rates = {"maker_fee": fee, "taker_fee": fee}
    if mode == "arithmetic":
        with pytest.raises(
            BotConfigError, match=r"grid step 2\.10 USDT \(from 108\.40 to 110\.50\)"
        ):
            check_fees(params, RULES, D("105"), **rates)
    else:
        assert check_fees(params, RULES, D("105"), **rates) == []
        with pytest.raises(BotConfigError, match=r"is 2\.01% of the price"):
            check_fees(params, RULES, D("105"), maker_fee=D("0.0101"), taker_fee=fee)


@pytest.mark.asyncio
async def test_the_bot_refuses_at_the_brokers_own_fees() -> None:
    # The same grid is fine without fees and refused at a broker charging 0.1%.
    params = GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"))
    free = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"}, maker_fee="0", taker_fee="0")
    bot = GridBot(params)
    ok = await Runner(bot, free, ReplayMarket(SyntheticDepthStream(seed=3), 300), RULES,
                      mode="paper").run()  # fmt: skip
    assert ok.error is None and ok.log.fills and bot.warnings == []
    paid = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    refused = await Runner(GridBot(params), paid, ReplayMarket(SyntheticDepthStream(seed=3), 300),
                           RULES, mode="paper").run()  # fmt: skip
    assert refused.error is not None and refused.error.type == "BotConfigError"
    assert "costs 0.2%" in refused.error.message and refused.log.orders_placed == 0
