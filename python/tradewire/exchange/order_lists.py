"""Order lists, cancel-replace and amend: served as Binance serves them on a symbol without them.

Every symbol of the local exchange says ``ocoAllowed``, ``otoAllowed``, ``opoAllowed``,
``cancelReplaceAllowed`` and ``amendAllowed`` false in exchangeInfo, so placing one is refused with
the matching engine's -2010 message (errors.md, "Messages for -1010, -2010 and -2011"), and the
queries answer as for an account that never held an order list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange.handlers import Call

__all__ = ["REFUSED_PLACEMENTS", "all_order_lists", "cancel_order_list", "query_order_list"]

_OCO = "OCO orders are not supported for this symbol"
_OTO = "OTO orders are not supported for this symbol."
_OPO = "OPO orders are not supported for this symbol."
_CANCEL_REPLACE = "Order cancel-replace is not supported for this symbol."
_AMEND = "Order amend is not supported for this symbol."


def _refuse(message: str) -> Callable[[Call], object]:
    def handler(c: Call) -> object:
        c.core.engine.spec(c.params.symbol())  # an unknown symbol is -1121 first, as on Binance
        raise ExchangeRejection(-2010, message)

    return handler


REFUSED_PLACEMENTS: dict[tuple[str, str], Callable[[Call], object]] = {
    ("POST", "/api/v3/order/oco"): _refuse(_OCO),
    ("POST", "/api/v3/orderList/oco"): _refuse(_OCO),
    ("POST", "/api/v3/orderList/oto"): _refuse(_OTO),
    ("POST", "/api/v3/orderList/otoco"): _refuse(_OTO),
    ("POST", "/api/v3/orderList/opo"): _refuse(_OPO),
    ("POST", "/api/v3/orderList/opoco"): _refuse(_OPO),
    ("POST", "/api/v3/order/cancelReplace"): _refuse(_CANCEL_REPLACE),
    ("PUT", "/api/v3/order/amend/keepPriority"): _refuse(_AMEND),
}
"""Placement routes, each refused with -2010 and the message of its disabled feature."""


def cancel_order_list(c: Call) -> object:
    """DELETE /api/v3/orderList: no order list ever exists, so -2011 "Unknown order list sent."."""
    c.core.engine.spec(c.params.symbol())
    raise ExchangeRejection(-2011, "Unknown order list sent.")


def query_order_list(c: Call) -> object:
    """GET /api/v3/orderList: -2013 "Order list does not exist."."""
    raise ExchangeRejection(-2013, "Order list does not exist.")


def all_order_lists(c: Call) -> object:
    """GET /api/v3/allOrderList and /api/v3/openOrderList: an empty list."""
    for name in ("fromId", "startTime", "endTime", "limit"):
        c.params.get(name)
    return []
