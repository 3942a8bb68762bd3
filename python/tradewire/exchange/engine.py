"""The exchange engine: matching, ledger and market maker composed behind one query API.

The front ends (REST handlers, WebSocket API, streams, user data, the store, the market drivers)
use only this API. What it hands out is a copy or an immutable value: changing a returned order
or list changes nothing on the exchange.

>>> from decimal import Decimal
>>> from tradewire.exchange.engine import ExchangeEngine, NewOrder
>>> from tradewire.exchange.symbols import spec_for
>>> engine = ExchangeEngine([spec_for("BTCUSDT")], now=lambda: 1_700_000_000_000)
>>> _ = engine.open_account(1)
>>> placed = engine.place(1, NewOrder("BTCUSDT", "BUY", "LIMIT", quantity=Decimal("0.01"),
...                                   price=Decimal("60000"), time_in_force="GTC"))
>>> placed.order.status, engine.account_balances(1)["USDT"].locked
('NEW', Decimal('600.00'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradewire.exchange.ledger import DEFAULT_RATE, Ledger
from tradewire.exchange.marketmaker import MarketMaker
from tradewire.exchange.matching import IdCounters, Matcher, NewOrder

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from decimal import Decimal

    from tradewire.exchange.events import EngineEvent, Listener
    from tradewire.exchange.ledger import AccountView, LedgerBalance
    from tradewire.exchange.orders import AccountFill, OrderRecord, PreventedMatch, TapeTrade
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["BookDepth", "ExchangeEngine", "IdCounters", "NewOrder", "Placed"]


@dataclass(frozen=True)
class Placed:
    """A placed order (a copy, as it was right after placement), the fills it produced and the
    trades with the account's own orders that self-trade prevention stopped."""

    order: OrderRecord
    fills: tuple[AccountFill, ...]
    prevented: tuple[PreventedMatch, ...] = ()


@dataclass(frozen=True)
class BookDepth:
    """The top of a book: levels as (price, total quantity), best first, and the last update id."""

    update_id: int
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


