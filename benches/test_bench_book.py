"""Keeping a local Binance order book from raw depth events: tradewire against orjson + order-book.

Per event, from the raw bytes: parse, check the update ids, apply every level, then read the top
of book (best bid and best ask). One round replays all ``EVENTS`` events of
``SyntheticDepthStream(seed=7)`` through a fresh book loaded from the snapshot; building that book
is setup and is not timed.

Implementations (group ``book/depth-replay/synthetic-seed7``):

- ``tradewire``: ``OrderBook.apply_depth_update(raw)``, ``best_bid()``, ``best_ask()``.
- ``orjson+order-book``: ``orjson.loads``, float prices and sizes, ``order_book.OrderBook`` (the C
  sorted dict cryptofeed uses), written the way cryptofeed's Binance feed applies a depthUpdate:
  update-id checks, ``del`` after a membership test for a zero size, otherwise assignment; the top
  of book is ``bids.index(0)`` / ``asks.index(0)``.
- ``orjson.loads``: only parsing the same bytes: the floor for any book built on orjson.

Correctness is checked in the same run: after the timed replay, tradewire's top ``TOP`` levels
(exact strings and floats) must equal a plain-Python dict-of-``Decimal`` replay and the
order-book peer's top levels. The outcome is in ``extra_info["matches_reference"]``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradewire import OrderBook
from tradewire.testing.synthetic import SyntheticDepthStream

orjson = pytest.importorskip("orjson")
order_book = pytest.importorskip("order_book")

SYMBOL = "BTCUSDT"
SEED = 7
EVENTS = 20_000
TOP = 20
# Rounds per implementation: the cheap ones get more, to even out a noisy machine.
ROUNDS = {"tradewire": 15, "orjson+order-book": 5, "orjson.loads": 15}
GROUP = f"book/depth-replay/synthetic-seed{SEED}"

Levels = list[tuple[Any, Any]]


class Stream:
    """One session's snapshot and events, and the reference book they lead to."""

    def __init__(self) -> None:
        stream = SyntheticDepthStream(SYMBOL, seed=SEED)
        self.snapshot: bytes = stream.snapshot()
        self.events: list[bytes] = list(stream.events(EVENTS))
        self.top_bids, self.top_asks = _decimal_replay(self.snapshot, self.events)


def _decimal_replay(snapshot: bytes, events: list[bytes]) -> tuple[Levels, Levels]:
    """The reference: plain dicts of ``Decimal``, sorted once at the end."""
    body = orjson.loads(snapshot)
    bids = {Decimal(p): Decimal(q) for p, q in body["bids"]}
    asks = {Decimal(p): Decimal(q) for p, q in body["asks"]}
    last = body["lastUpdateId"]
    for raw in events:
        msg = orjson.loads(raw)
        if msg["u"] <= last:
            continue
        assert msg["U"] <= last + 1, "gap in the synthetic stream"
        last = msg["u"]
        for side, levels in ((bids, msg["b"]), (asks, msg["a"])):
            for p, q in levels:
                price, qty = Decimal(p), Decimal(q)
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
    top_bids = sorted(bids.items(), reverse=True)[:TOP]
    top_asks = sorted(asks.items())[:TOP]
    return top_bids, top_asks


@pytest.fixture(scope="session")
def stream() -> Stream:
    return Stream()


# --- tradewire ---------------------------------------------------------------------------------


