"""Reading a new-order request out of parameters, with Binance's checks per order type."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange.matching import NewOrder
from tradewire.exchange.rejections import mandatory

if TYPE_CHECKING:
    from tradewire.exchange.params import Params

__all__ = ["ORDER_PARAMS", "read_order", "read_resp_type"]

SIDES = ("BUY", "SELL")
TYPES = (
    "LIMIT",
    "MARKET",
    "LIMIT_MAKER",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
# rest-api.md, "New order": a stop-market takes quantity and stopPrice, and no price
STOP_MARKET_TYPES = ("STOP_LOSS", "TAKE_PROFIT")
TIFS = ("GTC", "IOC", "FOK")
RESP_TYPES = ("ACK", "RESULT", "FULL")
ORDER_PARAMS = ("recvWindow", "timestamp", "strategyId", "strategyType")
# enums.md, "STP Modes"; whether a symbol allows one is its exchangeInfo's to say (-1013)
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH", "DECREMENT", "TRANSFER")
# Spot's legal range, as Binance's -1100 answer states it (a dot is refused, unlike on futures).
_CLIENT_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _not_required(name: str) -> ExchangeRejection:
    if name == "timeInForce":
        return ExchangeRejection(-1114, "TimeInForce parameter sent when not required.")
    return ExchangeRejection(-1106, f"Parameter '{name}' sent when not required.")


def read_order(p: Params) -> NewOrder:
    """A NewOrder from ``p``: mandatory and forbidden parameters checked per order type."""
    symbol = p.symbol()
    side = p.require("side")
    if side not in SIDES:
        raise ExchangeRejection(-1117, "Invalid side.")
    order_type = p.require("type")
    if order_type not in TYPES:
        raise ExchangeRejection(-1116, "Invalid orderType.")
    tif = p.get("timeInForce")
    if tif is not None and tif not in TIFS:
        raise ExchangeRejection(-1115, "Invalid timeInForce.")
    quantity = p.decimal("quantity")
    quote_qty = p.decimal("quoteOrderQty")
    price = p.decimal("price")
    stop_price = p.decimal("stopPrice")
    client_id = p.get("newClientOrderId")
    if p.values.get("newClientOrderId") == "":
        raise ExchangeRejection(-1118, "New client order ID was empty.")
    if client_id is not None and (len(client_id) > 36 or set(client_id) - _CLIENT_ID_CHARS):
        raise ExchangeRejection(
            -1100,
            "Illegal characters found in parameter 'newClientOrderId'; legal range is "
            "'^[a-zA-Z0-9-_]{1,36}$'.",
        )
    stp_mode = p.get("selfTradePreventionMode")
    if stp_mode is not None and stp_mode not in STP_MODES:
        raise ExchangeRejection(
            -1130, "Data sent for parameter 'selfTradePreventionMode' is not valid."
        )
    if p.get("icebergQty") is not None:
        raise ExchangeRejection(-2010, "Iceberg orders are not supported for this symbol.")
    if p.get("trailingDelta") is not None:
        raise ExchangeRejection(-2010, "Trailing stop orders are not supported for this symbol.")
    if order_type == "MARKET":
        if quantity is None and quote_qty is None:
            raise ExchangeRejection(
                -1102, "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
            )
        if quantity is not None and quote_qty is not None:
            raise _not_required("quoteOrderQty")
        for name, value in (("price", price), ("stopPrice", stop_price), ("timeInForce", tif)):
            if value is not None:
                raise _not_required(name)
    elif order_type in STOP_MARKET_TYPES:
        if quantity is None:
            raise mandatory("quantity")
        if stop_price is None:
            raise mandatory("stopPrice")
        for name, value in (("quoteOrderQty", quote_qty), ("price", price), ("timeInForce", tif)):
            if value is not None:
                raise _not_required(name)
    else:
        if quote_qty is not None:
            raise _not_required("quoteOrderQty")
        if quantity is None:
            raise mandatory("quantity")
        if price is None:
            raise mandatory("price")
        needs_tif = order_type != "LIMIT_MAKER"
        if needs_tif and tif is None:
            raise mandatory("timeInForce")
        if not needs_tif and tif is not None:
            raise _not_required("timeInForce")
        is_stop = order_type in ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
        if is_stop and stop_price is None:
            raise mandatory("stopPrice")
        if not is_stop and stop_price is not None:
            raise _not_required("stopPrice")
    return NewOrder(
        symbol=symbol,
        side=side,
        type=order_type,
        quantity=quantity,
        quote_qty=quote_qty,
        price=price,
        stop_price=stop_price,
        time_in_force=tif,
        client_order_id=client_id,
        stp_mode=stp_mode,
    )


def read_resp_type(p: Params, order_type: str) -> str:
    """newOrderRespType: FULL by default for MARKET and LIMIT, ACK for the others."""
    default = "FULL" if order_type in ("MARKET", "LIMIT") else "ACK"
    value = p.get("newOrderRespType")
    if value is None:
        return default
    if value not in RESP_TYPES:
        raise ExchangeRejection(-1130, "Data sent for parameter 'newOrderRespType' is not valid.")
    return value
