"""The paper broker: a simulated account whose orders the Rust simulation engine fills.

:class:`PaperBroker` is a :class:`~tradewire.venues.protocols.Venue` (the one a strategy
trades through live) with exact balances, locked funds, order states and fees; *whether, when,
how much and at what price* an order fills is decided by :class:`tradewire._core.SimEngine`,
the engine backtests run on, so paper trading and a backtest give the same fills on the same
data. Fill models (``fill_model``):

- ``trade-through`` (default): a resting LIMIT order fills only when a public trade goes
  through its price, by at most that trade's quantity, or when the book crosses it, by at most
  the crossing levels' quantity; at its own price, as maker;
- ``queue``: as ``trade-through``, and trades *at* its price fill it once the quantity ahead of
  it in the level (the level's size when it arrived, shrunk by trades and cancels) has traded;
- ``touch``: the historical rule, kept for comparison: in full as soon as the book reaches its
  price or a trade goes through it (it overstates fills).

A MARKET order, or the crossing part of a LIMIT order, walks the book level by level as taker
(a MARKET order the book cannot fill in full fills what it can and expires). LIMIT_MAKER,
STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT, STOP_LOSS and TAKE_PROFIT work as on Binance (the local
exchange is the oracle the tests compare with): a post-only order that would take is refused
with -2010; a stop order waits off the book, its funds locked, until a public trade reaches its
stop price, then works as a LIMIT placed after that trade (the ``_LIMIT`` types) or as a
MARKET order that walks the book it meets then, as taker (the stop-markets; on a market
without a book, it takes the next public trades of its side, never more than they traded).
The commission (``maker_fee`` / ``taker_fee``, 0.1% by default) is taken from the asset
received, rounded by :func:`tradewire.rules.commission`; funds are locked while an order rests.
An order is rounded and checked by the symbol's rules exactly as the Binance client does it, so
the same request gives the same order, or the same error, on paper and live.

Several symbols (``more_rules``, for a strategy that trades several) share one account and
balance ledger; each symbol has its own engine (``more_engines`` gives them, by symbol, as
``engine`` gives the first: a backtest configures its own), fed only that symbol's market, so
an order meets only its own symbol's book and trades.

Feed it the live or replayed market with :meth:`PaperBroker.on_market` (paper trading), or let
:mod:`tradewire.backtest` feed its engine the tape directly.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from tradewire._core import SimEngine, Tape
from tradewire.clock import WallClock
from tradewire.errors import BacktestError, InsufficientFunds, InvalidOrder, OrderNotFound
from tradewire.model import Balance, BookUpdate, Fill, Order, OrderUpdate
from tradewire.rules import commission as binance_commission

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterable, Mapping

    from tradewire.clock import Clock
    from tradewire.model import MarketEvent, OrderRequest, SymbolRules

__all__ = ["FILL_MODELS", "FillModel", "PaperBroker", "from_units", "to_units"]

FillModel = Literal["touch", "trade-through", "queue"]
FILL_MODELS: tuple[FillModel, ...] = ("touch", "trade-through", "queue")

_ZERO = Decimal(0)
_ENDPOINT = "paper broker"
_UNIT_PLACES = 8
_FILL, _EXPIRED = 1, 2
# What SimEngine.submit returns, and an order refused on arrival carries, for Binance's -2010.
_REFUSALS = {
    1: "Order would immediately match and take.",
    2: "Order would trigger immediately.",
}
# Tape row kinds (rust/src/sim/tape.rs).
_TRADE_BUY, _TRADE_SELL, _BID, _ASK, _BOOK_END, _CLEAR = range(6)
_BOOK_DEPTH = 20
#: The most trades kept to feed again after a book that waits (books come every 100 ms live).
_SINCE_BOOK_MAX = 100_000


def to_units(value: Decimal) -> int:
    """``value`` in the engine's integer units of 10^-8 (exact, or an error)."""
    scaled = value.scaleb(_UNIT_PLACES)
    units = int(scaled)
    if units != scaled:
        raise BacktestError(f"{value} has more than {_UNIT_PLACES} decimals")
    return units


def from_units(units: int, step: Decimal | None = None) -> Decimal:
    """An engine amount (10^-8 units) as an exact ``Decimal``: with ``step``'s decimals when
    that is exact (``99.50`` for a 0.01 tick), else with 8."""
    value = Decimal(units).scaleb(-_UNIT_PLACES)
    if step is not None and step > 0:
        short = value.quantize(step)
        if short == value:
            return short
    return value


