"""``tradewire paper grid|dca`` end to end in a subprocess: on the synthetic market (the
default) and on the local exchange."""

from __future__ import annotations

import json
import textwrap
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from pathlib import Path


# 10 grids over 0.60 USDT around the markets' start at 65,000: steps of 0.06 USDT, which fill at
# once but cannot pay the 0.2% a round trip costs.
NARROW = ("--lower", "64999.70", "--upper", "65000.30")
LOCAL = ("--exchange", "local", "--seed", "1")


@pytest.mark.slow
@pytest.mark.e2e
def test_paper_grid_writes_a_consistent_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = TradewireCommand(tmp_path / "home").run_sync(
        "paper", "grid", *LOCAL, *NARROW, "--force", "--duration", "8", "--out", str(out)
    )
    assert done.status == 0, done.err
    assert "\x1b[" not in done.out  # no live view when stdout is not a terminal
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    fig = json.loads((out / "report.json").read_text())
    assert 7.5 <= fig["duration_s"] < 20
    assert fig["fills"] > 0 and fig["market_events"] > 50
    total = D(fig["total_pnl"])
    assert D(fig["realized_pnl"]) + D(fig["unrealized_pnl"]) - D(fig["fees"]) == total
    assert D(fig["equity_change_at_end_price"]) == total
    assert D(fig["grid_profit"]) + D(fig["trend_pnl"]) == total
    assert fig["stop_reason"] == "duration" and fig["error"] is None
    assert fig["orders"]["placed"] >= fig["fills"]
    assert str(out / "report.json") in done.out
    # Forced past the fee check: the warning is on the terminal and in the report.
    [warning] = fig["warnings"]
    assert warning.startswith("grid step 0.06 USDT") and "costs 0.2% = 130 USDT per BTC" in warning
    assert f"warning: {warning}" in done.err


@pytest.mark.e2e
def test_a_grid_that_cannot_pay_its_fees_is_refused_in_numbers(tmp_path: Path) -> None:
    done = TradewireCommand(tmp_path).run_sync("paper", "grid", *LOCAL, *NARROW, "--duration", "5")
    assert done.status == 1
    [line] = [x for x in done.err.splitlines() if x.startswith("error:")]
    assert line.startswith("error: grid step 0.06 USDT (from 65000.24 to 65000.30) is 0.0000923%")
    assert "costs 0.2% = 130 USDT per BTC there" in line and "--force" in line
    assert not (tmp_path / "reports").exists()  # nothing ran


@pytest.mark.slow
@pytest.mark.e2e
def test_without_out_it_says_where_it_wrote(tmp_path: Path) -> None:
    # The main command's defaults: 10 lines 0.5% apart, which clear the fees, on the synthetic
    # market (which starts at BTCUSDT's measured 61,837.63): 10,000 USDT and 0.11 BTC.
    done = TradewireCommand(tmp_path).run_sync("paper", "grid", "--duration", "2")
    assert done.status == 0, done.err
    reports = list((tmp_path / "reports").glob("paper-grid-*/report.json"))
    assert len(reports) == 1 and str(reports[0]) in done.out
    fig = json.loads(reports[0].read_text())
    assert fig["warnings"] == [] and "warning" not in done.err
    assert fig["balances"]["start"] == {"BTC": "0.11", "USDT": "10000"}
    # the 10 lines, and at most one more order for each fill (an order filled in parts is
    # answered once) in the 16 minutes of market 2 s show
    assert 10 <= fig["orders"]["placed"] <= 10 + fig["fills"]


@pytest.mark.slow
@pytest.mark.e2e
def test_paper_balances_are_in_the_symbols_own_assets(tmp_path: Path) -> None:
    out = tmp_path / "eth"
    done = TradewireCommand(tmp_path / "home").run_sync(
        "paper", "grid", *LOCAL, "--symbol", "ETHBTC", "--duration", "1", "--out", str(out)
    )
    assert done.status == 0, done.err
    fig = json.loads((out / "report.json").read_text())
    # 0.2 BTC (10,000 USDT's worth by the symbol's minimum order value) and 2.4 ETH, worth
    # 0.13 BTC at the local market's 0.054: the grid trades ETH against BTC, with no USDT.
    assert fig["balances"]["start"] == {"BTC": "0.2", "ETH": "2.4"}
    assert fig["warnings"] == [] and fig["orders"]["placed"] == 10


@pytest.mark.e2e
def test_bad_grid_is_refused_with_a_reason(tmp_path: Path) -> None:
    done = TradewireCommand(tmp_path).run_sync(
        "paper", "grid", "--lower", "1", "--upper", "2", "--duration", "1"
    )
    assert done.status != 0
    assert "outside the grid" in done.err


@pytest.mark.slow
@pytest.mark.e2e
def test_paper_dca_opens_a_deal_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "dca"
    done = TradewireCommand(tmp_path / "home").run_sync(
        "paper", "dca", "--duration", "4", "--out", str(out)
    )
    assert done.status == 0, done.err
    fig = json.loads((out / "report.json").read_text())
    assert fig["bot"] == "dca"
    assert fig["fills"] >= 1  # the base order is a market buy
    assert fig["warnings"] == []  # the default take profit (1%) clears the 0.2% round trip
    assert D(fig["equity_change_at_end_price"]) == D(fig["total_pnl"])


# The grid bot's timer raises: a bug in a strategy, one second into the run.
FAILING_TIMER = textwrap.dedent(
    """
    from tradewire.bots.grid import GridBot
    async def on_timer(self, ctx):
        raise RuntimeError("grid timer failed\\non a second line")
    GridBot.on_timer = on_timer
    """
)


@pytest.mark.slow
@pytest.mark.e2e
def test_a_bot_that_raises_stops_at_once_exits_non_zero_and_keeps_its_report(
    tmp_path: Path,
) -> None:
    out = tmp_path / "run"
    done = TradewireCommand(tmp_path / "home").run_sync(
        "paper", "grid", "--duration", "10", "--out", str(out), prelude=FAILING_TIMER
    )
    assert done.status == 1, done.err
    assert "Traceback" not in done.err
    [line] = [x for x in done.err.splitlines() if x.startswith("error:")]
    assert line == (
        "error: the run stopped: on_timer raised RuntimeError: grid timer failed on a second "
        f"line (report: {out / 'report.json'})"
    )
    fig = json.loads((out / "report.json").read_text())
    assert fig["stop_reason"] == "error"
    assert fig["error"] == {
        "type": "RuntimeError",
        "message": "grid timer failed\non a second line",
        "callback": "on_timer",
    }
    assert fig["duration_s"] < 2.5  # the first timer is 1 s in; the duration was 10 s
    assert fig["orders"]["placed"] > 0 and fig["orders"]["open_at_end"] == 0  # canceled
    assert D(fig["equity_change_at_end_price"]) == D(fig["total_pnl"])
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
