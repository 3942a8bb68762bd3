"""``tradewire paper grid|dca`` end to end in a subprocess, on the local exchange."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import TYPE_CHECKING

import pytest

from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.slow
@pytest.mark.e2e
def test_paper_grid_writes_a_consistent_report(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = TradewireCommand(tmp_path / "home").run_sync(
        "paper", "grid", "--duration", "8", "--out", str(out)
    )
    assert done.status == 0, done.err
    assert "\x1b[" not in done.out  # no live view when stdout is not a terminal
    assert (out / "report.png").read_bytes()[:4] == b"\x89PNG"
    fig = json.loads((out / "report.json").read_text())
    assert 7.5 <= fig["duration_s"] < 20
    assert fig["fills"] > 0 and fig["market_events"] > 50
    assert D(fig["realized_pnl"]) + D(fig["unrealized_pnl"]) == D(fig["total_pnl"])
    assert D(fig["equity_change_at_end_price"]) == D(fig["total_pnl"])
    assert fig["orders"]["placed"] >= fig["fills"]
    assert str(out / "report.json") in done.out


@pytest.mark.slow
@pytest.mark.e2e
def test_without_out_it_says_where_it_wrote(tmp_path: Path) -> None:
    done = TradewireCommand(tmp_path).run_sync("paper", "grid", "--duration", "2")
    assert done.status == 0, done.err
    reports = list((tmp_path / "reports").glob("paper-grid-*/report.json"))
    assert len(reports) == 1 and str(reports[0]) in done.out


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
    assert D(fig["equity_change_at_end_price"]) == D(fig["total_pnl"])
