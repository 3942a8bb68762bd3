"""The DCA bot's platform features on paper over hand-made price paths: the trailing take
profit and stop loss, the cooldown, several deals at once, and the deal history."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.bots import DcaBot, DcaParams
from tradewire.bots.params import params_from_record, params_record
from tradewire.errors import BotConfigError
from tradewire.testing.price_paths import run_path, walk


def _dca(**kwargs: object) -> DcaParams:
    base: dict[str, object] = {
        "base_order_size": D("100"),
        "safety_order_size": D("100"),
        "max_safety_orders": 2,
        "price_deviation": D("2"),
        "take_profit": D("2"),
    }
    base.update(kwargs)
    return DcaParams(**base)  # type: ignore[arg-type]


def test_the_trailing_take_profit_closes_at_the_peak_less_the_deviation() -> None:
    bot = DcaBot(_dca(trailing_deviation=D("1")))
    result = run_path(bot, walk(100, 110, 100), {"USDT": "1000"})
    [deal] = bot.history
    assert deal.close_reason == "trailing take profit"
    sells = [f for f in result.log.fills if f.side == "SELL"]
    [close] = sells
    # The bid peaked at 109.99; 1% below it is 108.8901: the first bid at or under it (the
    # path falls 0.5 a second) closes the deal, at market.
    peak = D("109.99")
    assert close.price <= peak * D("0.99") < close.price + D("0.5")
    assert close.price == D("108.49")
    assert result.stop_reason == "strategy" and "1 deal(s) closed" in (result.stop_detail or "")
    # No take-profit order was ever on the book: the only sell is the close.
    assert D(deal.proceeds) == close.price * close.quantity
    assert D(deal.pnl) == D(deal.proceeds) - D(deal.cost)


def test_without_trailing_the_take_profit_is_a_limit_order() -> None:
    bot = DcaBot(_dca())
    result = run_path(bot, walk(100, 110), {"USDT": "1000"})
    [deal] = bot.history
    [close] = [f for f in result.log.fills if f.side == "SELL"]
    assert deal.close_reason == "take profit" and close.price == D("102.02")  # 100.01 + 2%


def test_deals_cool_down_between_them() -> None:
    bot = DcaBot(_dca(take_profit=D("1"), cooldown=20, max_deals=3))
    run_path(bot, walk(100, 110, 100, 110, 100, 110, step="1"), {"USDT": "2000"})
    assert len(bot.history) == 3
    for before, after in zip(bot.history, bot.history[1:], strict=False):
        assert after.started_ms - before.ended_ms >= 20_000
    # Without the cooldown the next deal starts at once.
    eager = DcaBot(_dca(take_profit=D("1"), max_deals=3))
    run_path(eager, walk(100, 110, 100, 110, 100, 110, step="1"), {"USDT": "2000"})
    gaps = [
        b.started_ms - a.ended_ms for a, b in zip(eager.history, eager.history[1:], strict=False)
    ]
    assert gaps and max(gaps) < 20_000


def test_several_deals_run_at_once_up_to_the_maximum() -> None:
    bot = DcaBot(
        _dca(max_safety_orders=1, take_profit=D("5"), max_active_deals=3, cooldown=5, max_deals=3)
    )
    result = run_path(bot, walk(100, 90, 120, step="0.5"), {"USDT": "5000"})
    assert len(bot.history) == 3
    starts = [h.started_ms for h in bot.history]
    ends = [h.ended_ms for h in bot.history]
    # All three started (5 s apart) before the first one closed.
    assert max(starts) < min(ends)
    first = min(starts)
    assert sorted(starts) == [first, first + 5000, first + 10_000]
    buys = [f for f in result.log.fills if f.side == "BUY"]
    assert len(buys) >= 3
    for h in bot.history:
        assert D(h.pnl) > 0 and h.close_reason == "take profit"


def test_the_trailing_stop_loss_follows_the_deals_high() -> None:
    bot = DcaBot(
        _dca(max_safety_orders=1, take_profit=D("50"), stop_loss=D("5"), trailing_stop_loss=True)
    )
    result = run_path(bot, walk(100, 120, 100), {"USDT": "1000"})
    [deal] = bot.history
    assert deal.close_reason == "trailing stop loss"
    [close] = [f for f in result.log.fills if f.side == "SELL"]
    # 5% under the high bid 119.99 is 113.9905: it closes there, in profit, not at 95.
    assert close.price == D("113.99") and D(deal.pnl) > 0
    assert result.stop_detail is not None and "trailing stop loss" in result.stop_detail


def test_the_deal_history_says_what_each_deal_did() -> None:
    bot = DcaBot(_dca(max_deals=2))
    run_path(bot, walk(100, 97, 104, 103, 106), {"USDT": "1000"})
    first, second = bot.history
    assert first.number == 1 and second.number == 2
    assert first.safety_orders_filled == 1 and second.safety_orders_filled == 0
    assert D(first.average_price or "0") < D("100")  # the safety order at 98 lowered it
    assert first.started_ms < first.ended_ms <= second.started_ms < second.ended_ms
    assert all(h.close_reason == "take profit" and D(h.pnl) > 0 for h in bot.history)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"trailing_deviation": D("3")},
            "trailing_deviation must be above 0 and below take_profit",
        ),
        ({"trailing_stop_loss": True}, "trailing_stop_loss needs stop_loss"),
        ({"cooldown": -1}, "cooldown must be 0 or more"),
        ({"cooldown": D("1.5")}, "cooldown is whole seconds"),
        ({"max_active_deals": 0}, "max_active_deals must be 1 to 50"),
    ],
)
def test_bad_feature_parameters_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(BotConfigError, match=message):
        _dca(**kwargs)


def test_the_features_round_trip_through_the_journal_record() -> None:
    params = _dca(
        trailing_deviation=D("0.5"),
        stop_loss=D("10"),
        trailing_stop_loss=True,
        cooldown=60,
        max_active_deals=2,
    )
    assert params_from_record("dca", params_record(params)) == params
