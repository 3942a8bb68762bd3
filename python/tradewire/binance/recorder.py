"""Recording Binance's market streams to a file that backtests replay (``tradewire record``).

For each symbol the recorder opens one combined stream of ``<symbol>@depth@100ms``,
``<symbol>@trade`` and ``<symbol>@bookTicker`` and writes every frame as it comes, one line
each: ``<receive_ns> <frame>``, the local receive time in nanoseconds, a space, and the frame's
bytes exactly as the exchange sent them. The depth snapshot follows Binance's local-book
procedure: it is fetched over REST (``limit`` levels) once the stream is open and its first
diff of the symbol has come, fetched again while it is older than that diff
(``lastUpdateId < U``), and written as ``<receive_ns> {"stream":"<symbol>@depthSnapshot",
"data":<the REST body>}``. When the stream connection is replaced (a drop, a server shutdown,
the 24-hour cut), diffs may have been missed: the recorder writes
``<receive_ns> {"reconnected":"<why>"}`` and takes a fresh snapshot of every symbol, and the
reader (``tradewire.backtest.data``) starts the book over from it.

The file is gzip when its name ends in ``.gz``. It is flushed every ``flush_interval_s``
seconds and closed cleanly when the run ends (duration, stop event, Ctrl-C, an error).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tradewire.binance.streams import Reconnected
from tradewire.binance.wire import DepthUpdate, Trade, parse_depth_snapshot, parse_message
from tradewire.errors import ExchangeUnavailable, NetworkError, ParseError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from tradewire.binance.streams import StreamClient

__all__ = ["Recorder", "RecorderStats"]

log = logging.getLogger(__name__)

_SNAPSHOT_RETRY_S = 0.05
_MAX_SNAPSHOT_DELAY_S = 30.0


@dataclass
class RecorderStats:
    """What a recorder wrote, and what it saw per symbol (upper case)."""

    lines: int = 0
    bytes: int = 0
    frames: int = 0
    snapshots: int = 0
    snapshot_refetches: int = 0
    snapshot_errors: int = 0
    reconnects: int = 0
    bad_frames: int = 0
    depth_updates: dict[str, int] = field(default_factory=dict)
    trades: dict[str, int] = field(default_factory=dict)
    #: The final update id of the last diff seen, per symbol.
    last_update_id: dict[str, int] = field(default_factory=dict)
    #: The id of the last trade seen, per symbol.
    last_trade_id: dict[str, int] = field(default_factory=dict)


class Recorder:
    """Records ``symbols``' depth diffs (with snapshots), trades and bookTickers to ``out``.

    Args:
        streams: The market streams to read (a ``StreamClient`` on the exchange's stream URL).
        fetch_snapshot: ``fetch_snapshot(symbol, limit)`` returns a raw ``GET /api/v3/depth``
            body (``BinanceClient.depth_raw``).
        symbols: The symbols to record.
        out: The file to write (gzip if it ends in ``.gz``); an existing file is replaced.
        limit: Levels of each depth snapshot.
        clock_ns: The local receive clock (nanoseconds since the epoch).
        flush_interval_s: Seconds between flushes of the file.
    """

    def __init__(
        self,
        streams: StreamClient,
        fetch_snapshot: Callable[[str, int], Awaitable[bytes]],
        symbols: Sequence[str],
        out: str | Path,
        *,
        limit: int = 1000,
        clock_ns: Callable[[], int] = time.time_ns,
        flush_interval_s: float = 1.0,
    ) -> None:
        if not symbols:
            raise ValueError("give at least one symbol to record")
        self.symbols = tuple(dict.fromkeys(s.upper() for s in symbols))
        self.streams = streams
        self.fetch_snapshot = fetch_snapshot
        self.out = Path(out)
        self.limit = limit
        self.clock_ns = clock_ns
        self.flush_interval_s = flush_interval_s
        self.stats = RecorderStats()
        self._file: IO[bytes] | gzip.GzipFile | None = None
        self._dirty = False
        # Snapshot tasks of the current connection, per symbol.
        self._snapshots: dict[str, asyncio.Task[None]] = {}

    def stream_names(self) -> list[str]:
        """The streams recorded, in Binance's names."""
        return [
            f"{s.lower()}@{kind}"
            for s in self.symbols
            for kind in ("depth@100ms", "trade", "bookTicker")
        ]

    async def run(
        self, *, duration_s: float | None = None, stop: asyncio.Event | None = None
    ) -> RecorderStats:
        """Record until ``duration_s`` seconds have passed or ``stop`` is set; returns the counts.

        Raises:
            OSError: The file cannot be written.
        """
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.ExitStack() as stack:
            f: IO[bytes] | gzip.GzipFile
            if self.out.name.endswith(".gz"):
                f = stack.enter_context(gzip.GzipFile(self.out, "wb"))
            else:
                f = stack.enter_context(self.out.open("wb"))
            self._file = f
            consume = asyncio.create_task(self._consume(), name="tradewire-record")
            flusher = asyncio.create_task(self._flush_every(self.flush_interval_s))
            waiters: list[asyncio.Task[object]] = [consume]
            if stop is not None:
                waiters.append(asyncio.create_task(stop.wait()))
            if duration_s is not None:
                waiters.append(asyncio.create_task(asyncio.sleep(duration_s)))
            try:
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                if consume in done:
                    consume.result()  # the stream ended: raise its error, if any
            finally:
                tasks = [*waiters, flusher, *self._snapshots.values()]
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                self._snapshots.clear()
                self._file = None
        return self.stats

    def _write(self, receive_ns: int, payload: bytes) -> None:
        f = self._file
        if f is None:
            return
        line = b"%d %s\n" % (receive_ns, payload)
        f.write(line)
        self.stats.lines += 1
        self.stats.bytes += len(line)
        self._dirty = True

    async def _flush_every(self, interval_s: float) -> None:
        """Flush what was written, every ``interval_s`` seconds (a quiet market writes little)."""
        while True:
            await asyncio.sleep(interval_s)
            if self._dirty and self._file is not None:
                self._file.flush()
                self._dirty = False

    async def _consume(self) -> None:
        source = self.streams.messages(*self.stream_names())
        try:
            async for item in source:
                if isinstance(item, Reconnected):
                    self._reconnected(item.reason)
                    continue
                receive_ns = self.clock_ns()
                frame = bytes(item)
                if b"\n" in frame:  # one line per frame: JSON allows re-encoding without them
                    frame = json.dumps(json.loads(frame), separators=(",", ":")).encode()
                self.stats.frames += 1
                self._write(receive_ns, frame)
                self._observe(frame)
        finally:
            await source.aclose()

    def _reconnected(self, reason: str) -> None:
        """A new connection: diffs may be missing; every symbol needs a new snapshot."""
        self.stats.reconnects += 1
        for task in self._snapshots.values():
            task.cancel()
        self._snapshots.clear()
        self._write(self.clock_ns(), json.dumps({"reconnected": reason}).encode())
        log.warning("recording: stream reconnected (%s); taking new snapshots", reason)

    def _observe(self, frame: bytes) -> None:
        try:
            event = parse_message(frame)
        except ParseError as exc:
            self.stats.bad_frames += 1
            log.warning("recording a frame that does not parse: %s (%.120r)", exc, frame)
            return
        if isinstance(event, DepthUpdate):
            symbol = event.symbol
            self.stats.depth_updates[symbol] = self.stats.depth_updates.get(symbol, 0) + 1
            self.stats.last_update_id[symbol] = event.final_update_id
            if symbol in self.symbols and symbol not in self._snapshots:
                self._snapshots[symbol] = asyncio.create_task(
                    self._snapshot(symbol, event.first_update_id),
                    name=f"tradewire-record-snapshot {symbol}",
                )
        elif isinstance(event, Trade):
            symbol = event.symbol
            self.stats.trades[symbol] = self.stats.trades.get(symbol, 0) + 1
            self.stats.last_trade_id[symbol] = event.trade_id

    async def _snapshot(self, symbol: str, first_update_id: int) -> None:
        """Fetch a snapshot no older than the connection's first diff, and write it."""
        delay = _SNAPSHOT_RETRY_S
        while True:
            try:
                raw = await self.fetch_snapshot(symbol, self.limit)
                last_update_id = parse_depth_snapshot(raw).last_update_id
            except (NetworkError, ExchangeUnavailable, ParseError, OSError, TimeoutError) as exc:
                self.stats.snapshot_errors += 1
                log.warning("recording: %s snapshot failed (%s), retrying", symbol, exc)
            else:
                if last_update_id >= first_update_id:
                    break
                self.stats.snapshot_refetches += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_SNAPSHOT_DELAY_S)
        receive_ns = self.clock_ns()
        body = bytes(raw)
        if b"\n" in body:
            body = json.dumps(json.loads(body), separators=(",", ":")).encode()
        stream = json.dumps(f"{symbol.lower()}@depthSnapshot").encode()
        self._write(receive_ns, b'{"stream":%s,"data":%s}' % (stream, body))
        self.stats.snapshots += 1
