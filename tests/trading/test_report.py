"""The report: consistent JSON figures and a PNG chart, from a real paper run."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.model import SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.report import write_report
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

if TYPE_CHECKING:
    from pathlib import Path

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


@pytest.mark.asyncio
async def test_report_figures_agree_and_the_chart_is_a_png(tmp_path: Path) -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001")))
    result = await Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 1500), RULES, mode="paper"
    ).run()
    json_path, png_path = write_report(result, tmp_path / "out")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = json.loads(json_path.read_text())
    assert fig["fills"] == len(result.log.fills) == fig["buy_fills"] + fig["sell_fills"] > 0
    assert D(fig["realized_pnl"]) + D(fig["unrealized_pnl"]) == D(fig["total_pnl"])
    assert D(fig["equity_change_at_end_price"]) == D(fig["total_pnl"])
    assert fig["orders"]["placed"] == fig["orders"]["open_at_end"] + fig["fills"]
    assert fig["api_latency"]["count"] == fig["orders"]["placed"]
    assert D(fig["max_drawdown"]) >= 0
