"""read_tape: Binance's CSV files and recorded streams into tapes, checked against the files."""

from __future__ import annotations

import functools
import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.backtest.data import (
    ASK,
    BID,
    BOOK_END,
    CLEAR,
    TRADE_BUY,
    TRADE_SELL,
    UNIT,
    describe,
    detect_format,
    read_tape,
)
from tradewire.errors import DataError
from tradewire.testing.tapes import replay, units

RECORDING = (
    Path(__file__).parents[1] / "data" / "market" / "binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz"
)

# Two trades in milliseconds (2024), two in microseconds (2025), as Binance's spot files hold them.
TRADES_MS = (
    "3735683259,61837.63000000,0.02000000,1236.75260000,1723161255342,True,True\n"
    "3735683260,61837.64000000,0.00081000,50.08849000,1723161255343,False,True\n"
)
TRADES_US = (
    "4370000001,93576.00000000,0.00011000,10.29336000,1735689600391254,False,True\n"
    "4370000002,93575.99000000,0.50000000,46787.99500000,1735689600391254,True,True\n"
)
AGG_TRADES = (
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"
    "0,0.20000000,50.00000000,0,0,1735689600010866,false\n"
    "1,0.20010000,1.50000000,1,3,1735689600020000,true\n"
)
KLINES = (
    "1723161240000,61800.00,61850.00,61790.00,61840.00,10.00000002,1723161299999,0,0,0,0,0\n"
    "1723161300000,61840.00,61845.00,61700.00,61710.00,4,1723161359999,0,0,0,0,0\n"
)


def write(path: Path, text: str, how: str = "plain") -> Path:
    """``text`` at ``path``: plain, gzip, or a zip holding it under the same stem."""
    if how == "gzip":
        with gzip.open(path, "wb") as f:
            f.write(text.encode())
    elif how == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(path.with_suffix(".csv").name, text)
    else:
        path.write_text(text)
    return path


def rows(path: Path, symbol: str = "BTCUSDT", **options: Any) -> list[tuple[int, int, int, int]]:
    """Every row of the file's tapes."""
    return [
        row
        for tape in read_tape(path, symbol, **options)
        for row in zip(
            tape.kind.tolist(),
            tape.time_us.tolist(),
            tape.price.tolist(),
            tape.qty.tolist(),
            strict=True,
        )
    ]


# --- Binance CSV files --------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["plain", "gzip", "zip"])
def test_trades_in_milliseconds_and_microseconds(tmp_path: Path, how: str) -> None:
    ms = write(tmp_path / f"BTCUSDT-trades-2024-08-08.{how}", TRADES_MS, how)
    us = write(tmp_path / f"BTCUSDT-trades-2025-01-01.{how}", TRADES_US, how)
    assert rows(ms) == [
        (TRADE_SELL, 1_723_161_255_342_000, units("61837.63"), units("0.02")),
        (TRADE_BUY, 1_723_161_255_343_000, units("61837.64"), units("0.00081")),
    ]
    assert rows(us) == [
        (TRADE_BUY, 1_735_689_600_391_254, units("93576"), units("0.00011")),
        (TRADE_SELL, 1_735_689_600_391_254, units("93575.99"), units("0.5")),
    ]
    summary = describe(us)
    assert (summary.format, summary.symbol, summary.events) == ("trades", "BTCUSDT", 2)
    assert summary.first_time_us == summary.last_time_us == 1_735_689_600_391_254


def test_agg_trades_with_a_header_row(tmp_path: Path) -> None:
    path = write(tmp_path / "BTCUSDT-aggTrades-2025-01-01.zip", AGG_TRADES, "zip")
    assert rows(path) == [
        (TRADE_BUY, 1_735_689_600_010_866, units("0.2"), 50 * UNIT),
        (TRADE_SELL, 1_735_689_600_020_000, units("0.2001"), units("1.5")),
    ]
    assert describe(path).format == "aggTrades"


def test_bars_are_four_prints_at_the_close(tmp_path: Path) -> None:
    path = write(tmp_path / "BTCUSDT-1m-2024-08-08.csv", KLINES)
    got = rows(path)
    assert [r[1] for r in got] == [1_723_161_299_999_000] * 4 + [1_723_161_359_999_000] * 4
    assert [r[2] for r in got] == [
        units(p) for p in ("61800", "61850", "61790", "61840", "61840", "61845", "61700", "61710")
    ]
    quarter = units("10.00000002") // 4
    assert [r[3] for r in got[:4]] == [
        quarter,
        quarter,
        quarter,
        units("10.00000002") - 3 * quarter,
    ]
    assert sum(r[3] for r in got[4:]) == 4 * UNIT
    # The second bar opens at the first one's close: unchanged, so the previous print's kind.
    assert [r[0] for r in got] == [TRADE_BUY, TRADE_BUY, TRADE_SELL, TRADE_BUY] * 2


