"""Run a strategy over recorded or historical market data, in market time.

The Rust engine (:class:`tradewire._core.SimEngine`) reads the tape and matches the strategy's
orders; Python is called only for what the strategy can act on: its own order updates, the
book (at a cadence, and only if the strategy overrides ``on_book``), public trades (only if it
overrides ``on_trade``, or wants candles: they are built from the trades) and its timers, all
in market time. Named timers and candle closes fall due before the first event at or after
their time, as in a replay through the runner: the driver runs the engine up to that event
(:meth:`~tradewire._core.SimEngine.advance_until`), hands the strategy what is due, then runs
on. A strategy trading several symbols gets one engine per symbol, stepped in turn so that
their events are merged in market time (ties in the order of the symbols). The strategy is
the same :class:`~tradewire.trading.strategy.Strategy` subclass that runs on paper and live;
its callbacks run to completion at once (nothing in a backtest waits), so a callback that
awaits something that really waits (``asyncio.sleep``, a network call) is an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from tradewire._core import SimEngine, Tape
from tradewire.errors import BacktestError, ConfigError
from tradewire.model import BookUpdate, MarketTrade
from tradewire.trading.candle_feed import venue_candles
from tradewire.trading.candles import NEVER
from tradewire.trading.report import figures
from tradewire.trading.runner import (
    RunFailure,
    RunResult,
    candle_intervals,
    sample_equity,
    symbol_results,
)
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.trading.timers import DEFAULT_TIMER
from tradewire.venues.paper import FILL_MODELS, FillModel, PaperBroker, from_units

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence

    from tradewire.model import Fill, Order, OrderUpdate, SymbolRules
    from tradewire.trading.runner import StopReason

__all__ = ["FILL_MODELS", "BacktestResult", "FillModel", "run_symbols", "run_tapes"]


_NEED_DATA, _FILL, _EXPIRED, _TRADE, _BOOK, _TIMER, _BOUND = range(7)
_FAR: Final = 1 << 62
"""Later than any market time, in µs (an engine's bound that never stops it)."""


class _EngineClock:
    """The run's clock: market time, moved by the driver (nothing in a backtest sleeps)."""

    def __init__(self) -> None:
        self.now = 0

    def now_ms(self) -> int:
        return self.now

    async def sleep(self, seconds: float) -> None:
        raise BacktestError(
            "a strategy slept in a backtest: use on_timer (it runs in market time) instead"
        )

    def observe(self, time_ms: int) -> bool:
        self.now = max(self.now, time_ms)
        return False


@dataclass
class BacktestResult:
    """What a backtest did.

    ``report`` is the report.json dict (the same keys as paper and live); ``fills`` every fill
    of the strategy's orders; ``orders`` their last states; ``events`` the market events read;
    ``wall_s`` the run's wall-clock time; ``run`` the full :class:`RunResult`.
    """

    report: dict[str, Any]
    fills: list[Fill]
    orders: list[Order]
    events: int
    wall_s: float
    run: RunResult = field(repr=False)
    error: str | None = None

    @property
    def events_per_s(self) -> float:
        """Market events processed per wall-clock second."""
        return self.events / self.wall_s if self.wall_s > 0 else 0.0


def _overrides(strategy: Strategy, name: str) -> bool:
    return getattr(type(strategy), name) is not getattr(Strategy, name)


def _complete(coro: Coroutine[Any, Any, None]) -> None:
    """Run a callback to its end now: in a backtest nothing it awaits may wait."""
    try:
        coro.send(None)
    except StopIteration:
        return
    except RuntimeError as e:
        if "no running event loop" not in str(e):
            raise
    else:
        coro.close()
    raise BacktestError(
        "a strategy callback waited on something outside the simulation (asyncio.sleep, a "
        "lock, the network): backtests run each callback to its end in market time"
    )


class _Feed:
    """One symbol of a run: its rules, its engine, its tapes, and the time of its next row."""

    __slots__ = ("book", "book_key", "engine", "index", "next_us", "rules", "symbol", "tapes")

    def __init__(self, index: int, rules: SymbolRules, engine: SimEngine) -> None:
        self.index = index
        self.rules = rules
        self.symbol = rules.symbol
        self.engine = engine
        self.tapes: Iterator[Tape] = iter(())
        #: The time of the next row the engine has not processed (:data:`_FAR`: none left).
        self.next_us = _FAR
        self.book: BookUpdate | None = None
        self.book_key: tuple[int | None, ...] = ()


class _Driver:
    """Steps the symbols' engines in market time and hands the strategy what it can act on.

    One engine per symbol (the broker's), each fed only its own tapes. With several symbols
    the driver always moves the engine whose next row is the earliest, and only up to the
    next row of another (:meth:`SimEngine.advance_until`): no symbol's row is processed
    before an earlier row of another, rows at the same microsecond go in the order of the
    symbols (the primary first), and a callback at ``t`` sees every symbol's market as of
    ``t``. Named timers and candle closes (and, with several symbols, the default timer) fall
    due before the first row at or after their time; one symbol's default timer is the
    engine's own.
    """

    def __init__(
        self,
        strategy: Strategy,
        feeds: Sequence[_Feed],
        exchange: PaperBroker,
        clock: _EngineClock,
        *,
        sample_interval_ms: int,
        timer_interval_s: float,
        bot: str,
    ) -> None:
        self.strategy = strategy
        self.feeds = tuple(feeds)
        self.primary = self.feeds[0]
        self.exchange = exchange
        self.clock = clock
        try:
            self.ctx = StrategyContext(
                exchange,
                self.primary.rules,
                more_rules=[feed.rules for feed in self.feeds[1:]],
                mode="paper",
                bot=bot,
                clock=clock,
            )
        except ConfigError as e:  # symbols quoted in different assets
            raise BacktestError(str(e)) from e
        self.wants_book = _overrides(strategy, "on_book")
        self.sample_interval_ms = sample_interval_ms
        self.started = False
        self._dispatching = False
        self.where: str | None = None
        self.start_ms: int | None = None
        self.start_marks: dict[str, Decimal | None] = {}
        self._last_sample = -(1 << 62)
        self.schedule = self.ctx.schedule
        self.wants_trades = _overrides(strategy, "on_trade")
        self.wants_candles = bool(strategy.candles) or _overrides(strategy, "on_candle")
        #: The default timer, when the driver keeps it (several symbols: each engine sees only
        #: its own rows); one symbol's is the engine's. ``NEVER`` until the first row.
        self.timer_ms = max(1, round(timer_interval_s * 1000))
        self.timer_here = len(self.feeds) > 1 and _overrides(strategy, "on_timer")
        self.timer_next_ms = NEVER
        for interval in candle_intervals(strategy):
            self.ctx.subscribe_candles(interval)
        venue_candles(strategy, None, self.clock)  # refuses candle_source = "venue": trades only
        if not self.wants_candles:
            self.ctx.candles_refused = (
                "a backtest builds candles only for a strategy that overrides on_candle or "
                "declares them (candles = ('1m',) on the class): its engine hands over the "
                "trades only then"
            )

    @property
    def start_mark(self) -> Decimal | None:
        """The primary symbol's mark when the strategy started."""
        return self.start_marks.get(self.primary.symbol)

    def book_now(self, feed: _Feed) -> BookUpdate:
        """``feed``'s book as the strategy sees it now (top level; the engine holds the rest)."""
        best = feed.engine.best()
        book = feed.book
        if best != feed.book_key or book is None:
            bid, bid_qty, ask, ask_qty = best
            rules = feed.rules
            tick, step = rules.tick_size, rules.step_size
            feed.book_key = best
            book = feed.book = BookUpdate(
                feed.symbol,
                ()
                if bid is None or bid_qty is None
                else ((from_units(bid, tick), from_units(bid_qty, step)),),
                ()
                if ask is None or ask_qty is None
                else ((from_units(ask, tick), from_units(ask_qty, step)),),
                time_ms=self.clock.now,
            )
            if feed is self.primary:
                self.ctx.book = book
            else:
                self.ctx.observe(book)
        return book

    def books_now(self) -> None:
        """Every symbol's book as of now, for the callback about to run."""
        for feed in self.feeds:
            self.book_now(feed)

    def _call(self, name: str, coro: Coroutine[Any, Any, None]) -> None:
        """Run one strategy callback to its end, remembering which one runs (for errors)."""
        self.where = name
        _complete(coro)
        self.where = None

    def dispatch(self) -> None:
        """Hand the broker's updates to the strategy, in order; what its callbacks cause is
        handed on after the batch (a loop, not a recursion: a strategy may chain fills)."""
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while updates := self.exchange.take_updates():
                for update in updates:
                    if self._apply(update) and self.started:
                        self._call(
                            "on_order_update", self.strategy.on_order_update(self.ctx, update)
                        )
        finally:
            self._dispatching = False

    def _apply(self, update: OrderUpdate) -> bool:
        result: list[bool] = []

        async def apply() -> None:
            result.append(await self.ctx.apply_update(update))

        _complete(apply())
        return result[0]

    def start(self) -> bool:
        """Start the strategy once every symbol's book is two-sided; False while one is not."""
        ctx = self.ctx
        for feed in self.feeds:
            if self.book_now(feed).mid is None:
                return False
        self.started = True
        self.start_marks = {feed.symbol: ctx.mark_price_for(feed.symbol) for feed in self.feeds}
        ctx.run_log.started_ms = self.clock.now
        self._call("on_start", self.strategy.on_start(ctx))
        self.dispatch()
        self.wants_book = self.wants_book and self.strategy.needs_book()
        if not self.wants_book:
            for feed in self.feeds:
                feed.engine.set_books(None)  # the book is read when a callback runs, not pushed
        return True

    def sample(self, force: bool = False) -> None:
        """Record price, equity and position at most every ``sample_interval_ms`` of market
        time (the runner's definition: start balances at the mark plus the P&L)."""
        now = self.clock.now
        if not force and now - self._last_sample < self.sample_interval_ms:
            return
        if sample_equity(self.ctx, now):
            self._last_sample = now

    def due_us(self) -> int:
        """When something is next due in the driver's schedule (µs, at most :data:`_FAR`)."""
        due = min(self.schedule.next_ms, self.timer_next_ms)
        return _FAR if due >= _FAR // 1000 else due * 1000

    def run(
        self, tapes: Mapping[str, Iterable[Tape]], end_ms: int | None
    ) -> tuple[StopReason, str | None]:
        """Run every symbol's tapes to their end (or ``end_ms``); returns why the run ended."""
        feeds = self.feeds
        for feed in feeds:
            feed.tapes = iter(tapes[feed.symbol])
            # Feed the first tape: where the symbol's data starts (nothing is processed).
            self._steps(feed, -_FAR, (_NEED_DATA, 0, 0, 0, 0, False))
        first = min(feed.next_us for feed in feeds)
        if self.timer_here and first < _FAR:
            self.timer_next_ms = first // 1000 + self.timer_ms
        end_us = _FAR if end_ms is None else min(_FAR, end_ms * 1000)
        stop = self.ctx.stop_requested
        several = len(feeds) > 1
        feed = feeds[0]
        bound = _FAR
        due = self.due_us()
        while True:
            if several:
                feed = feeds[0]
                for other in feeds[1:]:
                    if other.next_us < feed.next_us:
                        feed = other
                bound = _FAR
                for other in feeds:
                    if other is not feed:
                        # At the same µs, the symbols go in their order: the earlier first.
                        bound = min(bound, other.next_us + (other.index > feed.index))
            head = feed.next_us
            if head >= _FAR:
                return "market_ended", "the data ended"
            if head >= end_us:
                return "duration", "the end time of the backtest was reached"
            if head >= due:  # every symbol's next row is at or past the due time
                self.fire_due(head // 1000)
                if stop.is_set():
                    return "strategy", self.ctx.stop_reason
                self.sample()
                due = self.due_us()
                continue
            limit = min(bound, due, end_us)
            step = feed.engine.advance_until(limit)
            if step[0] == _BOUND:  # the next row is another symbol's turn (or due time's)
                feed.next_us = step[1]
                continue
            why = self._steps(feed, limit, step)
            if why is not None:
                return why
            due = self.due_us()

    def fire_due(self, now: int) -> None:
        """Hand the strategy what is due at ``now``: the default timer the driver keeps,
        then closed candles and named timers (the runner's order)."""
        clock, ctx, strategy = self.clock, self.ctx, self.strategy
        clock.now = max(clock.now, now)
        if self.timer_next_ms <= now:
            following = self.timer_next_ms + self.timer_ms
            while following <= now:  # ticks a gap in the data skipped are dropped
                following += self.timer_ms
            self.timer_next_ms = following
            if self.started and self.schedule.default_timer:
                self._timer(DEFAULT_TIMER)
                if ctx.stop_requested.is_set():
                    return
        for item in self.schedule.due(now):
            if not self.started:
                continue  # candles still join the history; timer ticks pass
            if isinstance(item, str):
                self._timer(item)
            else:
                self.books_now()
                self._call("on_candle", strategy.on_candle(ctx, item))
                self.dispatch()

    def _timer(self, name: str) -> None:
        ctx = self.ctx
        self.books_now()
        ctx.timer = name
        try:
            self._call("on_timer", self.strategy.on_timer(ctx))
        finally:
            ctx.timer = None
        self.dispatch()

    def _steps(
        self, feed: _Feed, bound: int, step: tuple[int, int, int, int, int, bool]
    ) -> tuple[StopReason, str | None] | None:
        """Hand out ``step`` (what ``feed``'s engine just returned) and run the engine on over
        its tapes, leaving the rows at or after ``bound`` (lowered when a callback makes
        something due sooner); None when it stopped there or its data ended (``feed.next_us``
        says which), else why the run ends."""
        engine, exchange, ctx, strategy = feed.engine, self.exchange, self.ctx, self.strategy
        clock, schedule, rules, symbol = self.clock, self.schedule, feed.rules, feed.symbol
        stop = ctx.stop_requested
        candles = self.wants_candles
        primary = feed is self.primary
        several = len(self.feeds) > 1
        books_now = self.books_now if several else partial(self.book_now, feed)
        bound_ms = -(-bound // 1000)  # the bound in ms, rounded up (schedules are in ms)
        code, time_us, order_id, price, qty, flag = step
        while True:
            if code == _BOUND:
                feed.next_us = time_us
                return None
            if code == _NEED_DATA:
                tape = next(feed.tapes, None)
                if tape is None:
                    feed.next_us = _FAR
                    return None
                engine.feed(tape)
            elif code == _TRADE and not self.wants_trades and not schedule.forming:
                now = clock.now = time_us // 1000
                schedule.add_trade(now, price, qty, symbol)  # only candles want it
                if now - self._last_sample >= self.sample_interval_ms:
                    self.sample()
                if schedule.next_ms < bound_ms:
                    bound = min(bound, self.due_us())
                    bound_ms = -(-bound // 1000)
            else:
                now = clock.now = time_us // 1000
                if code == _FILL:
                    exchange.apply_step(code, time_us, order_id, price, qty, flag)
                    books_now()
                    self.dispatch()
                elif code == _BOOK:
                    book = self.book_now(feed)
                    if not self.started:
                        if self.start_ms is None or now >= self.start_ms:
                            self.start()
                    elif self.wants_book:
                        if several:
                            books_now()
                        self._call("on_book", strategy.on_book(ctx, book))
                        self.dispatch()
                elif code == _TRADE:
                    trade = MarketTrade(
                        symbol,
                        "",
                        from_units(price, rules.tick_size),
                        from_units(qty, rules.step_size),
                        now,
                        buyer_is_maker=not flag,
                    )
                    if primary:
                        ctx.last_trade = trade
                    else:
                        ctx.observe(trade)
                    if candles and schedule.series:
                        schedule.add_trade(now, price, qty, symbol)
                    if self.started:
                        if self.wants_trades:
                            books_now()
                            self._call("on_trade", strategy.on_trade(ctx, trade))
                            self.dispatch()
                        if schedule.forming:
                            books_now()
                            for candle in schedule.forming_candles(symbol):
                                self._call("on_candle", strategy.on_candle(ctx, candle))
                                self.dispatch()
                elif code == _TIMER:
                    if self.started and schedule.default_timer:
                        self._timer(DEFAULT_TIMER)
                elif code == _EXPIRED:
                    exchange.apply_step(code, time_us, order_id, price, qty, flag)
                    self.dispatch()
                if stop.is_set():
                    return "strategy", ctx.stop_reason
                self.sample()
                if schedule.next_ms < bound_ms:  # a callback made something due sooner
                    bound = min(bound, self.due_us())
                    bound_ms = -(-bound // 1000)
            code, time_us, order_id, price, qty, flag = engine.advance_until(bound)


def run_tapes(
    strategy: Strategy,
    tapes: Iterable[Tape],
    rules: SymbolRules,
    *,
    fill_model: FillModel = "trade-through",
    start_balances: Mapping[str, Decimal | str] | None = None,
    maker_fee: Decimal | str = "0.001",
    taker_fee: Decimal | str = "0.001",
    bnb_discount: bool = False,
    order_latency_ms: float = 0.0,
    market_data_latency_ms: float = 0.0,
    book_every_ms: int = 100,
    timer_interval_s: float = 1.0,
    sample_interval_ms: int = 1000,
    start_ms: int | None = None,
    end_ms: int | None = None,
    bot: str = "backtest",
    raise_errors: bool = True,
    cash_commission: Callable[[Decimal, Decimal], Decimal] | None = None,
) -> BacktestResult:
    """Run ``strategy`` over ``tapes`` (chunks of market events, in time order).

    ``cash_commission``: a broker's commission ``(quantity, price) -> cash`` in the quote
    asset instead of the fee rates (IB's fixed per-share rate: ``rules.per_share_commission``).

    ``bnb_discount`` takes 25% off both fee rates (Binance's discount for paying fees in BNB;
    the fee is still counted in the asset received). ``order_latency_ms`` is the time from
    placing an order to the exchange acting on it; ``market_data_latency_ms`` the time market
    data takes to reach the strategy: an order it places in reaction to an event reaches the
    book ``market_data_latency_ms + order_latency_ms`` after that event. ``book_every_ms``: at
    most one book callback per this much market time (0: on every change of the best prices).
    ``start_ms`` / ``end_ms``: the strategy starts at the first book at or after ``start_ms``
    (the data before builds the book), and the run ends at the first event at or after
    ``end_ms``.

    A callback that raises ends the run at once; the result (report included) then carries
    the error, and with ``raise_errors`` (the default) a :class:`BacktestError` is raised from
    it with the result as its ``result`` attribute.

    Raises:
        BacktestError: bad settings, data out of time order, a callback that waits or raises.
    """
    return run_symbols(
        strategy,
        {rules.symbol: tapes},
        [rules],
        fill_model=fill_model,
        start_balances=start_balances,
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        bnb_discount=bnb_discount,
        order_latency_ms=order_latency_ms,
        market_data_latency_ms=market_data_latency_ms,
        book_every_ms=book_every_ms,
        timer_interval_s=timer_interval_s,
        sample_interval_ms=sample_interval_ms,
        start_ms=start_ms,
        end_ms=end_ms,
        bot=bot,
        raise_errors=raise_errors,
        cash_commission=cash_commission,
    )


def run_symbols(
    strategy: Strategy,
    tapes: Mapping[str, Iterable[Tape]],
    rules: Sequence[SymbolRules],
    *,
    fill_model: FillModel = "trade-through",
    start_balances: Mapping[str, Decimal | str] | None = None,
    maker_fee: Decimal | str = "0.001",
    taker_fee: Decimal | str = "0.001",
    bnb_discount: bool = False,
    order_latency_ms: float = 0.0,
    market_data_latency_ms: float = 0.0,
    book_every_ms: int = 100,
    timer_interval_s: float = 1.0,
    sample_interval_ms: int = 1000,
    start_ms: int | None = None,
    end_ms: int | None = None,
    bot: str = "backtest",
    raise_errors: bool = True,
    cash_commission: Callable[[Decimal, Decimal], Decimal] | None = None,
) -> BacktestResult:
    """Run ``strategy`` over one or several symbols' tapes (``tapes[symbol]``, each in time
    order), ``rules`` the rules of each, the primary first.

    One account (one balance ledger, the :class:`~tradewire.venues.paper.PaperBroker`), each
    symbol filled by its own simulation engine fed only its own tapes. The symbols' events are
    merged in market time: no row of one symbol is processed before an earlier row of
    another, rows at the same microsecond go in the order of ``rules``, and a callback at
    market time ``t`` sees every symbol's book as of ``t``. The strategy starts at the first
    book (at or after ``start_ms``) at which every symbol's book is two-sided. The options
    are those of :func:`run_tapes` (the book cadence is each symbol's). The default timer of a
    strategy trading several symbols falls due, as named timers do, before the first event
    of any symbol at or after its time (the runner's timer in market time); one symbol's
    fires at its time.

    Raises:
        BacktestError: bad settings, symbols with different quote assets, a symbol without
            tapes or rules, a callback that waits or raises (with ``raise_errors``).
    """
    if fill_model not in FILL_MODELS:
        raise BacktestError(f"unknown fill model {fill_model!r}: one of {', '.join(FILL_MODELS)}")
    if min(order_latency_ms, market_data_latency_ms, book_every_ms) < 0 or timer_interval_s <= 0:
        raise BacktestError("latencies and book cadence must be >= 0, the timer interval > 0")
    if not rules:
        raise BacktestError("no symbol to trade")
    missing = [r.symbol for r in rules if r.symbol not in tapes]
    if missing:
        raise BacktestError(f"no data for {', '.join(missing)}")
    maker, taker = Decimal(maker_fee), Decimal(taker_fee)
    if bnb_discount:
        maker, taker = maker * Decimal("0.75"), taker * Decimal("0.75")
    primary = rules[0]
    balances = dict(start_balances or {primary.quote_asset: "10000"})
    wants_trades = (
        _overrides(strategy, "on_trade")
        or _overrides(strategy, "on_candle")
        or bool(strategy.candles)
    )
    latency_us = round((order_latency_ms + market_data_latency_ms) * 1000)
    engine_timer_us = (
        round(timer_interval_s * 1_000_000)
        if len(rules) == 1 and _overrides(strategy, "on_timer")
        else 0  # several symbols: the driver keeps the timer in the merged market time
    )
    feeds = [
        _Feed(
            i,
            r,
            SimEngine(
                fill_model,
                order_latency_us=latency_us,
                books=True,
                book_every_us=book_every_ms * 1000,
                trades=wants_trades,
                timer_us=engine_timer_us,
            ),
        )
        for i, r in enumerate(rules)
    ]
    clock = _EngineClock()
    exchange = PaperBroker(
        primary,
        balances,
        maker_fee=maker,
        taker_fee=taker,
        clock=clock,
        fill_model=fill_model,
        engine=feeds[0].engine,
        more_rules=[feed.rules for feed in feeds[1:]],
        more_engines={feed.symbol: feed.engine for feed in feeds[1:]},
        order_latency_ms=order_latency_ms + market_data_latency_ms,
        cash_commission=cash_commission,
    )
    driver = _Driver(
        strategy,
        feeds,
        exchange,
        clock,
        sample_interval_ms=sample_interval_ms,
        timer_interval_s=timer_interval_s,
        bot=bot,
    )
    driver.start_ms = start_ms
    start_balances_now = exchange.balances_now()
    driver.ctx.start_balances = start_balances_now
    t0 = time.perf_counter()
    error: BaseException | None = None
    reason: StopReason
    detail: str | None
    try:
        reason, detail = driver.run(tapes, end_ms)
    except Exception as e:  # a strategy's error ends the run; the report still tells what happened
        error = e
        reason, detail = "error", f"{type(e).__name__}: {e}"
    ctx = driver.ctx
    driver.books_now()  # the end marks are the books at the end of the data
    if driver.started and error is None:
        driver._call("on_stop", strategy.on_stop(ctx))
        driver.dispatch()
    driver.sample(force=True)
    wall_s = time.perf_counter() - t0
    events = sum(feed.engine.events for feed in feeds)
    ctx.run_log.market_events = events
    failure = None if error is None else RunFailure(type(error).__name__, str(error), driver.where)
    result = RunResult(
        mode="backtest",
        symbol=primary.symbol,
        base_asset=primary.base_asset,
        quote_asset=primary.quote_asset,
        started_ms=ctx.run_log.started_ms,
        ended_ms=clock.now,
        start_balances=start_balances_now,
        end_balances=exchange.balances_now(),
        start_mark=driver.start_mark,
        end_mark=ctx.mark_price,
        pnl=ctx.pnl(),
        open_orders=ctx.open_orders(),
        log=ctx.run_log,
        stop_reason=reason,
        stop_detail=detail,
        error=failure,
        per_symbol=symbol_results(ctx, driver.start_marks),
    )
    extra: dict[str, Any] = {
        "fill_model": fill_model,
        "order_latency_ms": order_latency_ms,
        "market_data_latency_ms": market_data_latency_ms,
        "maker_fee": str(maker),
        "taker_fee": str(taker),
    }
    error_text = None if failure is None else str(failure)
    report = figures(result, extra)
    out = BacktestResult(
        report=report,
        fills=list(ctx.run_log.fills),
        orders=exchange.all_orders(),
        events=events,
        wall_s=wall_s,
        run=result,
        error=error_text,
    )
    if error is not None and raise_errors:
        raised = BacktestError(f"the run stopped at market time {clock.now} ms: {detail}")
        raised.result = out  # type: ignore[attr-defined]
        raise raised from error
    return out
