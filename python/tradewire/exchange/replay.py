"""Replay of market data: recordings of Binance streams, Binance trade files, and depth files.

Two kinds of replay drive the exchange's books:

- :class:`RecordingReplay` plays a **recording** (``<receive_ns> <json>`` lines, as ``tradewire
  record`` and ``tradewire data synth`` write; gzip if compressed) or a Binance ``trades``,
  ``aggTrades`` or ``klines`` CSV file, in market time compressed ``speed`` times. The Rust
  readers (``tradewire._core.RecordingReader``, ``BinanceCsvReader``) turn the file into tapes,
  and a :class:`~tradewire.exchange.tape_driver.TapeDriver` applies them: levels become the
  market's own resting quotes, recorded trades the market's own takes at their price, so an
  account's resting order fills when the recorded market trades through it, never for more
  than traded. When the data ends the market stops moving and the exchange keeps serving.
- :class:`DepthReplay` plays the older depthUpdate JSONL files (bare events, no receive time,
  an optional ``NAME.snapshot.json`` beside them), one event per step.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import zipfile
import zlib
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING

import numpy as np

from tradewire._core import BinanceCsvReader, RecordingReader
from tradewire.errors import DataError
from tradewire.exchange.tape_driver import TapeDriver

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.exchange.engine import ExchangeEngine

__all__ = ["DepthReplay", "RecordingReplay", "is_depth_file", "load_events", "replay_symbols"]

log = logging.getLogger(__name__)


def load_events(path: Path) -> list[dict[str, object]]:
    """depthUpdate events from a JSONL file: bare events or combined-stream ``{"data": ...}``."""
    events = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            item = json.loads(line)
            if isinstance(item, dict) and isinstance(item.get("data"), dict):
                item = item["data"]
            if isinstance(item, dict) and item.get("e") == "depthUpdate":
                events.append(item)
    return events


def _snapshot_of(path: Path) -> dict[str, object] | None:
    """``NAME.snapshot.json`` beside ``NAME.jsonl`` (as gen_binance_depth.py writes), if any."""
    snapshot = path.with_name(path.name.rsplit(".", 1)[0] + ".snapshot.json")
    if not snapshot.exists():
        return None
    loaded: dict[str, object] = json.loads(snapshot.read_text(encoding="utf-8"))
    return loaded


class DepthReplay:
    """Drives the market's own liquidity from depth files: one event per step.

    Each event goes to the symbol it names (``s``), so several files (or one recorded
    multi-symbol stream) replay several symbols at once, merged in event-time order. Level
    quantities become the market's own resting quantity; a level that crosses an account's
    resting order trades with it, as the real market would have.
    """

    def __init__(self, engine: ExchangeEngine, paths: str | Path | Iterable[str | Path]) -> None:
        self._engine = engine
        listed = set(engine.symbols())
        files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        self._snapshots: list[tuple[str, dict[str, object]]] = []
        self._events: list[dict[str, object]] = []
        for path in files:
            events = load_events(path)
            for event in events:
                if str(event.get("s", "")).upper() not in listed:
                    raise ValueError(f"{path.name}: symbol {event.get('s')!r} is not listed")
            snapshot = _snapshot_of(path)
            if snapshot is not None and events:
                self._snapshots.append((str(events[0]["s"]).upper(), snapshot))
            self._events.extend(events)
        self._events.sort(key=lambda e: int(str(e.get("E", 0))))
        self._position = 0
        self._names = ", ".join(str(p) for p in files)
        self.ended = False
        self.end_message: str | None = None

    def open(self) -> None:
        """Load the snapshots into the books."""
        for symbol, snapshot in self._snapshots:
            self._apply(symbol, snapshot.get("bids", []), "BUY")
            self._apply(symbol, snapshot.get("asks", []), "SELL")

    def _apply(self, symbol: str, levels: object, side: str) -> None:
        assert isinstance(levels, list)
        for price, qty in levels:
            self._engine.quote(symbol, side, Decimal(price), Decimal(qty))

    @property
    def done(self) -> bool:
        """Whether every event has been replayed (then :attr:`ended` is true too)."""
        return self._position >= len(self._events)

    def step(self) -> None:
        """Apply the next event (nothing once the files are exhausted)."""
        if self.done:
            return
        event = self._events[self._position]
        self._position += 1
        symbol = str(event["s"]).upper()
        self._apply(symbol, event.get("b", []), "BUY")
        self._apply(symbol, event.get("a", []), "SELL")
        if self.done:
            first, last = (int(str(e.get("E", 0))) for e in (self._events[0], event))
            self.ended = True
            self.end_message = (
                f"replay of {self._names} ended after {(last - first) / 1000:.1f} s of market "
                f"time ({len(self._events)} events)"
            )
            log.info("%s", self.end_message)


# --- recordings and Binance trade files ---------------------------------------------------------

_CHUNK = 1 << 20
_MAX_LINE = 1 << 24
_RECORDING_LINE = re.compile(rb"^\s*\d+[ \t]+\{")
_STREAM_SYMBOL = re.compile(rb'"stream"\s*:\s*"([a-z0-9]+)@')
_EVENT_SYMBOL = re.compile(rb'"s"\s*:\s*"([A-Z0-9]+)"')
_BINANCE_NAME = re.compile(r"^([A-Z0-9]{2,})-")
_CSV_COLUMNS = {7: "trades", 8: "aggTrades", 12: "klines"}
_CSV_HEADERS = {"trade_id": "trades", "agg_trade_id": "aggTrades", "open_time": "klines"}


def _first_line(path: Path) -> bytes:
    with ExitStack() as stack:
        stream = _open(path, stack)
        try:
            head = stream.read(64 * 1024)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DataError(f"{path}: the file is damaged ({exc})", str(path)) from None
    for line in head.splitlines():
        if line.strip():
            return line.strip()
    return b""


def is_depth_file(path: str | Path) -> bool:
    """Whether ``path`` is a depthUpdate JSONL file of the older kind (bare JSON lines)."""
    path = Path(path)
    return path.exists() and _first_line(path).startswith(b"{")


def _open(path: Path, stack: ExitStack) -> IO[bytes] | gzip.GzipFile:
    """The file's decompressed bytes: a zip's one member, a gzip stream, or the file."""
    try:
        raw = stack.enter_context(path.open("rb"))
    except OSError as exc:
        raise DataError(
            f"{path}: cannot open the replay file ({exc.strerror})", str(path)
        ) from None
    magic = raw.read(4)
    raw.seek(0)
    try:
        if magic.startswith(b"PK\x03\x04"):
            archive = stack.enter_context(zipfile.ZipFile(raw))
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise DataError(f"{path}: a zip to replay holds one file", str(path))
            return stack.enter_context(archive.open(members[0]))
        if magic.startswith(b"\x1f\x8b"):
            return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: not a readable zip file ({exc})", str(path)) from None
    return raw


def _recording_symbols(path: Path) -> set[str]:
    """The symbols a recording's first megabyte names (stream names and ``"s"`` fields)."""
    with ExitStack() as stack:
        head = _open(path, stack).read(_CHUNK)
    found = {m.decode().upper() for m in _STREAM_SYMBOL.findall(head)}
    found |= {m.decode() for m in _EVENT_SYMBOL.findall(head)}
    return found


