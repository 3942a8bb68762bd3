"""The report: one equity definition, figures that agree to the last digit, and a PNG."""

from __future__ import annotations

import json
import re
import warnings
from decimal import Decimal as D
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.bots import GridBot, GridParams
from tradewire.model import Balance, SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.trading.pnl import PnLTracker
from tradewire.trading.report import figures, write_report
from tradewire.trading.runner import Runner, RunResult
from tradewire.trading.strategy import RunLog
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import ReplayMarket

if TYPE_CHECKING:
    from pathlib import Path

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
PLAIN = re.compile(r"-?\d+(\.\d*[1-9])?")  # no exponent, no trailing zeros


def _amounts(fig: dict[str, Any]) -> list[str]:
    """Every string in the report that holds an amount."""
    out: list[str] = []
    for key, value in fig.items():
        if isinstance(value, dict):
            out += _amounts(value)
        elif isinstance(value, str) and key not in ("mode", "symbol", "stop_reason"):
            out.append(value)
    return out


@pytest.mark.asyncio
async def test_a_grid_run_with_fills_both_ways_agrees_to_the_last_digit(tmp_path: Path) -> None:
    broker = PaperBroker(RULES, {"USDT": "10000", "BTC": "1"})
    bot = GridBot(
        GridParams(D("64999.80"), D("65000.20"), 10, quantity_per_grid=D("0.001"), force=True)
    )
    result = await Runner(
        bot, broker, ReplayMarket(SyntheticDepthStream(seed=3), 1500), RULES, mode="paper"
    ).run()
    json_path, png_path = write_report(result, tmp_path / "out")
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig = json.loads(json_path.read_text())
    # Fills on both sides; Binance's fee assets: a buy pays in BTC, a sell in USDT.
    assert fig["buy_fills"] > 0 and fig["sell_fills"] > 0
    assert fig["fills"] == len(result.log.fills) == fig["buy_fills"] + fig["sell_fills"]
    assert set(fig["fees_by_asset"]) == {"BTC", "USDT"}
    assert D(fig["fees"]) == sum(
        (f.commission * (f.price if f.commission_asset == "BTC" else 1) for f in result.log.fills),
        D(0),
    )
    # One equity definition; every identity exact.
    total = D(fig["total_pnl"])
    assert D(fig["realized_pnl"]) + D(fig["unrealized_pnl"]) - D(fig["fees"]) == total
    assert D(fig["equity_change_at_end_price"]) == total
    assert fig["unexplained_equity_change"] == "0"
    start, end = result.start_balances, result.end_balances
    mark = D(fig["end_price"])
    assert (
        total
        == (end["USDT"].total - start["USDT"].total)
        + (end["BTC"].total - start["BTC"].total) * mark
    )
    assert D(fig["equity_change"]) == D(fig["end_equity"]) - D(fig["start_equity"])
    assert D(fig["equity_change"]) == total + D(fig["hold_pnl"])
    assert D(fig["hold_pnl"]) == start["BTC"].total * (mark - D(fig["start_price"]))
    assert D(fig["grid_profit"]) + D(fig["trend_pnl"]) == total
    assert D(fig["return_pct"]) == (total * 100 / D(fig["start_equity"])).quantize(D("1e-6"))
    # The curve (the PNG's and the live view's equity) starts and ends at the report's equity.
    points = result.log.curve.points
    assert points[0][2] == D(fig["start_equity"]) and points[-1][2] == D(fig["end_equity"])
    assert D(fig["max_drawdown"]) == max(
        max(p[2] for p in points[: i + 1]) - points[i][2] for i in range(len(points))
    )  # every sample is kept in a run this short
    assert D(fig["volume"]) == D(fig["fills_by_side"]["BUY"]["quote"]) + D(
        fig["fills_by_side"]["SELL"]["quote"]
    )
    assert 0 < D(fig["exposure_pct"]) <= 100
    assert fig["stop_reason"] == "market_ended" and fig["error"] is None
    for amount in _amounts(fig):
        assert PLAIN.fullmatch(amount), amount
    assert fig["orders"]["placed"] == fig["orders"]["open_at_end"] + fig["fills"]
    assert fig["api_latency"]["count"] == fig["orders"]["placed"]


def _result(**changes: Any) -> RunResult:
    tracker = PnLTracker("BTC", "USDT")
    values: dict[str, Any] = {
        "mode": "paper",
        "symbol": "BTCUSDT",
        "base_asset": "BTC",
        "quote_asset": "USDT",
        "started_ms": 1_000,
        "ended_ms": 11_000,
        "start_balances": {"USDT": Balance("USDT", D("1000.0000000000"))},
        "end_balances": {"USDT": Balance("USDT", D("1000.0000000000"))},
        "start_mark": D("100.000"),
        "end_mark": D("100.000"),
        "pnl": tracker.snapshot(D("100.000")),
        "open_orders": [],
        "log": RunLog(started_ms=1_000),
        "stop_reason": "duration",
    }
    values.update(changes)
    return RunResult(**values)


def test_amounts_are_plain_decimal_strings_and_an_idle_run_says_why_it_ended() -> None:
    fig = figures(_result())
    assert fig["total_pnl"] == fig["fees"] == fig["max_drawdown"] == "0"
    assert fig["start_equity"] == fig["end_equity"] == "1000"
    assert fig["return_pct"] == "0"
    assert fig["exposure_pct"] == "0"
    assert fig["stop_reason"] == "duration" and fig["duration_s"] == 10.0
    json.dumps(fig)  # no Decimal, no float for money


def test_without_a_price_nothing_is_valued() -> None:
    fig = figures(_result(start_mark=None, end_mark=None, stop_reason="market_ended"))
    assert fig["start_equity"] is None and fig["return_pct"] is None
    assert fig["equity_change_at_end_price"] is None and fig["total_pnl"] == "0"


def test_the_chart_of_a_run_that_saw_no_market_says_so_without_a_warning(
    tmp_path: Path,
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns of a legend with nothing in it
        _, png = write_report(_result(start_mark=None, end_mark=None), tmp_path)
    assert png.read_bytes().startswith(b"\x89PNG")
