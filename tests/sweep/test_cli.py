"""``tradewire sweep``: the three files, refused points in them, usage errors before any run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tradewire.cli.main import main

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)


def _trades_csv(path: Path, rows: int) -> Path:
    """A Binance trades file: the price swings $6 around 60,000 every 400 trades."""
    lines = []
    for i in range(rows):
        swing = 600 * ((i // 100) % 4 in (1, 2)) - 300  # -3 or +3 dollars, in cents
        cents = 6_000_000 + swing + (i % 7) - 3
        buyer_is_maker = "True" if i % 2 else "False"
        lines.append(
            f"{i},{cents // 100}.{cents % 100:02d},0.01000000,600.00,"
            f"{1_700_000_000_000 + 50 * i},{buyer_is_maker},True"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_grid_sweep_writes_json_csv_and_a_heatmap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _trades_csv(tmp_path / "BTCUSDT-trades-2023-11-14.csv", 4000)
    out = tmp_path / "out"
    status = main(
        [
            "sweep", "grid", "--data", str(data), "--upper", "60005", "--force",
            "--param", "grids=4,8", "--param", "lower=59995,60010",
            "--workers", "2", "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["points_total"] == 4 and doc["points_failed"] == 2
    assert doc["settings"]["space"] == {"grids": ["4", "8"], "lower": ["59995", "60010"]}
    assert doc["settings"]["bot"] == "grid" and doc["settings"]["symbol"] == "BTCUSDT"
    assert doc["executor"] == {"executor": "local", "workers": 2}
    assert doc["wall_s"] > 0
    points = doc["points"]
    assert [p["params"] for p in points] == [
        {"grids": 4, "lower": "59995"},
        {"grids": 4, "lower": "60010"},
        {"grids": 8, "lower": "59995"},
        {"grids": 8, "lower": "60010"},
    ]
    ran = [p for p in points if p["error"] is None]
    refused = [p for p in points if p["error"] is not None]
    assert [p["params"]["lower"] for p in ran] == ["59995", "59995"]
    assert all(p["fills"] > 0 and p["events"] == 4000 for p in ran)
    assert all("lower_price < upper_price" in p["error"] for p in refused)
    best = max(ran, key=lambda p: float(p["total_pnl"]))
    assert doc["best"] == best
    with (out / "sweep.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["total_pnl"] for r in rows] == [p["total_pnl"] or "" for p in points]
    assert rows[1]["error"] == refused[0]["error"]
    assert (out / "heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr()
    assert "4 points" in printed.out and "2 refused or failed" in printed.out
    assert f"best total_pnl: {best['total_pnl']}" in printed.out


def test_a_sampled_sweep_of_a_user_strategy_runs_that_many_points(tmp_path: Path) -> None:
    source = tmp_path / "bidder.py"
    source.write_text(
        "from decimal import Decimal\n"
        "from tradewire.trading.strategy import Strategy\n"
        "class Bidder(Strategy):\n"
        "    def __init__(self, below: str, size: str) -> None:\n"
        "        self.below, self.size = Decimal(below), Decimal(size)\n"
        "    async def on_start(self, ctx):\n"
        "        await ctx.buy(self.size, ctx.book.best_bid - self.below)\n"
    )
    out = tmp_path / "out"
    status = main(
        [
            "sweep", "run", f"{source}:Bidder", "--data", str(RECORDING), "--arg", "size=0.001",
            "--param", "below=0,1,2,5,10,20", "--samples", "3", "--seed", "11",
            "--workers", "1", "--metric", "fills", "--out", str(out),
        ]
    )  # fmt: skip
    assert status == 0
    doc = json.loads((out / "sweep.json").read_text())
    assert doc["points_total"] == 3 and doc["points_failed"] == 0
    assert doc["settings"]["samples"] == 3 and doc["settings"]["seed"] == 11
    assert len({p["params"]["below"] for p in doc["points"]}) == 3
    assert doc["metric"] == "fills"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--param", "gridz=4,8"], "no parameter 'gridz'"),
        (["--param", "grids=four"], "'four' is not a valid value"),
        (["--param", "spacing=linear"], "not one of"),
        (["--param", "upper=60010", "--upper", "60005"], "given both"),
        (["--param", "grids=4", "--executor", "local", "--ray-address", "auto"], "ray"),
    ],
)
def test_usage_errors_stop_the_sweep_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "out"
    status = main(["sweep", "grid", "--data", str(RECORDING), "--out", str(out), *extra])
    assert status == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_data_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["sweep", "grid", "--data", str(tmp_path / "nope.csv"), "--param", "grids=4"])
    assert status == 2
    assert "no such data file" in capsys.readouterr().err
