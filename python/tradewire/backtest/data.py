"""Market data in: Binance's historical CSV files and recorded streams, read into tapes.

:func:`read_tape` opens a file (``.zip`` holding one CSV, gzip, or plain; told by its first
bytes), tells its format from its first line and yields :class:`~tradewire._core.Tape` chunks of
market events, so memory stays flat however long the file. The parsing is in Rust, with no
Python object per row. Formats:

- ``"trades"``, ``"aggTrades"``, ``"klines"``: Binance's public historical data
  (data.binance.vision), spot or futures; milliseconds or microseconds per row; a header row is
  skipped; a bar becomes four prints, open, high, low, close, at its close time.
- ``"recording"``: ``<receive_ns> <json>`` lines of Binance's streams with their REST depth
  snapshot, as ``tradewire record`` writes them: the book (``CLEAR``, the snapshot's levels,
  then each diff) and the trades, in the exchange's time (``E``, ``T``). ``bookTicker`` frames
  carry no exchange time and are skipped. Times never go backwards: a trade whose ``T`` precedes
  the last diff's ``E`` (``depth@100ms`` sends a diff at the end of its window) is stamped at
  that time; in the bundled BTCUSDT recording that is 22% of the trades, by 34 ms (median).

A tape row is ``(kind, time_us, price, qty)``; prices and quantities are integers in units of
10^-8 (:data:`UNIT`), times microseconds since the epoch, and the kinds are the constants below.

>>> import tempfile, pathlib
>>> tmp = tempfile.TemporaryDirectory()
>>> path = pathlib.Path(tmp.name) / "BTCUSDT-trades-2025-01-01.csv"
>>> _ = path.write_text("1,93576.00000000,0.00011000,10.29336000,1735689600391254,False,True\\n")
>>> [tape] = read_tape(path, "BTCUSDT")
>>> tape.kind.tolist(), tape.time_us.tolist(), tape.price.tolist()
([0], [1735689600391254], [9357600000000])
>>> describe(path).format
'trades'
>>> tmp.cleanup()
"""

from __future__ import annotations

import gzip
import json
import re
import zipfile
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

from tradewire._core import BinanceCsvReader, RecordingReader, Tape
from tradewire.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "ASK",
    "BID",
    "BOOK_END",
    "CLEAR",
    "FORMATS",
    "META_STREAM",
    "TRADE_BUY",
    "TRADE_SELL",
    "UNIT",
    "DataSummary",
    "Format",
    "describe",
    "detect_format",
    "meta_line",
    "read_tape",
    "recording_meta",
]

#: A public trade whose taker bought.
TRADE_BUY = 0
#: A public trade whose taker sold (the buyer was the maker).
TRADE_SELL = 1
#: Set one bid level to ``qty`` (0 removes it).
BID = 2
#: Set one ask level to ``qty`` (0 removes it).
ASK = 3
#: The end of one book message: the levels before it apply together.
BOOK_END = 4
#: Empty the book: a full snapshot follows.
CLEAR = 5
#: 10^8: a tape's prices and quantities are counts of 10^-8.
UNIT = 100_000_000

Format = Literal["recording", "trades", "aggTrades", "klines"]
FORMATS: tuple[Format, ...] = ("recording", "trades", "aggTrades", "klines")

_DEFAULT_CHUNK = 4 << 20
#: A line longer than this is not market data (a file without newlines).
_MAX_LINE = 64 << 20
_RECORDING_LINE = re.compile(rb"^\s*(\d+[ \t]+)?\{")
#: ``BTCUSDT-trades-2024-08-08.csv``, ``BTCUSDT-1m-2024-08.zip``: Binance's file names.
_BINANCE_NAME = re.compile(r"^([A-Z0-9]+)-(trades|aggTrades|\d+[smhdw]|1mo)-\d{4}-\d{2}")
#: Header names of futures files, and the format they belong to.
_HEADERS: dict[str, Format] = {
    "agg_trade_id": "aggTrades",
    "transact_time": "aggTrades",
    "open_time": "klines",
    "close_time": "klines",
    "quote_qty": "trades",
    "id": "trades",
}
_COLUMNS: dict[int, Format] = {6: "trades", 7: "trades", 8: "aggTrades", 12: "klines"}


