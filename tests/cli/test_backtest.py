"""``tradewire backtest grid|dca``: the fee check and the account's defaults, on the real
BTCUSDT recording in tests/data/market (2024-08-08, prices around 61,800)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradewire.cli.main import main

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
# 30 lines 20 USDT apart: 0.03% of the price, under the 0.2% a round trip costs at 0.1%.
NARROW = ("--lower", "61500", "--upper", "62100", "--grids", "30", "--quantity", "0.002")


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))  # the user's stays untouched


def test_a_grid_that_cannot_pay_its_fees_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["backtest", "grid", "--data", str(RECORDING), *NARROW, "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: grid step 20.00 USDT (from 62080.00 to 62100.00) is 0.0322% of")
    assert "costs 0.2% = 124 USDT per BTC there" in err
    assert not (tmp_path / "report.json").exists()
    # At a fee rate the step pays (0.01% maker: 12.4 USDT a round trip), it runs, unwarned.
    assert main([*argv, "--maker-fee", "0.0001"]) == 0
    fig = json.loads((tmp_path / "report.json").read_text())
    assert fig["warnings"] == [] and fig["fills"] > 0


def test_forced_the_backtest_runs_and_reports_why_it_loses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "backtest",
        "grid",
        "--data",
        str(RECORDING),
        *NARROW,
        "--force",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    err = capsys.readouterr().err
    fig = json.loads((tmp_path / "report.json").read_text())
    [warning] = fig["warnings"]
    assert warning.startswith("grid step 20.00 USDT") and warning.endswith(
        "(running anyway: forced)"
    )
    assert f"warning: {warning}" in err
    assert fig["fills"] > 0 and fig["fees"] != "0"
    # The account: 10,000 USDT (a dollar quote counts as USDT, whatever the minimum order value)
    # and base worth 6,500 USDT at the first price (0.11 BTC at ~61,800).
    assert fig["balances"]["start"] == {"BTC": "0.11", "USDT": "10000"}


def test_the_bnb_discount_lowers_the_rate_the_check_counts_with(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["backtest", "dca", "--data", str(RECORDING), "--take-profit", "0.18"]
    assert main([*argv, "--out", str(tmp_path / "full")]) == 1  # 0.18% < 0.2%
    assert "round-trip fee 0.2%" in capsys.readouterr().err
    assert main([*argv, "--bnb-discount", "--out", str(tmp_path / "bnb")]) == 0  # 0.18% > 0.15%
    assert json.loads((tmp_path / "bnb" / "report.json").read_text())["warnings"] == []
