"""The read-only venue: takes orders, logs them, and never fills or sends anything."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.clock import WallClock
from tradewire.errors import OrderNotFound
from tradewire.model import Balance, Order

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from tradewire.clock import Clock
    from tradewire.model import OrderRequest, OrderUpdate, SymbolRules

__all__ = ["ReadOnlyVenue"]

log = logging.getLogger("tradewire.venues.readonly")


class ReadOnlyVenue:
    """A venue for read-only runs: the strategy sees the market; its orders go nowhere."""

    name = "read-only"

    def __init__(
        self,
        rules: SymbolRules,
        balances: Mapping[str, Decimal | str],
        *,
        clock: Clock | None = None,
    ) -> None:
        self.rules = rules
        self.clock: Clock = clock or WallClock()
        self._balances = {a: Balance(a, Decimal(v)) for a, v in balances.items()}
        self._orders: dict[str, Order] = {}
        self.placed: list[OrderRequest] = []

    def __repr__(self) -> str:
        return f"ReadOnlyVenue({self.rules.symbol!r})"

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The rules it was given."""
        return self.rules

    async def server_time(self) -> int:
        """The run's clock."""
        return self.clock.now_ms()

    async def balances(self) -> dict[str, Balance]:
        """The balances it was given (they never change)."""
        return dict(self._balances)

    async def place_order(self, request: OrderRequest) -> Order:
        """Check the order against the rules, log it and keep it as NEW; nothing is sent."""
        self.rules.check(request)
        self.placed.append(request)
        stop = "" if request.stop_price is None else f" stop {request.stop_price}"
        log.info(
            "read-only: not sending %s %s %s %s @ %s%s (%s)",
            request.side,
            request.type,
            request.quantity,
            request.symbol,
            request.price or "market",
            stop,
            request.client_order_id,
        )
        order = Order(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            client_order_id=request.client_order_id,
            status="NEW",
            price=request.price,
            time_ms=self.clock.now_ms(),
            stop_price=request.stop_price,
        )
        self._orders[order.client_order_id] = order
        return order

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Mark a kept order canceled."""
        order = self._orders.get(client_order_id)
        if order is None or not order.is_open:
            raise OrderNotFound("Unknown order sent.", code=-2011, endpoint="read-only venue")
        order = replace(order, status="CANCELED")
        self._orders[client_order_id] = order
        return order

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """A kept order, or None."""
        return self._orders.get(client_order_id)

    async def open_orders(self, symbol: str) -> list[Order]:
        """The kept orders not canceled."""
        return [o for o in self._orders.values() if o.is_open]

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Nothing ever happens to a read-only order."""
        await asyncio.Event().wait()
        return
        yield  # pragma: no cover - makes this an async generator
