"""What the engine announces after each state change: for streams, user data and the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decimal import Decimal

    from tradewire.exchange.orders import AccountFill, OrderRecord, PreventedMatch, TapeTrade

__all__ = [
    "AggTradePrinted",
    "BalanceDelta",
    "BalancesChanged",
    "EngineEvent",
    "LevelChanged",
    "Listener",
    "OrderChanged",
    "TradePrinted",
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
class TradePrinted:
    """A trade printed on the tape."""

    symbol: str
    trade: TapeTrade


@dataclass(frozen=True)
class AggTradePrinted:
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
class OrderChanged:
    """An account's order changed: ``exec_type`` is Binance's execution type (NEW, TRADE, ...).

    ``order`` is a copy of the order as it was right after the change; ``execution_id`` numbers
    the changes of a symbol's orders in order (executionReport's ``I``). A TRADE_PREVENTION
    change names its ``prevented`` match and the quantity it took off this order.
    """

    order: OrderRecord
    exec_type: str
    time: int
    fill: AccountFill | None = None
    last_qty: Decimal | None = None
    cancel_client_id: str | None = None
    execution_id: int = 0
    prevented: PreventedMatch | None = None
    last_prevented: Decimal | None = None


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


EngineEvent = (
    LevelChanged | TradePrinted | AggTradePrinted | OrderChanged | BalancesChanged | BalanceDelta
)
Listener = Callable[[EngineEvent], None]
"""Something that takes every event of the engine, in order."""
