"""User data events (executionReport, outboundAccountPosition, balanceUpdate) and subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import fmt
from tradewire.exchange.events import BalanceDelta, BalancesChanged, OrderUpdate
from tradewire.exchange.orders import MARKET_ACCOUNT

if TYPE_CHECKING:
    from tradewire.exchange.events import Event
    from tradewire.exchange.venue import Venue

__all__ = ["Subscriber", "UserDataHub", "execution_report"]

Subscriber = Callable[[dict[str, object]], None]


def execution_report(update: OrderUpdate) -> dict[str, object]:
    """An OrderUpdate as Binance's executionReport event."""
    order, fill = update.order, update.fill
    return {
        "e": "executionReport",
        "E": update.time,
        "s": order.symbol,
        "c": update.cancel_client_id or order.client_order_id,
        "S": order.side,
        "o": order.type,
        "f": order.time_in_force,
        "q": fmt(order.orig_qty),
        "p": fmt(order.price),
        "P": fmt(order.stop_price),
        "F": "0.00000000",
        "g": -1,
        "C": order.client_order_id if update.cancel_client_id else "",
        "x": update.exec_type,
        "X": order.status,
        "r": "NONE",
        "i": order.order_id,
        "l": fmt(fill.qty) if fill else "0.00000000",
        "z": fmt(order.executed_qty),
        "L": fmt(fill.price) if fill else "0.00000000",
        "n": fmt(fill.commission) if fill else "0",
        "N": fill.commission_asset if fill else None,
        "T": update.time,
        "t": fill.trade_id if fill else -1,
        "I": 0,
        "w": order.is_open and order.is_working,
        "m": fill.is_maker if fill else False,
        "M": False,
        "O": order.time,
        "Z": fmt(order.cum_quote),
        "Y": fmt(fill.price * fill.qty) if fill else "0.00000000",
        "Q": fmt(order.orig_quote_qty),
        "W": order.working_time,
        "V": "NONE",
    }


class UserDataHub:
    """Who listens to which account's user data, and the venue's events turned into theirs."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.subscribers: dict[int, list[Subscriber]] = {}
        venue.listeners.append(self.on_event)

    def subscribe(self, account: int, subscriber: Subscriber) -> None:
        """Send ``account``'s events to ``subscriber`` from now on."""
        self.subscribers.setdefault(account, []).append(subscriber)

    def unsubscribe(self, account: int, subscriber: Subscriber) -> None:
        """Stop sending ``account``'s events to ``subscriber``."""
        subs = self.subscribers.get(account, [])
        if subscriber in subs:
            subs.remove(subscriber)

    def _send(self, account: int, event: dict[str, object]) -> None:
        for subscriber in list(self.subscribers.get(account, ())):
            subscriber(event)

    def on_event(self, event: Event) -> None:
        """Route a venue event to the subscribers of its account."""
        if isinstance(event, OrderUpdate):
            if event.order.account != MARKET_ACCOUNT:
                self._send(event.order.account, execution_report(event))
        elif isinstance(event, BalancesChanged):
            account = self.venue.accounts[event.account]
            self._send(
                event.account,
                {
                    "e": "outboundAccountPosition",
                    "E": event.time,
                    "u": account.update_time,
                    "B": [
                        {
                            "a": a,
                            "f": fmt(account.balance(a).free),
                            "l": fmt(account.balance(a).locked),
                        }
                        for a in event.assets
                    ],
                },
            )
        elif isinstance(event, BalanceDelta):
            self._send(
                event.account,
                {
                    "e": "balanceUpdate",
                    "E": event.time,
                    "a": event.asset,
                    "d": fmt(event.delta),
                    "T": event.time,
                },
            )
