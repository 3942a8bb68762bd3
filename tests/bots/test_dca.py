"""The DCA bot: the safety-order ladder, validation, and a paper run on a replayed market."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.bots import DcaBot, DcaParams
from tradewire.bots.params import (
    BINANCE_FEE,
    check_fees,
    dca_ladder,
    default_take_profit,
    venue_fees,
)
from tradewire.errors import BotConfigError
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


def test_ladder_follows_step_and_volume_scales() -> None:
    params = DcaParams(
        D("10"), D("10"), 3, D("1"), D("1.5"),
        safety_order_step_scale=D("2"), safety_order_volume_scale=D("2"),
    )  # fmt: skip
    ladder = dca_ladder(params, RULES, D("100"))
    assert [(o.deviation, o.price, o.quantity) for o in ladder] == [
        (D("1"), D("99.00"), D("0.10101")),
        (D("3"), D("97.00"), D("0.20618")),
        (D("7"), D("93.00"), D("0.43010")),
    ]


def test_ladder_below_zero_or_minimum_is_explained() -> None:
    with pytest.raises(BotConfigError, match="below the base price"):
        dca_ladder(DcaParams(D("10"), D("10"), 3, D("40"), D("1")), RULES, D("100"))
    with pytest.raises(BotConfigError, match="minimum"):
        dca_ladder(DcaParams(D("10"), D("1"), 1, D("1"), D("1")), RULES, D("100"))
    with pytest.raises(BotConfigError, match="price_deviation"):
        DcaParams(D("10"), D("10"), 1, D("0"), D("1"))


@pytest.mark.asyncio
async def test_dca_deals_on_a_replayed_market_add_up_exactly() -> None:
    # No fees: a take profit this close to the price must be reachable in a small replay.
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "0"}, maker_fee="0", taker_fee="0")
    bot = DcaBot(DcaParams(D("100"), D("100"), 3, D("0.0002"), D("0.0001"), max_deals=3))
    market = ReplayMarket(SyntheticDepthStream(seed=5), 4000)
    result = await Runner(bot, broker, market, RULES, mode="paper").run()
    fills = result.log.fills
    assert bot.deals_done >= 1
    assert any(f.side == "SELL" for f in fills)
    usdt = D("10000") + sum(
        (-(f.price * f.quantity) if f.side == "BUY" else f.price * f.quantity - f.commission)
        for f in fills
    )
    btc = sum((f.quantity - f.commission if f.side == "BUY" else -f.quantity) for f in fills)
    assert result.end_balances["USDT"].total == usdt
    assert result.end_balances["BTC"].total == btc
    assert result.end_mark is not None
    assert result.pnl.total == (usdt - D("10000")) + btc * result.end_mark


def test_a_take_profit_under_the_round_trip_fee_is_refused_in_numbers() -> None:
    params = DcaParams(D("100"), D("100"), 3, D("1"), D("0.15"))
    with pytest.raises(BotConfigError) as refused:
        check_fees(params, RULES, D("65000"), maker_fee=BINANCE_FEE, taker_fee=BINANCE_FEE)
    assert str(refused.value) == (
        "take profit 0.15% is not above the round-trip fee 0.2% (the market base order pays the "
        "taker fee 0.1%, the take profit the maker fee 0.1%): at 65000 the take profit is 97.5 "
        "USDT per BTC and the fees 130 USDT, so a deal cannot make money after fees: raise the "
        "take profit above 0.2% (the default is 1%), or pass --force (force=True) to run anyway"
    )
    [warning] = check_fees(
        DcaParams(D("100"), D("100"), 3, D("1"), D("0.15"), force=True),
        RULES,
        D("65000"),
        maker_fee=BINANCE_FEE,
        taker_fee=BINANCE_FEE,
    )
    assert warning.startswith("take profit 0.15% is not above") and "forced" in warning
    # The check counts the taker fee of the base order too: 0.15% clears 0.1% + 0.02%.
    assert check_fees(params, RULES, D("65000"), maker_fee=D("0.0002"), taker_fee=BINANCE_FEE) == []


@pytest.mark.parametrize(
    ("maker", "taker"), [("0.001", "0.001"), ("0.00075", "0.00075"), ("0.002", "0.004"), ("0", "0")]
)
def test_the_default_take_profit_clears_both_fees_with_room(maker: str, taker: str) -> None:
    tp = default_take_profit(D(maker), D(taker))
    round_trip_pct = (D(maker) + D(taker)) * 100
    assert tp >= D(1) and tp >= D("2.5") * round_trip_pct
    check_fees(DcaParams(D("100"), D("100"), 3, D("1"), tp), RULES, D("65000"),
               maker_fee=D(maker), taker_fee=D(taker))  # fmt: skip


def test_the_fee_rates_come_from_the_run() -> None:
    broker = PaperBroker(RULES, {"USDT": "1"}, maker_fee="0.0002", taker_fee="0.0004")
    assert venue_fees(broker) == (D("0.0002"), D("0.0004"))
    assert venue_fees(broker, D("0.001")) == (D("0.001"), D("0.0004"))  # given beats the venue's
    assert venue_fees(object()) == (BINANCE_FEE, BINANCE_FEE)  # a venue that does not say
    with pytest.raises(BotConfigError, match="maker_fee is a fraction"):
        venue_fees(object(), D("1.5"))


@pytest.mark.asyncio
async def test_the_bot_refuses_a_losing_take_profit_at_the_brokers_fees() -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "0"})  # 0.1% maker and taker
    bot = DcaBot(DcaParams(D("100"), D("100"), 3, D("0.0002"), D("0.1")))
    result = await Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=5), 300), RULES, mode="paper"
    ).run()
    assert result.error is not None and result.error.type == "BotConfigError"
    assert "take profit 0.1% is not above the round-trip fee 0.2%" in result.error.message
    assert result.log.orders_placed == 0
