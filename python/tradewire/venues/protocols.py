"""The venue protocols: what a bot runs on, and the capabilities some venues add.

Every venue a bot runs on (Binance, the paper broker, the read-only wrapper, a future venue)
implements :class:`Venue` with the neutral types of :mod:`tradewire.model`; market data comes
from a :class:`MarketSource`. Capabilities beyond the core (fill history, adopting orders after
a restart, filling from the market it is fed) are protocols of their own, checked once when a
runner is built, never per event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from decimal import Decimal

    from tradewire.model import (
        Balance,
        Bar,
        CashBalance,
        Fill,
        Instrument,
        MarketEvent,
        Order,
        OrderRequest,
        OrderUpdate,
        Position,
        SymbolRules,
        TradingSessions,
    )

__all__ = [
    "AdoptsOrders",
    "Broker",
    "CandleSource",
    "FillHistory",
    "MarketSource",
    "ModifiesOrders",
    "SimulatedVenue",
    "TradingHours",
    "Venue",
]


@runtime_checkable
class MarketSource(Protocol):
    """Market data for one symbol: book updates and public trades, in arrival order."""

    def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Yield book updates and trades until closed or the source ends."""
        ...


@runtime_checkable
class Venue(Protocol):
    """An exchange account: orders, balances, rules and time (every amount a Decimal)."""

    name: str

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The trading rules of ``symbol``."""
        ...

    async def server_time(self) -> int:
        """The venue's clock, in ms since the epoch."""
        ...

    async def balances(self) -> dict[str, Balance]:
        """Every asset's balance, by asset name."""
        ...

    async def place_order(self, request: OrderRequest) -> Order:
        """Place an order (its client order id is the key for every later call)."""
        ...

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order; raises ``OrderNotFound`` if it is not open."""
        ...

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None if the venue never had it."""
        ...

    async def open_orders(self, symbol: str) -> list[Order]:
        """The orders still working on ``symbol``."""
        ...

    def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Status changes and fills of this account's orders, as they happen."""
        ...


@runtime_checkable
class SimulatedVenue(Protocol):
    """A venue that fills from the market it is fed (the paper broker)."""

    def on_market(self, event: MarketEvent) -> list[OrderUpdate]:
        """Apply one market event; the order updates it caused."""
        ...

    def take_updates(self) -> list[OrderUpdate]:
        """Order updates made since the last call."""
        ...


@runtime_checkable
class FillHistory(Protocol):
    """A venue that can list an order's fills (used to rebuild the journal after a restart)."""

    async def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        """The fills of one order, oldest first."""
        ...


@runtime_checkable
class AdoptsOrders(Protocol):
    """A venue that tracks the orders it is told about (open orders found on a restart)."""

    def adopt(self, order: Order) -> None:
        """Track ``order``, placed by an earlier run, as one of this session's."""
        ...


# --- the venue's own candles -------------------------------------------------------------------


@runtime_checkable
class CandleSource(Protocol):
    """A market source that also serves the venue's candles (Binance's klines): a closed
    history at start and each candle as it closes, as the venue built them."""

    async def candle_history(self, symbol: str, interval: str, limit: int) -> list[Bar]:
        """The last ``limit`` closed candles of ``symbol`` and ``interval``, oldest first (the
        forming one left out)."""
        ...

    def closed_candles(
        self, symbol: str, interval: str, *, since_ms: int | None = None
    ) -> AsyncIterator[Bar]:
        """Each candle of ``symbol`` and ``interval`` as it closes, oldest first, none twice and
        none missed (a reconnect's gap refilled); with ``since_ms``, from the candle that opens
        then on (the ones already closed first)."""
        ...


@runtime_checkable
class TradingHours(Protocol):
    """A venue whose market opens and closes (stocks): the runner pauses while it is closed."""

    async def trading_sessions(self, symbol: str) -> TradingSessions:
        """The open intervals the venue knows for ``symbol`` (regular hours, from now on)."""
        ...


@runtime_checkable
class Broker(Protocol):
    """A venue that holds positions (which can be short) and cash, not coin balances."""

    async def instrument(self, symbol: str) -> Instrument:
        """The instrument ``symbol`` names on this venue (its id and listing)."""
        ...

    async def positions(self) -> dict[str, Position]:
        """Every open position, by symbol (quantity negative when short)."""
        ...

    async def cash(self) -> dict[str, CashBalance]:
        """Cash by currency (no "locked" part; buying power where known)."""
        ...


@runtime_checkable
class ModifiesOrders(Protocol):
    """A venue that changes an open order in place (IB) rather than cancel and replace."""

    async def modify_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> Order:
        """Change the quantity and/or price of an open order (it keeps its client order id)."""
        ...
