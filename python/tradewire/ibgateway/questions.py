"""The order question chain: which precautionary questions an order raises, in IB's words."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.ibgateway.market import format_price

if TYPE_CHECKING:
    from tradewire.ibgateway.market import Quote
    from tradewire.ibgateway.orders import GatewayOrder

__all__ = ["questions_for"]

_PERCENT_CONSTRAINT = Decimal("0.03")


def questions_for(
    order: GatewayOrder, quote: Quote, *, has_market_data: bool, suppressed: set[str]
) -> list[tuple[str, str]]:
    """The (messageId, message) questions ``order`` raises, in the order IB asks them."""
    out: list[tuple[str, str]] = []
    symbol = order.contract.symbol
    if not has_market_data:
        out.append(
            (
                "o354",
                "You are submitting an order without market data. We strongly recommend against "
                "this as it may result in erroneous and unexpected trades. Are you sure you want "
                "to submit this order?",
            )
        )
    price = order.price
    if price is not None and order.order_type in ("LMT", "STOP_LIMIT"):
        if abs(price - quote.last) > quote.last * _PERCENT_CONSTRAINT:
            out.append(
                (
                    "o163",
                    f'The following order "{order.side} {order.quantity:f} {symbol} '
                    f'{order.contract.exchange} @ {format_price(price)}" price exceeds the '
                    "Percentage constraint of 3%. Are you sure you want to submit this order?",
                )
            )
        marketable = price >= quote.ask if order.side == "BUY" else price <= quote.bid
        if marketable:
            out.append(
                (
                    "o403",
                    "This order will most likely trigger and fill immediately. Are you sure you "
                    "want to submit this order?",
                )
            )
    if order.order_type == "MKT":
        out.append(
            (
                "o10151",
                "A Market Order is an instruction to trade your order at any available price. "
                "Are you sure you want to submit this order?",
            )
        )
    if order.order_type in ("STP", "STOP_LIMIT"):
        out.append(
            (
                "o10331",
                "You are about to submit a stop order. Please be aware of the various stop order "
                "types available and the risks associated with each one. Are you sure you want "
                "to submit this order?",
            )
        )
    return [(mid, text) for mid, text in out if mid not in suppressed]
