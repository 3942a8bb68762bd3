"""The venue-neutral types of tradewire.model: rounding to the rules, and their checks."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradewire.errors import InvalidOrder
from tradewire.model import BookUpdate, OrderRequest, SymbolRules

RULES = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.00001"), D("0.00001"), D("5"))


def test_rounding_follows_the_side() -> None:
    assert RULES.round_price(D("65000.019"), "BUY") == D("65000.01")
    assert RULES.round_price(D("65000.011"), "SELL") == D("65000.02")
    assert RULES.round_price(D("65000.015")) == D("65000.02")
    assert RULES.floor_quantity(D("0.0012399")) == D("0.00123")


@pytest.mark.parametrize(
    ("qty", "price", "message"),
    [
        (D("0.000015"), D("65000"), "step size"),
        (D("0.001"), D("65000.001"), "tick size"),
        (D("0.00001"), D("65000"), "minimum notional"),
    ],
)
def test_check_names_the_broken_rule(qty: D, price: D, message: str) -> None:
    request = OrderRequest("BTCUSDT", "BUY", "LIMIT", qty, "c1", price)
    with pytest.raises(InvalidOrder, match=message):
        RULES.check(request)


def test_requests_refuse_floats() -> None:
    with pytest.raises(TypeError):
        OrderRequest("BTCUSDT", "BUY", "LIMIT", 0.001, "c1", D(1))  # type: ignore[arg-type]


def test_book_update_mid_is_exact() -> None:
    book = BookUpdate("BTCUSDT", ((D("1.01"), D(1)),), ((D("1.02"), D(1)),))
    assert book.mid == D("1.015")