def test_chunks_carry_partial_lines(tmp_path: Path) -> None:
    text = "".join(
        f"{i},{100 + i}.5,1.25,1,{1_723_161_255_000 + i},{'True' if i % 3 else 'False'},True\n"
        for i in range(500)
    )
    path = write(tmp_path / "trades.csv", text.rstrip("\n"))  # no newline at the very end
    whole = rows(path)
    assert len(whole) == 500
    assert rows(path, chunk_bytes=7) == rows(path, chunk_bytes=1000) == whole
    sizes = [len(t) for t in read_tape(path, "BTCUSDT", chunk_bytes=4096)]
    assert len(sizes) > 1 and sum(sizes) == 500


@pytest.mark.parametrize(
    ("row", "column", "needle"),
    [
        ("1,2,3", "row", "has 3"),
        ("1,6183x.63,0.02,1,1723161255343,True,True", "price", "not a decimal"),
        ("1,61837.630000001,0.02,1,1723161255343,True,True", "price", "8 decimal places"),
        ("1,61837.63,-0.02,1,1723161255343,True,True", "qty", "negative"),
        ("1,61837.63,0.02,1,1723161255,True,True", "time", "backwards"),
        ("1,61837.63,0.02,1,-5,True,True", "time", "not a time"),
        ("1,61837.63,0.02,1,1723161255343,maybe,True", "isBuyerMaker", "True or False"),
    ],
)
def test_a_bad_row_names_its_line_and_column(
    tmp_path: Path, row: str, column: str, needle: str
) -> None:
    path = write(tmp_path / "BTCUSDT-trades-2024-08-08.zip", TRADES_MS + row + "\n", "zip")
    with pytest.raises(DataError) as caught:
        rows(path)
    e = caught.value
    assert (e.line, e.column, e.path) == (3, column, str(path))
    assert needle in str(e) and f"line 3, column {column}" in str(e)


_decimal_text = st.builds(
    lambda whole, frac, digits: (
        f"{whole}.{frac:0{digits}d}"[: len(str(whole)) + 1 + digits] if digits else str(whole)
    ),
    st.integers(0, 10**10),
    st.integers(0, 10**8 - 1),
    st.integers(0, 8),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            _decimal_text,
            _decimal_text,
            st.integers(1, 10**6),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4000),
)
def test_trades_agree_with_a_decimal_reference(
    tmp_path_factory: pytest.TempPathFactory,
    trades: list[tuple[str, str, int, bool, bool]],
    chunk_bytes: int,
) -> None:
    path = tmp_path_factory.mktemp("hypothesis") / "trades.csv"
    time_ms = 1_700_000_000_000
    lines = []
    want = []
    for i, (price, qty, step, maker, micro) in enumerate(trades):
        time_ms += step
        stamp = time_ms * 1000 + i % 1000 if micro else time_ms
        lines.append(f"{i},{price},{qty},0,{stamp},{maker},True\n")
        time_us = stamp if micro else stamp * 1000
        want.append((TRADE_SELL if maker else TRADE_BUY, time_us, units(price), units(qty)))
    path.write_text("".join(lines))
    if any(p == 0 for _, _, p, _ in want):
        with pytest.raises(DataError, match="a price of zero"):
            rows(path, chunk_bytes=chunk_bytes)
        return
    assert rows(path, chunk_bytes=chunk_bytes) == want


def test_unknown_and_mislabelled_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown market-data format"):
        rows(write(tmp_path / "notes.txt", "hello,world\n"))
    with pytest.raises(DataError, match="unknown market-data format"):
        rows(write(tmp_path / "empty.csv", ""))
    with pytest.raises(DataError, match="ETHUSDT's data"):
        rows(write(tmp_path / "ETHUSDT-trades-2024-08-08.csv", TRADES_MS))
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.csv", TRADES_MS)
        z.writestr("b.csv", TRADES_MS)
    with pytest.raises(DataError, match="holds 2"):
        rows(two)
    broken = write(tmp_path / "broken.csv.gz", TRADES_MS * 50, "gzip")
    broken.write_bytes(broken.read_bytes()[:60])
    with pytest.raises(DataError, match="damaged"):
        rows(broken)
    garbled = write(tmp_path / "garbled.csv.gz", TRADES_MS * 50, "gzip")
    body = bytearray(garbled.read_bytes())
    body[20:40] = bytes(20)  # inside the deflate stream
    garbled.write_bytes(bytes(body))
    with pytest.raises(DataError, match="damaged"):
        rows(garbled)


def test_an_explicit_format_overrides_detection(tmp_path: Path) -> None:
    # Seven columns look like trades; read as futures aggTrades (no best-match column).
    text = "0,0.20000000,50.00000000,0,0,1735689600010866,true\n"
    path = write(tmp_path / "agg.csv", text)
    assert detect_format(text.encode()) == "trades"
    with pytest.raises(DataError, match="line 1, column time"):
        rows(path)
    assert rows(path, format="aggTrades") == [
        (TRADE_SELL, 1_735_689_600_010_866, units("0.2"), 50 * UNIT)
    ]