def _csv_kind(path: Path, line: bytes) -> str:
    columns = line.split(b",")
    if line[:1].isdigit():
        kind = _CSV_COLUMNS.get(len(columns))
    else:
        names = [c.strip().strip(b'"').decode("ascii", "replace").lower() for c in columns]
        kind = next((_CSV_HEADERS[n] for n in names if n in _CSV_HEADERS), None)
    if kind is None:
        raise DataError(
            f"{path}: not market data to replay (line 1: {line[:120]!r}); expected a recording "
            f"of Binance streams (<receive_ns> <json> lines), a depthUpdate JSONL file, or a "
            f"Binance trades, aggTrades or klines CSV file",
            str(path),
            1,
        )
    return kind


def replay_symbols(paths: Iterable[str | Path]) -> list[str]:
    """The symbols replay files hold, sorted (what ``exchange serve --replay`` lists by default).

    A recording's symbols come from its first megabyte, a Binance CSV file's from its name
    (``SYMBOL-...``), a depthUpdate file's from its events.

    Raises:
        DataError: A file that cannot be read, or whose symbol cannot be told.
    """
    found: set[str] = set()
    for item in paths:
        path = Path(item)
        line = _first_line(path)
        if line.startswith(b"{"):
            found |= {str(e.get("s", "")).upper() for e in load_events(path)} - {""}
        elif _RECORDING_LINE.match(line):
            found |= _recording_symbols(path)
        elif (name := _BINANCE_NAME.match(path.name)) is not None:
            found.add(name.group(1))
        else:
            raise DataError(f"{path}: cannot tell the symbol of this file", str(path))
    return sorted(found)


