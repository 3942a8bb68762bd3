"""Hostile input: at least 10,000 mutated and random messages at every parser.

Each parser must either parse or raise its typed error (``ParseError``; ``DecimalError`` for
decimals), never crash, hang or leave an order book half-updated.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire import (
    BookError,
    DecimalError,
    ExactDecimal,
    OrderBook,
    ParseError,
)
from tradewire.binance import (
    parse_depth_snapshot,
    parse_error_body,
    parse_message,
    parse_order_response,
)

if TYPE_CHECKING:
    from collections.abc import Callable

DATA = Path(__file__).parent / "data" / "binance"
MESSAGES_PER_PARSER = 10_000
BATCH = 8


def _corpus() -> list[bytes]:
    lines = (DATA / "capture-2021-10.ws.txt").read_bytes().splitlines()[1:]
    seen: dict[bytes, bytes] = {}
    for line in filter(None, lines):
        raw = line.split(b": ", 1)[1]
        kind = raw[: raw.find(b'"data"')]
        seen.setdefault(kind, raw)
    seeds = list(seen.values())
    seeds += [
        b'{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"0.001","q":"100","T":1,"m":true,"M":true}',
        b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":101,"u":102,"b":[["10.5","1"]],"a":[]}',
        b'{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}',
        b'{"code":-1121,"msg":"Invalid symbol."}',
        b'{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"x",'
        b'"transactTime":1,"price":"1.0","fills":[{"price":"1","qty":"1","commission":"0",'
        b'"commissionAsset":"BNB","tradeId":5}]}',
        b'{"result":null,"id":1}',
        b'{"e":"serverShutdown","E":1}',
    ]
    return seeds


CORPUS = _corpus()
NASTY = [
    b"",
    b"\\",
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"-",
    b".",
    b"e",
    b"\x00",
    b"\xff",
    b"\\u0000",
    b"\\ud800",
    b"9" * 40,
    b"[" * 200,
    b"null",
    b"1e999",
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real message with a few random edits, or plain random bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=300))
    data = bytearray(draw(st.sampled_from(CORPUS)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.integers(0, 5))
        if op == 0:
            data[i] = draw(st.integers(0, 255))
        elif op == 1:
            del data[i : i + draw(st.integers(1, 20))]
        elif op == 2:
            data[i:i] = draw(st.sampled_from(NASTY))
        elif op == 3:
            data = data[:i]
        elif op == 4:
            j = draw(st.integers(0, len(data) - 1))
            data[i:i] = data[j : j + draw(st.integers(1, 30))]
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def _hammer(check: Callable[[bytes], None]) -> int:
    """Feed MESSAGES_PER_PARSER messages to ``check``; returns how many it got."""
    count = 0

    @settings(
        max_examples=MESSAGES_PER_PARSER // BATCH,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(mutated(), min_size=BATCH, max_size=BATCH))
    def run(batch: list[bytes]) -> None:
        nonlocal count
        for raw in batch:
            check(raw)
            count += 1

    run()
    return count


def _typed(parse: Callable[[bytes], object]) -> Callable[[bytes], None]:
    def check(raw: bytes) -> None:
        try:
            parse(raw)
        except ParseError as e:
            assert e.offset is not None and 0 <= e.offset <= len(raw)

    return check


@pytest.mark.slow
def test_parse_message_survives_hostile_input() -> None:
    assert _hammer(_typed(parse_message)) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_parse_depth_snapshot_survives_hostile_input() -> None:
    assert _hammer(_typed(parse_depth_snapshot)) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_parse_error_body_survives_hostile_input() -> None:
    assert _hammer(_typed(parse_error_body)) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_parse_order_response_survives_hostile_input() -> None:
    assert _hammer(_typed(parse_order_response)) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_order_book_survives_hostile_input_unchanged() -> None:
    snapshot = b'{"lastUpdateId":100,"bids":[["10.5","1"],["9","2"]],"asks":[["11","1"]]}'
    book = OrderBook("BTCUSDT")

    def check(raw: bytes) -> None:
        if not book.is_synced:
            book.apply_snapshot(snapshot)
        before = (book.last_update_id, book.bids(50, exact=True), book.asks(50, exact=True))
        try:
            book.apply_depth_update(raw)
        except ParseError:
            after = (book.last_update_id, book.bids(50, exact=True), book.asks(50, exact=True))
            assert after == before, "a message that failed to parse changed the book"
        except BookError:
            pass  # a gap, a crossing or another symbol: the book was dropped on purpose
        if book.is_synced:
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is None or ask is None or bid[0] < ask[0]

    assert _hammer(check) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_snapshot_loading_survives_hostile_input() -> None:
    book = OrderBook("BTCUSDT")

    def check(raw: bytes) -> None:
        with contextlib.suppress(ParseError, BookError):
            book.apply_snapshot(raw)

    assert _hammer(check) >= MESSAGES_PER_PARSER


@pytest.mark.slow
def test_decimal_parsing_survives_hostile_input() -> None:
    def check(raw: bytes) -> None:
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            return
        try:
            value = ExactDecimal(text)
        except DecimalError:
            return
        assert str(value) == str(ExactDecimal(str(value)))

    assert _hammer(check) >= MESSAGES_PER_PARSER


def test_corpus_is_realistic() -> None:
    assert len(CORPUS) >= 10
    for raw in CORPUS[:4]:
        json.loads(raw)
