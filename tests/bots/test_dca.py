"""The DCA bot: the safety-order ladder, validation, and a paper run on a replayed market."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.bots import DcaBot, DcaParams
from tradewire.bots.params import dca_ladder
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
