"""``tradewire data synth``: a synthetic market written as a recording the backtests read.

The market is ``tradewire.backtest.synth``'s (calibrated to Binance spot BTCUSDT; see
docs/market.md), written in the recorded-stream format (``<receive_ns> <json>`` lines: a depth
snapshot, then ``depthUpdate`` and ``trade`` frames; gzip when the name ends in ``.gz``), far
faster than real time. The seed is printed: the same seed writes the same bytes. Read it back
with ``tradewire backtest ... --data FILE`` or ``tradewire.backtest.data.read_tape(FILE, SYMBOL)``.
"""

from __future__ import annotations

import gzip
import secrets
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tradewire._core import __version__
from tradewire.backtest.data import meta_line
from tradewire.backtest.symbols import default_rules
from tradewire.backtest.synth import DEFAULT_START, RecordingWriter, synth_tapes
from tradewire.errors import BacktestError

if TYPE_CHECKING:
    import argparse

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``tradewire data`` to the command's subparsers."""
    data = commands.add_parser("data", help="market data: synthesize", description=__doc__)
    sub = data.add_subparsers(dest="data_command", required=True)
    p = sub.add_parser(
        "synth",
        help="write a synthetic market (calibrated to BTCUSDT spot) as a recording",
        description=__doc__,
    )
    p.add_argument("--symbol", default="BTCUSDT", help="the symbol (default %(default)s)")
    p.add_argument(
        "--exchange-info",
        type=Path,
        help="an exchangeInfo JSON file to take the symbol's rules from (default: built in)",
    )
    p.add_argument(
        "--hours", type=float, default=1.0, help="market time to write (default %(default)s)"
    )
    p.add_argument("--seed", type=int, help="the seed (default: a random one, printed)")
    p.add_argument("--out", type=Path, required=True, help="the file to write (.gz: gzip)")
    p.add_argument(
        "--vol",
        type=float,
        default=0.5,
        help="annualised volatility: 0.35 calm, 0.5 normal, 0.8 stressed (default %(default)s)",
    )
    p.add_argument(
        "--drift", type=float, default=0.0, help="annualised drift (default %(default)s)"
    )
    p.add_argument(
        "--start-price",
        help="the first mid price (default: the symbol's measured typical price; required for "
        "a symbol without one)",
    )
    p.add_argument(
        "--range-day",
        action="store_true",
        help="pull the price back to the start price (30 min half-life): a day grids can earn on",
    )
    p.add_argument(
        "--start",
        help=f"market time of the first event, ISO 8601 (default {DEFAULT_START.isoformat()})",
    )
    p.set_defaults(func=_synth)


def _start(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BacktestError(f"--start: not an ISO 8601 time: {text!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _start_price(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise BacktestError(f"--start-price: not a number: {text!r}") from None


def _progress() -> Progress:
    """A bar of the market time written, on stderr if it is a terminal (else nothing)."""
    return Progress(
        TextColumn("synth {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed:,.0f} s of market, {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def _synth(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else secrets.randbits(63)
    symbol = args.symbol.upper()
    rules = default_rules(symbol, args.exchange_info)
    tapes = synth_tapes(
        symbol,
        args.hours,
        seed,
        vol=args.vol,
        drift=args.drift,
        start_price=_start_price(args.start_price),
        range_day=args.range_day,
        start=_start(args.start),
        rules=rules,
    )
    writer = RecordingWriter(symbol)
    meta: dict[str, object] = {
        "source": "synthetic",
        "generator": f"tradewire {__version__} data synth",
        "symbol": symbol,
        "seed": seed,
        "vol": args.vol,
        "drift": args.drift,
        "hours": args.hours,
        "range_day": args.range_day,
    }
    if args.start_price is not None:
        meta["start_price"] = args.start_price
    print(f"seed {seed}", flush=True)
    started = time.perf_counter()
    rows = 0
    first = last = 0
    with ExitStack() as stack:
        progress = stack.enter_context(_progress())
        task = progress.add_task(symbol, total=args.hours * 3600, rows=0)
        out: IO[bytes] | gzip.GzipFile = stack.enter_context(args.out.open("wb"))
        if args.out.name.endswith(".gz"):
            # No name and no time in the header: the same seed gives the same bytes.
            out = stack.enter_context(
                gzip.GzipFile(filename="", fileobj=out, mode="wb", compresslevel=6, mtime=0)
            )
        for tape in tapes:
            if not first:
                first = int(tape.time_us[0])
                # What made the file, so a backtest of it can say (the readers skip this line).
                out.write(meta_line(first * 1000, meta))
            last = int(tape.time_us[-1])
            rows += len(tape)
            out.write(writer.write(tape))
            progress.update(task, completed=(last - first) / 1e6, rows=rows)
    elapsed = time.perf_counter() - started
    market_s = (last - first) / 1e6
    print(
        f"wrote {args.out}: {symbol}, {market_s / 3600:.2f} h of market, {rows:,} tape rows, "
        f"{writer.lines:,} lines in {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s, "
        f"{market_s / elapsed:,.0f}x real time)",
        file=sys.stderr,
    )
    return 0
