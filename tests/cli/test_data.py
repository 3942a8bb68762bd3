"""``tradewire data synth``: the synthetic market written as a recording the backtests read."""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from tradewire._core import __version__
from tradewire.backtest.data import read_tape, recording_meta
from tradewire.backtest.synth import synth_tapes
from tradewire.cli.main import main

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tradewire._core import Tape


def _columns(tapes: list[Tape]) -> list[list[int]]:
    return [
        np.concatenate([t.kind for t in tapes]).tolist(),
        np.concatenate([t.time_us for t in tapes]).tolist(),
        np.concatenate([t.price for t in tapes]).tolist(),
        np.concatenate([t.qty for t in tapes]).tolist(),
    ]


def test_synth_writes_a_recording_that_reads_back_as_the_generated_market(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "btc.jsonl.gz"
    argv = ["data", "synth", "--hours", "0.02", "--seed", "77", "--out", str(out)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == "seed 77\n"
    assert "rows/s" in captured.err and "x real time" in captured.err
    assert "\x1b[" not in captured.err  # no progress bar: stderr is not a terminal
    first = out.read_bytes()
    meta, snapshot = gzip.decompress(first).split(b"\n", 2)[:2]
    # The first line says what made the file; the readers skip it.
    assert meta.startswith(b'1704067200000000000 {"stream":"tradewire@meta"')
    assert recording_meta(out) == {
        "source": "synthetic",
        "generator": f"tradewire {__version__} data synth",
        "symbol": "BTCUSDT",
        "seed": 77,
        "vol": 0.5,
        "drift": 0.0,
        "hours": 0.02,
        "range_day": False,
    }
    assert snapshot.startswith(b'1704067200000000000 {"stream":"btcusdt@depth')
    back = list(read_tape(out, "BTCUSDT"))
    assert _columns(back) == _columns(list(synth_tapes("BTCUSDT", 0.02, seed=77)))
    # The same seed writes the same bytes (gzip header included).
    assert main(argv) == 0
    assert out.read_bytes() == first


def test_synth_without_a_seed_prints_the_one_it_drew(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "eth.jsonl"
    argv = ["data", "synth", "--symbol", "ethusdt", "--hours", "0.005", "--out", str(out)]
    argv += ["--vol", "0.8", "--range-day", "--start", "2025-01-02T03:04:05Z"]
    assert main(argv) == 0
    seed = int(capsys.readouterr().out.removeprefix("seed "))
    assert (
        out.read_bytes()
        .split(b"\n")[1]
        .startswith(b'1735787045000000000 {"stream":"ethusdt@depthSnapshot"')
    )
    made_by = recording_meta(out)
    assert made_by is not None
    assert (made_by["seed"], made_by["vol"], made_by["range_day"]) == (seed, 0.8, True)
    again = list(
        synth_tapes(
            "ETHUSDT",
            0.005,
            seed,
            vol=0.8,
            range_day=True,
            start=datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
        )
    )
    assert _columns(list(read_tape(out, "ETHUSDT"))) == _columns(again)


def test_an_unknown_symbol_is_an_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.jsonl"
    assert main(["data", "synth", "--symbol", "NOPEUSDT", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "no built-in trading rules for 'NOPEUSDT'" in err
    assert not out.exists()
    assert main(["data", "synth", "--start-price", "abc", "--out", str(out)]) == 1
    assert "--start-price: not a number" in capsys.readouterr().err


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_synth_shows_a_progress_bar_on_a_terminal_and_keeps_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = Terminal()
    monkeypatch.setattr("sys.stderr", stderr)
    monkeypatch.setenv("COLUMNS", "120")
    out = tmp_path / "btc.jsonl"
    assert main(["data", "synth", "--hours", "0.05", "--seed", "5", "--out", str(out)]) == 0
    assert capsys.readouterr().out == "seed 5\n"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr.getvalue())
    # The bar counts market seconds and rows; the summary line follows it.
    assert re.search(r"synth BTCUSDT .* [0-9,]+ s of market, [0-9,]+ rows", text)
    assert "rows/s" in text.splitlines()[-1]


def test_a_backtest_of_a_synthetic_file_reports_its_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "day.jsonl.gz"
    assert main(["data", "synth", "--hours", "0.05", "--seed", "31", "--out", str(data)]) == 0
    out = tmp_path / "bt"
    assert main(["backtest", "grid", "--data", str(data), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    made_by = report["data_meta"][str(data)]
    assert (made_by["source"], made_by["seed"], made_by["hours"]) == ("synthetic", 31, 0.05)
    # paper over the same file says it too
    paper = tmp_path / "paper"
    argv = ["paper", "grid", "--replay", str(data), "--speed", "1000", "--no-view"]
    assert main([*argv, "--duration", "0.2", "--out", str(paper)]) == 0
    market = json.loads((paper / "report.json").read_text())["market"]
    assert market["recording_meta"]["seed"] == 31
    # a file that does not say (a real recording) adds nothing
    sample = tmp_path / "bt-sample"
    assert main(["backtest", "grid", "--data", "sample", "--out", str(sample)]) == 0
    assert "data_meta" not in json.loads((sample / "report.json").read_text())
    assert recording_meta(tmp_path / "missing.csv") is None
