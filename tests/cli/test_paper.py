"""``tradewire paper grid|dca`` end to end in a subprocess, on the local exchange."""

from __future__ import annotations

import json
import textwrap
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
    total = D(fig["total_pnl"])
    assert D(fig["realized_pnl"]) + D(fig["unrealized_pnl"]) - D(fig["fees"]) == total
    assert D(fig["equity_change_at_end_price"]) == total
    assert D(fig["grid_profit"]) + D(fig["trend_pnl"]) == total
    assert fig["stop_reason"] == "duration" and fig["error"] is None
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