class _Source:
    """One symbol of one file: its reader, the rows read but not yet played, and its driver."""

    def __init__(
        self,
        engine: ExchangeEngine,
        path: Path,
        symbol: str,
        reader: RecordingReader | BinanceCsvReader,
    ) -> None:
        self.path = path
        self.symbol = symbol
        self.driver = TapeDriver(engine, symbol)
        self._reader = reader
        self._stack = ExitStack()
        self._stream: IO[bytes] | gzip.GzipFile = _open(path, self._stack)
        self._carry = b""
        self.exhausted = False
        self._times = np.empty(0, dtype=np.int64)
        self._kinds = np.empty(0, dtype=np.uint8)
        self._prices = np.empty(0, dtype=np.int64)
        self._qtys = np.empty(0, dtype=np.int64)
        self.last_us: int | None = None
        self.error: DataError | None = None
        """The bad line (or damage) that ended the file early, if any."""

    def _read(self) -> None:
        """Read and parse the next chunk of whole lines (DataError for a bad one)."""
        try:
            block = self._stream.read(_CHUNK)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DataError(f"{self.path}: the file is damaged ({exc})", str(self.path)) from None
        if not block:
            data, self._carry = self._carry, b""
            self.exhausted = True
            self._stack.close()
        else:
            data = self._carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) > _MAX_LINE:
                raise DataError(
                    f"{self.path}: no line break in {len(data):,} bytes", str(self.path)
                )
            data, self._carry = data[:cut], data[cut:]
        if not data:
            return
        tape = self._reader.feed(data)
        if len(tape):
            self._times = np.concatenate((self._times, tape.time_us))
            self._kinds = np.concatenate((self._kinds, tape.kind))
            self._prices = np.concatenate((self._prices, tape.price))
            self._qtys = np.concatenate((self._qtys, tape.qty))
            self.last_us = int(self._times[-1])

    def first_us(self) -> int | None:
        """The time of the first event (None for a file without any)."""
        while not len(self._times) and not self.exhausted:
            self._read()
        return int(self._times[0]) if len(self._times) else None

    def play_until(self, until_us: int) -> None:
        """Apply every event at or before ``until_us``."""
        while not self.exhausted and (self.last_us is None or self.last_us <= until_us):
            try:
                self._read()
            except DataError as exc:  # the data ends here: what was read before still plays
                self.error = exc
                self.exhausted = True
                self._stack.close()
        end = int(np.searchsorted(self._times, until_us, side="right"))
        if end:
            self.driver.apply_rows(
                self._kinds[:end].tolist(), self._prices[:end].tolist(), self._qtys[:end].tolist()
            )
            self._times, self._kinds = self._times[end:], self._kinds[end:]
            self._prices, self._qtys = self._prices[end:], self._qtys[end:]

    @property
    def done(self) -> bool:
        """Whether the file is read and every event played."""
        return self.exhausted and not len(self._times)

    def close(self) -> None:
        self._stack.close()


