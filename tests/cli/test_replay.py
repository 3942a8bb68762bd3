"""``tradewire replay``: a synthetic or recorded depth stream through an order book."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tradewire import OrderBook
from tradewire.testing.command import TradewireCommand
from tradewire.testing.synthetic import SyntheticDepthStream

if TYPE_CHECKING:
    from pathlib import Path


def expected_book(symbol: str, seed: int, count: int) -> OrderBook:
    """The book the command should end with, built here from the same stream."""
    stream = SyntheticDepthStream(symbol, seed=seed)
    book = OrderBook(symbol)
    book.apply_snapshot(stream.snapshot())
    for event in stream.events(count):
        assert book.apply_depth_update(event)
    return book


def printed_levels(out: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The asks (best first) and bids the command printed."""
    rows = [line.split() for line in out.splitlines() if line.endswith(("  ask", "  bid"))]
    asks = [(price, qty) for price, qty, side in rows if side == "ask"]
    bids = [(price, qty) for price, qty, side in rows if side == "bid"]
    return asks[::-1], bids


@pytest.mark.e2e
def test_a_synthetic_replay_prints_the_book_it_built(tmp_path: Path) -> None:
    status, out, err = TradewireCommand(tmp_path).run_sync(
        "replay", "--count", "300", "--seed", "3", "--depth", "3"
    )
    assert status == 0, err
    book = expected_book("BTCUSDT", 3, 300)
    assert "replayed 300 events from synthetic stream: 300 applied, 0 stale" in out
    assert f"at update id {book.last_update_id}: {book.bid_count} bids" in out
    assert printed_levels(out) == (book.asks(3, exact=True), book.bids(3, exact=True))


@pytest.mark.e2e
def test_a_recorded_capture_replays_only_its_symbol(tmp_path: Path) -> None:
    btc, eth = SyntheticDepthStream("BTCUSDT", seed=5), SyntheticDepthStream("ETHUSDT", seed=6)
    (tmp_path / "capture.snapshot.json").write_bytes(btc.snapshot())
    lines = [b"wss://stream.binance.com:9443/stream?streams=... <-> 1633998511.1"]
    for i, (b, e) in enumerate(zip(btc.events(40), eth.events(40), strict=True)):
        lines += [b"%d.5: %s" % (i, b), b"%d.6: %s" % (i, e)]
    (tmp_path / "capture.txt").write_bytes(b"\n".join(lines) + b"\n")
    status, out, err = TradewireCommand(tmp_path).run_sync(
        "replay", str(tmp_path / "capture.txt"), "--snapshot",
        str(tmp_path / "capture.snapshot.json"), "--depth", "2",
    )  # fmt: skip
    assert status == 0, err
    book = expected_book("BTCUSDT", 5, 40)
    assert "replayed 40 events" in out and "40 applied, 0 stale" in out
    assert printed_levels(out) == (book.asks(2, exact=True), book.bids(2, exact=True))


@pytest.mark.e2e
def test_a_missing_snapshot_is_refused(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_bytes(next(SyntheticDepthStream().events(1)) + b"\n")
    status, out, err = TradewireCommand(tmp_path).run_sync("replay", str(tmp_path / "events.jsonl"))
    assert status == 2 and out == ""
    assert f"no snapshot: pass --snapshot (looked for {tmp_path / 'events.snapshot.json'})" in err
