"""What the venue announces after each state change: for streams, user data and the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from tradewire.exchange.orders import Fill, Order, Trade

__all__ = [
    "AggTrade",
    "BalanceDelta",
    "BalancesChanged",
    "Event",
    "LevelChanged",
    "OrderUpdate",
    "PublicTrade",
]


@dataclass(frozen=True)
class LevelChanged:
    """A price level's total changed; ``update_id`` is the book's id after the change."""

    symbol: str
    side: str
    price: Decimal
    total: Decimal
    update_id: int


@dataclass(frozen=True)
class PublicTrade:
    """A trade printed on the tape."""

    symbol: str
    trade: Trade


@dataclass(frozen=True)
class AggTrade:
    """Trades of one taker order at one price, aggregated as the aggTrade stream shows them."""

    symbol: str
    agg_id: int
    price: Decimal
    qty: Decimal
    first_trade_id: int
    last_trade_id: int
    time: int
    buyer_is_maker: bool


@dataclass(frozen=True)
class OrderUpdate:
    """An account's order changed: ``exec_type`` is Binance's execution type (NEW, TRADE, ...)."""

    order: Order
    exec_type: str
    time: int
    fill: Fill | None = None
    last_qty: Decimal | None = None
    cancel_client_id: str | None = None


@dataclass(frozen=True)
class BalancesChanged:
    """An account's balances of ``assets`` changed (outboundAccountPosition)."""

    account: int
    assets: tuple[str, ...]
    time: int


@dataclass(frozen=True)
class BalanceDelta:
    """A balance moved in or out of an account outside trading (balanceUpdate)."""

    account: int
    asset: str
    delta: Decimal
    time: int


Event = LevelChanged | PublicTrade | AggTrade | OrderUpdate | BalancesChanged | BalanceDelta
