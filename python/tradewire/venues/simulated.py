"""The simulated exchange: an account whose orders the Rust simulation engine matches.

:class:`SimulatedExchange` is a :class:`~tradewire.venues.protocols.Venue` (the same one a
strategy trades through live) that keeps balances, locked funds, order states and fees exactly
as the paper broker does (it is one: the account rules are inherited, not copied), and leaves
*whether, when, how much and at what price* an order fills to
:class:`tradewire._core.SimEngine` and its fill model (``touch``, ``trade-through``,
``queue``). The backtest driver (:mod:`tradewire.backtest`) feeds the engine the market tape and
hands each fill to :meth:`SimulatedExchange.on_fill`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.errors import BacktestError, InvalidOrder, OrderNotFound
from tradewire.model import Order, OrderUpdate
from tradewire.venues.paper import PaperBroker

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire._core import SimEngine
    from tradewire.clock import Clock
    from tradewire.model import MarketEvent, OrderRequest, SymbolRules

__all__ = ["SimulatedExchange", "from_units", "to_units"]

_UNIT_PLACES = 8
_ENDPOINT = "simulated exchange"


def to_units(value: Decimal) -> int:
    """``value`` in the engine's integer units of 10^-8 (exact, or an error)."""
    scaled = value.scaleb(_UNIT_PLACES)
    units = int(scaled)
    if units != scaled:
        raise BacktestError(f"{value} has more than {_UNIT_PLACES} decimals")
    return units


def from_units(units: int) -> Decimal:
    """An engine amount (10^-8 units) as an exact ``Decimal`` with 8 places."""
    return Decimal(units).scaleb(-_UNIT_PLACES)


class SimulatedExchange(PaperBroker):
    """A simulated account on one symbol, its orders matched by a :class:`SimEngine`."""

    name = "simulated"

    def __init__(
        self,
        engine: SimEngine,
        rules: SymbolRules,
        balances: Mapping[str, Decimal | str],
        *,
        maker_fee: Decimal | str = "0.001",
        taker_fee: Decimal | str = "0.001",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(rules, balances, maker_fee=maker_fee, taker_fee=taker_fee, clock=clock)
        self.engine = engine
        self._by_engine_id: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"SimulatedExchange({self.rules.symbol!r}, open_orders={len(self._open)})"

    async def place_order(self, request: OrderRequest) -> Order:
        """Round and check by the rules, lock funds, and submit to the engine.

        The order is NEW when this returns; the engine fills it later in market time (after the
        order latency), and each fill arrives as an order update.

        Raises:
            InvalidOrder: the order breaks the symbol's rules, is a duplicate, or is a MARKET
                order before any price.
            InsufficientFunds: the free balance cannot pay for it.
        """
        self._check_symbol(request.symbol)
        if request.client_order_id in self._orders:
            raise InvalidOrder("Duplicate order sent.", code=-2010, endpoint=_ENDPOINT)
        bid, _, ask, _ = self.engine.best()
        reference = None
        if request.type == "MARKET":
            best = ask if request.side == "BUY" else bid
            if best is None:
                raise InvalidOrder(
                    "no market data yet: a market order needs a price to fill against",
                    endpoint=_ENDPOINT,
                )
            reference = from_units(best)
        prepared = self.rules.prepare(
            request.side,
            request.type,
            quantity=request.quantity,
            price=request.price,
            reference_price=reference,
        )
        assert prepared.quantity is not None
        engine_id = self._next_order_id
        order = Order(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=prepared.quantity,
            client_order_id=request.client_order_id,
            status="NEW",
            price=prepared.price,
            order_id=str(engine_id),
            time_ms=self._now(),
        )
        if order.type == "MARKET":
            assert reference is not None
            if order.side == "BUY":
                self._need(self.rules.quote_asset, reference * order.quantity)
            else:
                self._need(self.rules.base_asset, order.quantity)
            self._orders[order.client_order_id] = order
        else:
            self._place_limit(order, [])
        price_units = None if order.price is None else to_units(order.price)
        self.engine.submit(engine_id, order.side == "BUY", price_units, to_units(order.quantity))
        self._by_engine_id[engine_id] = order.client_order_id
        self._next_order_id += 1
        return self._orders[order.client_order_id]

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order at once and release its locked funds."""
        self._check_symbol(symbol)
        order = self._orders.get(client_order_id)
        if order is None or self.engine.cancel(int(order.order_id or 0)) is None:
            raise OrderNotFound(
                "Unknown order sent.", code=-2011, endpoint=_ENDPOINT, hint="It is not open."
            )
        return await super().cancel_order(symbol, client_order_id)

    def on_fill(self, engine_id: int, time_ms: int, price: int, qty: int, maker: bool) -> None:
        """Apply a fill the engine made (amounts in 10^-8 units)."""
        cid = self._by_engine_id[engine_id]
        self._last_time_ms = max(self._last_time_ms, time_ms)
        self._execute(self._orders[cid], from_units(price), from_units(qty), maker=maker)
        if self._orders[cid].status == "FILLED":
            del self._by_engine_id[engine_id]

    def on_expired(self, engine_id: int, time_ms: int) -> None:
        """A MARKET order's unfilled rest expired (the book could not fill it)."""
        cid = self._by_engine_id.pop(engine_id)
        self._last_time_ms = max(self._last_time_ms, time_ms)
        order = self._orders[cid]
        done = Order(
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            quantity=order.quantity,
            client_order_id=cid,
            status="EXPIRED",
            price=order.price,
            order_id=order.order_id,
            executed_qty=order.executed_qty,
            cumulative_quote_qty=order.cumulative_quote_qty,
            time_ms=self._now(),
        )
        self._orders[cid] = done
        self._emit(OrderUpdate(done))

    def all_orders(self) -> list[Order]:
        """Every order placed, in its last state, oldest first."""
        return list(self._orders.values())

    def on_market(self, event: MarketEvent) -> list[OrderUpdate]:
        """Not used: the engine is fed the tape directly (see :mod:`tradewire.backtest`)."""
        raise BacktestError("a SimulatedExchange is driven by its engine, not by on_market")
