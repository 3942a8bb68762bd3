"""The paper broker: a :class:`~tradewire.venues.protocols.Venue` filling against market data.

Feed it the live or replayed market with :meth:`PaperBroker.on_market`; it answers the order
updates that event caused. Fill model (exact, with ``Decimal``):

- a resting LIMIT order fills in full, at its own price as maker, when the book crosses it
  (best ask <= a buy's price, best bid >= a sell's price) or a public trade goes through it
  (a trade below a buy's price, above a sell's price);
- a MARKET order, or the crossing part of a LIMIT order, walks the book level by level as taker;
  a MARKET order the book cannot fill in full fills what it can and expires;
- the commission (``maker_fee`` / ``taker_fee``, 0.1% by default) is taken from the asset
  received, rounded by :func:`tradewire.rules.commission`; funds are locked while an order rests.

An order is rounded and checked by the symbol's rules (:meth:`SymbolRules.prepare
<tradewire.rules.SymbolRules.prepare>`) exactly as the Binance client does it, so the same
request gives the same order, or the same error, on paper and live.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.clock import WallClock
from tradewire.errors import InsufficientFunds, InvalidOrder, OrderNotFound
from tradewire.model import Balance, BookUpdate, Fill, MarketTrade, Order, OrderUpdate
from tradewire.rules import commission as binance_commission

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping

    from tradewire.clock import Clock
    from tradewire.model import MarketEvent, OrderRequest, Side, SymbolRules

__all__ = ["PaperBroker"]

_ZERO = Decimal(0)
_ENDPOINT = "paper broker"


class PaperBroker:
    """A simulated account on one symbol whose orders fill against the market it is fed."""

    name = "paper"

    def __init__(
        self,
        rules: SymbolRules,
        balances: Mapping[str, Decimal | str],
        *,
        maker_fee: Decimal | str = "0.001",
        taker_fee: Decimal | str = "0.001",
        clock: Clock | None = None,
    ) -> None:
        self.rules = rules
        self.maker_fee = Decimal(maker_fee)
        self.taker_fee = Decimal(taker_fee)
        self._clock: Clock = clock or WallClock()
        self._free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self._locked: dict[str, Decimal] = dict.fromkeys(self._free, _ZERO)
        for asset in (rules.base_asset, rules.quote_asset):
            self._free.setdefault(asset, _ZERO)
            self._locked.setdefault(asset, _ZERO)
        self._orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # insertion order = time priority
        self._order_locks: dict[str, Decimal] = {}
        self._book: BookUpdate | None = None
        self._last_time_ms = 0
        self._next_order_id = 1
        self._next_trade_id = 1
        self._pending: list[OrderUpdate] = []
        self._wakeup = asyncio.Event()

    def __repr__(self) -> str:
        return f"PaperBroker({self.rules.symbol!r}, open_orders={len(self._open)})"

    # --- Venue ----------------------------------------------------------------------------------

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The rules of the broker's symbol."""
        self._check_symbol(symbol)
        return self.rules

    async def server_time(self) -> int:
        """The time of the last market event (or the local clock before any)."""
        return self._now()

    async def balances(self) -> dict[str, Balance]:
        """Free and locked amount of every asset."""
        return self.balances_now()

    def balances_now(self) -> dict[str, Balance]:
        """Free and locked amount of every asset (synchronous)."""
        return {a: Balance(a, self._free[a], self._locked[a]) for a in sorted(self._free)}

    async def place_order(self, request: OrderRequest) -> Order:
        """Round and check by the rules, lock funds, take what crosses the book, rest the rest.

        Raises:
            InvalidOrder: the order breaks the symbol's rules (named), is a duplicate, or is a
                MARKET order before any book.
            InsufficientFunds: the free balance cannot pay for it.
        """
        self._check_symbol(request.symbol)
        if request.client_order_id in self._orders:
            raise InvalidOrder("Duplicate order sent.", code=-2010, endpoint=_ENDPOINT)
        book = self._book
        reference = None
        if request.type == "MARKET":
            if book is None or not (book.asks if request.side == "BUY" else book.bids):
                raise InvalidOrder(
                    "no market data yet: a market order needs a book to fill against",
                    endpoint=_ENDPOINT,
                )
            reference = book.best_ask if request.side == "BUY" else book.best_bid
        prepared = self.rules.prepare(
            request.side,
            request.type,
            quantity=request.quantity,
            price=request.price,
            reference_price=reference,
        )
        assert prepared.quantity is not None
        order = Order(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=prepared.quantity,
            client_order_id=request.client_order_id,
            status="NEW",
            price=prepared.price,
            order_id=str(self._next_order_id),
            time_ms=self._now(),
        )
        takes = self._walk(order) if book is not None else []
        if order.type == "MARKET":
            self._place_market(order, takes)
        else:
            self._place_limit(order, takes)
        self._next_order_id += 1
        return self._orders[order.client_order_id]

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order and release its locked funds."""
        self._check_symbol(symbol)
        order = self._open.pop(client_order_id, None)
        if order is None:
            raise OrderNotFound(
                "Unknown order sent.", code=-2011, endpoint=_ENDPOINT, hint="It is not open."
            )
        self._release(order)
        done = replace(order, status="CANCELED", time_ms=self._now())
        self._orders[client_order_id] = done
        self._emit(OrderUpdate(done))
        return done

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None."""
        self._check_symbol(symbol)
        return self._orders.get(client_order_id)

    async def open_orders(self, symbol: str) -> list[Order]:
        """The resting orders, oldest first."""
        self._check_symbol(symbol)
        return list(self._open.values())

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Every update the broker makes, as it makes it (for venues read by a task)."""
        while True:
            while self._pending:
                yield self._pending.pop(0)
            self._wakeup.clear()
            await self._wakeup.wait()

    # --- driving it -----------------------------------------------------------------------------

    def on_market(self, event: MarketEvent) -> list[OrderUpdate]:
        """Apply one market event: fill what it crosses; returns every update made since."""
        if event.time_ms > self._last_time_ms:
            self._last_time_ms = event.time_ms
        if isinstance(event, BookUpdate):
            if event.symbol == self.rules.symbol:
                self._book = event
                if not self._open:
                    return self.take_updates()  # nothing rests: no price needs reading
                bid, ask = event.best_bid, event.best_ask
                self._fill_resting(
                    lambda side, limit: (
                        (ask is not None and ask <= limit)
                        if side == "BUY"
                        else (bid is not None and bid >= limit)
                    )
                )
        elif isinstance(event, MarketTrade) and event.symbol == self.rules.symbol:
            price = event.price
            self._fill_resting(
                lambda side, limit: price < limit if side == "BUY" else price > limit
            )
        return self.take_updates()

    def take_updates(self) -> list[OrderUpdate]:
        """The updates not taken yet (fills made while placing orders, cancels, ...)."""
        if not self._pending:
            return []
        out, self._pending = self._pending, []
        return out

    @property
    def book(self) -> BookUpdate | None:
        """The last book the broker saw."""
        return self._book

    # --- internals ------------------------------------------------------------------------------

    def _now(self) -> int:
        return self._last_time_ms or self._clock.now_ms()

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.rules.symbol:
            raise InvalidOrder(
                f"this paper account trades {self.rules.symbol}, not {symbol}",
                code=-1121,
                endpoint=_ENDPOINT,
            )

    def _emit(self, update: OrderUpdate) -> None:
        self._pending.append(update)
        self._wakeup.set()

    def _walk(self, order: Order) -> list[tuple[Decimal, Decimal]]:
        """The (price, quantity) an order would take from the book now, best level first."""
        assert self._book is not None
        levels = self._book.asks if order.side == "BUY" else self._book.bids
        takes: list[tuple[Decimal, Decimal]] = []
        left = order.quantity
        for price, qty in levels:
            if left <= 0:
                break
            if order.price is not None and (
                price > order.price if order.side == "BUY" else price < order.price
            ):
                break
            take = min(qty, left)
            takes.append((price, take))
            left -= take
        return takes

    def _need(self, asset: str, amount: Decimal) -> None:
        if self._free[asset] < amount:
            raise InsufficientFunds(
                f"Account has insufficient balance for requested action: needs {amount} "
                f"{asset}, {self._free[asset]} free",
                code=-2010,
                endpoint=_ENDPOINT,
            )

    def _place_market(self, order: Order, takes: list[tuple[Decimal, Decimal]]) -> None:
        base, quote = self.rules.base_asset, self.rules.quote_asset
        if order.side == "BUY":
            self._need(quote, sum((p * q for p, q in takes), _ZERO))
        else:
            self._need(base, sum((q for _, q in takes), _ZERO))
        self._orders[order.client_order_id] = order
        for price, qty in takes:
            order = self._execute(order, price, qty, maker=False)
        if order.executed_qty < order.quantity:
            order = replace(order, status="EXPIRED")
            self._orders[order.client_order_id] = order
            self._emit(OrderUpdate(order))

    def _place_limit(self, order: Order, takes: list[tuple[Decimal, Decimal]]) -> None:
        assert order.price is not None
        if order.side == "BUY":
            asset, amount = self.rules.quote_asset, order.price * order.quantity
        else:
            asset, amount = self.rules.base_asset, order.quantity
        self._need(asset, amount)
        self._free[asset] -= amount
        self._locked[asset] += amount
        self._order_locks[order.client_order_id] = amount
        self._orders[order.client_order_id] = order
        self._open[order.client_order_id] = order
        for price, qty in takes:
            order = self._execute(order, price, qty, maker=False)

    def _fill_resting(self, crosses: Callable[[Side, Decimal], bool]) -> None:
        for order in list(self._open.values()):
            if order.price is not None and crosses(order.side, order.price):
                self._execute(order, order.price, order.remaining, maker=True)

    def _release(self, order: Order) -> None:
        """Return an order's still-locked funds to free."""
        amount = self._order_locks.pop(order.client_order_id, _ZERO)
        asset = self.rules.quote_asset if order.side == "BUY" else self.rules.base_asset
        self._locked[asset] -= amount
        self._free[asset] += amount

    def _execute(self, order: Order, price: Decimal, qty: Decimal, *, maker: bool) -> Order:
        """Fill ``qty`` of ``order`` at ``price``: move balances, emit the update."""
        base, quote = self.rules.base_asset, self.rules.quote_asset
        rate = self.maker_fee if maker else self.taker_fee
        value = price * qty
        cid = order.client_order_id
        resting = cid in self._order_locks
        if order.side == "BUY":
            commission = binance_commission(qty, rate)
            fee_asset = base
            paid = order.price * qty if resting and order.price is not None else value
            if resting:
                self._locked[quote] -= paid
                self._order_locks[cid] -= paid
                self._free[quote] += paid - value  # a taker fill below the limit gives back
            else:
                self._free[quote] -= value
            self._free[base] += qty - commission
        else:
            commission = binance_commission(value, rate)
            fee_asset = quote
            if resting:
                self._locked[base] -= qty
                self._order_locks[cid] -= qty
            else:
                self._free[base] -= qty
            self._free[quote] += value - commission
        executed = order.executed_qty + qty
        status = "FILLED" if executed == order.quantity else "PARTIALLY_FILLED"
        order = replace(
            order,
            executed_qty=executed,
            cumulative_quote_qty=order.cumulative_quote_qty + value,
            status=status,
            time_ms=self._now(),
        )
        self._orders[cid] = order
        if status == "FILLED":
            self._open.pop(cid, None)
            self._release(order)  # nothing should be left, but never keep funds locked
        elif cid in self._open:
            self._open[cid] = order
        fill = Fill(
            client_order_id=cid,
            trade_id=f"paper-{self._next_trade_id}",
            symbol=order.symbol,
            side=order.side,
            price=price,
            quantity=qty,
            commission=commission,
            commission_asset=fee_asset,
            time_ms=order.time_ms,
            is_maker=maker,
        )
        self._next_trade_id += 1
        self._emit(OrderUpdate(order, fill))
        return order
