"""``tradewire paper ...`` on tapes: the synthetic market (the main job's default) and recordings
(``--replay FILE``), in market time compressed ``--speed`` times, saying when the data ends; the
shipped sample plays as the recording."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tradewire.backtest.samples import sample_path
from tradewire.cli.main import main

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)
NARROW = ("--lower", "61500", "--upper", "62100", "--grids", "30", "--quantity", "0.002", "--force")


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADEWIRE_HOME", str(tmp_path / "home"))


def test_the_shipped_sample_is_the_recording() -> None:
    assert sample_path().read_bytes() == RECORDING.read_bytes()


@pytest.mark.slow
def test_a_replay_runs_in_compressed_market_time_and_says_when_it_ends(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.monotonic()
    argv = ["paper", "grid", "--replay", "sample", "--speed", "200", "--no-view", *NARROW]
    assert main([*argv, "--out", str(tmp_path / "paper")]) == 0
    wall = time.monotonic() - start
    out = capsys.readouterr().out
    assert "the recording ended after 346 s of market time" in out
    paper = json.loads((tmp_path / "paper" / "report.json").read_text())
    assert paper["stop_reason"] == "market_ended" and paper["speed"] == 200
    # 346 s of market at 200x is at least 1.7 s of wall time
    assert wall >= 346 / 200
    # the same bot on the same data as a backtest: the same fills and P&L, unless the paced run
    # fell behind on a busy machine and skipped late books, which its report and output say
    assert (
        main(["backtest", "grid", "--data", "sample", *NARROW, "--out", str(tmp_path / "bt")]) == 0
    )
    backtest = json.loads((tmp_path / "bt" / "report.json").read_text())
    skipped = paper["market"]["books_skipped"]
    if skipped == 0:
        assert paper["fills"] == backtest["fills"] > 10
        assert paper["total_pnl"] == backtest["total_pnl"]
    else:
        assert f"{skipped} late book updates skipped" in out
        assert paper["fills"] > 10 and backtest["fills"] > 10


def test_a_replay_stops_at_the_duration_in_wall_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["paper", "grid", "--replay", str(RECORDING), "--speed", "100", "--duration", "0.5"]
    assert main([*argv, "--no-view", *NARROW, "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["stop_reason"] == "duration"
    # 0.5 s of wall time at 100x: 50 s of market, never more; less on a loaded machine, where
    # the replay falls behind and skips books.
    assert 20 <= report["duration_s"] <= 55


def test_bad_replays_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["paper", "grid", "--replay", "sample", "--no-view", "--out", str(tmp_path)]
    assert main([*argv, "--speed", "0"]) == 2
    assert "--speed must be positive" in capsys.readouterr().err


def test_the_default_market_is_synthetic_seeded_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The main job's market: the calibrated synthetic one at 480x, from a printed seed.
    argv = ["paper", "grid", "--duration", "0.5", "--no-view"]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("synthetic BTCUSDT market")]
    seed = int(line.split("seed ")[1].split(",")[0])
    assert "volatility 50% a year, 480x: 0.5 s show 0.07 h" in line
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    assert report["exchange"] == "synthetic"
    market = report["market"]
    assert market.pop("books_skipped") >= 0  # a paced run says how many late books it skipped
    assert market == {"source": "synthetic", "seed": seed, "vol": 0.5, "speed": 480}
    assert report["stop_reason"] == "duration" and 230 <= report["duration_s"] <= 250
    assert report["orders"]["placed"] == 10 and report["warnings"] == []
    # The seed repeats the market: the same start, and its own options are kept.
    again = [*argv, "--seed", str(seed), "--vol", "0.8", "--speed", "60"]
    assert main([*again, "--out", str(tmp_path / "b")]) == 0
    assert f"seed {seed}, volatility 80% a year, 60x" in capsys.readouterr().out
    second = json.loads((tmp_path / "b" / "report.json").read_text())
    assert second["market"]["books_skipped"] >= 0
    del second["market"]["books_skipped"]
    assert second["market"] == {"source": "synthetic", "seed": seed, "vol": 0.8, "speed": 60}
    assert second["balances"]["start"] == report["balances"]["start"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--speed", "-2"], "--speed must be positive"),
        (["--vol", "0"], "--vol must be in (0, 5]"),
        (["--exchange", "binance", "--speed", "10"], "--speed does not apply to Binance"),
    ],
)
def test_bad_market_options_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    assert main(["paper", "grid", *options, "--no-view", "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "report.json").exists()
