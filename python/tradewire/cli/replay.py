"""``tradewire replay``: a depth stream (synthetic or recorded) through an order book."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire._core import OrderBook
from tradewire.testing.synthetic import SyntheticDepthStream

if TYPE_CHECKING:
    import argparse

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``tradewire replay`` to the command's subparsers."""
    replay = commands.add_parser(
        "replay",
        help="replay a depth stream into an order book and print its top and throughput",
        description=(
            "Replay Binance depthUpdate events into a tradewire OrderBook. Without a file, "
            "a deterministic synthetic stream is generated."
        ),
    )
    replay.add_argument(
        "events_file", nargs="?", help="JSON lines of depthUpdate events (default: synthetic)"
    )
    replay.add_argument("--snapshot", help="REST depth body (default: EVENTS.snapshot.json)")
    replay.add_argument("--symbol", default="BTCUSDT", help="the book's symbol")
    replay.add_argument("--count", type=int, default=20_000, help="synthetic events to generate")
    replay.add_argument("--seed", type=int, default=7, help="seed of the synthetic stream")
    replay.add_argument("--depth", type=int, default=5, help="levels to print per side")
    replay.set_defaults(func=_replay)


def _read_events(path: Path, symbol: str) -> list[bytes]:
    """``symbol``'s depth events from a JSON-lines file (``<time>: <json>`` capture lines too)."""
    events = []
    tag = f'"s":"{symbol}"'.encode()
    for line in path.read_bytes().splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith(b"{"):
            _, sep, rest = line.partition(b": ")
            if not sep or not rest.startswith(b"{"):
                continue  # a capture header such as "wss://... <-> time"
            line = rest
        if b"depthUpdate" in line and tag in line:
            events.append(line)
    return events


def _replay(args: argparse.Namespace) -> int:
    if args.events_file is None:
        stream = SyntheticDepthStream(args.symbol, seed=args.seed)
        snapshot = stream.snapshot()
        print(f"generating {args.count:,} synthetic {args.symbol} depth events (seed {args.seed})")
        events = list(stream.events(args.count))
        source = "synthetic stream"
    else:
        path = Path(args.events_file)
        snapshot_path = Path(args.snapshot) if args.snapshot else path.with_suffix(".snapshot.json")
        if not snapshot_path.exists():
            print(f"no snapshot: pass --snapshot (looked for {snapshot_path})", file=sys.stderr)
            return 2
        snapshot = snapshot_path.read_bytes()
        events = _read_events(path, args.symbol)
        source = str(path)
    book = OrderBook(args.symbol)
    book.apply_snapshot(snapshot)
    applied = stale = 0
    size = sum(len(e) for e in events)
    start = time.perf_counter()
    for raw in events:
        if book.apply_depth_update(raw):
            applied += 1
        else:
            stale += 1
        book.best_bid()
        book.best_ask()
    elapsed = time.perf_counter() - start
    print(f"replayed {len(events):,} events from {source}: {applied:,} applied, {stale:,} stale")
    if events and elapsed > 0:
        print(
            f"parse + apply + top of book: {elapsed / len(events) * 1e6:.2f} us/event, "
            f"{len(events) / elapsed:,.0f} events/s, {size / elapsed / 1e6:.1f} MB/s"
        )
    print(
        f"book {book.symbol} at update id {book.last_update_id}: "
        f"{book.bid_count} bids, {book.ask_count} asks"
    )
    asks = book.asks(args.depth, exact=True)
    bids = book.bids(args.depth, exact=True)
    print(f"{'price':>20} {'quantity':>20}")
    for price, qty in reversed(asks):
        print(f"{price:>20} {qty:>20}  ask")
    for price, qty in bids:
        print(f"{price:>20} {qty:>20}  bid")
    spread = book.spread()
    if spread is not None:
        print(f"spread {spread:.8g}, mid {book.mid():.8g}")
    return 0
