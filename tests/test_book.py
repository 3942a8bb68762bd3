"""tradewire.OrderBook: Binance's local-book procedure, checked against a plain Python book."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire import (
    BookError,
    BookNotSynced,
    OrderBook,
    ParseError,
    SequenceGap,
    SymbolMismatch,
)
from tradewire.testing.synthetic import SyntheticDepthStream

if TYPE_CHECKING:
    from conftest import Capture


class ReferenceBook:
    """The same rules in plain Python with Decimals: what the Rust book must equal."""

    def __init__(self, snapshot: bytes) -> None:
        body = json.loads(snapshot)
        self.last_id: int = body["lastUpdateId"]
        self.bids = {Decimal(p): Decimal(q) for p, q in body["bids"] if Decimal(q)}
        self.asks = {Decimal(p): Decimal(q) for p, q in body["asks"] if Decimal(q)}

    def apply(self, raw: bytes) -> bool:
        event = json.loads(raw)
        event = event.get("data", event)
        if event["u"] <= self.last_id:
            return False
        assert event["U"] <= self.last_id + 1, "the reference saw a gap"
        for side, key in ((self.bids, "b"), (self.asks, "a")):
            for p, q in event[key]:
                if Decimal(q):
                    side[Decimal(p)] = Decimal(q)
                else:
                    side.pop(Decimal(p), None)
        self.last_id = event["u"]
        return True

    def top(self, n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        def fmt(levels: list[tuple[Decimal, Decimal]]) -> list[tuple[str, str]]:
            return [(_canon(p), _canon(q)) for p, q in levels[:n]]

        return (
            fmt(sorted(self.bids.items(), reverse=True)),
            fmt(sorted(self.asks.items())),
        )


def _canon(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return "0" if text == "-0" else text


def assert_same(book: OrderBook, ref: ReferenceBook, n: int = 10_000) -> None:
    bids, asks = ref.top(n)
    assert book.bids(n, exact=True) == bids
    assert book.asks(n, exact=True) == asks
    assert book.last_update_id == ref.last_id
    assert book.bid_count == len(ref.bids) and book.ask_count == len(ref.asks)


def assert_not_crossed(book: OrderBook) -> None:
    bid, ask = book.best_bid(), book.best_ask()
    if bid is not None and ask is not None:
        assert bid[0] < ask[0]


@pytest.mark.slow
def test_synthetic_stream_matches_the_reference_level_for_level() -> None:
    stream = SyntheticDepthStream(seed=11)
    snapshot = stream.snapshot()
    book, ref = OrderBook("BTCUSDT"), ReferenceBook(snapshot)
    book.apply_snapshot(snapshot)
    for i, event in enumerate(stream.events(3000)):
        assert book.apply_depth_update(event) is ref.apply(event) is True
        assert_not_crossed(book)
        bids, asks = ref.top(1)
        assert book.bids(1, exact=True) == bids and book.asks(1, exact=True) == asks
        if i % 500 == 0:
            assert_same(book, ref)
    assert_same(book, ref)
    best_bid, best_ask = stream.best()
    assert book.best_bid() is not None and book.best_bid()[0] == float(best_bid)  # type: ignore[index]
    assert book.best_ask() is not None and book.best_ask()[0] == float(best_ask)  # type: ignore[index]


def test_real_binance_traffic_replays_cleanly(capture: Capture) -> None:
    replayed = 0
    for symbol, snapshot in capture.snapshots.items():
        book, ref = OrderBook(symbol), ReferenceBook(snapshot)
        book.apply_snapshot(snapshot)
        assert_same(book, ref)
        stream = f"{symbol.lower()}@depth"
        applied = stale = 0
        for raw in capture.messages:
            if f'"stream":"{stream}'.encode() not in raw:
                continue
            result = book.apply_depth_update(raw)  # the combined-stream envelope, as received
            assert result is ref.apply(raw)
            applied += result
            stale += not result
            assert_not_crossed(book)
        assert applied > 0, symbol
        assert_same(book, ref)
        replayed += applied
    assert replayed > 50


def _event(first: int, last: int, bids: Any = (), asks: Any = (), symbol: str = "BTCUSDT") -> bytes:
    return json.dumps(
        {
            "e": "depthUpdate",
            "E": 1,
            "s": symbol,
            "U": first,
            "u": last,
            "b": [list(level) for level in bids],
            "a": [list(level) for level in asks],
        }
    ).encode()


SNAPSHOT = json.dumps(
    {"lastUpdateId": 100, "bids": [["10.0", "1"], ["9.5", "2"]], "asks": [["11.0", "3"]]}
).encode()


def test_sequencing_follows_binance_rules() -> None:
    book = OrderBook("btcusdt")
    assert book.symbol == "BTCUSDT" and not book.is_synced
    with pytest.raises(BookNotSynced):
        book.apply_depth_update(_event(1, 2))
    book.apply_snapshot(SNAPSHOT)
    assert book.apply_depth_update(_event(90, 100, [("10.0", "9")])) is False  # stale: u <= 100
    assert book.best_bid() == (10.0, 1.0)
    assert book.apply_depth_update(_event(95, 102, [("10.0", "0")])) is True  # straddles
    assert book.best_bid() == (9.5, 2.0) and book.last_update_id == 102
    with pytest.raises(SequenceGap) as gap:
        book.apply_depth_update(_event(104, 105))
    assert (gap.value.expected, gap.value.got) == (103, 104)
    assert not book.is_synced and book.best_bid() is None and book.last_update_id is None
    with pytest.raises(BookNotSynced, match="snapshot"):
        book.apply_depth_update(_event(103, 105))
    book.apply_snapshot(SNAPSHOT)
    assert book.is_synced and book.best_ask() == (11.0, 3.0)


def test_bad_messages_leave_the_book_untouched() -> None:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(SNAPSHOT)
    good = _event(101, 101, [("10.5", "1")], [("10.9", "1")])
    for bad in (
        good[:-5],
        good.replace(b'"10.5"', b'"10.5x"'),
        good.replace(b'"U": 101', b'"U": -1'),
        good.replace(b'"b":', b'"bids":'),
        good.replace(b'"depthUpdate"', b'"trade"'),
        _event(102, 101),
        b"",
        b"[]",
        b"\xff\xfe",
    ):
        with pytest.raises(ParseError):
            book.apply_depth_update(bad)
        assert book.last_update_id == 100 and book.best_bid() == (10.0, 1.0)
    with pytest.raises(SymbolMismatch):
        book.apply_depth_update(_event(101, 101, symbol="ETHUSDT"))
    assert book.apply_depth_update(good)


def test_a_crossing_update_drops_the_book() -> None:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(SNAPSHOT)
    with pytest.raises(BookError, match="crossed"):
        book.apply_depth_update(_event(101, 101, [("11.0", "1")]))
    assert not book.is_synced
    crossed = json.dumps({"lastUpdateId": 1, "bids": [["2", "1"]], "asks": [["1", "1"]]})
    with pytest.raises(BookError, match="crossed"):
        book.apply_snapshot(crossed)


def test_reads_and_analytics() -> None:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(
        json.dumps(
            {
                "lastUpdateId": 5,
                "bids": [["99.5", "2"], ["100", "1"], ["99", "0"]],
                "asks": [["101", "1"], ["103", "4"]],
            }
        )
    )
    assert book.bids() == [(100.0, 1.0), (99.5, 2.0)]
    assert book.asks(1) == [(101.0, 1.0)]
    assert book.spread() == 1.0 and book.mid() == 100.5
    bids, asks = book.depth()
    assert bids.dtype == np.float64 and bids.shape == (2, 2) and asks.shape == (2, 2)
    np.testing.assert_array_equal(bids, [[100.0, 1.0], [99.5, 2.0]])
    assert book.depth(1)[1].tolist() == [[101.0, 1.0]]
    assert book.average_fill_price("BUY", "3") == pytest.approx((102.33333333333333, 3.0))
    assert book.average_fill_price("buy", Decimal("10")) == (102.6, 5.0)
    assert book.average_fill_price("SELL", 2.5) == (99.7, 2.5)  # (100*1 + 99.5*1.5) / 2.5
    assert "best_bid=1@100" in repr(book)
    empty = OrderBook("ETHUSDT")
    assert empty.spread() is None and empty.mid() is None and empty.best_ask() is None
    assert empty.average_fill_price("BUY", "1") is None
    assert empty.depth()[0].shape == (0, 2)


def test_snapshot_accepts_any_order_and_repeats() -> None:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(
        b'{"lastUpdateId":1,"bids":[["1","1"],["3","1"],["2","1"],["3","5"]],"asks":[]}'
    )
    assert book.bids(exact=True) == [("3", "5"), ("2", "1"), ("1", "1")]


def test_concurrent_readers_and_a_writer() -> None:
    stream = SyntheticDepthStream(seed=5)
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(stream.snapshot())
    events = list(stream.events(400))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(2000):
                book.best_bid()
                book.bids(5)
                book.depth(5)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    for event in events:
        book.apply_depth_update(event)
    for t in readers:
        t.join()
    assert errors == []
    assert book.bid_count > 0


prices = st.integers(min_value=1, max_value=60).map(lambda t: f"{t / 4:.2f}")
qtys = st.sampled_from(["0", "0.00000000", "1", "0.5", "2.25000000", "100"])


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.tuples(prices, qtys), max_size=8),
            st.lists(st.tuples(prices, qtys), max_size=8),
            st.integers(min_value=0, max_value=3),
        ),
        max_size=30,
    )
)
def test_any_valid_sequence_equals_the_reference(steps: list[Any]) -> None:
    snapshot = json.dumps(
        {"lastUpdateId": 10, "bids": [["5.00", "1"], ["4.00", "2"]], "asks": [["11.00", "1"]]}
    ).encode()
    book, ref = OrderBook("BTCUSDT"), ReferenceBook(snapshot)
    book.apply_snapshot(snapshot)
    last = 10
    for bids, asks, extra in steps:
        # Keep the generated book uncrossed: bids below 7.5, asks above it.
        bids = [(p, q) for p, q in bids if float(p) < 7.5]
        asks = [(p, q) for p, q in asks if float(p) > 7.5]
        event = _event(last + 1, last + 1 + extra, bids, asks)
        last += 1 + extra
        assert book.apply_depth_update(event) is ref.apply(event)
    assert_same(book, ref)
