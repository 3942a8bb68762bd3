"""Reading Binance's trades CSV into market events: tradewire's Rust reader against Python's.

One round reads ``ROWS`` rows of a generated spot trades file (Binance's 7 columns, times in
microseconds as from 2025, ~80 bytes a row) from bytes in memory into (kind, time, price, qty):

- ``tradewire``: ``BinanceCsvReader("trades").feed`` over 4 MiB chunks of whole lines (what
  ``read_tape`` does), giving a ``Tape`` per chunk: no Python object per row.
- ``csv+Decimal``: the standard library's ``csv.reader`` over the decoded text, ``Decimal`` for
  price and quantity, ``int`` for the time: the plain Python way.
- ``split+int``: ``bytes.split`` per row and integer units of 10^-8 computed from the digits, no
  ``Decimal``: the fastest plain Python we know.

Every implementation's rows are checked in the same run against the reference (the ``csv``
one): equal prices, quantities, times and sides. The outcome is in
``extra_info["matches_reference"]``; rows per second are ``extra_info["rows"] / mean``.
"""

from __future__ import annotations

import csv
import io
import random
from decimal import Decimal
from typing import Any

import pytest

from tradewire._core import BinanceCsvReader

ROWS = 200_000
CHUNK = 4 << 20
GROUP = f"readers/trades-csv/{ROWS}-rows"

Row = tuple[int, int, int, int]


def generate(rows: int, seed: int = 11) -> bytes:
    """A spot trades file: a random walk around 93,500 USDT, 0-5 trades per millisecond."""
    rng = random.Random(seed)
    price = 9_350_000  # in cents
    time_us = 1_735_689_600_000_000
    out = []
    for i in range(rows):
        price += rng.choice((-1, 0, 0, 1))
        time_us += rng.choice((0, 0, 137, 1_000, 25_000))
        qty = rng.randint(1, 2_000_000)  # 10^-8 BTC
        quote = price * qty  # 10^-10 USDT
        out.append(
            f"{4_370_000_000 + i},{price // 100}.{price % 100:02d}000000,"
            f"{qty // 10**8}.{qty % 10**8:08d},{quote // 10**10}.{quote % 10**10:010d}"[:-2]
            + f",{time_us},{rng.random() < 0.5},True\n"
        )
    return "".join(out).encode()


@pytest.fixture(scope="module")
def data() -> bytes:
    return generate(ROWS)


def _chunks(data: bytes) -> list[bytes]:
    chunks = []
    start = 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + CHUNK) + 1 or len(data)
        chunks.append(data[start:end])
        start = end
    return chunks


def _tradewire(data: bytes) -> Any:
    reader = BinanceCsvReader("trades")
    return [reader.feed(chunk) for chunk in _chunks(data)]


def _tradewire_rows(tapes: Any) -> list[Row]:
    return [
        row
        for t in tapes
        for row in zip(
            t.kind.tolist(), t.time_us.tolist(), t.price.tolist(), t.qty.tolist(), strict=True
        )
    ]


_UNIT = Decimal(100_000_000)


def _csv_decimal(data: bytes) -> list[tuple[bool, int, Decimal, Decimal]]:
    out = []
    for row in csv.reader(io.StringIO(data.decode())):
        out.append((row[5] == "True", int(row[4]), Decimal(row[1]), Decimal(row[2])))
    return out


def _csv_rows(rows: list[tuple[bool, int, Decimal, Decimal]]) -> list[Row]:
    return [(int(m), t, int(p * _UNIT), int(q * _UNIT)) for m, t, p, q in rows]


def _units(text: bytes) -> int:
    whole, _, frac = text.partition(b".")
    return int(whole) * 100_000_000 + int(frac[:8].ljust(8, b"0"))


def _split_int(data: bytes) -> list[Row]:
    units = _units
    out = []
    for line in data.splitlines():
        f = line.split(b",")
        out.append((int(f[5] == b"True"), int(f[4]), units(f[1]), units(f[2])))
    return out


IMPLS = {
    "tradewire": (_tradewire, _tradewire_rows),
    "csv+Decimal": (_csv_decimal, _csv_rows),
    "split+int": (_split_int, lambda rows: rows),
}


@pytest.mark.parametrize("impl", list(IMPLS))
def test_read_trades_csv(benchmark: Any, data: bytes, impl: str) -> None:
    read, to_rows = IMPLS[impl]
    benchmark.group = GROUP
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["rows"] = ROWS
    benchmark.extra_info["bytes"] = len(data)
    result = benchmark.pedantic(read, args=(data,), rounds=5 if impl == "tradewire" else 2)
    got = to_rows(result)
    reference = _csv_rows(_csv_decimal(data))
    benchmark.extra_info["matches_reference"] = got == reference
    assert len(got) == ROWS
    assert got == reference
