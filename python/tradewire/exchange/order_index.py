"""Where accounts' orders are found: every order by id, the open ones by client id and account."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection

if TYPE_CHECKING:
    from tradewire.exchange.orders import OrderRecord

__all__ = ["OrderIndex"]


class OrderIndex:
    """Every recorded order by (symbol, order id), and the open ones by client id and account.

    The market's own orders are not recorded here.
    """

    def __init__(self) -> None:
        self._orders: dict[tuple[str, int], OrderRecord] = {}
        self._open_by_client_id: dict[tuple[int, str, str], OrderRecord] = {}
        self._open_by_account: dict[int, dict[tuple[str, int], OrderRecord]] = {}

    def record(self, order: OrderRecord) -> None:
        """Remember an order (in the order orders are recorded)."""
        self._orders[(order.symbol, order.order_id)] = order

    def opened(self, order: OrderRecord) -> None:
        """Index a recorded order as open (by client id, and per account in time order)."""
        self._open_by_client_id[(order.account, order.symbol, order.client_order_id)] = order
        self._open_by_account.setdefault(order.account, {})[(order.symbol, order.order_id)] = order

    def closed(self, order: OrderRecord) -> None:
        """Drop an order from the open indexes."""
        key = (order.account, order.symbol, order.client_order_id)
        if self._open_by_client_id.get(key) is order:
            del self._open_by_client_id[key]
        self._open_by_account.get(order.account, {}).pop((order.symbol, order.order_id), None)

    def has_open_client_id(self, account: int, symbol: str, client_id: str) -> bool:
        """Whether an open order of ``account`` on ``symbol`` has ``client_id``."""
        return (account, symbol, client_id) in self._open_by_client_id

    def find(
        self, account: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> OrderRecord:
        """An account's order by id (and client id, if given) or by client id, or -2013.

        By client id alone, the open order with it wins, else the latest one recorded.
        """
        if order_id is not None:
            found = self._orders.get((symbol, order_id))
            if (
                found is not None
                and found.account == account
                and (client_id is None or found.client_order_id == client_id)
            ):
                return found
        elif client_id is not None:
            found = self._open_by_client_id.get((account, symbol, client_id))
            if found is not None:
                return found
            for order in reversed(self._orders.values()):
                if (
                    order.account == account
                    and order.symbol == symbol
                    and order.client_order_id == client_id
                ):
                    return order
        raise ExchangeRejection(-2013, "Order does not exist.")

    def open_orders(self, account: int, symbol: str | None = None) -> list[OrderRecord]:
        """An account's open orders (all symbols, or one), oldest first."""
        return [
            o
            for o in self._open_by_account.get(account, {}).values()
            if symbol is None or o.symbol == symbol
        ]

    def all_orders(self, account: int, symbol: str) -> list[OrderRecord]:
        """Every order an account placed on ``symbol``, in the order they were recorded."""
        return [o for o in self._orders.values() if o.account == account and o.symbol == symbol]