class RecordingReplay:
    """Drives the books from recordings or Binance trade files, in market time sped up.

    Each step advances market time by the step's interval times ``speed`` and applies the events
    up to it (several files play together, merged by time). When every file has been played,
    :attr:`ended` turns true, :attr:`end_message` says after how much market time, and the
    market stops moving; the exchange keeps serving with the book as it was.

    Args:
        engine: The exchange engine; the files' symbols must be listed on it.
        paths: Recording(s) (``<receive_ns> <json>`` lines, gzip if .gz) or Binance ``trades``,
            ``aggTrades``, ``klines`` CSV files (plain, gzip or zip, named ``SYMBOL-...`` as
            Binance names them).
        interval_ms: The time between two steps of the exchange.
        speed: Market time runs this many times faster than the clock.

    Raises:
        DataError: A file that cannot be read or is not market data; a bad line in its first
            chunk.
        ValueError: A symbol the exchange does not list, or a speed that is not positive.
    """

    def __init__(
        self,
        engine: ExchangeEngine,
        paths: Iterable[str | Path],
        *,
        interval_ms: int,
        speed: float = 1.0,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"replay speed must be positive, got {speed}")
        self.speed = speed
        self._advance_us = interval_ms * 1000 * speed
        listed = set(engine.symbols())
        self._sources: list[_Source] = []
        self.files = [Path(p) for p in paths]
        try:
            for path in self.files:
                self._sources.extend(self._open_sources(engine, path, listed))
            firsts = [t for t in (s.first_us() for s in self._sources) if t is not None]
        except BaseException:
            self.close()
            raise
        if not firsts:
            names = ", ".join(p.name for p in self.files)
            raise DataError(f"{names}: no market events to replay", names)
        self.start_us = min(firsts)
        self.now_us = float(self.start_us)
        self.steps = 0
        self.ended = False
        self.end_message: str | None = None

    @staticmethod
    def _open_sources(engine: ExchangeEngine, path: Path, listed: set[str]) -> list[_Source]:
        line = _first_line(path)
        if not line:
            raise DataError(f"{path}: the file is empty", str(path))
        if _RECORDING_LINE.match(line):
            symbols = sorted(_recording_symbols(path))
            if not symbols:
                raise DataError(f"{path}: the recording names no symbol", str(path))
            for symbol in symbols:
                if symbol not in listed:
                    raise ValueError(
                        f"{path.name}: symbol {symbol!r} is not listed (list it: symbols=...)"
                    )
            return [_Source(engine, path, s, RecordingReader(s, source=str(path))) for s in symbols]
        kind = _csv_kind(path, line)
        name = _BINANCE_NAME.match(path.name)
        if name is None:
            raise DataError(
                f"{path}: a Binance {kind} file to replay is named SYMBOL-... as Binance names "
                f"it (the rows do not say the symbol)",
                str(path),
            )
        symbol = name.group(1)
        if symbol not in listed:
            raise ValueError(f"{path.name}: symbol {symbol!r} is not listed (list it: symbols=...)")
        return [_Source(engine, path, symbol, BinanceCsvReader(kind, source=str(path)))]

    def open(self) -> None:
        """Play what happened at the start of the data (the first book)."""
        self._play()

    @property
    def done(self) -> bool:
        """Whether the data has ended."""
        return self.ended

    @property
    def market_seconds(self) -> float:
        """Market time played so far, in seconds."""
        return (self.now_us - self.start_us) / 1e6

    def step(self) -> None:
        """Advance market time by one step's worth and play the events up to it."""
        if self.ended:
            return
        self.steps += 1
        self.now_us += self._advance_us
        self._play()

    def _play(self) -> None:
        until = int(self.now_us)
        for source in self._sources:
            if not source.done:
                source.play_until(until)
        if all(s.done for s in self._sources):
            errors = [f": {s.error}" for s in self._sources if s.error is not None]
            self._end("".join(errors))

    def _end(self, why: str) -> None:
        last = max((s.last_us for s in self._sources if s.last_us is not None), default=None)
        played = 0.0 if last is None else (last - self.start_us) / 1e6
        names = ", ".join(str(p) for p in self.files)
        self.ended = True
        self.end_message = f"replay of {names} ended after {played:.1f} s of market time{why}"
        self.close()
        log.info("%s", self.end_message)

    def close(self) -> None:
        """Close the files (the replay ends or the exchange stops)."""
        for source in self._sources:
            source.close()
