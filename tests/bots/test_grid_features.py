"""The grid's platform features on paper over hand-made price paths: trailing ranges, the
infinity grid's constant base value, the reverse grid, the trigger, and the base bought at start."""

from __future__ import annotations

from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.bots.grid import GridPlan
from tradewire.bots.params import grid_line, params_from_record, params_record
from tradewire.errors import BotConfigError
from tradewire.model import Balance

if TYPE_CHECKING:
    from tradewire.trading.runner import RunResult
from tradewire.testing.price_paths import RULES, run_path, walk


def _grid(**kwargs: object) -> GridParams:
    base: dict[str, object] = {
        "lower_price": D("100"),
        "upper_price": D("110"),
        "grid_number": 5,
        "quantity_per_grid": D("0.1"),
        "force": True,
    }
    base.update(kwargs)
    return GridParams(**base)  # type: ignore[arg-type]


def _open(result: RunResult) -> list[tuple[str, D]]:
    """The open orders at the end, as (side, price)."""
    out = []
    for o in result.open_orders:
        assert o.price is not None
        out.append((str(o.side), o.price))
    return out


def _one_order_per_line(bot: GridBot, orders: list[tuple[str, D]]) -> None:
    assert bot.plan is not None
    prices = [p for _, p in orders]
    assert len(prices) == len(set(prices))
    assert set(prices) <= set(bot.plan.levels)


def test_the_range_trails_a_rise_one_line_at_a_time_up_to_its_limit() -> None:
    bot = GridBot(_grid(trailing_up=True, trailing_up_limit=D("118")))
    result = run_path(bot, walk(105, 121, 119), {"USDT": "1000", "BTC": "1"})
    assert bot.plan is not None
    # Lines every 2 USDT: four moves take the top line from 110 to the limit, 118.
    assert bot.trailing_moves == 4
    assert bot.plan.levels == [
        D("108.00"),
        D("110.00"),
        D("112.00"),
        D("114.00"),
        D("116.00"),
        D("118.00"),
    ]
    orders = _open(result)
    # The sells filled on the way up; each move canceled the lowest buy and placed one on the
    # old top line, so five buys sit under the price and the top line is empty.
    assert orders == [("BUY", D(p)) for p in ("108.00", "110.00", "112.00", "114.00", "116.00")]
    _one_order_per_line(bot, orders)
    moves = [m for m in result.log.messages if m.startswith("trailing up")]
    assert len(moves) == 4 and "110.00..120.00" not in " ".join(moves)


def test_the_range_trails_a_fall_down_to_its_limit() -> None:
    bot = GridBot(_grid(trailing_down=True, trailing_down_limit=D("94")))
    result = run_path(bot, walk(105, 90, 91), {"USDT": "1000", "BTC": "1"})
    assert bot.plan is not None
    assert bot.trailing_moves == 3
    assert bot.plan.levels[0] == D("94.00") and bot.plan.levels[-1] == D("104.00")
    orders = _open(result)
    assert orders and all(side == "SELL" for side, _ in orders)
    assert sorted(p for _, p in orders) == [
        D("96.00"),
        D("98.00"),
        D("100.00"),
        D("102.00"),
        D("104.00"),
    ]
    _one_order_per_line(bot, orders)


def test_without_trailing_the_range_stays() -> None:
    bot = GridBot(_grid())
    run_path(bot, walk(105, 121), {"USDT": "1000", "BTC": "1"})
    assert bot.plan is not None
    assert bot.trailing_moves == 0 and bot.plan.levels[-1] == D("110.00")


def test_the_infinity_grid_keeps_the_base_worth_its_investment() -> None:
    value = D("500")
    params = GridParams(
        D("100"), D("110"), 6, grid_mode="geometric", investment=value, infinity=True, force=True
    )
    bot = GridBot(params)
    result = run_path(bot, walk(104, 130, 112, 125, step="0.25"), {"USDT": "5000"}, fee="0")
    fills = result.log.fills
    start, grid_fills = fills[0], fills[1:]
    # The start order bought the base worth the investment at the line under the price.
    assert start.side == "BUY" and bot.start_placed is not None
    assert bot.start_placed.type == "MARKET"
    assert len(grid_fills) > 10 and bot.trailing_moves >= 3
    held = start.quantity
    for f in grid_fills:
        held += f.quantity if f.side == "BUY" else -f.quantity
        # After every fill the base is worth the investment at that line, to the step's
        # rounding (each order floored to 0.00001 BTC, the start rounded up).
        assert abs(held * f.price - value) <= len(fills) * RULES.step_size * f.price, f
    assert bot.plan is not None and bot.plan.levels[-1] > D("130")  # no upper bound


def _btc_grid(**kwargs: object) -> GridParams:
    return _grid(
        lower_price=D("64000"), upper_price=D("66000"), grid_number=4,
        quantity_per_grid=D("0.0019"), **kwargs,
    )  # fmt: skip


