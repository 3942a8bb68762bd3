"""The strategy API: a class with async callbacks, and the context it trades through.

A strategy subclasses :class:`Strategy` and overrides the callbacks it needs; every callback
gets the :class:`StrategyContext`, which places and cancels orders, and reads balances, open
orders, position and PnL. The same strategy runs unchanged read-only, on paper and live: the
runner (:mod:`tradewire.trading.runner`) picks the venue behind the context. In paper and live mode
every order gets a fresh client order id and goes through the journal before it is sent::

    class Buyer(Strategy):
        async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
            if not ctx.open_orders() and book.best_bid is not None:
                await ctx.buy(Decimal("0.001"), book.best_bid)
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from tradewire.clock import WallClock
from tradewire.errors import (
    APIError,
    ConfigError,
    ExchangeUnavailable,
    InvalidOrder,
    NetworkError,
    OrderNotFound,
    OrderStatusUnknown,
)
from tradewire.model import STOP_ORDER_TYPES, MarketTrade, OrderRequest
from tradewire.model import Balance as _Balance
from tradewire.rules import ENDPOINT, new_client_order_id
from tradewire.trading.journal import JournalFill, OrderIntent
from tradewire.trading.pnl import EquityCurve, PnL, PnLTracker, account_equity
from tradewire.trading.timers import Schedule

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.clock import Clock
    from tradewire.model import (
        Balance,
        Bar,
        BookUpdate,
        Fill,
        Order,
        OrderType,
        OrderUpdate,
        Side,
        SymbolRules,
    )
    from tradewire.rules import PreparedOrder
    from tradewire.trading.candles import CandleArrays, CandleSeries
    from tradewire.trading.journal import Journal
    from tradewire.venues.protocols import Venue

__all__ = [
    "CandleSourceChoice",
    "Mode",
    "RunLog",
    "Strategy",
    "StrategyContext",
    "with_own_locks",
]

Mode = Literal["read-only", "paper", "live"]
CandleSourceChoice = Literal["auto", "trades", "venue"]
"""Where a strategy's closed candles come from (:attr:`Strategy.candle_source`)."""
_UNKNOWN = (OrderStatusUnknown, NetworkError, ExchangeUnavailable)


def with_own_locks(
    balances: dict[str, Balance], orders: Iterable[Order], rules: SymbolRules
) -> dict[str, Balance]:
    """``balances`` with what ``orders`` (the bot's own open LIMIT orders) lock counted as free.

    After a restart the bot re-places its orders and gets its adopted ones back: the funds they
    lock are the bot's to plan with, not missing.
    """
    extra: dict[str, Decimal] = {}
    for order in orders:
        if order.price is None or not order.is_open:
            continue
        if order.side == "BUY":
            asset, amount = rules.quote_asset, order.price * order.remaining
        else:
            asset, amount = rules.base_asset, order.remaining
        extra[asset] = extra.get(asset, Decimal(0)) + amount
    out = dict(balances)
    for asset, amount in extra.items():
        old = out.get(asset)
        free, locked = (old.free, old.locked) if old is not None else (Decimal(0), Decimal(0))
        out[asset] = _Balance(asset, free + amount, max(locked - amount, Decimal(0)))
    return out