def _tradewire_setup(stream: Stream, holder: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    book = OrderBook(SYMBOL)
    book.apply_snapshot(stream.snapshot)
    holder[:] = [book]
    return (book, stream.events), {}


def _tradewire_replay(book: OrderBook, events: list[bytes]) -> Any:
    apply, best_bid, best_ask = book.apply_depth_update, book.best_bid, book.best_ask
    top = None
    for raw in events:
        apply(raw)
        top = best_bid(), best_ask()
    return top


# --- orjson + order-book (cryptofeed's way) ----------------------------------------------------


class GapError(Exception):
    pass


class PeerBook:
    """order-book's C ``OrderBook`` plus the last update id, as cryptofeed's Binance feed has."""

    def __init__(self, snapshot: bytes) -> None:
        body = orjson.loads(snapshot)
        self.book = order_book.OrderBook()
        for p, q in body["bids"]:
            self.book.bids[float(p)] = float(q)
        for p, q in body["asks"]:
            self.book.asks[float(p)] = float(q)
        self.last_update_id: int = body["lastUpdateId"]


def _peer_setup(stream: Stream, holder: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    peer = PeerBook(stream.snapshot)
    holder[:] = [peer]
    return (peer, stream.events), {}


def _peer_replay(peer: PeerBook, events: list[bytes]) -> Any:
    loads = orjson.loads
    bids, asks = peer.book.bids, peer.book.asks
    last = peer.last_update_id
    top = None
    for raw in events:
        msg = loads(raw)
        if msg["s"] != SYMBOL:
            raise ValueError(msg["s"])
        if msg["u"] <= last:
            continue
        if msg["U"] > last + 1:
            raise GapError(msg["U"])
        last = msg["u"]
        for side, levels in ((bids, msg["b"]), (asks, msg["a"])):
            for p, q in levels:
                price = float(p)
                size = float(q)
                if size == 0:
                    if price in side:
                        del side[price]
                else:
                    side[price] = size
        top = bids.index(0), asks.index(0)
    peer.last_update_id = last
    return top


# --- orjson.loads alone ------------------------------------------------------------------------


def _loads_setup(stream: Stream, holder: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    holder[:] = [None]
    return (stream.events,), {}


def _loads_replay(events: list[bytes]) -> Any:
    loads = orjson.loads
    msg = None
    for raw in events:
        msg = loads(raw)
    return msg


IMPLS = {
    "tradewire": (_tradewire_setup, _tradewire_replay),
    "orjson+order-book": (_peer_setup, _peer_replay),
    "orjson.loads": (_loads_setup, _loads_replay),
}


def _as_float(levels: Levels) -> Levels:
    return [(float(p), float(q)) for p, q in levels]


def _peer_top(peer: PeerBook) -> tuple[Levels, Levels]:
    bids = [peer.book.bids.index(i) for i in range(min(TOP, len(peer.book.bids)))]
    asks = [peer.book.asks.index(i) for i in range(min(TOP, len(peer.book.asks)))]
    return bids, asks


@pytest.mark.parametrize("impl", list(IMPLS))
def test_book_depth_replay(benchmark: Any, stream: Stream, impl: str) -> None:
    setup, replay = IMPLS[impl]
    holder: list[Any] = []
    benchmark.group = GROUP
    benchmark.extra_info["impl"] = impl
    benchmark.extra_info["events"] = len(stream.events)
    benchmark.extra_info["mean_event_bytes"] = round(
        sum(map(len, stream.events)) / len(stream.events), 1
    )

    top = benchmark.pedantic(
        replay,
        setup=lambda: setup(stream, holder),
        rounds=ROUNDS[impl],
        warmup_rounds=1,
        iterations=1,
    )

    if benchmark.stats is not None:  # None when measurement is disabled
        stats = benchmark.stats.stats
        benchmark.extra_info["per_event_us_mean"] = stats.mean / len(stream.events) * 1e6
        benchmark.extra_info["per_event_us_min"] = stats.min / len(stream.events) * 1e6

    ref_bids, ref_asks = stream.top_bids, stream.top_asks
    if impl == "tradewire":
        book: OrderBook = holder[0]
        exact_bids = [(Decimal(p), Decimal(q)) for p, q in book.bids(TOP, exact=True)]
        exact_asks = [(Decimal(p), Decimal(q)) for p, q in book.asks(TOP, exact=True)]
        peer_bids, peer_asks = _peer_top(_peer_after_replay(stream))
        tradewire_top = (book.best_bid(), book.best_ask())
        checks = {
            "exact_vs_decimal": exact_bids == ref_bids and exact_asks == ref_asks,
            "float_vs_decimal": book.bids(TOP) == _as_float(ref_bids)
            and book.asks(TOP) == _as_float(ref_asks),
            "float_vs_order_book": book.bids(TOP) == peer_bids and book.asks(TOP) == peer_asks,
            "top_of_book": top == tradewire_top == (peer_bids[0], peer_asks[0]),
        }
    elif impl == "orjson+order-book":
        peer_bids, peer_asks = _peer_top(holder[0])
        checks = {
            "float_vs_decimal": peer_bids == _as_float(ref_bids)
            and peer_asks == _as_float(ref_asks),
            "top_of_book": top == (peer_bids[0], peer_asks[0]),
        }
    else:
        last = orjson.loads(stream.events[-1])
        checks = {"parsed_last_event": top == last}
    benchmark.extra_info["checks"] = checks
    benchmark.extra_info["matches_reference"] = all(checks.values())
    assert checks == dict.fromkeys(checks, True)


def _peer_after_replay(stream: Stream) -> PeerBook:
    peer = PeerBook(stream.snapshot)
    _peer_replay(peer, stream.events)
    return peer