def test_a_grid_on_a_quote_only_account_buys_its_base_first() -> None:
    bot = GridBot(_btc_grid())
    result = run_path(bot, walk(65100, 65150, step="10"), {"USDT": "1000"}, fee="0.001")
    first = result.log.fills[0]
    # Two sells above 65,100 need 0.0038 BTC; the taker fee is taken in BTC, so it buys
    # 0.0038 / 0.999 rounded up to the step.
    assert (first.side, first.quantity) == ("BUY", D("0.00381"))
    lines = result.log.messages
    plan_line = next(m for m in lines if m.startswith("plan: "))
    assert "BUY 0.00381 BTC at market" in plan_line and "need 0.0038 BTC" in plan_line
    assert (
        lines.index(plan_line)
        < lines.index("grid 64000.00..66000.00, 4 grids, 0.0019 per grid, start 65100.00000000") + 2
    )
    sides = sorted(_open(result))
    assert sides == [
        ("BUY", D("64000.00")),
        ("BUY", D("64500.00")),
        ("SELL", D("65500.00")),
        ("SELL", D("66000.00")),
    ]


def test_the_start_order_is_planned_before_it_is_placed_or_refused() -> None:
    balances = {"USDT": Balance("USDT", D("1000"))}
    plan = GridPlan(_btc_grid(), RULES, D("65100"))
    order = plan.check(balances, RULES, bid=D("65100"), ask=D("65100"), fee=D("0.001"))
    assert order is not None
    assert order.describe(RULES).startswith("BUY 0.00381 BTC at market (about 248.03 USDT)")
    limit = GridPlan(_btc_grid(start_order="limit"), RULES, D("65100"))
    placed = limit.start_order(balances, bid=D("65099.99"), ask=D("65100.01"))
    assert placed is not None and (placed.type, placed.price) == ("LIMIT", D("65100.01"))
    refuse = GridPlan(_btc_grid(start_order="none"), RULES, D("65100"))
    with pytest.raises(BotConfigError, match=r"needs 0\.0038 BTC"):
        refuse.check(balances, RULES, bid=D("65100"), ask=D("65100"))


def test_a_quote_short_account_sells_base_for_the_buys() -> None:
    plan = GridPlan(_grid(grid_number=4, upper_price=D("108")), RULES, D("103.5"))
    order = plan.start_order(
        {"USDT": Balance("USDT", D("1")), "BTC": Balance("BTC", D("5"))},
        bid=D("103.5"), ask=D("103.5"), fee=D("0"),
    )  # fmt: skip
    # Buys at 100 and 102 need 20.2 USDT: 19.2 short, sold at 103.5 (rounded up to the step).
    assert plan.quote_needed == D("20.2")
    assert order is not None and (order.side, order.quantity) == ("SELL", D("0.18551"))


def test_nothing_is_placed_until_the_price_crosses_the_trigger() -> None:
    bot = GridBot(_grid(trigger_price=D("102")))
    result = run_path(bot, walk(107, 104, 101.5, 105), {"USDT": "1000", "BTC": "1"})
    lines = result.log.messages
    waiting = lines.index("waiting for the price to cross 102 (now 107.00000000)")
    crossed = next(i for i, m in enumerate(lines) if m.startswith("trigger: price"))
    assert waiting < crossed
    first_fill = result.log.fills[0]
    assert first_fill.time_ms >= 1000 * (len(walk(107, 102)) - 1)
    assert len(result.open_orders) == 5


def test_the_reverse_grid_starts_with_sells_and_keeps_its_profit_in_base() -> None:
    bot = GridBot(_grid(reverse=True))
    result = run_path(bot, walk(103, 109, 101, 107), {"BTC": "1"})
    fills = result.log.fills
    assert fills[0].side == "SELL"  # nothing below the price at the start
    bought = sum((f.quantity for f in fills if f.side == "BUY"), D(0))
    sold = sum((f.quantity for f in fills if f.side == "SELL"), D(0))
    assert bot.round_trips >= 2
    assert sold > 0 and bought > 0
    for f in fills:  # each buy-back spends a sell's quote one line lower: more base
        if f.side == "BUY":
            assert f.quantity == RULES.floor_quantity(D("0.1") * (f.price + 2) / f.price)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trailing_up_limit": D("120")}, "trailing_up_limit needs trailing_up"),
        (
            {"trailing_up": True, "trailing_up_limit": D("105")},
            "trailing_up_limit 105 must be above upper_price",
        ),
        (
            {"trailing_down": True, "trailing_down_limit": D("101")},
            "trailing_down_limit 101 must be between 0",
        ),
        ({"infinity": True}, "infinity needs grid_mode geometric"),
        ({"trigger_price": D("-1")}, "trigger_price must be above 0"),
        ({"start_order": "stop"}, "start_order is market, limit or none"),
        (
            {"trailing_up": True, "take_profit": D("120")},
            "trailing_up_limit must be below take_profit",
        ),
    ],
)
def test_bad_feature_parameters_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BotConfigError, match=message):
        _grid(**kwargs)


def test_the_features_round_trip_through_the_journal_record() -> None:
    params = _grid(
        trailing_up=True, trailing_up_limit=D("130"), trigger_price=D("101"), start_order="limit"
    )
    assert params_from_record("grid", params_record(params)) == params


def test_lines_past_the_range_go_on_at_the_same_step() -> None:
    arith = _grid()
    assert [grid_line(arith, RULES, k) for k in (-2, 0, 5, 7)] == [
        D("96.00"),
        D("100.00"),
        D("110.00"),
        D("114.00"),
    ]
    geo = _grid(grid_mode="geometric", lower_price=D("100"), upper_price=D("400"), grid_number=2)
    assert grid_line(geo, RULES, 3) == D("800.00")
