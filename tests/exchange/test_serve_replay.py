"""``tradewire exchange serve --replay FILE --speed N``: lists the recording's symbol, plays it
sped up, prints one line when the data ends and serves on."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

RECORDING = (
    Path(__file__).resolve().parent.parent
    / "data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)


@pytest.mark.e2e
def test_serve_replays_a_recording_says_when_it_ends_and_serves_on() -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradewire.exchange",
            "serve",
            "--replay",
            str(RECORDING),
            "--speed",
            "1000",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(6)]
        rest_url = dict(line.split(":", 1) for line in lines[:5])["REST API"].strip()
        assert lines[5].startswith("Ctrl-C")
        ended = process.stdout.readline()  # blocks until the data ends (~0.4 s at 1000x)
        assert ended.startswith(f"replay of {RECORDING} ended after 345.9 s of market time")
        info = httpx.get(f"{rest_url}/api/v3/exchangeInfo", timeout=10).json()
        assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]  # the recording's
        depth = httpx.get(f"{rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5", timeout=10).json()
        assert depth["bids"] and depth["asks"]
        assert process.poll() is None  # still serving
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        if process.stdout is not None:
            process.stdout.close()
