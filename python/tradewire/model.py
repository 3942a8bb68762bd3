"""The venue-neutral model: the values strategies, bots and every venue exchange.

A venue (Binance, the paper broker, a future Kraken or OKX adapter) implements :class:`Venue`
with the exchange-neutral, frozen value types below; amounts are always ``decimal.Decimal``.
A second exchange is one adapter class that maps its wire formats to these types. The order
rules (:class:`SymbolRules`, the open statuses) live in :mod:`tradewire.rules` and are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from tradewire.rules import OPEN_STATUSES, SymbolRules, is_open

__all__ = [
    "OPEN_STATUSES",
    "Balance",
    "BookUpdate",
    "Fill",
    "MarketEvent",
    "MarketTrade",
    "Order",
    "OrderRequest",
    "OrderType",
    "OrderUpdate",
    "Side",
    "SymbolRules",
]

Side = Literal["BUY", "SELL"]
OrderType = Literal["LIMIT", "MARKET"]
_ZERO = Decimal(0)


@dataclass(frozen=True)
class OrderRequest:
    """An order to place: LIMIT (GTC) with a price, or MARKET without one."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    client_order_id: str
    price: Decimal | None = None
    time_in_force: str | None = None

    def __post_init__(self) -> None:
        for name in ("quantity", "price"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Decimal):
                raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
        if self.side not in ("BUY", "SELL"):
            raise ValueError(f"side must be BUY or SELL, not {self.side!r}")
        if self.type not in ("LIMIT", "MARKET"):
            raise ValueError(f"type must be LIMIT or MARKET, not {self.type!r}")
        if self.type == "LIMIT" and self.time_in_force is None:
            object.__setattr__(self, "time_in_force", "GTC")


@dataclass(frozen=True)
class Order:
    """An order as the venue knows it: the request, its status and what has filled."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    client_order_id: str
    status: str
    price: Decimal | None = None
    executed_qty: Decimal = _ZERO
    cumulative_quote_qty: Decimal = _ZERO
    order_id: str | None = None
    time_ms: int = 0

    @property
    def is_open(self) -> bool:
        """Still working on the venue."""
        return is_open(self.status)

    @property
    def remaining(self) -> Decimal:
        """Quantity not filled yet."""
        return self.quantity - self.executed_qty


@dataclass(frozen=True)
class Fill:
    """One execution of an order; the commission is in ``commission_asset``."""

    client_order_id: str
    trade_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    time_ms: int
    is_maker: bool

    @property
    def quote_quantity(self) -> Decimal:
        """``price * quantity``, exactly."""
        return self.price * self.quantity


@dataclass(frozen=True)
class Balance:
    """One asset of the account: free and locked (in open orders)."""

    asset: str
    free: Decimal
    locked: Decimal = _ZERO

    @property
    def total(self) -> Decimal:
        """Free plus locked."""
        return self.free + self.locked


@dataclass(frozen=True)
class OrderUpdate:
    """An order changed: its new state, and the fill that changed it if any."""

    order: Order
    fill: Fill | None = None


@dataclass(frozen=True)
class BookUpdate:
    """The top levels of a symbol's book, best first, as exact (price, quantity) pairs."""

    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    time_ms: int = 0
    received_ms: int = 0

    @property
    def best_bid(self) -> Decimal | None:
        """The highest bid price, if any."""
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        """The lowest ask price, if any."""
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        """Halfway between best bid and best ask (exact), if both exist."""
        if not self.bids or not self.asks:
            return None
        return (self.bids[0][0] + self.asks[0][0]) / 2


@dataclass(frozen=True)
class MarketTrade:
    """A trade on the public tape; ``buyer_is_maker`` means the seller took."""

    symbol: str
    trade_id: str
    price: Decimal
    quantity: Decimal
    time_ms: int = 0
    buyer_is_maker: bool = False
    received_ms: int = field(default=0, compare=False)


MarketEvent = BookUpdate | MarketTrade
"""What a market data source yields."""