def detect_format(first_line: bytes) -> Format | None:
    """The format a file's first line shows, or None if it shows none of :data:`FORMATS`.

    Only the first line of ``first_line`` is read.

    Binance's CSV files are told apart by their column count (7 trades, 8 aggTrades, 12 klines;
    6 is a futures trades file) or, in futures files, by their header row.
    """
    line = first_line.split(b"\n", 1)[0].strip()
    if not line:
        return None
    if _RECORDING_LINE.match(line):
        return "recording"
    columns = line.split(b",")
    if line[:1].isdigit():
        return _COLUMNS.get(len(columns))
    names = [c.strip().strip(b'"').decode("ascii", "replace").lower() for c in columns]
    for name in names:
        if name in _HEADERS:
            return _HEADERS[name]
    return None


def _open(path: Path, stack: ExitStack) -> IO[bytes] | gzip.GzipFile:
    """The file's decompressed bytes: a zip's one member, a gzip stream, or the file."""
    raw = stack.enter_context(path.open("rb"))
    magic = raw.read(4)
    raw.seek(0)
    try:
        if magic.startswith(b"PK\x03\x04"):
            archive = stack.enter_context(zipfile.ZipFile(raw))
            members = [m for m in archive.namelist() if not m.endswith("/")]
            if len(members) != 1:
                raise DataError(
                    f"{path}: a zip of market data holds one file, this one holds "
                    f"{len(members)}: {members[:5]}",
                    str(path),
                )
            return stack.enter_context(archive.open(members[0]))
        if magic.startswith(b"\x1f\x8b"):
            return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
    except zipfile.BadZipFile as exc:
        raise DataError(f"{path}: not a readable zip file ({exc})", str(path)) from None
    return raw


def _chunks(stream: IO[bytes] | gzip.GzipFile, path: Path, chunk_bytes: int) -> Iterator[bytes]:
    """Chunks of whole lines (the last one may lack its newline)."""
    carry = b""
    while True:
        try:
            block = stream.read(chunk_bytes)
        except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
            raise DataError(f"{path}: the file is damaged ({exc})", str(path)) from None
        if not block:
            break
        data = carry + block if carry else block
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) > _MAX_LINE:
                raise DataError(
                    f"{path}: no line break in the first {len(data):,} bytes: not market data",
                    str(path),
                )
            carry = data
            continue
        carry = data[cut:]
        yield data[:cut] if cut < len(data) else data
    if carry:
        yield carry


def _symbol_check(path: Path, symbol: str, fmt: Format) -> None:
    """A Binance file named for another symbol is refused (its rows do not name the symbol)."""
    match = _BINANCE_NAME.match(path.name)
    if fmt != "recording" and match is not None and match.group(1) != symbol:
        raise DataError(
            f"{path}: the file is {match.group(1)}'s data (by its name), not {symbol}'s",
            str(path),
        )


def read_tape(
    path: str | Path,
    symbol: str,
    *,
    format: Format | None = None,
    chunk_bytes: int = _DEFAULT_CHUNK,
) -> Iterator[Tape]:
    """Yield the market events of ``symbol`` in the file at ``path``, a tape per chunk.

    Args:
        path: A Binance CSV file (plain, gzip or zip holding one CSV) or a recording.
        symbol: The symbol to keep (a recording may hold several; a CSV file holds one, and a
            file named ``<SYMBOL>-...`` for another symbol is refused).
        format: One of :data:`FORMATS`; by default told from the first line.
        chunk_bytes: Bytes read per chunk; memory stays within a few chunks.

    Raises:
        DataError: An unknown format, a damaged archive, or a bad row or line (the error names
            the file, the line and the column).
        OSError: The file cannot be opened.
    """
    path = Path(path)
    symbol = symbol.upper()
    if chunk_bytes < 1:
        raise ValueError("chunk_bytes must be positive")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format is one of {', '.join(FORMATS)}, got {format!r}")
    with ExitStack() as stack:
        stream = _open(path, stack)
        chunks = _chunks(stream, path, chunk_bytes)
        first = next(chunks, b"")
        fmt = format or detect_format(first.split(b"\n", 1)[0])
        if fmt is None:
            shown = first.split(b"\n", 1)[0][:120]
            raise DataError(
                f"{path}: unknown market-data format (line 1: {shown!r}); expected a Binance "
                f"trades, aggTrades or klines CSV file, or a recording of Binance streams",
                str(path),
                1,
            )
        _symbol_check(path, symbol, fmt)
        reader = (
            RecordingReader(symbol, source=str(path))
            if fmt == "recording"
            else BinanceCsvReader(fmt, source=str(path))
        )
        chunk = first
        while chunk:
            tape = reader.feed(chunk)
            if len(tape):
                yield tape
            chunk = next(chunks, b"")


