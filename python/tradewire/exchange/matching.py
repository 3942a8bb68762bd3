"""Matching: one book per symbol, order types and time in force, stop orders, trades and ids.

The matcher owns every order record (found through an OrderIndex) and the public tape. It moves
no funds itself: it asks the ledger to lock what an order may spend, to settle each fill and to
release what is left.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange import filters
from tradewire.exchange.amounts import ZERO, floor_to_step
from tradewire.exchange.book import Book
from tradewire.exchange.events import (
    AggTradePrinted,
    LevelChanged,
    OrderChanged,
    TradePrinted,
)
from tradewire.exchange.order_index import OrderIndex
from tradewire.exchange.orders import MARKET_ACCOUNT, OrderRecord, PreventedMatch, TapeTrade
from tradewire.exchange.rejections import new_order_rejected

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from decimal import Decimal

    from tradewire.exchange.events import EngineEvent
    from tradewire.exchange.ledger import Ledger
    from tradewire.exchange.orders import AccountFill
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["STOP_TYPES", "TRADE_HISTORY", "IdCounters", "Matcher", "NewOrder"]

STOP_TYPES = frozenset({"STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"})
_UNPRICED = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})
_NOT_LISTED = {
    "STOP_LOSS": "Stop loss orders are not supported for this symbol.",
    "STOP_LOSS_LIMIT": "Stop loss limit orders are not supported for this symbol.",
    "TAKE_PROFIT": "Take profit orders are not supported for this symbol.",
    "TAKE_PROFIT_LIMIT": "Take profit limit orders are not supported for this symbol.",
}
STP_NOT_ALLOWED = "This symbol does not allow the specified self-trade prevention mode."
TRADE_HISTORY = 100_000
"""Trades kept on each symbol's tape."""