class Strategy:
    """Base class of strategies: every callback is optional (the default does nothing).

    ``candles`` names the candle intervals built for the strategy from the start (Binance's
    names: ``("1m", "1h")``); :meth:`StrategyContext.subscribe_candles` adds more or sets the
    history length. ``candle_source`` says where closed candles come from: ``"auto"`` (the
    default) takes the venue's klines where the market source serves them (live, and paper on
    a live market) and builds them from trades elsewhere; ``"trades"`` always builds them;
    ``"venue"`` refuses to run where the venue's klines are not served (backtests, replays).

    ``symbols`` names the symbols the strategy trades when it trades more than one
    (``("BTCUSDT", "ETHUSDT")``): the first is the primary one (``ctx.symbol``, ``ctx.rules``,
    ``ctx.book``); each has its own rules, book, last trade, candles and P&L, and the
    callbacks get the events of all of them (``event.symbol`` says whose). Empty (the
    default): the one symbol the run is given.
    """

    name: str = "strategy"
    candles: tuple[str, ...] = ()
    candle_source: CandleSourceChoice = "auto"
    symbols: tuple[str, ...] = ()

    async def on_start(self, ctx: StrategyContext) -> None:
        """Called once, after the first book arrived, before any other callback."""

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Called on every book update (top levels, best first)."""

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        """Called on every public trade."""

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """Called when one of the strategy's orders changes (a fill, a cancel, an expiry)."""

    async def on_timer(self, ctx: StrategyContext) -> None:
        """Called every ``timer_interval_s`` of the runner, and when a named timer is due.

        ``ctx.timer`` says which: ``"default"`` for the runner's own timer, else the name given
        to :meth:`StrategyContext.set_timer`.
        """

    async def on_candle(self, ctx: StrategyContext, candle: Bar) -> None:
        """Called when a candle of a subscribed interval closes (and, for the intervals
        subscribed with ``forming=True``, with the forming candle after every trade)."""

    async def on_stop(self, ctx: StrategyContext) -> None:
        """Called once at the end of the run."""

    def needs_book(self) -> bool:
        """Whether ``on_book`` has work to do; asked once, after ``on_start``.

        A backtest skips the book callbacks of a strategy that says no (they are most of its
        Python calls); the book stays readable through the context either way.
        """
        return True


@dataclass
class RunLog:
    """What a run saw and did, for the live view and the report.

    ``started_ms`` is when the strategy started, on the run's clock (market time in a replay);
    ``curve`` holds the equity samples (:class:`~tradewire.trading.pnl.EquityCurve`).
    """

    started_ms: int = 0
    fills: list[Fill] = field(default_factory=list)
    orders_placed: int = 0
    orders_canceled: int = 0
    orders_rejected: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    curve: EquityCurve = field(default_factory=EquityCurve)
    messages: list[str] = field(default_factory=list)
    market_events: int = 0


