"""``tradewire backtest grid --venue ib``: a stock's trades or bars from a CSV file, US stock
rules (tick schedule, whole shares) and IBKR Pro fixed commissions in the simulation."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.backtest.data import TRADE_BUY, TRADE_SELL
from tradewire.cli.backtest import stock_tapes
from tradewire.rules import per_share_commission
from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from pathlib import Path

T0_MS = 1_764_599_400_000  # 2025-12-01 09:30 New York


def write_trades(path: Path, rows: int = 2_000) -> None:
    """AAPL trades swinging between 188 and 192 (a cent tick), 100 shares each, 1 s apart."""
    lines = ["time,price,size"]
    for i in range(rows):
        step = (i + 300) % 400  # from 190 down to 188, then up to 192 and back
        cents = 18_800 + (step if step < 200 else 400 - step) * 2
        lines.append(f"{T0_MS + i * 1000},{cents // 100}.{cents % 100:02d},100")
    path.write_text("\n".join(lines) + "\n")


def test_the_stock_reader_takes_trades_and_bars(tmp_path: Path) -> None:
    trades = tmp_path / "trades.csv"
    trades.write_text(
        "time,price,size\n2025-12-01T09:30:00-05:00,190.01,100\n1764599401000,190,5\n"
    )
    [tape] = list(stock_tapes(trades))
    assert tape.kind.tolist() == [TRADE_BUY, TRADE_SELL]
    assert tape.time_us.tolist() == [T0_MS * 1000, (T0_MS + 1000) * 1000]
    assert tape.price.tolist() == [19_001_000_000, 19_000_000_000]
    assert tape.qty.tolist() == [10_000_000_000, 500_000_000]
    bars = tmp_path / "bars.csv"
    bars.write_text(f"{T0_MS},190,191,189,190.5,400\n")
    [tape] = list(stock_tapes(bars))
    assert tape.price.tolist() == [p * 100_000_000 for p in (190, 189, 191)] + [19_050_000_000]
    assert tape.qty.tolist() == [10_000_000_000] * 4


def test_a_bad_row_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,price,size\n2025-12-01T09:30:00,190,1\n")
    cli = TradewireCommand(tmp_path / "home")
    status, _, err = cli.run_sync(
        "backtest", "grid", "--venue", "ib", "--symbol", "AAPL", "--data", str(bad)
    )
    assert status == 2
    assert "bad.csv line 2" in err and "UTC offset" in err


def test_a_grid_backtest_pays_ib_commissions(tmp_path: Path) -> None:
    data = tmp_path / "AAPL-trades.csv"
    write_trades(data)
    out = tmp_path / "report"
    cli = TradewireCommand(tmp_path / "home")
    status, stdout, stderr = cli.run_sync(
        "backtest",
        "grid",
        "--venue",
        "ib",
        "--symbol",
        "AAPL",
        "--data",
        str(data),
        "--lower",
        "188.5",
        "--upper",
        "191.5",
        "--grids",
        "3",
        "--out",
        str(out),
    )
    assert status == 0, stdout + stderr
    report = json.loads((out / "report.json").read_text())
    assert report["fills"] > 0
    assert set(report["fees_by_asset"]) == {"USD"}
    # Every fill is whole shares at a line; each pays IB's fixed rate (here its USD 1 minimum).
    end = report["balances"]["end"]
    assert Decimal(end["AAPL"]) % 1 == 0
    shares = Decimal(report["fills_by_side"]["BUY"]["quantity"]) + Decimal(
        report["fills_by_side"]["SELL"]["quantity"]
    )
    per_fill = shares / report["fills"]
    assert per_fill % 1 == 0
    expected = per_share_commission(per_fill, Decimal(190)) * report["fills"]
    assert Decimal(report["fees"]) == expected
