"""The extension does not leak: resident memory stays flat over many parses and updates."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest

from tradewire import OrderBook, ParseError, Signer
from tradewire.binance import parse_message, sign_params
from tradewire.testing.synthetic import SyntheticDepthStream

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/status")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_hot_paths_do_not_grow_memory() -> None:
    stream = SyntheticDepthStream(seed=2)
    snapshot = stream.snapshot()
    events = list(stream.events(2000))
    signer = Signer.from_secret("secret")
    bad = events[0][:-3]

    def work() -> None:
        book = OrderBook("BTCUSDT")
        book.apply_snapshot(snapshot)
        for raw in events:
            book.apply_depth_update(raw)
            parse_message(raw)
            book.best_bid()
            book.depth(5)
            with pytest.raises(ParseError):
                parse_message(bad)
        params: dict[str, str | int] = {"symbol": "BTCUSDT", "quantity": "1", "timestamp": 1}
        sign_params(signer, params)

    work()  # warm up allocator pools and caches
    gc.collect()
    before = rss_kib()
    for _ in range(10):
        work()
    gc.collect()
    grown = rss_kib() - before
    # 20,000 updates, parses and errors: a leak of even 100 bytes each would show as ~2 MiB.
    assert grown < 1024, f"resident memory grew by {grown} KiB"
