"""The exchange's state and rules: books, accounts and orders, placed, matched and cancelled."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange import filters
from tradewire.exchange.accounts import DEFAULT_BALANCES, Account
from tradewire.exchange.amounts import ZERO, floor_to_step
from tradewire.exchange.book import Book
from tradewire.exchange.events import (
    AggTrade,
    BalanceDelta,
    BalancesChanged,
    LevelChanged,
    OrderUpdate,
    PublicTrade,
)
from tradewire.exchange.orders import MARKET_ACCOUNT, Fill, Order, Trade
from tradewire.exchange.rejections import new_order_rejected

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tradewire.exchange.events import Event
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["OrderRequest", "Placed", "Venue"]

STOP_TYPES = frozenset({"STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_COMMISSION_QUANTUM = Decimal("0.00000001")
_TRADE_HISTORY = 100_000


@dataclass(frozen=True)
class OrderRequest:
    """A validated new-order request (types and presence checked, filters not yet)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None = None
    quote_qty: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    time_in_force: str | None = None
    client_order_id: str | None = None


@dataclass(frozen=True)
class Placed:
    """A placed order and the fills its placement produced."""

    order: Order
    fills: list[Fill]


class Venue:
    """Books, accounts and orders of the local exchange, and the rules that change them."""

    def __init__(self, specs: Iterable[SymbolSpec], now: Callable[[], int]) -> None:
        self.specs: dict[str, SymbolSpec] = {s.symbol: s for s in specs}
        self.now = now
        self.books: dict[str, Book] = {}
        self.accounts: dict[int, Account] = {}
        self.orders: dict[tuple[str, int], Order] = {}
        self.open_by_client_id: dict[tuple[int, str, str], Order] = {}
        self.open_by_account: dict[int, dict[tuple[str, int], Order]] = {}
        self.stops: dict[str, list[Order]] = {}
        self.trades: dict[str, deque[Trade]] = {}
        self.fills: dict[int, list[Fill]] = {}
        self.last_price: dict[str, Decimal] = {}
        self.next_order_id: dict[str, int] = {}
        self.next_trade_id: dict[str, int] = {}
        self.next_agg_id: dict[str, int] = {}
        self.mm_orders: dict[tuple[str, str, Decimal], Order] = {}
        self.listeners: list[Callable[[Event], None]] = []
        self._client_seq = 0
        self._agg_key: dict[str, tuple[int, Decimal]] = {}
        for symbol in self.specs:
            self._add_book(symbol)

    # --- plumbing ------------------------------------------------------------------------------

    def _add_book(self, symbol: str) -> None:
        book = Book(symbol)
        book.listeners.append(
            lambda side, price, total, uid: self.emit(LevelChanged(symbol, side, price, total, uid))
        )
        self.books[symbol] = book
        self.stops[symbol] = []
        self.trades[symbol] = deque(maxlen=_TRADE_HISTORY)
        self.next_order_id.setdefault(symbol, 1)
        self.next_trade_id.setdefault(symbol, 1)
        self.next_agg_id.setdefault(symbol, 1)

    def emit(self, event: Event) -> None:
        """Hand ``event`` to every listener."""
        for listener in self.listeners:
            listener(event)

    def spec(self, symbol: str) -> SymbolSpec:
        """The spec of a listed symbol, or -1121."""
        found = self.specs.get(symbol)
        if found is None:
            raise ExchangeRejection(-1121, "Invalid symbol.")
        return found

    def open_account(self, account_id: int, balances: dict[str, Decimal] | None = None) -> Account:
        """Create an account with ``balances`` (default 10,000 USDT, 1 BTC and 10 ETH)."""
        account = Account(account_id, update_time=self.now())
        for asset, amount in (DEFAULT_BALANCES if balances is None else balances).items():
            account.credit(asset, Decimal(amount))
        account.touched.clear()
        self.accounts[account_id] = account
        self.fills.setdefault(account_id, [])
        return account

    def deposit(self, account_id: int, asset: str, amount: Decimal) -> None:
        """Move ``amount`` of ``asset`` into (or, if negative, out of) an account's free balance."""
        account = self.accounts[account_id]
        if account.balance(asset).free + amount < 0:
            raise ValueError("a withdrawal larger than the free balance")
        account.credit(asset, amount)
        now = self.now()
        account.update_time = now
        self.emit(BalanceDelta(account_id, asset, amount, now))
        self.emit(BalancesChanged(account_id, tuple(account.take_touched()), now))

    def new_client_id(self) -> str:
        """A fresh client order id, for orders and cancels sent without one."""
        self._client_seq += 1
        return f"web_{self._client_seq:018d}x"

    def restore_order(self, order: Order) -> None:
        """Put back an order loaded from the store (open ones onto the book or the stop list)."""
        self.orders[(order.symbol, order.order_id)] = order
        if not order.is_open:
            return
        self._opened(order)
        if order.is_working:
            self.books[order.symbol].rest(order)
        else:
            self.stops[order.symbol].append(order)

    # --- queries -------------------------------------------------------------------------------

    def find_order(
        self, account: int, symbol: str, order_id: int | None, client_id: str | None
    ) -> Order:
        """An account's order by id or client id, or -2013."""
        if order_id is not None:
            found = self.orders.get((symbol, order_id))
            if (
                found is not None
                and found.account == account
                and (client_id is None or found.client_order_id == client_id)
            ):
                return found
        elif client_id is not None:
            found = self.open_by_client_id.get((account, symbol, client_id))
            if found is None:
                for order in reversed(self.orders.values()):
                    if (
                        order.account == account
                        and order.symbol == symbol
                        and order.client_order_id == client_id
                    ):
                        return order
            else:
                return found
        raise ExchangeRejection(-2013, "Order does not exist.")

    def open_orders(self, account: int, symbol: str | None = None) -> list[Order]:
        """An account's open orders (all symbols, or one), oldest first."""
        return [
            o
            for o in self.open_by_account.get(account, {}).values()
            if symbol is None or o.symbol == symbol
        ]

    # --- placing -------------------------------------------------------------------------------

    def validate(self, account: int, req: OrderRequest) -> SymbolSpec:
        """Apply the symbol's filters and order rules to ``req`` (what order/test checks)."""
        spec = self.spec(req.symbol)
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
                last = self.last_price.get(req.symbol)
                if last is not None and self._triggered(req.type, req.side, req.stop_price, last):
                    raise new_order_rejected("Order would trigger immediately.")
        return spec

    def _reference_price(self, symbol: str) -> Decimal | None:
        book = self.books[symbol]
        bid, ask = book.best_bid(), book.best_ask()
        if bid is not None and ask is not None:
            return (bid[0] + ask[0]) / 2
        return self.last_price.get(symbol)

    def place(self, account_id: int, req: OrderRequest) -> Placed:
        """Validate, lock funds, match and rest an order, announcing every change."""
        spec = self.validate(account_id, req)
        client_id = req.client_order_id or self.new_client_id()
        if (account_id, req.symbol, client_id) in self.open_by_client_id:
            raise new_order_rejected("Duplicate order sent.")
        book = self.books[req.symbol]
        if req.type == "LIMIT_MAKER" and req.price is not None:
            for _maker in book.makers(req.side, req.price):
                raise new_order_rejected("Order would immediately match and take.")
        now = self.now()
        order = Order(
            symbol=req.symbol,
            order_id=self.next_order_id[req.symbol],
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
        )
        if order.type == "MARKET" and order.orig_quote_qty:
            order.orig_qty = self._market_fill_plan(spec, order)[0]
        if account_id != MARKET_ACCOUNT:
            self._lock_for(spec, order)
        self.next_order_id[req.symbol] += 1
        self.orders[(order.symbol, order.order_id)] = order
        if account_id != MARKET_ACCOUNT:
            self._opened(order)
            self.emit(OrderUpdate(order, "NEW", now))
        fills: list[Fill] = []
        if order.type in STOP_TYPES:
            self.stops[order.symbol].append(order)
        else:
            order.working_time = now
            fills = self._execute(spec, order, now)
        self._account_changed(account_id, now)
        self._run_stops(spec, now)
        return Placed(order, fills)

    def _lock_for(self, spec: SymbolSpec, order: Order) -> None:
        """Lock what the order may spend: exact for limits, the book's price for market orders."""
        account = self.accounts[order.account]
        if order.side == "SELL":
            amount, asset = order.orig_qty, spec.base
        elif order.type == "MARKET":
            amount, asset = self._market_fill_plan(spec, order)[1], spec.quote
        else:
            amount, asset = order.price * order.orig_qty, spec.quote
        account.lock(asset, amount)
        order.locked, order.locked_asset = amount, asset

    def _market_fill_plan(self, spec: SymbolSpec, order: Order) -> tuple[Decimal, Decimal]:
        """(quantity, quote) a market order would execute against the book now."""
        qty_total = quote_total = ZERO
        if order.orig_quote_qty:
            quote_left = order.orig_quote_qty
            for maker in self.books[order.symbol].makers(order.side, None):
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
            for maker in self.books[order.symbol].makers(order.side, None):
                qty = min(left, maker.remaining)
                qty_total += qty
                quote_total += qty * maker.price
                left -= qty
                if left == 0:
                    break
        return qty_total, quote_total

    def _fillable(self, order: Order) -> Decimal:
        """Quantity the book could fill now for ``order`` at its limit price."""
        total = ZERO
        for maker in self.books[order.symbol].makers(order.side, order.price):
            total += maker.remaining
            if total >= order.remaining:
                break
        return total

    def _execute(
        self, spec: SymbolSpec, order: Order, now: int, *, cancel_own: bool = False
    ) -> list[Fill]:
        """Match ``order`` as a taker, then rest, expire or finish it by its time in force.

        With ``cancel_own``, the market's own quotes that the order crosses are pulled instead of
        traded with (the market moved through them).
        """
        fills: list[Fill] = []
        limit = None if order.type == "MARKET" else order.price
        if order.time_in_force == "FOK" and self._fillable(order) < order.remaining:
            self._finish(order, "EXPIRED", now)
            return fills
        book = self.books[order.symbol]
        agg: list[Trade] = []
        for maker in book.makers(order.side, limit):
            if order.remaining <= 0:
                break
            if cancel_own and maker.account == MARKET_ACCOUNT:
                self._cancel_resting(maker, now)
                continue
            qty = min(order.remaining, maker.remaining)
            trade = self._trade(spec, order, maker, qty, now, fills)
            if agg and agg[-1].price != trade.price:
                self._emit_agg(order.symbol, agg)
                agg = []
            agg.append(trade)
        if agg:
            self._emit_agg(order.symbol, agg)
        if order.remaining <= 0 and order.executed_qty > 0:
            self._finish(order, "FILLED", now)
        elif order.type == "MARKET" or order.time_in_force in ("IOC", "FOK"):
            self._finish(order, "EXPIRED", now)
        else:
            book.rest(order)
            if order.account != MARKET_ACCOUNT:
                self._relock(spec, order)
        return fills

    def _relock(self, spec: SymbolSpec, order: Order) -> None:
        """Unlock what a resting order no longer needs after trading better than its limit."""
        need = order.price * order.remaining if order.side == "BUY" else order.remaining
        excess = order.locked - need
        if excess:
            self.accounts[order.account].unlock(order.locked_asset, excess)
            order.locked = need

    def _trade(
        self,
        spec: SymbolSpec,
        taker: Order,
        maker: Order,
        qty: Decimal,
        now: int,
        fills: list[Fill],
    ) -> Trade:
        symbol = taker.symbol
        price = maker.price
        trade_id = self.next_trade_id[symbol]
        self.next_trade_id[symbol] += 1
        if self._agg_key.get(symbol) != (taker.order_id, price):
            self._agg_key[symbol] = (taker.order_id, price)
            self.next_agg_id[symbol] += 1
        buyer, seller = (taker, maker) if taker.side == "BUY" else (maker, taker)
        trade = Trade(
            trade_id=trade_id,
            agg_id=self.next_agg_id[symbol] - 1,
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
        book = self.books[symbol]
        book.executed(maker, qty)
        if maker.remaining == 0:
            maker.status = "FILLED"
            self._closed(maker)
        else:
            maker.status = "PARTIALLY_FILLED"
        taker.status = "PARTIALLY_FILLED" if taker.remaining > 0 else "FILLED"
        for order, is_maker in ((maker, True), (taker, False)):
            fill = self._settle(spec, order, is_maker, price, qty, trade_id, now)
            if fill is not None:
                if order is taker:
                    fills.append(fill)
                self.emit(OrderUpdate(order, "TRADE", now, fill, qty))
        if maker.remaining == 0 and maker.account == MARKET_ACCOUNT:
            self.mm_orders.pop((symbol, maker.side, maker.price), None)
        self.trades[symbol].append(trade)
        self.last_price[symbol] = price
        self.emit(PublicTrade(symbol, trade))
        if maker.account != MARKET_ACCOUNT:
            self._account_changed(maker.account, now)
        return trade

    def _settle(
        self,
        spec: SymbolSpec,
        order: Order,
        is_maker: bool,
        price: Decimal,
        qty: Decimal,
        trade_id: int,
        now: int,
    ) -> Fill | None:
        """Move one account's funds for one fill; None for the market's own account."""
        if order.account == MARKET_ACCOUNT:
            return None
        account = self.accounts[order.account]
        rate = account.maker_rate if is_maker else account.taker_rate
        cost = price * qty
        if order.side == "BUY":
            account.spend_locked(spec.quote, cost)
            order.locked -= cost
            commission = (qty * rate).quantize(_COMMISSION_QUANTUM, rounding=ROUND_DOWN)
            account.credit(spec.base, qty - commission)
            asset = spec.base
        else:
            account.spend_locked(spec.base, qty)
            order.locked -= qty
            commission = (cost * rate).quantize(_COMMISSION_QUANTUM, rounding=ROUND_DOWN)
            account.credit(spec.quote, cost - commission)
            asset = spec.quote
        account.update_time = now
        fill = Fill(
            symbol=order.symbol,
            trade_id=trade_id,
            order_id=order.order_id,
            price=price,
            qty=qty,
            commission=commission,
            commission_asset=asset,
            time=now,
            is_buyer=order.side == "BUY",
            is_maker=is_maker,
            account=order.account,
        )
        self.fills[order.account].append(fill)
        return fill

    def _emit_agg(self, symbol: str, trades: list[Trade]) -> None:
        first = trades[0]
        agg_id = first.agg_id
        self.emit(
            AggTrade(
                symbol=symbol,
                agg_id=agg_id,
                price=first.price,
                qty=sum((t.qty for t in trades), ZERO),
                first_trade_id=first.trade_id,
                last_trade_id=trades[-1].trade_id,
                time=first.time,
                buyer_is_maker=first.buyer_is_maker,
            )
        )

    def _finish(
        self, order: Order, status: str, now: int, cancel_client_id: str | None = None
    ) -> None:
        """End an order that is not on the book: unlock what it holds and announce it."""
        order.status = status
        order.update_time = now
        self._closed(order)
        if order.account == MARKET_ACCOUNT:
            return
        if order.locked:
            self.accounts[order.account].unlock(order.locked_asset, order.locked)
            order.locked = ZERO
        if status != "FILLED":  # a fill was already reported by its TRADE update
            self.emit(OrderUpdate(order, status, now, cancel_client_id=cancel_client_id))

    def _opened(self, order: Order) -> None:
        """Index an account's order as open (by client id, and per account in time order)."""
        self.open_by_client_id[(order.account, order.symbol, order.client_order_id)] = order
        self.open_by_account.setdefault(order.account, {})[(order.symbol, order.order_id)] = order

    def _closed(self, order: Order) -> None:
        """Drop an order from the open indexes."""
        key = (order.account, order.symbol, order.client_order_id)
        if self.open_by_client_id.get(key) is order:
            del self.open_by_client_id[key]
        self.open_by_account.get(order.account, {}).pop((order.symbol, order.order_id), None)

    def _account_changed(self, account_id: int, now: int) -> None:
        if account_id == MARKET_ACCOUNT:
            return
        account = self.accounts[account_id]
        assets = account.take_touched()
        if assets:
            account.update_time = now
            self.emit(BalancesChanged(account_id, tuple(assets), now))

    # --- stops ---------------------------------------------------------------------------------

    @staticmethod
    def _triggered(order_type: str, side: str, stop: Decimal, last: Decimal) -> bool:
        if order_type == "STOP_LOSS_LIMIT":
            return last >= stop if side == "BUY" else last <= stop
        return last <= stop if side == "BUY" else last >= stop

    def _run_stops(self, spec: SymbolSpec, now: int) -> None:
        """Trigger stop orders whose stop price the last trade reached; repeat while they trade."""
        symbol = spec.symbol
        while True:
            last = self.last_price.get(symbol)
            pending = self.stops[symbol]
            if last is None or not pending:
                return
            ready = [o for o in pending if self._triggered(o.type, o.side, o.stop_price, last)]
            if not ready:
                return
            for order in ready:
                pending.remove(order)
                order.working_time = now
                order.update_time = now
                self._execute(spec, order, now)
                self._account_changed(order.account, now)

    # --- cancelling ----------------------------------------------------------------------------

    def cancel(self, order: Order, cancel_client_id: str | None = None) -> None:
        """Cancel an open order (working or a waiting stop), or -2011."""
        if not order.is_open:
            raise ExchangeRejection(-2011, "Unknown order sent.")
        now = self.now()
        self._cancel_resting(order, now, cancel_client_id=cancel_client_id)
        self._account_changed(order.account, now)

    def _cancel_resting(
        self, order: Order, now: int, *, cancel_client_id: str | None = None
    ) -> None:
        if order in self.stops[order.symbol]:
            self.stops[order.symbol].remove(order)
        elif order.is_working:
            self.books[order.symbol].pull(order)
        if order.account == MARKET_ACCOUNT:
            self.mm_orders.pop((order.symbol, order.side, order.price), None)
        self._finish(order, "CANCELED", now, cancel_client_id)

    # --- the market's own liquidity ------------------------------------------------------------

    def mm_quote(self, symbol: str, side: str, price: Decimal, qty: Decimal) -> None:
        """Set the market's own resting quantity at ``price`` (0 removes it); crosses trade."""
        key = (symbol, side, price)
        existing = self.mm_orders.get(key)
        now = self.now()
        if existing is not None and existing.is_open:
            if qty == existing.remaining:
                return
            if 0 < qty < existing.remaining:
                self.books[symbol].amend_down(existing, existing.executed_qty + qty)
                return
            self._cancel_resting(existing, now)
        if qty <= 0:
            return
        order = Order(
            symbol=symbol,
            order_id=self.next_order_id[symbol],
            client_order_id="market",
            account=MARKET_ACCOUNT,
            side=side,
            type="LIMIT",
            time_in_force="GTC",
            price=price,
            orig_qty=qty,
            time=now,
            update_time=now,
            working_time=now,
        )
        self.next_order_id[symbol] += 1
        spec = self.specs[symbol]
        self._execute(spec, order, now, cancel_own=True)
        if order.is_open:
            self.mm_orders[key] = order
        self._run_stops(spec, now)

    def mm_take(self, symbol: str, side: str, qty: Decimal) -> None:
        """Send a market order of the exchange's own flow: it trades with whatever rests on top."""
        now = self.now()
        spec = self.specs[symbol]
        order = Order(
            symbol=symbol,
            order_id=self.next_order_id[symbol],
            client_order_id="market",
            account=MARKET_ACCOUNT,
            side=side,
            type="MARKET",
            time_in_force="GTC",
            price=ZERO,
            orig_qty=qty,
            time=now,
            update_time=now,
            working_time=now,
        )
        self.next_order_id[symbol] += 1
        self._execute(spec, order, now)
        self._run_stops(spec, now)
