"""Symbol filters (PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, NOTIONAL) as Binance applies them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.exchange.amounts import is_multiple
from tradewire.exchange.rejections import filter_failure

if TYPE_CHECKING:
    from decimal import Decimal

    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["check_lot", "check_market_lot", "check_notional", "check_price"]


def check_price(spec: SymbolSpec, price: Decimal) -> None:
    """PRICE_FILTER: within [minPrice, maxPrice] and ``price % tickSize == 0`` (filters.md)."""
    if price < spec.min_price or price > spec.max_price or not is_multiple(price, spec.tick_size):
        raise filter_failure("PRICE_FILTER")


def check_lot(spec: SymbolSpec, qty: Decimal) -> None:
    """LOT_SIZE: within [minQty, maxQty] and ``quantity % stepSize == 0`` (filters.md)."""
    if qty < spec.min_qty or qty > spec.max_qty or not is_multiple(qty, spec.step_size):
        raise filter_failure("LOT_SIZE")


def check_market_lot(spec: SymbolSpec, qty: Decimal) -> None:
    """MARKET_LOT_SIZE and LOT_SIZE for a MARKET order given by quantity."""
    if qty > spec.market_max_qty:
        raise filter_failure("MARKET_LOT_SIZE")
    check_lot(spec, qty)


def check_notional(spec: SymbolSpec, notional: Decimal, *, market: bool) -> None:
    """NOTIONAL: at least minNotional (also for MARKET), at most maxNotional (not for MARKET)."""
    if notional < spec.min_notional or (not market and notional > spec.max_notional):
        raise filter_failure("NOTIONAL")
