"""The live view shows the report's P&L and equity (one definition for both)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.cli.view import render
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.report import figures
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


@pytest.mark.asyncio
async def test_the_view_shows_the_reports_total_and_equity() -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    runner = Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 1500), RULES, mode="paper"
    )
    result = await runner.run()
    fig = figures(result)
    assert fig["fills"] > 0
    text = render(runner.ctx, color=False)
    [pnl_line] = [x for x in text.splitlines() if x.startswith("pnl ")]
    [equity_line] = [x for x in text.splitlines() if x.startswith("equity ")]
    assert f"total {D(fig['total_pnl']):.4f} USDT" in pnl_line
    assert f"fees {D(fig['fees']):.4f}" in pnl_line
    assert f"equity {D(fig['end_equity']):.4f} USDT" in equity_line
    assert f"grid profit {D(fig['grid_profit']):.4f}" in equity_line
    assert "\x1b[" not in text
