"""The venue-neutral model: the rules' rounding and checks, and the book event (a view of the
Rust book that converts only what is read)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire import OrderBook
from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, OrderRequest, SymbolRules
from tradewire.testing.synthetic import SyntheticDepthStream

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))
SNAPSHOT = b'{"lastUpdateId":10,"bids":[["99.50","2"],["99.40","1.5"]],"asks":[["99.60","3"]]}'


def _book() -> OrderBook:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(SNAPSHOT)
    return book


def test_a_view_reads_the_books_exact_values() -> None:
    book = _book()
    view = BookUpdate.of_book(book, depth=5, received_ms=42)
    assert view.symbol == "BTCUSDT"
    assert view.update_id == 10
    assert view.received_ms == 42
    assert view.best_bid == D("99.50") and view.best_ask == D("99.60")
    assert view.mid == D("99.55")
    assert view.bids == ((D("99.5"), D(2)), (D("99.4"), D("1.5")))
    assert view.asks == ((D("99.6"), D(3)),)
    assert view.is_current


def test_a_view_equals_the_same_levels_given_directly() -> None:
    view = BookUpdate.of_book(_book())
    given = BookUpdate(
        "BTCUSDT", ((D("99.50"), D(2)), (D("99.40"), D("1.5"))), ((D("99.60"), D(3)),)
    )
    assert view == given
    assert view.frozen() == given


def test_values_are_kept_once_read_and_frozen_copies_do_not_move() -> None:
    book = _book()
    view = BookUpdate.of_book(book)
    assert view.best_bid == D("99.50")
    frozen = view.frozen()
    book.apply_depth_update(
        b'{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":11,"u":11,"b":[["99.55","1"]],"a":[]}'
    )
    assert not view.is_current
    assert view.best_bid == D("99.50")  # read before the update: kept
    assert frozen.best_bid == D("99.50") and frozen.is_current
    later = BookUpdate.of_book(book)
    assert later.best_bid == D("99.55") and later.time_ms == 5


def test_an_empty_side_reads_as_none() -> None:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(b'{"lastUpdateId":1,"bids":[["1.00","1"]],"asks":[]}')
    view = BookUpdate.of_book(book)
    assert view.best_ask is None and view.mid is None and view.asks == ()
    assert BookUpdate("X").best_bid is None


def test_best_prices_match_the_exact_top_levels_over_a_long_replay() -> None:
    stream = SyntheticDepthStream(seed=4)
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(stream.snapshot())
    for raw in stream.events(2_000):
        book.apply_depth_update(raw)
        bid, ask = book.best_prices()
        assert bid == D(book.bids(1, exact=True)[0][0])
        assert ask == D(book.asks(1, exact=True)[0][0])


def test_book_updates_are_not_hashable() -> None:
    with pytest.raises(TypeError):
        hash(BookUpdate("X"))


def test_rounding_follows_the_side() -> None:
    assert RULES.round_price(D("65000.019"), "BUY") == D("65000.01")
    assert RULES.round_price(D("65000.011"), "SELL") == D("65000.02")
    assert RULES.round_price(D("65000.015")) == D("65000.02")
    assert RULES.floor_quantity(D("0.0012399")) == D("0.00123")


@pytest.mark.parametrize(
    ("qty", "price", "message"),
    [
        (D("0.000015"), D("65000"), "not a multiple of LOT_SIZE stepSize 0.00001"),
        (D("0.001"), D("65000.001"), "not a multiple of PRICE_FILTER tickSize 0.01"),
        (D("0.00001"), D("65000"), "notional 0.65 .* below NOTIONAL minNotional 5"),
    ],
)
def test_check_names_the_broken_rule(qty: D, price: D, message: str) -> None:
    request = OrderRequest("BTCUSDT", "BUY", "LIMIT", qty, "c1", price)
    with pytest.raises(InvalidOrder, match=message):
        RULES.check(request)
    with pytest.raises(InvalidOrder, match="the order is for ETHUSDT"):
        RULES.check(OrderRequest("ETHUSDT", "BUY", "LIMIT", D("1"), "c1", D("65000")))


def test_requests_refuse_floats() -> None:
    with pytest.raises(TypeError):
        OrderRequest("BTCUSDT", "BUY", "LIMIT", 0.001, "c1", D(1))  # type: ignore[arg-type]


def test_book_update_mid_is_exact() -> None:
    book = BookUpdate("BTCUSDT", ((D("1.01"), D(1)),), ((D("1.02"), D(1)),))
    assert book.mid == D("1.015")
