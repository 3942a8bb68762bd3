"""``tradewire record``: Binance's market streams, with depth snapshots, to a file backtests read.

The file holds ``<receive_ns> <json>`` lines (gzip when its name ends in ``.gz``): the depth diffs
(``depth@100ms``) with their REST snapshots, the trades and the bookTickers of every symbol, as
``tradewire.binance.recorder`` describes. Read it back with
``tradewire.backtest.data.read_tape(FILE, SYMBOL)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from tradewire.binance.client import BinanceClient
from tradewire.binance.recorder import Recorder, RecorderStats
from tradewire.binance.streams import StreamClient
from tradewire.binance.urls import BINANCE, endpoints
from tradewire.cli.session import stop_on_signals

if TYPE_CHECKING:
    import argparse

__all__ = ["progress_status", "register", "show_progress"]


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``tradewire record`` to the command's subparsers."""
    p = commands.add_parser(
        "record",
        help="record Binance market streams (depth with snapshots, trades, bookTicker) to a file",
        description=__doc__,
    )
    p.add_argument("symbols", nargs="+", metavar="SYMBOL", help="symbols to record, e.g. BTCUSDT")
    p.add_argument("--out", type=Path, required=True, help="the file to write (.gz: gzip)")
    p.add_argument("--duration", type=float, help="seconds to record (default: until Ctrl-C)")
    p.add_argument(
        "--rest-url",
        "--base-url",
        dest="rest_url",
        default=BINANCE.rest_url,
        help=f"the exchange's REST URL, for the depth snapshots (default {BINANCE.rest_url})",
    )
    p.add_argument("--stream-url", help="market streams URL (default: follows --rest-url)")
    p.add_argument("--limit", type=int, default=1000, help="levels per depth snapshot")
    p.set_defaults(func=_record)


def _record(args: argparse.Namespace) -> int:
    if args.duration is not None and args.duration <= 0:
        print("--duration must be positive", file=sys.stderr)
        return 2
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    urls = endpoints(args.rest_url, args.stream_url)
    stop = stop_on_signals()
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            BinanceClient(
                rest_url=urls.rest_url, stream_url=urls.stream_url, load_exchange_info=False
            )
        )
        streams = await stack.enter_async_context(StreamClient(urls.stream_url))
        recorder = Recorder(streams, client.depth_raw, args.symbols, args.out, limit=args.limit)
        print(
            f"recording {', '.join(recorder.symbols)} from {urls.stream_url} to {args.out}"
            + (f" for {args.duration:g} s" if args.duration else " (Ctrl-C to stop)"),
            flush=True,
        )
        shown = asyncio.create_task(show_progress(recorder.stats, args.duration))
        try:
            stats = await recorder.run(duration_s=args.duration, stop=stop)
        finally:
            shown.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await shown
    trades = sum(stats.trades.values())
    depth = sum(stats.depth_updates.values())
    print(
        f"wrote {stats.lines:,} lines ({stats.bytes:,} bytes before compression) to {args.out}: "
        f"{stats.snapshots} snapshots, {depth:,} depth updates, {trades:,} trades, "
        f"{stats.reconnects} reconnects"
    )
    return 0


def progress_status(stats: RecorderStats) -> str:
    """What a recording wrote so far, in one short line."""
    return (
        f"{stats.lines:,} lines, {stats.bytes / 1e6:,.1f} MB, "
        f"{sum(stats.depth_updates.values()):,} depth updates, "
        f"{sum(stats.trades.values()):,} trades, {stats.reconnects} reconnects"
    )


async def show_progress(
    stats: RecorderStats, duration_s: float | None, *, interval_s: float = 0.5
) -> None:
    """A status line on stderr, if it is a terminal, until canceled: the counts of ``stats``
    and, with a duration, a bar of the time recorded."""
    progress = Progress(
        SpinnerColumn(),
        TextColumn("recording"),
        *([BarColumn()] if duration_s is not None else []),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )
    if progress.disable:
        return
    loop = asyncio.get_running_loop()
    started = loop.time()
    task = progress.add_task("record", total=duration_s, status=progress_status(stats))
    with progress:
        while True:
            progress.update(task, completed=loop.time() - started, status=progress_status(stats))
            await asyncio.sleep(interval_s)
