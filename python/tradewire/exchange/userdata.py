"""User data events (executionReport, outboundAccountPosition, balanceUpdate) and subscribers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import fmt
from tradewire.exchange.events import BalanceDelta, BalancesChanged, OrderChanged
from tradewire.exchange.orders import MARKET_ACCOUNT

if TYPE_CHECKING:
    from tradewire.exchange.engine import ExchangeEngine
    from tradewire.exchange.events import EngineEvent

__all__ = ["Subscriber", "UserDataHub", "execution_report"]

Subscriber = Callable[[dict[str, object]], None]


def execution_report(update: OrderChanged) -> dict[str, object]:
    """An OrderChanged event as Binance's executionReport (user-data-stream.md, "Order Update").

    Fields in the documented order. ``I`` is the change's execution id (increasing per symbol,
    as Binance's are); ``W`` appears once the order works on the book (a MARKET order from its
    NEW event on, a stop order only once triggered: "Appears when the order is working on the
    book"); the STP fields (``v``, ``U``, ``A``, ``B``, ``pl``, ``pL``, ``pY``) on the
    TRADE_PREVENTION changes of "orders that expired due to STP".
    """
    order, fill, prevented = update.order, update.fill, update.prevented
    report: dict[str, object] = {
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
    }
    if prevented is not None:
        report["v"] = prevented.prevented_match_id
    report.update(
        {
            "I": update.execution_id,
            "w": order.is_open and order.is_working,
            "m": fill.is_maker if fill else False,
            "M": False,
            "O": order.time,
            "Z": fmt(order.cum_quote),
            "Y": fmt(fill.price * fill.qty) if fill else "0.00000000",
            "Q": fmt(order.orig_quote_qty),
        }
    )
    if order.is_working:
        report["W"] = order.working_time
    report["V"] = order.stp_mode
    if prevented is not None:
        counter = (
            prevented.maker_order_id
            if prevented.taker_order_id == order.order_id
            else prevented.taker_order_id
        )
        report.update(
            {
                "U": counter,
                "A": fmt(order.prevented_qty),
                "B": fmt(update.last_prevented or prevented.qty),
                "pl": fmt(prevented.qty),
                "pL": fmt(prevented.price),
                "pY": fmt(prevented.qty * prevented.price),
            }
        )
    return report


class UserDataHub:
    """Who listens to which account's user data, and the engine's events turned into theirs.

    ``on_change`` (if given) is called after every subscribe and unsubscribe.
    """

    def __init__(self, engine: ExchangeEngine, on_change: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._subscribers: dict[int, list[Subscriber]] = {}
        self._on_change = on_change
        engine.subscribe(self.on_event)

    def subscribe(self, account: int, subscriber: Subscriber) -> None:
        """Send ``account``'s events to ``subscriber`` from now on."""
        self._subscribers.setdefault(account, []).append(subscriber)
        if self._on_change is not None:
            self._on_change()

    def unsubscribe(self, account: int, subscriber: Subscriber) -> None:
        """Stop sending ``account``'s events to ``subscriber``."""
        subs = self._subscribers.get(account, [])
        if subscriber in subs:
            subs.remove(subscriber)
            if self._on_change is not None:
                self._on_change()

    def count(self, account: int | None = None) -> int:
        """How many subscriptions there are (to ``account``'s user data, or to any)."""
        if account is not None:
            return len(self._subscribers.get(account, ()))
        return sum(len(subs) for subs in self._subscribers.values())

    def _send(self, account: int, event: dict[str, object]) -> None:
        for subscriber in list(self._subscribers.get(account, ())):
            subscriber(event)

    def on_event(self, event: EngineEvent) -> None:
        """Route an engine event to the subscribers of its account."""
        if isinstance(event, OrderChanged):
            if event.order.account != MARKET_ACCOUNT:
                self._send(event.order.account, execution_report(event))
        elif isinstance(event, BalancesChanged):
            account = self._engine.account(event.account)
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