@dataclass(frozen=True)
class NewOrder:
    """A new-order request with types and presence checked (the symbol's filters not yet)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None
    stp_mode: str | None = None  # None: the symbol's defaultSelfTradePreventionMode


@dataclass(frozen=True)
class IdCounters:
    """The next order id, trade id and aggregate trade id of one symbol."""

    next_order_id: int = 1
    next_trade_id: int = 1
    next_agg_id: int = 1


def _triggered(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
    """Whether a stop order of ``order_type`` and ``side`` triggers at the last price ``last``
    (rest-api.md: a stop-loss BUY and a take-profit SELL sit above the market, the other two
    below it)."""
    if order_type in ("STOP_LOSS", "STOP_LOSS_LIMIT"):
        return last >= stop if side == "BUY" else last <= stop
    return last <= stop if side == "BUY" else last >= stop


class Matcher:
    """Books, orders and the tape of every symbol, and the rules that match orders.

    Args:
        specs: The listed symbols.
        now: The server clock (ms).
        ledger: Where funds are locked, settled and released.
        emit: Where every event goes.
        own_closed: Called when an order of the market's own account closes.
    """

    def __init__(
        self,
        specs: Iterable[SymbolSpec],
        now: Callable[[], int],
        ledger: Ledger,
        emit: Callable[[EngineEvent], None],
        own_closed: Callable[[OrderRecord], None],
    ) -> None:
        self.now = now
        self._specs: dict[str, SymbolSpec] = {s.symbol: s for s in specs}
        self._ledger = ledger
        self._emit = emit
        self._own_closed = own_closed
        self._books: dict[str, Book] = {}
        self._index = OrderIndex()
        self._stops: dict[str, list[OrderRecord]] = {}
        self._tape: dict[str, deque[TapeTrade]] = {}
        self._last_price: dict[str, Decimal] = {}
        self._next_order_id: dict[str, int] = {}
        self._next_trade_id: dict[str, int] = {}
        self._next_agg_id: dict[str, int] = {}
        self._agg_key: dict[str, tuple[int, Decimal]] = {}
        self._next_execution_id: dict[str, int] = {}
        self._next_prevented_id: dict[str, int] = {}
        self._prevented: dict[str, deque[PreventedMatch]] = {}
        self._client_seq = 0
        for symbol in self._specs:
            self._add_book(symbol)

    def _add_book(self, symbol: str) -> None:
        def changed(side: str, price: Decimal, total: Decimal, update_id: int) -> None:
            self._emit(LevelChanged(symbol, side, price, total, update_id))

        self._books[symbol] = Book(symbol, changed)
        self._stops[symbol] = []
        self._tape[symbol] = deque(maxlen=TRADE_HISTORY)
        self._next_order_id[symbol] = 1
        self._next_trade_id[symbol] = 1
        self._next_agg_id[symbol] = 1
        self._next_execution_id[symbol] = 1
        self._next_prevented_id[symbol] = 0  # stp_faq.md's examples number them from 0
        self._prevented[symbol] = deque(maxlen=TRADE_HISTORY)

    # --- symbols, counters and restore ---------------------------------------------------------

    def specs(self) -> tuple[SymbolSpec, ...]:
        """Every listed symbol's spec, in listing order."""
        return tuple(self._specs.values())

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of a listed symbol, or -1121."""
        found = self._specs.get(symbol)
        if found is None:
            raise ExchangeRejection(-1121, "Invalid symbol.")
        return found

    def counters(self, symbol: str) -> IdCounters:
        """The id counters of a listed symbol."""
        return IdCounters(
            self._next_order_id[symbol], self._next_trade_id[symbol], self._next_agg_id[symbol]
        )

    def restore_counters(self, symbol: str, counters: IdCounters) -> None:
        """Continue a symbol's ids from saved counters."""
        self._next_order_id[symbol] = counters.next_order_id
        self._next_trade_id[symbol] = counters.next_trade_id
        self._next_agg_id[symbol] = counters.next_agg_id

    def restore_order(self, order: OrderRecord) -> None:
        """Put back a saved order (open ones onto the book or the stop list, in call order).

        Execution and prevented match ids carry on after the highest an order saw.
        """
        symbol = order.symbol
        self._next_execution_id[symbol] = max(
            self._next_execution_id[symbol], order.execution_id + 1
        )
        self._next_prevented_id[symbol] = max(
            self._next_prevented_id[symbol], order.prevented_match_id + 1
        )
        self._index.record(order)
        if not order.is_open:
            return
        self._index.opened(order)
        if order.is_working:
            self._books[order.symbol].rest(order)
        else:
            self._stops[order.symbol].append(order)

    def new_client_id(self) -> str:
        """A fresh client order id, for orders and cancels sent without one."""
        self._client_seq += 1
        return f"web_{self._client_seq:018d}x"

    # --- reading (live records: the engine copies what it hands out) ---------------------------

    def book(self, symbol: str) -> Book:
        """The book of a listed symbol."""
        return self._books[symbol]

    def tape(self, symbol: str) -> deque[TapeTrade]:
        """The recent trades of a listed symbol, oldest first."""
        return self._tape[symbol]

    def last_price(self, symbol: str) -> Decimal | None:
        """The price of the symbol's last trade, if it traded."""
        return self._last_price.get(symbol)

    def find_order(
        self, account: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> OrderRecord:
        """An account's order by id or client id, or -2013."""
        return self._index.find(account, symbol, order_id, client_id)

    def open_orders(self, account: int, symbol: str | None = None) -> list[OrderRecord]:
        """An account's open orders (all symbols, or one), oldest first."""
        return self._index.open_orders(account, symbol)

    def all_orders(self, account: int, symbol: str) -> list[OrderRecord]:
        """Every order an account placed on ``symbol``, in the order they were recorded."""
        return self._index.all_orders(account, symbol)

    def prevented_matches(self, account: int, symbol: str) -> list[PreventedMatch]:
        """An account's prevented matches on ``symbol`` (the last 100,000), oldest first."""
        return [m for m in self._prevented[symbol] if m.account == account]

    # --- placing -------------------------------------------------------------------------------

    def validate(self, account: int, req: NewOrder) -> SymbolSpec:
        """Apply the symbol's filters and order rules to ``req`` (what order/test checks)."""
        spec = self.spec(req.symbol)
        if req.type not in spec.order_types:
            raise new_order_rejected(_NOT_LISTED.get(req.type, "Unsupported order combination"))
        if req.stp_mode is not None and req.stp_mode not in spec.allowed_stp_modes:
            raise ExchangeRejection(-1013, STP_NOT_ALLOWED)  # stp_faq.md
        if req.price is not None:
            filters.check_price(spec, req.price)
        if req.stop_price is not None:
            filters.check_price(spec, req.stop_price)
        if req.type == "MARKET":
            if req.quantity is not None:
                filters.check_market_lot(spec, req.quantity)
                ref = self._reference_price(req.symbol)
                if ref is not None:
                    filters.check_notional(spec, req.quantity * ref, market=True)
            elif req.quote_qty is not None:
                filters.check_notional(spec, req.quote_qty, market=True)
        elif req.type in _UNPRICED:
            # A stop-market: a MARKET order's lots, its notional at the stop price.
            assert req.quantity is not None
            assert req.stop_price is not None
            filters.check_market_lot(spec, req.quantity)
            filters.check_notional(spec, req.quantity * req.stop_price, market=True)
        else:
            assert req.quantity is not None
            assert req.price is not None
            filters.check_lot(spec, req.quantity)
            if req.price * req.quantity <= 0:
                raise new_order_rejected("Price * QTY is zero or less.")
            filters.check_notional(spec, req.price * req.quantity, market=False)
        if account != MARKET_ACCOUNT:
            opened = self.open_orders(account, req.symbol)
            if len(opened) >= spec.max_num_orders:
                raise ExchangeRejection(-1013, "Filter failure: MAX_NUM_ORDERS")
            if req.type in STOP_TYPES and (
                sum(1 for o in opened if o.type in STOP_TYPES) >= spec.max_num_algo_orders
            ):
                raise ExchangeRejection(-1013, "Filter failure: MAX_NUM_ALGO_ORDERS")
            if req.type in STOP_TYPES and req.stop_price is not None:
                last = self._last_price.get(req.symbol)
                if last is not None and _triggered(req.type, req.side, req.stop_price, last):
                    raise new_order_rejected("Order would trigger immediately.")
        return spec

    def _reference_price(self, symbol: str) -> Decimal | None:
        book = self._books[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            return (bid[0] + ask[0]) / 2
        return self._last_price.get(symbol)

    def place(
        self, account_id: int, req: NewOrder
    ) -> tuple[OrderRecord, list[AccountFill], list[PreventedMatch]]:
        """Validate, lock funds, match and rest an account's order, announcing every change.

        Returns the order, its fills and the matches self-trade prevention stopped.
        """
        spec = self.validate(account_id, req)
        client_id = req.client_order_id or self.new_client_id()
        if self._index.has_open_client_id(account_id, req.symbol, client_id):
            raise new_order_rejected("Duplicate order sent.")
        book = self._books[req.symbol]
        if req.type == "LIMIT_MAKER" and req.price is not None:
            for _maker in book.makers(req.side, req.price):
                raise new_order_rejected("Order would immediately match and take.")
        now = self.now()
        order = OrderRecord(
            symbol=req.symbol,
            order_id=self._next_order_id[req.symbol],
            client_order_id=client_id,
            account=account_id,
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force or "GTC",
            price=req.price if req.price is not None else ZERO,
            orig_qty=req.quantity if req.quantity is not None else ZERO,
            stop_price=req.stop_price if req.stop_price is not None else ZERO,
            orig_quote_qty=req.quote_qty if req.quote_qty is not None else ZERO,
            time=now,
            update_time=now,
            stp_mode=req.stp_mode or spec.default_stp_mode,
        )
        if order.type == "MARKET" and order.orig_quote_qty:
            order.orig_qty = self._market_fill_plan(spec, order)[0]
        if account_id != MARKET_ACCOUNT:
            self._lock_for(spec, order)
        self._next_order_id[req.symbol] += 1
        self._index.record(order)
        if order.type not in STOP_TYPES:
            order.working_time = now  # working from its NEW event on, MARKET orders too
        if account_id != MARKET_ACCOUNT:
            self._index.opened(order)
            self._announce(order, "NEW", now)
        fills: list[AccountFill] = []
        prevented: list[PreventedMatch] = []
        if order.type in STOP_TYPES:
            self._stops[order.symbol].append(order)
        else:
            fills = self._execute(spec, order, now, prevented=prevented)
        self._publish(account_id, now)
        self._run_stops(spec, now)
        return order, fills, prevented

    def submit_own(
        self,
        symbol: str,
        side: str,
        price: Decimal | None,
        qty: Decimal,
        now: int,
        *,
        take: bool = False,
    ) -> OrderRecord:
        """Send an order of the market's own account: a LIMIT at ``price``, or MARKET for None.

        A LIMIT pulls (rather than trades with) the market's own quotes it crosses, as when the
        market moves through them; with ``take`` it is instead an IOC that trades with them
        (the market's own flow, limited to a price). It goes through no filters and moves no
        account's funds.
        """
        spec = self._specs[symbol]
        order = OrderRecord(
            symbol=symbol,
            order_id=self._next_order_id[symbol],
            client_order_id="market",
            account=MARKET_ACCOUNT,
            side=side,
            type="MARKET" if price is None else "LIMIT",
            time_in_force="IOC" if take else "GTC",
            price=ZERO if price is None else price,
            orig_qty=qty,
            time=now,
            update_time=now,
            working_time=now,
        )
        self._next_order_id[symbol] += 1
        self._execute(spec, order, now, cancel_own=price is not None and not take)
        self._run_stops(spec, now)
        return order

    def amend_down(self, order: OrderRecord, remaining: Decimal) -> None:
        """Lower a resting order's remaining quantity in place, keeping its priority."""
        self._books[order.symbol].amend_down(order, order.executed_qty + remaining)

    def _lock_for(self, spec: SymbolSpec, order: OrderRecord) -> None:
        """Lock what the order may spend: exact for limits, the book's price for market orders,
        the last price (the stop price before any trade) for a stop-market BUY."""
        if order.side == "SELL":
            amount, asset = order.orig_qty, spec.base
        elif order.type == "MARKET":
            amount, asset = self._market_fill_plan(spec, order)[1], spec.quote
        elif order.type in _UNPRICED:
            last = self._last_price.get(order.symbol, order.stop_price)
            amount, asset = last * order.orig_qty, spec.quote
        else:
            amount, asset = order.price * order.orig_qty, spec.quote
        self._ledger.lock(order.account, asset, amount)
        order.locked, order.locked_asset = amount, asset

    def _market_fill_plan(self, spec: SymbolSpec, order: OrderRecord) -> tuple[Decimal, Decimal]:
        """(quantity, quote) a market order would execute against the book now."""
        qty_total = quote_total = ZERO
        if order.orig_quote_qty:
            quote_left = order.orig_quote_qty
            for maker in self._books[order.symbol].makers(order.side, None):
                qty = min(maker.remaining, floor_to_step(quote_left / maker.price, spec.step_size))
                if qty * maker.price > quote_left:  # the division rounded up onto a step
                    qty -= spec.step_size
                if qty <= 0:
                    break
                qty_total += qty
                quote_total += qty * maker.price
                quote_left -= qty * maker.price
            if qty_total == 0:
                raise new_order_rejected(
                    "Order book liquidity is less than `LOT_SIZE` filter minimum quantity."
                )
        else:
            left = order.orig_qty
            for maker in self._books[order.symbol].makers(order.side, None):
                qty = min(left, maker.remaining)
                qty_total += qty
                quote_total += qty * maker.price
                left -= qty
                if left == 0:
                    break
        return qty_total, quote_total

    def _fillable(self, order: OrderRecord) -> Decimal:
        """Quantity the book could fill now for ``order`` at its limit price."""
        total = ZERO
        for maker in self._books[order.symbol].makers(order.side, order.price):
            total += maker.remaining
            if total >= order.remaining:
                break
        return total

    def _execute(
        self,
        spec: SymbolSpec,
        order: OrderRecord,
        now: int,
        *,
        cancel_own: bool = False,
        prevented: list[PreventedMatch] | None = None,
    ) -> list[AccountFill]:
        """Match ``order`` as a taker, then rest, expire or finish it by its time in force.

        With ``cancel_own``, the market's own quotes that the order crosses are pulled instead of
        traded with (the market moved through them). A maker of the taker's own account is
        handled by the taker's self-trade prevention mode (appended to ``prevented``).
        """
        fills: list[AccountFill] = []
        if prevented is None:
            prevented = []
        limit = None if order.type in _UNPRICED else order.price
        if order.time_in_force == "FOK" and self._fillable(order) < order.remaining:
            self._finish(order, "EXPIRED", now)
            return fills
        book = self._books[order.symbol]
        agg: list[TapeTrade] = []
        for maker in book.makers(order.side, limit):
            if order.remaining <= 0:
                break
            if cancel_own and maker.account == MARKET_ACCOUNT:
                self._withdraw(maker, now)
                continue
            if (
                maker.account == order.account
                and order.account != MARKET_ACCOUNT
                and order.stp_mode != "NONE"
            ):
                if agg:
                    self._emit_agg(order.symbol, agg)
                    agg = []
                prevented.append(self._prevent(order, maker, now))
                if not order.is_open:
                    break
                continue
            qty = min(order.remaining, maker.remaining)
            trade = self._trade(spec, order, maker, qty, now, fills)
            if agg and agg[-1].price != trade.price:
                self._emit_agg(order.symbol, agg)
                agg = []
            agg.append(trade)
        if agg:
            self._emit_agg(order.symbol, agg)
        if order.status == "EXPIRED_IN_MATCH":
            pass  # self-trade prevention ended it
        elif order.remaining <= 0 and order.executed_qty > 0:
            self._finish(order, "FILLED", now)
        elif order.type in _UNPRICED or order.time_in_force in ("IOC", "FOK"):
            self._finish(order, "EXPIRED", now)
        else:
            book.rest(order)
            if order.account != MARKET_ACCOUNT:
                self._relock(order)
        return fills

    def _prevent(self, taker: OrderRecord, maker: OrderRecord, now: int) -> PreventedMatch:
        """Stop a self-trade by the taker's mode (stp_faq.md: "What happens when STP is triggered").

        EXPIRE_TAKER expires the taker's remaining quantity, EXPIRE_MAKER the maker's,
        EXPIRE_BOTH both; DECREMENT takes the quantity that would have traded off both, and
        expires whichever has nothing left. An expired order ends EXPIRED_IN_MATCH.
        """
        symbol, mode = taker.symbol, taker.stp_mode
        qty = min(taker.remaining, maker.remaining)
        taker_qty = maker_qty = None
        if mode in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
            taker_qty = taker.remaining
        if mode in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
            maker_qty = maker.remaining
        if mode == "DECREMENT":
            taker_qty = maker_qty = qty
        match = PreventedMatch(
            symbol=symbol,
            prevented_match_id=self._next_prevented_id[symbol],
            taker_order_id=taker.order_id,
            maker_order_id=maker.order_id,
            account=taker.account,
            mode=mode,
            price=maker.price,
            qty=qty,
            taker_qty=taker_qty,
            maker_qty=maker_qty,
            time=now,
        )
        self._next_prevented_id[symbol] += 1
        self._prevented[symbol].append(match)
        if maker_qty is not None:
            maker.prevented_qty += maker_qty
            maker.prevented_match_id = match.prevented_match_id
            maker.update_time = now
            self._books[symbol].executed(maker, maker_qty)  # the level loses it, as if traded
            if maker.remaining == 0:
                self._finish(maker, "EXPIRED_IN_MATCH", now, prevented=match, last=maker_qty)
            else:
                self._relock(maker)
                self._announce(
                    maker, "TRADE_PREVENTION", now, prevented=match, last_prevented=maker_qty
                )
        if taker_qty is not None:
            taker.prevented_qty += taker_qty
            taker.prevented_match_id = match.prevented_match_id
            taker.update_time = now
            if taker.remaining == 0:
                self._finish(taker, "EXPIRED_IN_MATCH", now, prevented=match, last=taker_qty)
            else:
                self._announce(
                    taker, "TRADE_PREVENTION", now, prevented=match, last_prevented=taker_qty
                )
        return match

    def _announce(
        self,
        order: OrderRecord,
        exec_type: str,
        now: int,
        *,
        fill: AccountFill | None = None,
        last_qty: Decimal | None = None,
        cancel_client_id: str | None = None,
        prevented: PreventedMatch | None = None,
        last_prevented: Decimal | None = None,
    ) -> None:
        """Emit an account order's change with the symbol's next execution id."""
        execution_id = self._next_execution_id[order.symbol]
        self._next_execution_id[order.symbol] += 1
        order.execution_id = execution_id
        self._emit(
            OrderChanged(
                order.copy(),
                exec_type,
                now,
                fill,
                last_qty,
                cancel_client_id,
                execution_id,
                prevented,
                last_prevented,
            )
        )

    def _relock(self, order: OrderRecord) -> None:
        """Unlock what a resting order no longer needs after trading better than its limit."""
        need = order.price * order.remaining if order.side == "BUY" else order.remaining
        excess = order.locked - need
        if excess:
            self._ledger.unlock(order.account, order.locked_asset, excess)
            order.locked = need

    def _trade(
        self,
        spec: SymbolSpec,
        taker: OrderRecord,
        maker: OrderRecord,
        qty: Decimal,
        now: int,
        fills: list[AccountFill],
    ) -> TapeTrade:
        symbol = taker.symbol
        price = maker.price
        trade_id = self._next_trade_id[symbol]
        self._next_trade_id[symbol] += 1
        if self._agg_key.get(symbol) != (taker.order_id, price):
            self._agg_key[symbol] = (taker.order_id, price)
            self._next_agg_id[symbol] += 1
        buyer, seller = (taker, maker) if taker.side == "BUY" else (maker, taker)
        trade = TapeTrade(
            trade_id=trade_id,
            agg_id=self._next_agg_id[symbol] - 1,
            price=price,
            qty=qty,
            time=now,
            buyer_order_id=buyer.order_id,
            seller_order_id=seller.order_id,
            buyer_is_maker=maker.side == "BUY",
        )
        for order in (maker, taker):
            order.executed_qty += qty
            order.cum_quote += price * qty
            order.update_time = now
        self._books[symbol].executed(maker, qty)
        if maker.remaining == 0:
            maker.status = "FILLED"
            self._closed(maker)
        else:
            maker.status = "PARTIALLY_FILLED"
        taker.status = "PARTIALLY_FILLED" if taker.remaining > 0 else "FILLED"
        for order, is_maker in ((maker, True), (taker, False)):
            if order.account == MARKET_ACCOUNT:
                continue
            fill = self._ledger.settle(spec, order, is_maker, price, qty, trade_id, now)
            if order is taker:
                fills.append(fill)
            self._announce(order, "TRADE", now, fill=fill, last_qty=qty)
        self._tape[symbol].append(trade)
        self._last_price[symbol] = price
        self._emit(TradePrinted(symbol, trade))
        self._publish(maker.account, now)
        return trade

    def _emit_agg(self, symbol: str, trades: list[TapeTrade]) -> None:
        first = trades[0]
        self._emit(
            AggTradePrinted(
                symbol=symbol,
                agg_id=first.agg_id,
                price=first.price,
                qty=sum((t.qty for t in trades), ZERO),
                first_trade_id=first.trade_id,
                last_trade_id=trades[-1].trade_id,
                time=first.time,
                buyer_is_maker=first.buyer_is_maker,
            )
        )

    def _finish(
        self,
        order: OrderRecord,
        status: str,
        now: int,
        cancel_client_id: str | None = None,
        *,
        prevented: PreventedMatch | None = None,
        last: Decimal | None = None,
    ) -> None:
        """End an order that is not on the book: unlock what it holds and announce it.

        An order ended by self-trade prevention (``prevented``) is announced as
        TRADE_PREVENTION, with ``last`` the quantity that match expired.
        """
        order.status = status
        order.update_time = now
        self._closed(order)
        if order.account == MARKET_ACCOUNT:
            return
        if order.locked:
            self._ledger.unlock(order.account, order.locked_asset, order.locked)
            order.locked = ZERO
        if prevented is not None:
            self._announce(order, "TRADE_PREVENTION", now, prevented=prevented, last_prevented=last)
        elif status != "FILLED":  # a fill was already reported by its TRADE update
            self._announce(order, status, now, cancel_client_id=cancel_client_id)

    def _closed(self, order: OrderRecord) -> None:
        """Drop a closed order from the open indexes (the market's own: tell the market maker)."""
        if order.account == MARKET_ACCOUNT:
            self._own_closed(order)
        else:
            self._index.closed(order)

    def _publish(self, account_id: int, now: int) -> None:
        if account_id != MARKET_ACCOUNT:
            self._ledger.publish(account_id, now)

    # --- stops ---------------------------------------------------------------------------------

    def _run_stops(self, spec: SymbolSpec, now: int) -> None:
        """Trigger stop orders whose stop price the last trade reached; repeat while they trade."""
        symbol = spec.symbol
        while True:
            last = self._last_price.get(symbol)
            pending = self._stops[symbol]
            if last is None or not pending:
                return
            ready = [o for o in pending if _triggered(o.type, o.side, o.stop_price, last)]
            if not ready:
                return
            for order in ready:
                pending.remove(order)
                order.working_time = now
                order.update_time = now
                if order.type in _UNPRICED and not self._fund_market_buy(spec, order, now):
                    self._publish(order.account, now)
                    continue
                self._execute(spec, order, now)
                self._publish(order.account, now)

    def _fund_market_buy(self, spec: SymbolSpec, order: OrderRecord, now: int) -> bool:
        """Lock what a triggered stop-market BUY will pay for the book as it stands, topping up
        what it locked when placed from the free balance; short of funds, it expires unfilled
        (False). A SELL locked its quantity already."""
        if order.side == "SELL" or order.account == MARKET_ACCOUNT:
            return True
        cost = self._market_fill_plan(spec, order)[1]
        extra = cost - order.locked
        if extra > 0:
            if self._ledger.view(order.account).balance(spec.quote).free < extra:
                self._finish(order, "EXPIRED", now)
                return False
            self._ledger.lock(order.account, spec.quote, extra)
            order.locked += extra
        return True

    # --- cancelling ----------------------------------------------------------------------------

    def cancel(self, order: OrderRecord, cancel_client_id: str | None = None) -> None:
        """Cancel an open order (working or a waiting stop), or -2011."""
        if not order.is_open:
            raise ExchangeRejection(-2011, "Unknown order sent.")
        now = self.now()
        self._withdraw(order, now, cancel_client_id=cancel_client_id)
        self._publish(order.account, now)

    def withdraw(self, order: OrderRecord, now: int) -> None:
        """Cancel an open order of the market's own account at ``now``."""
        self._withdraw(order, now)

    def _withdraw(
        self, order: OrderRecord, now: int, *, cancel_client_id: str | None = None
    ) -> None:
        if order in self._stops[order.symbol]:
            self._stops[order.symbol].remove(order)
        elif order.is_working:
            self._books[order.symbol].pull(order)
        self._finish(order, "CANCELED", now, cancel_client_id)
