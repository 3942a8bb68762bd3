"""The venue-neutral types: rounding to the rules, and their checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, OrderRequest, SymbolRules
from tradewire.venues.paper import PaperBroker
from tradewire.venues.protocols import Venue
from tradewire.venues.readonly import ReadOnlyVenue

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


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


def test_paper_and_read_only_are_venues() -> None:
    assert isinstance(PaperBroker(RULES, {"USDT": "1"}), Venue)
    assert isinstance(ReadOnlyVenue(RULES, {"USDT": "1"}), Venue)