class _Market:
    """One symbol of the account: its rules, its engine, the last book it saw and the trades
    since that book while the book waits to be fed."""

    __slots__ = ("book", "book_fed", "engine", "fed_us", "rules", "since_book")

    def __init__(self, rules: SymbolRules, engine: SimEngine) -> None:
        self.rules = rules
        self.engine = engine
        self.book: BookUpdate | None = None
        self.book_fed = True
        self.fed_us = 0
        #: The trades (kind, price, qty in units) after ``book`` while it is not fed: fed
        #: again after it, so the book an order meets lacks what they took.
        self.since_book: deque[tuple[int, int, int]] = deque(maxlen=_SINCE_BOOK_MAX)


class PaperBroker:
    """A simulated account whose orders the simulation engine fills: one symbol (``rules``),
    or several (``more_rules`` too) sharing one balance ledger, each filled by its own engine
    against its own market."""

    name = "paper"

    def __init__(
        self,
        rules: SymbolRules,
        balances: Mapping[str, Decimal | str],
        *,
        maker_fee: Decimal | str = "0.001",
        taker_fee: Decimal | str = "0.001",
        clock: Clock | None = None,
        fill_model: FillModel = "trade-through",
        engine: SimEngine | None = None,
        more_rules: Iterable[SymbolRules] = (),
        more_engines: Mapping[str, SimEngine] | None = None,
        order_latency_ms: float = 0.0,
        cash_commission: Callable[[Decimal, Decimal], Decimal] | None = None,
    ) -> None:
        if fill_model not in FILL_MODELS:
            raise BacktestError(
                f"unknown fill model {fill_model!r}: one of {', '.join(FILL_MODELS)}"
            )
        if order_latency_ms < 0:
            raise BacktestError(f"the order latency must be >= 0, not {order_latency_ms}")
        self.rules = rules
        self.fill_model: FillModel = fill_model
        self.maker_fee = Decimal(maker_fee)
        self.taker_fee = Decimal(taker_fee)
        #: A broker's commission ``(quantity, price) -> cash`` charged in the quote asset on
        #: both sides (IB's per-share rate) instead of the fee rates; None: the fee rates.
        self.cash_commission = cash_commission
        latency_us = round(order_latency_ms * 1000)

        def new_engine() -> SimEngine:
            return SimEngine(fill_model, books=False, order_latency_us=latency_us)

        self.engine = engine or new_engine()
        self._markets: dict[str, _Market] = {rules.symbol: _Market(rules, self.engine)}
        for other in more_rules:
            if other.symbol in self._markets:
                raise BacktestError(f"{other.symbol} is given twice")
            given = None if more_engines is None else more_engines.get(other.symbol)
            self._markets[other.symbol] = _Market(other, given or new_engine())
        self._primary = self._markets[rules.symbol]
        self._clock: Clock = clock or WallClock()
        self._free: dict[str, Decimal] = {a: Decimal(v) for a, v in balances.items()}
        self._locked: dict[str, Decimal] = dict.fromkeys(self._free, _ZERO)
        for market in self._markets.values():
            for asset in (market.rules.base_asset, market.rules.quote_asset):
                self._free.setdefault(asset, _ZERO)
                self._locked.setdefault(asset, _ZERO)
        self._orders: dict[str, Order] = {}
        self._open: dict[str, Order] = {}  # insertion order = time priority
        self._order_locks: dict[str, Decimal] = {}
        self._by_engine_id: dict[int, str] = {}
        self._last_time_ms = 0
        self._next_order_id = 1
        self._next_trade_id = 1
        self._pending: list[OrderUpdate] = []
        self._wakeup = asyncio.Event()
        self.rejections: dict[str, str] = {}
        """Why orders the exchange refused on arrival (after the latency) were refused, by
        client order id (Binance's -2010 message)."""

    def __repr__(self) -> str:
        return (
            f"PaperBroker({', '.join(map(repr, self._markets))}, fill_model={self.fill_model!r}, "
            f"open_orders={len(self._open)})"
        )

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols the account trades, the primary (``rules``) first."""
        return tuple(self._markets)

    # --- Venue ----------------------------------------------------------------------------------

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The rules of one of the broker's symbols."""
        return self._market(symbol).rules

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
        """Round and check by the rules, lock funds, and hand the order to the engine.

        With no order latency the order meets the book at once (what crosses fills now, as
        taker); with latency it is NEW when this returns and meets the book later, in market
        time. Each fill arrives as an order update.

        LIMIT_MAKER and the stop orders work as on Binance: a post-only order that would take
        is refused; a stop order waits off the book (NEW, its funds locked) until a public
        trade reaches its stop price, then works as a LIMIT (STOP_LOSS_LIMIT,
        TAKE_PROFIT_LIMIT) or as a MARKET order (STOP_LOSS, TAKE_PROFIT). A stop-market SELL
        locks its quantity; a BUY locks the quote at the last trade price (the stop price
        before any trade), and pays what its fills cost out of that, the rest from the free
        balance. With latency, the exchange applies those rules again when the order arrives,
        and an order they refuse then becomes REJECTED (the message in :attr:`rejections`).

        Raises:
            InvalidOrder: the order breaks the symbol's rules (named), is a duplicate, is a
                MARKET order before any price, or the exchange refuses it (code -2010: a
                post-only order that would take, a stop the last trade price already reached).
            InsufficientFunds: the free balance cannot pay for it.
        """
        market = self._market(request.symbol)
        rules, engine = market.rules, market.engine
        if request.client_order_id in self._orders:
            raise InvalidOrder("Duplicate order sent.", code=-2010, endpoint=_ENDPOINT)
        self._feed_book(market)
        bid, _, ask, _ = engine.best()
        reference = None
        if request.type == "MARKET":
            best = ask if request.side == "BUY" else bid
            if best is None:
                raise InvalidOrder(
                    "no market data yet: a market order needs a price to fill against",
                    endpoint=_ENDPOINT,
                )
            reference = from_units(best, rules.tick_size)
        prepared = rules.prepare(
            request.side,
            request.type,
            quantity=request.quantity,
            price=request.price,
            stop_price=request.stop_price,
            reference_price=reference,
        )
        assert prepared.quantity is not None
        engine_id = self._next_order_id
        order = Order(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=prepared.quantity,
            client_order_id=request.client_order_id,
            status="NEW",
            price=prepared.price,
            order_id=str(engine_id),
            time_ms=self._now(),
            stop_price=prepared.stop_price,
        )
        if order.type == "MARKET":
            assert reference is not None
            if order.side == "BUY":
                self._need(rules.quote_asset, reference * order.quantity)
            else:
                self._need(rules.base_asset, order.quantity)
            lock = None
        elif order.side == "SELL":
            # Every resting or waiting SELL locks its quantity (as Binance does).
            lock = rules.base_asset, order.quantity
        else:
            # A BUY locks the quote: LIMIT, LIMIT_MAKER and a stop-limit at the limit price; a
            # stop-market at the last trade price (the stop price before any trade).
            lock_price = order.price
            if lock_price is None:
                assert order.stop_price is not None
                last = engine.last_trade
                lock_price = order.stop_price if last is None else from_units(last, rules.tick_size)
            lock = rules.quote_asset, lock_price * order.quantity
        # The exchange's own refusals (post-only would take, stop already reached) come before
        # the balance check, as on Binance.
        refused = engine.submit(
            engine_id,
            order.side == "BUY",
            None if order.price is None else to_units(order.price),
            to_units(order.quantity),
            order_type=order.type,
            stop_price=None if order.stop_price is None else to_units(order.stop_price),
        )
        if refused:
            raise InvalidOrder(_REFUSALS[refused], code=-2010, endpoint=_ENDPOINT)
        self._next_order_id += 1
        if lock is not None:
            asset, amount = lock
            try:
                self._need(asset, amount)
            except InsufficientFunds:
                engine.cancel(engine_id)
                raise
            self._free[asset] -= amount
            self._locked[asset] += amount
            self._order_locks[order.client_order_id] = amount
            self._open[order.client_order_id] = order
        self._orders[order.client_order_id] = order
        self._by_engine_id[engine_id] = order.client_order_id
        for step in engine.settle():
            self.apply_step(*step)
        return self._orders[order.client_order_id]

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel an open order and release its locked funds."""
        engine = self._market(symbol).engine
        order = self._open.get(client_order_id)
        if (
            order is None
            or order.symbol != symbol
            or engine.cancel(int(order.order_id or 0)) is None
        ):
            raise OrderNotFound(
                "Unknown order sent.", code=-2011, endpoint=_ENDPOINT, hint="It is not open."
            )
        del self._open[client_order_id]
        self._by_engine_id.pop(int(order.order_id or 0), None)
        self._release(order)
        done = replace(order, status="CANCELED", time_ms=self._now())
        self._orders[client_order_id] = done
        self._emit(OrderUpdate(done))
        return done

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None."""
        self._market(symbol)
        order = self._orders.get(client_order_id)
        return order if order is not None and order.symbol == symbol else None

    async def open_orders(self, symbol: str) -> list[Order]:
        """The resting orders of ``symbol``, oldest first."""
        self._market(symbol)
        return [o for o in self._open.values() if o.symbol == symbol]

    async def order_updates(self) -> AsyncIterator[OrderUpdate]:
        """Every update the broker makes, as it makes it (for venues read by a task)."""
        while True:
            while self._pending:
                yield self._pending.pop(0)
            self._wakeup.clear()
            await self._wakeup.wait()

    def all_orders(self) -> list[Order]:
        """Every order placed, in its last state, oldest first."""
        return list(self._orders.values())

    # --- driving it -----------------------------------------------------------------------------

    def on_market(self, event: MarketEvent) -> list[OrderUpdate]:
        """Apply one market event: fill what it crosses; returns every update made since.

        A book event gives the engine its top levels (fed only while orders rest, or when an
        order is placed); a trade is fed as it is.
        """
        if event.time_ms > self._last_time_ms:
            self._last_time_ms = event.time_ms
        market = self._markets.get(event.symbol)
        if market is None:
            return self.take_updates()
        if isinstance(event, BookUpdate):
            market.book = event
            market.book_fed = False
            market.since_book.clear()
            if self._by_engine_id:  # an order lives in an engine (resting, or on its way)
                self._feed_book(market)
        else:
            kind = _TRADE_SELL if event.buyer_is_maker else _TRADE_BUY
            price, qty = to_units(event.price), to_units(event.quantity)
            if not market.book_fed:
                market.since_book.append((kind, price, qty))
            self._feed(market, [kind], [price], [qty], event.time_ms)
        return self.take_updates()

    def take_updates(self) -> list[OrderUpdate]:
        """The updates not taken yet (fills made while placing orders, cancels, ...)."""
        if not self._pending:
            return []
        out, self._pending = self._pending, []
        return out

    @property
    def book(self) -> BookUpdate | None:
        """The last book of the primary symbol the broker saw."""
        return self._primary.book

    def book_of(self, symbol: str) -> BookUpdate | None:
        """The last book of ``symbol`` the broker saw."""
        return self._market(symbol).book

    def apply_step(
        self, code: int, time_us: int, order_id: int, price: int, qty: int, maker: bool
    ) -> None:
        """Apply what the engine did to one of the orders (a fill, an expiry); other steps are
        the driver's."""
        if code == _FILL:
            self._last_time_ms = max(self._last_time_ms, time_us // 1000)
            cid = self._by_engine_id[order_id]
            order = self._orders[cid]
            rules = self._markets[order.symbol].rules
            fill_price = (
                order.price
                if maker and order.price is not None
                else from_units(price, rules.tick_size)
            )
            self._execute(order, fill_price, from_units(qty, rules.step_size), maker=maker)
            if self._orders[cid].status == "FILLED":
                del self._by_engine_id[order_id]
        elif code == _EXPIRED:
            # A MARKET order's unfilled rest expired; or (``maker`` set: the refusal in
            # ``qty``) an order was refused when it reached the exchange after the latency.
            self._last_time_ms = max(self._last_time_ms, time_us // 1000)
            cid = self._by_engine_id.pop(order_id)
            order = self._orders[cid]
            if self._open.pop(cid, None) is not None:
                self._release(order)
            status = "REJECTED" if maker else "EXPIRED"
            done = replace(order, status=status, time_ms=self._now())
            self._orders[cid] = done
            if maker:
                self.rejections[cid] = _REFUSALS.get(qty, "refused")
            self._emit(OrderUpdate(done))

    # --- internals ------------------------------------------------------------------------------

    def _feed_book(self, market: _Market) -> None:
        """Give the symbol's engine the last book seen, if it has not had it, followed by the
        trades seen since (they took from that book; no order of ours rested meanwhile, so
        they fill nothing again)."""
        book = market.book
        if book is None or market.book_fed:
            return
        market.book_fed = True
        kinds, prices, qtys = [_CLEAR], [0], [0]
        units = book.units
        if units is not None:  # a replayed tape's book: already in units
            for kind, unit_levels in ((_BID, units[0]), (_ASK, units[1])):
                for price_units, qty_units in unit_levels[:_BOOK_DEPTH]:
                    kinds.append(kind)
                    prices.append(price_units)
                    qtys.append(qty_units)
        else:
            for kind, levels in ((_BID, book.bids[:_BOOK_DEPTH]), (_ASK, book.asks[:_BOOK_DEPTH])):
                for price, qty in levels:
                    kinds.append(kind)
                    prices.append(to_units(price))
                    qtys.append(to_units(qty))
        kinds.append(_BOOK_END)
        prices.append(0)
        qtys.append(0)
        for trade_kind, trade_price, trade_qty in market.since_book:
            kinds.append(trade_kind)
            prices.append(trade_price)
            qtys.append(trade_qty)
        market.since_book.clear()
        self._feed(market, kinds, prices, qtys, book.time_ms)

    def _feed(
        self,
        market: _Market,
        kinds: list[int],
        prices: list[int],
        qtys: list[int],
        time_ms: int,
    ) -> None:
        """Feed rows at ``time_ms`` (never before the last fed) to the symbol's engine and
        apply what they did."""
        market.fed_us = max(market.fed_us, time_ms * 1000)
        engine = market.engine
        engine.feed(Tape.from_columns(kinds, [market.fed_us] * len(kinds), prices, qtys))
        while True:
            step = engine.advance()
            if step[0] == 0:
                return
            self.apply_step(*step)

    def _now(self) -> int:
        return self._last_time_ms or self._clock.now_ms()

    def _market(self, symbol: str) -> _Market:
        market = self._markets.get(symbol)
        if market is None:
            raise InvalidOrder(
                f"this paper account trades {', '.join(self._markets)}, not {symbol}",
                code=-1121,
                endpoint=_ENDPOINT,
            )
        return market

    def _emit(self, update: OrderUpdate) -> None:
        self._pending.append(update)
        self._wakeup.set()

    def _need(self, asset: str, amount: Decimal) -> None:
        if self._free[asset] < amount:
            raise InsufficientFunds(
                f"Account has insufficient balance for requested action: needs {amount} "
                f"{asset}, {self._free[asset]} free",
                code=-2010,
                endpoint=_ENDPOINT,
            )

    def _release(self, order: Order) -> None:
        """Return an order's still-locked funds to free."""
        amount = self._order_locks.pop(order.client_order_id, _ZERO)
        rules = self._markets[order.symbol].rules
        asset = rules.quote_asset if order.side == "BUY" else rules.base_asset
        self._locked[asset] -= amount
        self._free[asset] += amount

    def _execute(self, order: Order, price: Decimal, qty: Decimal, *, maker: bool) -> Order:
        """Fill ``qty`` of ``order`` at ``price``: move balances, emit the update."""
        rules = self._markets[order.symbol].rules
        base, quote = rules.base_asset, rules.quote_asset
        rate = self.maker_fee if maker else self.taker_fee
        value = price * qty
        cid = order.client_order_id
        resting = cid in self._order_locks
        cash_fee = None if self.cash_commission is None else self.cash_commission(qty, price)
        if order.side == "BUY":
            commission = binance_commission(qty, rate) if cash_fee is None else cash_fee
            fee_asset = base if cash_fee is None else quote
            if resting and order.price is None:
                # A triggered stop-market pays out of its lock, the rest from free.
                paid = min(value, self._order_locks[cid])
            else:
                paid = order.price * qty if resting and order.price is not None else value
            if resting:
                self._locked[quote] -= paid
                self._order_locks[cid] -= paid
                self._free[quote] += paid - value  # a taker fill below the limit gives back
            else:
                self._free[quote] -= value
            if cash_fee is None:
                self._free[base] += qty - commission
            else:
                self._free[base] += qty
                self._free[quote] -= cash_fee
        else:
            commission = binance_commission(value, rate) if cash_fee is None else cash_fee
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