class StrategyContext:
    """What a strategy trades through: orders, balances, open orders, position, PnL, log.

    A strategy trading several symbols reads the primary one through ``symbol``, ``rules``,
    ``book``, ``last_trade``, ``mark_price``, ``position`` and :meth:`pnl`, and any one
    through :meth:`rules_for`, :meth:`book_for`, :meth:`last_trade_for`,
    :meth:`mark_price_for`, :meth:`position_for` and ``pnl(symbol)``; every order method takes
    ``symbol=`` (default: the primary).
    """

    def __init__(
        self,
        venue: Venue,
        rules: SymbolRules,
        *,
        more_rules: Iterable[SymbolRules] = (),
        mode: Mode,
        bot: str = "bot",
        journal: Journal | None = None,
        logger: logging.Logger | None = None,
        run_log: RunLog | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.venue = venue
        self.clock: Clock = clock or WallClock()
        self.rules = rules
        self.symbol = rules.symbol
        self.mode: Mode = mode
        self.bot = bot
        self.journal = journal
        self.logger = logger or logging.getLogger(f"tradewire.bot.{bot}")
        self.run_log = run_log if run_log is not None else RunLog(self.clock.now_ms())
        self.book: BookUpdate | None = None
        self.last_trade: MarketTrade | None = None
        self.pnl_tracker = PnLTracker(rules.base_asset, rules.quote_asset)
        #: Every symbol traded (the primary first) and its rules.
        self.all_rules: dict[str, SymbolRules] = {rules.symbol: rules}
        self._books: dict[str, BookUpdate] = {}
        self._trades: dict[str, MarketTrade] = {}
        self._trackers: dict[str, PnLTracker] = {rules.symbol: self.pnl_tracker}
        self._orders: dict[str, Order] = {}
        self._adoptable: dict[str, Order] = {}
        self._stop = asyncio.Event()
        self.stop_reason: str | None = None
        self.start_balances: dict[str, Balance] | None = None
        #: Named timers and candle series, asked by the runner what is due when.
        self.schedule = Schedule(rules.symbol, rules.tick_size, rules.step_size)
        for other in more_rules:
            if other.symbol in self.all_rules:
                raise ConfigError(f"{other.symbol} is named twice in the strategy's symbols")
            if other.quote_asset != rules.quote_asset:
                raise ConfigError(
                    f"a strategy's symbols must share one quote asset (its P&L and equity are "
                    f"counted in it): {rules.symbol} is quoted in {rules.quote_asset}, "
                    f"{other.symbol} in {other.quote_asset}"
                )
            self.all_rules[other.symbol] = other
            self._trackers[other.symbol] = PnLTracker(other.base_asset, other.quote_asset)
            self.schedule.add_symbol(other.symbol, other.tick_size, other.step_size)
        #: The timer whose ``on_timer`` runs now (``"default"``: the runner's own); else None.
        self.timer: str | None = None
        #: Why candles cannot be subscribed in this run, if they cannot (set by the runner).
        self.candles_refused: str | None = None

    def __repr__(self) -> str:
        return f"StrategyContext({self.symbol!r}, mode={self.mode!r}, bot={self.bot!r})"

    # --- market ---------------------------------------------------------------------------------

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol the strategy trades, the primary (:attr:`symbol`) first."""
        return tuple(self.all_rules)

    def rules_for(self, symbol: str) -> SymbolRules:
        """The rules of ``symbol``.

        Raises:
            ConfigError: the strategy does not trade ``symbol``.
        """
        rules = self.all_rules.get(symbol)
        if rules is None:
            raise ConfigError(
                f"{symbol} is not one of the strategy's symbols ({', '.join(self.all_rules)}): "
                "name it in the strategy's symbols (or --symbol)"
            )
        return rules

    def book_for(self, symbol: str) -> BookUpdate | None:
        """The last book of ``symbol`` (None before its first)."""
        if symbol == self.symbol:
            return self.book
        self.rules_for(symbol)
        return self._books.get(symbol)

    def last_trade_for(self, symbol: str) -> MarketTrade | None:
        """The last public trade of ``symbol`` (None before its first)."""
        if symbol == self.symbol:
            return self.last_trade
        self.rules_for(symbol)
        return self._trades.get(symbol)

    @property
    def mark_price(self) -> Decimal | None:
        """The book's mid price, else the last trade's price."""
        if self.book is not None and self.book.mid is not None:
            return self.book.mid
        return self.last_trade.price if self.last_trade is not None else None

    def mark_price_for(self, symbol: str) -> Decimal | None:
        """``symbol``'s book mid, else its last trade's price (None before either)."""
        if symbol == self.symbol:
            return self.mark_price
        book = self.book_for(symbol)
        if book is not None and book.mid is not None:
            return book.mid
        trade = self._trades.get(symbol)
        return trade.price if trade is not None else None

    def observe(self, event: BookUpdate | MarketTrade) -> None:
        """Keep ``event`` as its symbol's last book or trade (the runner calls this)."""
        symbol = event.symbol
        if isinstance(event, MarketTrade):
            if symbol == self.symbol:
                self.last_trade = event
            else:
                self._trades[symbol] = event
        elif symbol == self.symbol:
            self.book = event
        else:
            self._books[symbol] = event

    def now_ms(self) -> int:
        """The run's clock in ms: wall time live and on paper, market time in replays."""
        return self.clock.now_ms()

    # --- orders ---------------------------------------------------------------------------------

    async def buy(
        self,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        post_only: bool = False,
        symbol: str | None = None,
    ) -> Order:
        """A LIMIT buy at ``price``, or a MARKET buy without one, of ``symbol`` (default: the
        primary one).

        With ``post_only=True`` it is a LIMIT_MAKER: refused (``InvalidOrder``, code -2010)
        instead of taking, so it only ever fills as maker. Rounded and checked as
        :meth:`place` does.
        """
        order_type: OrderType | None = "LIMIT_MAKER" if post_only else None
        return await self.place("BUY", quantity, price, type=order_type, symbol=symbol)

    async def sell(
        self,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        post_only: bool = False,
        symbol: str | None = None,
    ) -> Order:
        """A LIMIT sell at ``price``, or a MARKET sell without one (``post_only``, ``symbol``:
        see buy)."""
        order_type: OrderType | None = "LIMIT_MAKER" if post_only else None
        return await self.place("SELL", quantity, price, type=order_type, symbol=symbol)

    async def stop_loss(
        self,
        side: Side,
        quantity: Decimal,
        stop_price: Decimal,
        *,
        symbol: str | None = None,
    ) -> Order:
        """A STOP_LOSS (stop-market, IB's STP): a MARKET order placed when the last trade
        reaches the stop.

        A SELL triggers when the last trade price falls to ``stop_price`` or below (protect a
        long position), a BUY when it rises to it or above. Until then the order is open
        (status NEW) off the book; once triggered it takes the book as it finds it, as taker,
        and what the book cannot fill expires (no price limit: see :meth:`stop_loss_limit`
        for one). Refused (``InvalidOrder``, -2010 "Order would trigger immediately.") if the
        last price has already reached the stop.
        """
        return await self.place(
            side, quantity, type="STOP_LOSS", stop_price=stop_price, symbol=symbol
        )

    async def take_profit(
        self,
        side: Side,
        quantity: Decimal,
        stop_price: Decimal,
        *,
        symbol: str | None = None,
    ) -> Order:
        """A TAKE_PROFIT (take-profit market): as :meth:`stop_loss`, triggered the other way.

        A SELL triggers when the last trade price rises to ``stop_price`` or above (take a
        profit), a BUY when it falls to it or below. Binance lists it per symbol (its
        ``orderTypes``); IB has no take-profit market order.
        """
        return await self.place(
            side, quantity, type="TAKE_PROFIT", stop_price=stop_price, symbol=symbol
        )

    async def stop_loss_limit(
        self,
        side: Side,
        quantity: Decimal,
        stop_price: Decimal,
        price: Decimal,
        *,
        symbol: str | None = None,
    ) -> Order:
        """A STOP_LOSS_LIMIT: a LIMIT at ``price`` placed when the last trade reaches the stop.

        A SELL triggers when the last trade price falls to ``stop_price`` or below (protect a
        long position), a BUY when it rises to it or above. Until then the order is open
        (status NEW) off the book, its funds locked; cancel it like any order. Refused
        (``InvalidOrder``, -2010 "Order would trigger immediately.") if the last price has
        already reached the stop.
        """
        return await self.place(
            side, quantity, price, type="STOP_LOSS_LIMIT", stop_price=stop_price, symbol=symbol
        )

    async def take_profit_limit(
        self,
        side: Side,
        quantity: Decimal,
        stop_price: Decimal,
        price: Decimal,
        *,
        symbol: str | None = None,
    ) -> Order:
        """A TAKE_PROFIT_LIMIT: as :meth:`stop_loss_limit`, triggered the other way.

        A SELL triggers when the last trade price rises to ``stop_price`` or above (take a
        profit), a BUY when it falls to it or below.
        """
        return await self.place(
            side, quantity, price, type="TAKE_PROFIT_LIMIT", stop_price=stop_price, symbol=symbol
        )

    async def place(
        self,
        side: Side,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        type: OrderType | None = None,
        stop_price: Decimal | None = None,
        symbol: str | None = None,
    ) -> Order:
        """Place an order on ``symbol`` (default: the primary one); returns the venue's view.

        ``type`` defaults to LIMIT with a price and MARKET without; LIMIT_MAKER,
        STOP_LOSS_LIMIT and TAKE_PROFIT_LIMIT need a price, the last two a ``stop_price``;
        STOP_LOSS and TAKE_PROFIT (stop-market) a ``stop_price`` and no price (see
        :class:`~tradewire.model.OrderRequest` for what each does). The request is first
        rounded to the symbol's rules (quantity floored to the step, price and stop price
        rounded to the tick away from the market: a BUY down, a SELL up) and checked, as the
        Binance client does it; then, in paper and live mode, journaled exactly as it is sent.

        Raises:
            InvalidOrder: the rounded order still breaks a rule (named; nothing is journaled or
                sent), or the venue refused it (a post-only order that would take, a stop the
                last price already reached: code -2010).
            ConfigError: ``symbol`` is not one of the strategy's symbols.
        """
        symbol = symbol or self.symbol
        order_type: OrderType = type or ("MARKET" if price is None else "LIMIT")
        try:
            prepared = self._prepare(side, order_type, quantity, price, stop_price, symbol)
        except InvalidOrder as e:
            self.run_log.orders_rejected += 1
            self.log(f"refused {side} {order_type} {quantity} @ {price or 'market'}: {e.msg}")
            raise
        assert prepared.quantity is not None
        quantity, price, stop_price = prepared.quantity, prepared.price, prepared.stop_price
        adopted = self._claim(side, order_type, quantity, price, stop_price, symbol)
        if adopted is not None:
            return adopted
        request = OrderRequest(
            symbol=symbol,
            side=side,
            type=order_type,
            quantity=quantity,
            price=price,
            client_order_id=new_client_order_id(self.bot[:12]),
            stop_price=stop_price,
        )
        if self.mode == "read-only":
            stop = "" if stop_price is None else f" (stop {stop_price})"
            self.log(f"would place {side} {order_type} {quantity} @ {price or 'market'}{stop}")
        journal = self.journal
        if journal is not None:
            await asyncio.to_thread(
                journal.record_intent,
                OrderIntent(
                    request.client_order_id,
                    request.symbol,
                    request.side,
                    request.type,
                    request.quantity,
                    request.price,
                    request.time_in_force,
                    request.stop_price,
                ),
            )
        start = time.perf_counter()
        try:
            order = await self.venue.place_order(request)
        except _UNKNOWN as e:
            if journal is not None:
                await asyncio.to_thread(journal.record_unknown, request.client_order_id, str(e))
            raise
        except APIError as e:
            self.run_log.orders_rejected += 1
            if journal is not None:
                await asyncio.to_thread(journal.record_rejected, request.client_order_id, str(e))
            raise
        finally:
            self.run_log.latencies_ms.append((time.perf_counter() - start) * 1000)
        self.run_log.orders_placed += 1
        self._track(order)
        if journal is not None:
            await asyncio.to_thread(
                journal.record_update,
                order.client_order_id,
                order.status,
                order_id=order.order_id,
            )
        return self._orders[order.client_order_id]

    def _prepare(
        self,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
        symbol: str | None = None,
    ) -> PreparedOrder:
        """The one rules path: the order rounded as the client sends it, or ``InvalidOrder``."""
        symbol = symbol or self.symbol
        rules = self.rules_for(symbol)
        if (stop_price is None) == (order_type in STOP_ORDER_TYPES):
            needs = "needs a stop price" if stop_price is None else "takes no stop price"
            raise InvalidOrder(f"{symbol}: a {order_type} order {needs}", endpoint=ENDPOINT)
        return rules.prepare(
            side,
            order_type,
            quantity=quantity,
            price=price,
            stop_price=stop_price,
            reference_price=self._reference_price(side, symbol) if order_type == "MARKET" else None,
        )

    def _reference_price(self, side: Side, symbol: str | None = None) -> Decimal | None:
        """The price a market order would meet: the best ask for a BUY, the best bid for a SELL."""
        symbol = symbol or self.symbol
        book = self.book_for(symbol)
        best = None if book is None else book.best_ask if side == "BUY" else book.best_bid
        return best if best is not None else self.mark_price_for(symbol)

    async def cancel(self, client_order_id: str) -> Order | None:
        """Cancel one open order (of any of the strategy's symbols); None if it was no longer
        open."""
        known = self._orders.get(client_order_id)
        symbol = self.symbol if known is None else known.symbol
        start = time.perf_counter()
        try:
            order = await self.venue.cancel_order(symbol, client_order_id)
        except OrderNotFound:
            return None
        finally:
            self.run_log.latencies_ms.append((time.perf_counter() - start) * 1000)
        self.run_log.orders_canceled += 1
        self._track(order)
        if self.journal is not None:
            await asyncio.to_thread(self.journal.record_update, client_order_id, order.status)
        return order

    async def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order of the strategy (of ``symbol`` only, if given); returns how
        many were canceled."""
        done = 0
        for order in self.open_orders(symbol):
            if await self.cancel(order.client_order_id) is not None:
                done += 1
        return done

    def adopt(self, orders: list[Order]) -> None:
        """Take over open orders of an earlier run (after a restart) as this strategy's own.

        They are followed like new ones; a later :meth:`place` of the same side, type, quantity
        and price gets the adopted order back instead of sending a duplicate.
        """
        for order in orders:
            self._orders[order.client_order_id] = order
            if order.is_open:
                self._adoptable[order.client_order_id] = order

    @property
    def unclaimed(self) -> list[Order]:
        """Adopted orders no :meth:`place` has claimed yet (still followed, still open)."""
        return [self._orders[cid] for cid in self._adoptable if self._orders[cid].is_open]

    def claim(
        self,
        side: Side,
        quantity: Decimal,
        price: Decimal | None = None,
        *,
        type: OrderType | None = None,
        stop_price: Decimal | None = None,
        symbol: str | None = None,
    ) -> Order | None:
        """Take back the adopted order :meth:`place` would have sent now, without sending one.

        The request is rounded as :meth:`place` rounds it; None if no adopted order matches.
        """
        symbol = symbol or self.symbol
        order_type: OrderType = type or ("MARKET" if price is None else "LIMIT")
        prepared = self._prepare(side, order_type, quantity, price, stop_price, symbol)
        assert prepared.quantity is not None
        return self._claim(
            side, order_type, prepared.quantity, prepared.price, prepared.stop_price, symbol
        )

    async def cancel_unclaimed(self) -> int:
        """Cancel the adopted orders the strategy did not claim, logging each; returns how many.

        An order of an earlier run that the strategy does not take back would keep working with
        nobody acting on its fills: the runner calls this once the strategy has started.
        """
        done = 0
        for order in self.unclaimed:
            self._adoptable.pop(order.client_order_id, None)
            canceled = await self.cancel(order.client_order_id)
            if canceled is not None:
                done += 1
            self.log(
                f"canceled {order.side} {order.quantity} @ {order.price or 'market'} from the "
                f"last run ({order.client_order_id}): not part of the bot's orders now"
                if canceled is not None
                else f"{order.client_order_id} from the last run was no longer open"
            )
        self._adoptable.clear()
        return done

    def _claim(
        self,
        side: Side,
        order_type: OrderType,
        quantity: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None = None,
        symbol: str | None = None,
    ) -> Order | None:
        symbol = symbol or self.symbol
        for cid in list(self._adoptable):
            order = self._orders[cid]
            if not order.is_open:
                del self._adoptable[cid]  # it filled or was canceled meanwhile
                continue
            if (
                order.symbol,
                order.side,
                order.type,
                order.quantity,
                order.price,
                order.stop_price,
            ) == (
                symbol,
                side,
                order_type,
                quantity,
                price,
                stop_price,
            ):
                del self._adoptable[cid]
                self.log(f"kept {side} {quantity} @ {price} from the last run ({cid})")
                return order
        return None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        """The strategy's orders still working (of ``symbol`` only, if given), oldest first (as
        last reported)."""
        return [
            o for o in self._orders.values() if o.is_open and (symbol is None or o.symbol == symbol)
        ]

    def order(self, client_order_id: str) -> Order | None:
        """The last known state of one of the strategy's orders."""
        return self._orders.get(client_order_id)

    # --- candles and timers -----------------------------------------------------------------------

    def subscribe_candles(
        self, interval: str, *, history: int = 500, forming: bool = False
    ) -> None:
        """Build candles of ``interval`` from the trades from now on, keeping the last
        ``history`` closed ones for :meth:`history`; ``on_candle`` gets each one that closes
        (and, with ``forming``, the forming candle after every trade). Where the venue's klines
        are taken (:attr:`Strategy.candle_source`), the closed ones are the venue's, the
        history seeded with its last ``history`` (right after ``on_start`` when called there).

        Raises:
            ConfigError: an unknown interval, or a run that cannot build candles (a backtest
                builds them only for strategies that override ``on_candle`` or declare
                ``candles``: its engine hands over trades only then).
        """
        if self.candles_refused is not None and interval not in self.schedule.series:
            raise ConfigError(self.candles_refused)
        self.schedule.subscribe(interval, history=history, forming=forming)

    def history(
        self, interval: str, n: int | None = None, *, symbol: str | None = None
    ) -> CandleArrays:
        """The last ``n`` (default: all kept) closed candles of ``interval`` of ``symbol``
        (default: the primary) as numpy arrays (``time``, ``open``, ``high``, ``low``,
        ``close``, ``volume``), oldest first.

        Raises:
            ConfigError: ``interval`` was not subscribed, or ``symbol`` is not traded.
        """
        return self._series(interval, symbol).history_arrays(n)

    def candle(self, interval: str, *, symbol: str | None = None) -> Bar | None:
        """The forming candle of ``interval`` of ``symbol`` (default: the primary; ``closed``
        False); None before its first trade.

        Raises:
            ConfigError: ``interval`` was not subscribed, or ``symbol`` is not traded.
        """
        return self._series(interval, symbol).forming()

    def _series(self, interval: str, symbol: str | None = None) -> CandleSeries:
        if symbol is not None:
            self.rules_for(symbol)
        series = self.schedule.series_of(symbol or self.symbol).get(interval)
        if series is None:
            raise ConfigError(
                f"no candles of {interval!r}: subscribe first (candles = ({interval!r},) on "
                f"the strategy, or ctx.subscribe_candles({interval!r}))"
            )
        return series

    def set_timer(self, name: str, every_s: float) -> None:
        """Call ``on_timer`` (with ``ctx.timer == name``) every ``every_s`` of the run's clock
        from now on, on a fixed schedule; setting a name again restarts it with the new period.

        Market time in backtests and replays (a tick a gap in the data skipped is not made up),
        wall time live.

        Raises:
            ConfigError: an empty name or ``"default"`` (the runner's own timer), or a period
                under 1 ms.
        """
        self.schedule.set_timer(name, every_s, now_ms=self.clock.now_ms())

    def cancel_timer(self, name: str) -> bool:
        """Stop timer ``name`` (``"default"``: the runner's own); False if it was not set."""
        return self.schedule.cancel_timer(name)

    # --- account and results --------------------------------------------------------------------

    async def balances(self) -> dict[str, Balance]:
        """The account's balances, by asset (funds locked by unclaimed adopted orders as free)."""
        balances = await self.venue.balances()
        if not self._adoptable:
            return balances
        for symbol, rules in self.all_rules.items():
            mine = [o for o in self.unclaimed if o.symbol == symbol]
            if mine:
                balances = with_own_locks(balances, mine, rules)
        return balances

    @property
    def position(self) -> Decimal:
        """Net base quantity the strategy bought (negative: sold) since it started."""
        return self.pnl_tracker.position

    def position_for(self, symbol: str) -> Decimal:
        """Net base quantity of ``symbol`` the strategy bought (negative: sold) since it started."""
        self.rules_for(symbol)
        return self._trackers[symbol].position

    def pnl(self, symbol: str | None = None) -> PnL:
        """Position and PnL of ``symbol`` (default: the primary) at its mark price (``total`` is
        net of fees, in the quote asset)."""
        if symbol is None or symbol == self.symbol:
            return self.pnl_tracker.snapshot(self.mark_price)
        self.rules_for(symbol)
        return self._trackers[symbol].snapshot(self.mark_price_for(symbol))

    def pnl_by_symbol(self) -> dict[str, PnL]:
        """:meth:`pnl` of every symbol traded, the primary first."""
        return {symbol: self.pnl(symbol) for symbol in self.all_rules}

    def equity(self) -> Decimal | None:
        """The account's quote + base x mark now, in quote; None before a price or a start.

        Computed from the balances the venue reported at the start (``start_balances``, set
        by the runner) and the fills since, so it asks the venue nothing: it is the start
        balances valued at the mark plus :attr:`PnL.total` (of every symbol traded: one
        account, each base at its own symbol's mark).
        """
        start = self.start_balances
        if start is None:
            return None
        marks = {symbol: self.mark_price_for(symbol) for symbol in self.all_rules}
        mark = marks[self.symbol]
        if mark is None:
            return None
        rules = self.rules
        equity = account_equity(
            start, rules.base_asset, rules.quote_asset, mark, self.pnl_tracker.snapshot(mark).total
        )
        for symbol, other in self.all_rules.items():
            if symbol == self.symbol:
                continue
            other_mark = marks[symbol]
            if other_mark is None:
                return None
            # Its base at its mark plus its P&L (the quote is counted once, above).
            equity += account_equity(
                start,
                other.base_asset,
                "",
                other_mark,
                self._trackers[symbol].snapshot(other_mark).total,
            )
        return equity

    def log(self, message: str) -> None:
        """Log a line for this bot (kept for the live view, and sent to ``logging``)."""
        self.logger.info("%s", message)
        self.run_log.messages.append(message)
        del self.run_log.messages[:-50]

    def request_stop(self, reason: str) -> None:
        """Ask the runner to end the run (e.g. a stop-loss fired)."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.log(f"stopping: {reason}")
        self._stop.set()

    @property
    def stop_requested(self) -> asyncio.Event:
        """Set when the strategy asked to stop."""
        return self._stop

    # --- fed by the runner ----------------------------------------------------------------------

    def _track(self, order: Order) -> None:
        old = self._orders.get(order.client_order_id)
        if old is None or order.executed_qty >= old.executed_qty:
            self._orders[order.client_order_id] = order

    async def apply_update(self, update: OrderUpdate) -> bool:
        """Record an order update (state, fill, journal); False if it is not this strategy's."""
        order = update.order
        if order.client_order_id not in self._orders:
            return False
        self._track(order)
        fill = update.fill
        if fill is not None:
            self._trackers.get(fill.symbol, self.pnl_tracker).apply(fill)
            self.run_log.fills.append(fill)
        late = update.commission
        if late is not None:
            self._trackers.get(late.symbol, self.pnl_tracker).apply_commission(
                late.commission, late.commission_asset
            )
            fills = self.run_log.fills
            for i in range(len(fills) - 1, -1, -1):
                if fills[i].trade_id == late.trade_id and fills[i].commission_pending:
                    fills[i] = replace(
                        fills[i],
                        commission=late.commission,
                        commission_asset=late.commission_asset,
                        commission_pending=False,
                    )
                    break
        if self.journal is not None:
            journal = self.journal

            def write() -> None:
                if fill is not None:
                    journal.record_fill(
                        fill.client_order_id,
                        JournalFill(
                            fill.trade_id,
                            fill.price,
                            fill.quantity,
                            fill.commission,
                            fill.commission_asset,
                            fill.time_ms,
                        ),
                    )
                journal.record_update(
                    order.client_order_id,
                    order.status,
                    order_id=order.order_id,
                    executed_qty=order.executed_qty,
                    cumulative_quote_qty=order.cumulative_quote_qty,
                )

            await asyncio.to_thread(write)
        return True