@dataclass(frozen=True)
class DataSummary:
    """What a market-data file holds, for one symbol."""

    path: Path
    format: Format
    symbol: str
    events: int
    first_time_us: int | None
    last_time_us: int | None


_SYMBOL_FIELD = re.compile(rb'"s":"([A-Z0-9]+)"')


def _first_symbol(path: Path) -> str | None:
    """The symbol of a recording's first message that names one."""
    with ExitStack() as stack:
        for chunk in _chunks(_open(path, stack), path, 1 << 16):
            found = _SYMBOL_FIELD.search(chunk)
            if found is not None:
                return found.group(1).decode()
    return None


META_STREAM = "tradewire@meta"
"""The stream name of a recording's first line when tradewire wrote it: what made the file
(``tradewire data synth``: the generator's seed and settings). The readers skip it as they skip
any event they do not replay."""


def meta_line(receive_ns: int, meta: dict[str, object]) -> bytes:
    """The first line of a recording that says what made it (``meta``: JSON values only)."""
    frame = {"stream": META_STREAM, "data": {"e": "tradewireMeta", **meta}}
    return f"{receive_ns} {json.dumps(frame, separators=(',', ':'))}\n".encode()


def recording_meta(path: str | Path) -> dict[str, object] | None:
    """What made a recording, from its first line (see :func:`meta_line`); None for any file
    without one (a recording of live streams, a Binance CSV file) or that cannot be read."""
    try:
        with ExitStack() as stack:
            head = next(_chunks(_open(Path(path), stack), Path(path), 1 << 16), b"")
    except (OSError, DataError, EOFError, gzip.BadGzipFile):
        return None
    first = head.split(b"\n", 1)[0]
    match = _RECORDING_LINE.match(first)
    if match is None:
        return None
    try:
        frame = json.loads(first[match.end() - 1 :])
    except ValueError:
        return None
    if not isinstance(frame, dict) or frame.get("stream") != META_STREAM:
        return None
    data = frame.get("data")
    if not isinstance(data, dict):
        return None
    return {k: v for k, v in data.items() if k != "e"}


def describe(
    path: str | Path,
    symbol: str | None = None,
    *,
    format: Format | None = None,
) -> DataSummary:
    """Read the whole file: its format, event count and first and last event times.

    ``symbol`` defaults to the one in the file's name (``BTCUSDT-trades-...``) or, for a
    recording, to the first symbol it names.

    Raises:
        DataError: As :func:`read_tape`, or no symbol could be found.
    """
    path = Path(path)
    if symbol is None:
        named = _BINANCE_NAME.match(path.name)
        symbol = named.group(1) if named is not None else _first_symbol(path)
    if symbol is None:
        raise DataError(f"{path}: name the symbol to read (none found in the file)", str(path))
    events = 0
    first: int | None = None
    last: int | None = None
    fmt: Format | None = format
    for tape in read_tape(path, symbol, format=format):
        times = tape.time_us
        if first is None:
            first = int(times[0])
        last = int(times[-1])
        events += len(tape)
    if fmt is None:
        with ExitStack() as stack:
            head = next(_chunks(_open(path, stack), path, 1 << 16), b"")
        fmt = detect_format(head.split(b"\n", 1)[0])
    assert fmt is not None  # read_tape refused the file otherwise
    return DataSummary(path, fmt, symbol.upper(), events, first, last)