def test_formats_are_told_by_the_first_line() -> None:
    assert detect_format(b'1723161254206652067 {"lastUpdateId":1}') == "recording"
    assert detect_format(b'{"stream":"btcusdt@trade","data":{}}') == "recording"
    assert detect_format(KLINES.encode()) == "klines"
    assert detect_format(AGG_TRADES.encode()) == "aggTrades"
    assert detect_format(b"id,price,qty,quote_qty,time,is_buyer_maker") == "trades"
    assert detect_format(b"1,2,3") is None


# --- recordings ---------------------------------------------------------------------------------


@functools.cache
def _file_facts() -> dict[str, Any]:
    """What the recording says, read with json: trades, tickers, the last depth update id."""
    trades = []
    tickers = []
    last_u = 0
    with gzip.open(RECORDING) as f:
        for line in f:
            body = json.loads(line.split(b" ", 1)[1])
            data = body.get("data", {})
            if data.get("e") == "trade" and data["s"] == "BTCUSDT":
                kind = TRADE_SELL if data["m"] else TRADE_BUY
                trades.append((kind, units(data["p"]), units(data["q"]), data["T"] * 1000))
            elif data.get("e") == "depthUpdate":
                last_u = data["u"]
            elif "A" in data and "e" not in data:
                tickers.append(data)
    return {"trades": trades, "tickers": tickers, "last_u": last_u}


def test_the_recording_replays_to_its_last_book_ticker() -> None:
    facts = _file_facts()
    r = replay(read_tape(RECORDING, "btcusdt", chunk_bytes=1 << 16))
    (bid, bid_qty), (ask, ask_qty) = r.top()  # type: ignore[misc]
    last = facts["tickers"][-1]
    assert (bid, ask) == (units(last["b"]), units(last["a"]))
    # The quantities too, at the last ticker no newer than the book's last update.
    at_book = [t for t in facts["tickers"] if t["u"] <= facts["last_u"]][-1]
    assert (bid, bid_qty, ask, ask_qty) == tuple(units(at_book[k]) for k in ("b", "B", "a", "A"))
    assert r.clears == 1 and r.books > 3000
    # Every trade frame, in order, exactly.
    assert [(k, p, q) for k, _, p, q in r.trades] == [(k, p, q) for k, p, q, _ in facts["trades"]]


def test_trades_are_at_their_trade_time_unless_that_would_go_back() -> None:
    trade_times = iter(t for *_, t in _file_facts()["trades"])
    previous = 0
    clamped = 0
    for kind, time_us, _, _ in rows(RECORDING):
        if kind in (TRADE_BUY, TRADE_SELL):
            want = next(trade_times)
            assert time_us == max(want, previous)
            clamped += time_us != want
        previous = time_us
    assert next(trade_times, None) is None
    assert clamped > 0  # trades inside a depth@100ms window come after the diff's E


def test_the_recording_reads_the_same_in_any_chunks() -> None:
    small = rows(RECORDING, chunk_bytes=1 << 12)
    assert small == rows(RECORDING)
    assert rows(RECORDING, "ETHUSDT") == []
    summary = describe(RECORDING)
    assert (summary.format, summary.symbol, summary.events) == ("recording", "BTCUSDT", len(small))


def test_a_gap_in_a_recording_names_its_line(tmp_path: Path) -> None:
    with gzip.open(RECORDING) as f:
        lines = f.readlines()[:400]
    diffs = [i for i, line in enumerate(lines) if b"depthUpdate" in line]
    snapshot = next(i for i, line in enumerate(lines) if b"lastUpdateId" in line)
    dropped = next(i for i in diffs if i > snapshot + 20)
    path = tmp_path / "gap.jsonl"
    path.write_bytes(b"".join(lines[:dropped] + lines[dropped + 1 :]))
    next_diff = next(i for i in diffs if i > dropped)
    with pytest.raises(DataError, match="sequence gap") as caught:
        rows(path)
    assert (caught.value.line, caught.value.column) == (next_diff, "U")  # 1-based, one removed


def test_the_kinds_are_the_readers(tmp_path: Path) -> None:
    path = tmp_path / "tiny.jsonl"
    path.write_text(
        '1 {"stream":"btcusdt@depthSnapshot","data":{"lastUpdateId":5,'
        '"bids":[["100.5","1"]],"asks":[["101","2"]]}}\n'
        '2 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,'
        '"s":"BTCUSDT","U":6,"u":6,"b":[["100.5","0"]],"a":[]}}\n'
        '3 {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255300,"s":"BTCUSDT",'
        '"t":1,"p":"101","q":"0.5","T":1723161255299,"m":false,"M":true}}\n'
    )
    assert rows(path) == [
        (CLEAR, 1_723_161_255_208_000, 0, 0),
        (BID, 1_723_161_255_208_000, units("100.5"), UNIT),
        (ASK, 1_723_161_255_208_000, 101 * UNIT, 2 * UNIT),
        (BOOK_END, 1_723_161_255_208_000, 0, 0),
        (BID, 1_723_161_255_208_000, units("100.5"), 0),
        (BOOK_END, 1_723_161_255_208_000, 0, 0),
        (TRADE_BUY, 1_723_161_255_299_000, 101 * UNIT, units("0.5")),
    ]