class ExchangeEngine:
    """Books, accounts and orders of the local exchange, and the rules that change them.

    Composes the :class:`~tradewire.exchange.matching.Matcher` (books, order types, trades), the
    :class:`~tradewire.exchange.ledger.Ledger` (balances, commission, fills) and the
    :class:`~tradewire.exchange.marketmaker.MarketMaker` (the market's own quotes). Every change
    is announced to the listeners given to :meth:`subscribe`, synchronously and in order.

    Args:
        specs: The listed symbols.
        now: The server clock in ms (faults may skew it).
    """

    def __init__(self, specs: Iterable[SymbolSpec], now: Callable[[], int]) -> None:
        self._now = now
        self._listeners: list[Listener] = []
        self._ledger = Ledger(now, self._emit)
        self._matcher = Matcher(specs, now, self._ledger, self._emit, self._own_closed)
        self._maker = MarketMaker(self._matcher)

    def _emit(self, event: EngineEvent) -> None:
        for listener in tuple(self._listeners):
            listener(event)

    def _own_closed(self, order: OrderRecord) -> None:
        self._maker.closed(order)

    # --- events --------------------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every event from now on; returns a function that stops it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # --- symbols -------------------------------------------------------------------------------

    def now(self) -> int:
        """The engine's clock in ms."""
        return self._now()

    def specs(self) -> tuple[SymbolSpec, ...]:
        """Every listed symbol's spec, in listing order."""
        return self._matcher.specs()

    def symbols(self) -> tuple[str, ...]:
        """The listed symbols, in listing order."""
        return tuple(s.symbol for s in self._matcher.specs())

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of a listed symbol, or ExchangeRejection -1121."""
        return self._matcher.spec(symbol)

    # --- accounts ------------------------------------------------------------------------------

    def open_account(
        self,
        account_id: int,
        balances: Mapping[str, Decimal] | None = None,
        *,
        maker_rate: Decimal | None = None,
        taker_rate: Decimal | None = None,
    ) -> AccountView:
        """Create an account with ``balances`` (default 10,000 USDT, 1 BTC and 10 ETH).

        ``maker_rate`` and ``taker_rate`` are its commission rates as fractions (default 0.1%).
        """
        return self._ledger.open_account(
            account_id,
            balances,
            maker_rate=DEFAULT_RATE if maker_rate is None else maker_rate,
            taker_rate=DEFAULT_RATE if taker_rate is None else taker_rate,
        )

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` of ``asset`` into (or, if negative, out of) an account's free balance."""
        self._ledger.deposit(account_id, asset, amount)

    def has_account(self, account_id: int) -> bool:
        """Whether ``account_id`` exists."""
        return self._ledger.has_account(account_id)

    def account_ids(self) -> tuple[int, ...]:
        """Every account id, in the order they were opened or restored."""
        return self._ledger.account_ids()

    def account(self, account_id: int) -> AccountView:
        """A snapshot of an account: rates, update time and balances (KeyError if unknown)."""
        return self._ledger.view(account_id)

    def account_balances(self, account_id: int) -> Mapping[str, LedgerBalance]:
        """An account's balances by asset (a read-only snapshot)."""
        return self._ledger.view(account_id).balances

    def my_trades(self, account_id: int, symbol: str | None = None) -> list[AccountFill]:
        """An account's fills (all symbols, or one), oldest first."""
        fills = self._ledger.fills(account_id)
        return fills if symbol is None else [f for f in fills if f.symbol == symbol]

    # --- orders --------------------------------------------------------------------------------

    def new_client_id(self) -> str:
        """A fresh client order id, for orders and cancels sent without one."""
        return self._matcher.new_client_id()

    def validate(self, account_id: int, req: NewOrder) -> SymbolSpec:
        """Apply the symbol's filters and order rules to ``req`` without placing it."""
        return self._matcher.validate(account_id, req)

    def place(self, account_id: int, req: NewOrder) -> Placed:
        """Validate, lock funds, match and rest an order; ExchangeRejection if refused."""
        order, fills, prevented = self._matcher.place(account_id, req)
        return Placed(order.copy(), tuple(fills), tuple(prevented))

    def cancel(
        self,
        account_id: int,
        symbol: str,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
        cancel_client_id: str | None = None,
    ) -> OrderRecord:
        """Cancel an account's open order; returns it as cancelled.

        Raises ExchangeRejection -2013 for an unknown order, -2011 for one no longer open.
        """
        order = self._matcher.find_order(account_id, symbol, order_id, client_id)
        self._matcher.cancel(order, cancel_client_id)
        return order.copy()

    def order(
        self,
        account_id: int,
        symbol: str,
        *,
        order_id: int | None = None,
        client_id: str | None = None,
    ) -> OrderRecord:
        """An account's order by id or client id (an open one first), else -2013."""
        return self._matcher.find_order(account_id, symbol, order_id, client_id).copy()

    def open_orders(self, account_id: int, symbol: str | None = None) -> list[OrderRecord]:
        """An account's open orders (all symbols, or one), oldest first."""
        return [o.copy() for o in self._matcher.open_orders(account_id, symbol)]

    def all_orders(self, account_id: int, symbol: str) -> list[OrderRecord]:
        """Every order an account placed on ``symbol``, oldest first."""
        return [o.copy() for o in self._matcher.all_orders(account_id, symbol)]

    def prevented_matches(self, account_id: int, symbol: str) -> list[PreventedMatch]:
        """An account's matches on ``symbol`` that self-trade prevention stopped, oldest first."""
        return self._matcher.prevented_matches(account_id, symbol)

    # --- market data ---------------------------------------------------------------------------

    def depth(self, symbol: str, limit: int) -> BookDepth:
        """The top ``limit`` levels of a listed symbol's book."""
        book = self._matcher.book(symbol)
        bids, asks = book.depth(limit)
        return BookDepth(book.update_id, tuple(bids), tuple(asks))

    def best_bid_ask(
        self, symbol: str
    ) -> tuple[tuple[Decimal, Decimal] | None, tuple[Decimal, Decimal] | None]:
        """(best bid, best ask) of a listed symbol as (price, total quantity), None if empty."""
        book = self._matcher.book(symbol)
        return book.best_bid(), book.best_ask()

    def recent_trades(
        self, symbol: str, limit: int | None = None, *, since: int | None = None
    ) -> list[TapeTrade]:
        """A listed symbol's trades, oldest first (the tape keeps the last 100,000).

        Args:
            symbol: A listed symbol.
            limit: Only the last ``limit`` of them.
            since: Only the trades at the end of the tape at or after this time (ms): the scan
                stops at the first older one, so it is cheap for a recent time.
        """
        tape = self._matcher.tape(symbol)
        if since is not None:
            recent = []
            for trade in reversed(tape):
                if trade.time < since:
                    break
                recent.append(trade)
            recent.reverse()
            return recent if limit is None else recent[-limit:]
        if limit is None:
            return list(tape)
        start = max(0, len(tape) - limit)
        return [tape[i] for i in range(start, len(tape))]

    def last_price(self, symbol: str) -> Decimal | None:
        """The price of a listed symbol's last trade, None before its first."""
        return self._matcher.last_price(symbol)

    # --- the market's own liquidity ------------------------------------------------------------

    def quote(self, symbol: str, side: str, price: Decimal, qty: Decimal) -> None:
        """Set the market's own resting quantity at ``price`` (0 removes it); crosses trade."""
        self._maker.quote(symbol, side, price, qty)

    def take(self, symbol: str, side: str, qty: Decimal, *, limit: Decimal | None = None) -> None:
        """Send an order of the market's own flow: it trades with whatever rests on top.

        With ``limit``, it trades only at that price or better and drops what it cannot fill
        (an IOC), as a recorded trade that reached ``limit`` and no further.
        """
        self._maker.take(symbol, side, qty, limit)

    def is_quoted(self, symbol: str, side: str, price: Decimal) -> bool:
        """Whether the market's own quote at ``price`` still rests."""
        return self._maker.is_quoted(symbol, side, price)

    # --- persistence ---------------------------------------------------------------------------

    def counters(self, symbol: str) -> IdCounters:
        """A listed symbol's next order, trade and aggregate trade ids."""
        return self._matcher.counters(symbol)

    def restore_counters(self, symbol: str, counters: IdCounters) -> None:
        """Continue a listed symbol's ids from saved counters."""
        self._matcher.restore_counters(symbol, counters)

    def restore_account(self, saved: AccountView) -> None:
        """Put back a saved account with its balances (before its orders)."""
        self._ledger.restore_account(saved)

    def restore_fill(self, fill: AccountFill) -> None:
        """Put back a saved fill (oldest first)."""
        self._ledger.restore_fill(fill)

    def restore_order(self, order: OrderRecord) -> None:
        """Put back a saved order; open ones go back on the book in the order restored."""
        self._matcher.restore_order(order.copy())
