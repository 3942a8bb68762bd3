"""Run a strategy over recorded or historical market data, in market time.

The Rust engine (:class:`tradewire._core.SimEngine`) reads the tape and matches the strategy's
orders; Python is called only for what the strategy can act on: its own order updates, the
book (at a cadence, and only if the strategy overrides ``on_book``), public trades (only if it
overrides ``on_trade``, or wants candles: they are built from the trades) and its timers, all
in market time. Named timers and candle closes fall due before the first event at or after
their time, as in a replay through the runner: the driver feeds the engine the tape up to
that event, hands the strategy what is due, then feeds the rest (a strategy without named
timers or candles gets each tape whole, as before). The strategy is the same
:class:`~tradewire.trading.strategy.Strategy` subclass that runs on paper and live; its
callbacks run to completion at once (nothing in a backtest waits), so a callback that awaits
something that really waits (``asyncio.sleep``, a network call) is an error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from tradewire._core import SimEngine, Tape
from tradewire.errors import BacktestError
from tradewire.model import BookUpdate, MarketTrade
from tradewire.trading.candle_feed import venue_candles
from tradewire.trading.candles import NEVER
from tradewire.trading.report import figures
from tradewire.trading.runner import RunFailure, RunResult, candle_intervals, sample_equity
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.trading.timers import DEFAULT_TIMER
from tradewire.venues.paper import FILL_MODELS, FillModel, PaperBroker, from_units

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence

    from tradewire.model import Fill, Order, OrderUpdate, SymbolRules
    from tradewire.trading.runner import StopReason

__all__ = ["FILL_MODELS", "BacktestResult", "FillModel", "run_symbols", "run_tapes"]


_NEED_DATA, _FILL, _EXPIRED, _TRADE, _BOOK, _TIMER = range(6)
_RESCHEDULE: Final = "reschedule"  # a callback moved the next due time into the fed piece
_EMPTY = Tape.from_columns([], [], [], [])


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


class _Driver:
    def __init__(
        self,
        strategy: Strategy,
        engine: SimEngine,
        exchange: PaperBroker,
        rules: SymbolRules,
        clock: _EngineClock,
        *,
        book_every_us: int,
        sample_interval_ms: int,
        bot: str,
    ) -> None:
        self.strategy = strategy
        self.engine = engine
        self.exchange = exchange
        self.rules = rules
        self.clock = clock
        self.ctx = StrategyContext(exchange, rules, mode="paper", bot=bot, clock=clock)
        self.book_every_us = book_every_us
        self.wants_book = _overrides(strategy, "on_book")
        self.sample_interval_ms = sample_interval_ms
        self.started = False
        self._dispatching = False
        self.where: str | None = None
        self.start_ms: int | None = None
        self.start_mark: Decimal | None = None
        self._last_sample = -(1 << 62)
        self._book_key: tuple[int | None, ...] = ()
        self.schedule = self.ctx.schedule
        self.wants_trades = _overrides(strategy, "on_trade")
        self.wants_candles = bool(strategy.candles) or _overrides(strategy, "on_candle")
        #: Whether the strategy can have named timers or candles due (cut the tapes for them).
        self.scheduling = self.wants_candles or _overrides(strategy, "on_timer")
        for interval in candle_intervals(strategy):
            self.ctx.subscribe_candles(interval)
        venue_candles(strategy, None, self.clock)  # refuses candle_source = "venue": trades only
        if not self.wants_candles:
            self.ctx.candles_refused = (
                "a backtest builds candles only for a strategy that overrides on_candle or "
                "declares them (candles = ('1m',) on the class): its engine hands over the "
                "trades only then"
            )

    def book_now(self) -> BookUpdate:
        """The book as the strategy sees it now (top level; the engine holds the rest)."""
        best = self.engine.best()
        if best != self._book_key or self.ctx.book is None:
            bid, bid_qty, ask, ask_qty = best
            tick, step = self.rules.tick_size, self.rules.step_size
            self._book_key = best
            self.ctx.book = BookUpdate(
                self.rules.symbol,
                ()
                if bid is None or bid_qty is None
                else ((from_units(bid, tick), from_units(bid_qty, step)),),
                ()
                if ask is None or ask_qty is None
                else ((from_units(ask, tick), from_units(ask_qty, step)),),
                time_ms=self.clock.now,
            )
        return self.ctx.book

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
        ctx = self.ctx
        book = self.book_now()
        if book.mid is None:
            return False
        self.started = True
        self.start_mark = ctx.mark_price
        ctx.run_log.started_ms = self.clock.now
        self._call("on_start", self.strategy.on_start(ctx))
        self.dispatch()
        self.wants_book = self.wants_book and self.strategy.needs_book()
        if not self.wants_book:
            self.engine.set_books(None)  # the book is read when a callback runs, not pushed
        return True

    def sample(self, force: bool = False) -> None:
        """Record price, equity and position at most every ``sample_interval_ms`` of market
        time (the runner's definition: start balances at the mark plus the P&L)."""
        now = self.clock.now
        if not force and now - self._last_sample < self.sample_interval_ms:
            return
        if sample_equity(self.ctx, now):
            self._last_sample = now

    def run(self, tapes: Iterable[Tape], end_ms: int | None) -> tuple[StopReason, str | None]:
        """Feed every tape; returns why the run ended."""
        for tape in tapes:
            why: tuple[StopReason, str | None] | str | None
            if self.scheduling:
                why = self._pieces(tape, end_ms)
            else:
                self.engine.feed(tape)
                why = self._steps(end_ms, None)
            if isinstance(why, tuple):
                return why
        return "market_ended", "the data ended"

    def _pieces(self, tape: Tape, end_ms: int | None) -> tuple[StopReason, str | None] | None:
        """Feed ``tape`` cut before each event at or after the next due time, handing the
        strategy what is due there (its named timers, the candles that closed)."""
        engine, schedule, n = self.engine, self.schedule, len(tape)
        columns: tuple[Any, Any, Any, Any] | None = None
        times: Any = None
        start = 0
        while start < n:
            due = schedule.next_ms
            cut = n
            if due != NEVER:
                if columns is None:
                    columns = (tape.kind, tape.time_us, tape.price, tape.qty)
                    times = columns[1]
                # Rows already fed are older than anything due, so the search may start at 0.
                cut = max(start, int(times.searchsorted(due * 1000)))
            if cut == start:  # the next event is at or past the due time
                assert times is not None
                now = int(times[start]) // 1000
                if end_ms is not None and now >= end_ms:
                    return "duration", "the end time of the backtest was reached"
                self.fire_due(now)
                if self.ctx.stop_requested.is_set():
                    return "strategy", self.ctx.stop_reason
                self.sample()
                continue
            if start == 0 and cut == n:
                engine.feed(tape)
            else:
                assert columns is not None
                engine.feed(Tape.from_columns(*(column[start:cut].tolist() for column in columns)))
            base = engine.events
            why = self._steps(end_ms, due)
            if why == _RESCHEDULE:
                start += engine.events - base
                # Hand out what the engine queued at the current event before cutting again.
                engine.feed(_EMPTY)
                why = self._steps(end_ms, None)
                if why is not None:
                    return why  # type: ignore[return-value]
                continue
            if why is not None:
                return why  # type: ignore[return-value]
            start = cut
        return None

    def fire_due(self, now: int) -> None:
        """Hand the strategy what is due at ``now``: closed candles, then named timers."""
        clock, ctx, strategy = self.clock, self.ctx, self.strategy
        clock.now = max(clock.now, now)
        for item in self.schedule.due(now):
            if not self.started:
                continue  # candles still join the history; timer ticks pass
            self.book_now()
            if isinstance(item, str):
                ctx.timer = item
                try:
                    self._call("on_timer", strategy.on_timer(ctx))
                finally:
                    ctx.timer = None
            else:
                self._call("on_candle", strategy.on_candle(ctx, item))
            self.dispatch()

    def _steps(
        self, end_ms: int | None, piece_due: int | None
    ) -> tuple[StopReason, str | None] | str | None:
        """Run the engine over what it was fed; None when it needs data, a stop reason, or
        :data:`_RESCHEDULE` when a callback made something due before ``piece_due``."""
        engine, exchange, ctx, strategy = self.engine, self.exchange, self.ctx, self.strategy
        clock, schedule = self.clock, self.schedule
        stop = ctx.stop_requested
        candles = self.wants_candles
        while True:
            code, time_us, order_id, price, qty, flag = engine.advance()
            if code == _NEED_DATA:
                return None
            now = time_us // 1000
            if end_ms is not None and now >= end_ms:
                return "duration", "the end time of the backtest was reached"
            clock.now = now
            if code == _TRADE and not self.wants_trades and not schedule.forming:
                schedule.add_trade(now, price, qty)  # only candles want it: no trade object
                if now - self._last_sample >= self.sample_interval_ms:
                    self.sample()
                if piece_due is not None and schedule.next_ms < piece_due:
                    return _RESCHEDULE
                continue
            if code == _FILL:
                exchange.apply_step(code, time_us, order_id, price, qty, flag)
                self.book_now()
                self.dispatch()
            elif code == _BOOK:
                book = self.book_now()
                if not self.started:
                    if self.start_ms is None or now >= self.start_ms:
                        self.start()
                elif self.wants_book:
                    self._call("on_book", strategy.on_book(ctx, book))
                    self.dispatch()
            elif code == _TRADE:
                trade = MarketTrade(
                    self.rules.symbol,
                    "",
                    from_units(price, self.rules.tick_size),
                    from_units(qty, self.rules.step_size),
                    now,
                    buyer_is_maker=not flag,
                )
                ctx.last_trade = trade
                if candles and schedule.series:
                    schedule.add_trade(now, price, qty)
                if self.started:
                    if self.wants_trades:
                        self.book_now()
                        self._call("on_trade", strategy.on_trade(ctx, trade))
                        self.dispatch()
                    if schedule.forming:
                        self.book_now()
                        for candle in schedule.forming_candles():
                            self._call("on_candle", strategy.on_candle(ctx, candle))
                            self.dispatch()
            elif code == _TIMER:
                if self.started and schedule.default_timer:
                    self.book_now()
                    ctx.timer = DEFAULT_TIMER
                    try:
                        self._call("on_timer", strategy.on_timer(ctx))
                    finally:
                        ctx.timer = None
                    self.dispatch()
            elif code == _EXPIRED:
                exchange.apply_step(code, time_us, order_id, price, qty, flag)
                self.dispatch()
            if stop.is_set():
                return "strategy", ctx.stop_reason
            self.sample()
            if piece_due is not None and schedule.next_ms < piece_due:
                return _RESCHEDULE


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
    if fill_model not in FILL_MODELS:
        raise BacktestError(f"unknown fill model {fill_model!r}: one of {', '.join(FILL_MODELS)}")
    if min(order_latency_ms, market_data_latency_ms, book_every_ms) < 0 or timer_interval_s <= 0:
        raise BacktestError("latencies and book cadence must be >= 0, the timer interval > 0")
    maker, taker = Decimal(maker_fee), Decimal(taker_fee)
    if bnb_discount:
        maker, taker = maker * Decimal("0.75"), taker * Decimal("0.75")
    balances = dict(start_balances or {rules.quote_asset: "10000"})
    wants_trades = (
        _overrides(strategy, "on_trade")
        or _overrides(strategy, "on_candle")
        or bool(strategy.candles)
    )
    engine = SimEngine(
        fill_model,
        order_latency_us=round((order_latency_ms + market_data_latency_ms) * 1000),
        books=True,
        book_every_us=book_every_ms * 1000,
        trades=wants_trades,
        timer_us=round(timer_interval_s * 1_000_000) if _overrides(strategy, "on_timer") else 0,
    )
    clock = _EngineClock()
    exchange = PaperBroker(
        rules,
        balances,
        maker_fee=maker,
        taker_fee=taker,
        clock=clock,
        fill_model=fill_model,
        engine=engine,
        cash_commission=cash_commission,
    )
    driver = _Driver(
        strategy,
        engine,
        exchange,
        rules,
        clock,
        book_every_us=book_every_ms * 1000,
        sample_interval_ms=sample_interval_ms,
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
    driver.book_now()  # the end mark is the book at the end of the data
    if driver.started and error is None:
        driver._call("on_stop", strategy.on_stop(ctx))
        driver.dispatch()
    driver.sample(force=True)
    wall_s = time.perf_counter() - t0
    ctx.run_log.market_events = engine.events
    failure = None if error is None else RunFailure(type(error).__name__, str(error), driver.where)
    result = RunResult(
        mode="backtest",
        symbol=rules.symbol,
        base_asset=rules.base_asset,
        quote_asset=rules.quote_asset,
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
        events=engine.events,
        wall_s=wall_s,
        run=result,
        error=error_text,
    )
    if error is not None and raise_errors:
        raised = BacktestError(f"the run stopped at market time {clock.now} ms: {detail}")
        raised.result = out  # type: ignore[attr-defined]
        raise raised from error
    return out


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
    timer_interval_s: float = 1.0,
    sample_interval_ms: int = 1000,
    bot: str = "backtest",
    raise_errors: bool = True,
) -> BacktestResult:
    """Run ``strategy`` over several symbols' tapes (``tapes[symbol]``, each in time order),
    ``rules`` the rules of each, the primary first.

    The symbols' events are merged in market time (no event of one symbol is seen before an
    earlier event of another) and replayed event by event through the same
    :class:`~tradewire.trading.runner.Runner` and :class:`~tradewire.venues.paper.PaperBroker`
    as paper trading on recorded data: one account (one balance ledger), each symbol filled
    by its own simulation engine. Every book reaches ``on_book`` (there is no book cadence),
    and the strategy starts once every symbol has a two-sided book. The options are those of
    :func:`run_tapes`; it cannot be called from a running event loop.

    Raises:
        BacktestError: bad settings, symbols with different quote assets, a symbol without
            tapes or rules, a callback that waits or raises (with ``raise_errors``).
    """
    import asyncio

    from tradewire.clock import MarketClock
    from tradewire.errors import ConfigError
    from tradewire.trading.runner import Runner
    from tradewire.venues.replay import TapeMarket

    if fill_model not in FILL_MODELS:
        raise BacktestError(f"unknown fill model {fill_model!r}: one of {', '.join(FILL_MODELS)}")
    if min(order_latency_ms, market_data_latency_ms) < 0 or timer_interval_s <= 0:
        raise BacktestError("latencies must be >= 0, the timer interval > 0")
    if not rules:
        raise BacktestError("no symbol to trade")
    missing = [r.symbol for r in rules if r.symbol not in tapes]
    if missing:
        raise BacktestError(f"no data for {', '.join(missing)}")
    maker, taker = Decimal(maker_fee), Decimal(taker_fee)
    if bnb_discount:
        maker, taker = maker * Decimal("0.75"), taker * Decimal("0.75")
    primary, more = rules[0], list(rules[1:])
    balances = dict(start_balances or {primary.quote_asset: "10000"})
    clock = MarketClock()
    broker = PaperBroker(
        primary,
        balances,
        maker_fee=maker,
        taker_fee=taker,
        clock=clock,
        fill_model=fill_model,
        more_rules=more,
        order_latency_ms=order_latency_ms + market_data_latency_ms,
    )
    try:
        runner = Runner(
            strategy,
            broker,
            TapeMarket({r.symbol: tapes[r.symbol] for r in rules}),
            primary,
            more_rules=more,
            mode="paper",
            bot=bot,
            timer_interval_s=timer_interval_s,
            sample_interval_ms=sample_interval_ms,
            clock=clock,
        )
    except ConfigError as e:
        raise BacktestError(str(e)) from e
    t0 = time.perf_counter()
    try:
        run = asyncio.run(runner.run())
    except RuntimeError as e:
        if "running event loop" not in str(e):
            raise
        raise BacktestError(
            "a backtest of several symbols runs its own event loop: call it outside one "
            "(or await a Runner over a TapeMarket yourself)"
        ) from e
    wall_s = time.perf_counter() - t0
    run = replace(run, mode="backtest")
    extra: dict[str, Any] = {
        "fill_model": fill_model,
        "order_latency_ms": order_latency_ms,
        "market_data_latency_ms": market_data_latency_ms,
        "maker_fee": str(maker),
        "taker_fee": str(taker),
    }
    events = run.log.market_events
    out = BacktestResult(
        report=figures(run, extra),
        fills=list(run.log.fills),
        orders=broker.all_orders(),
        events=events,
        wall_s=wall_s,
        run=run,
        error=None if run.error is None else str(run.error),
    )
    if run.error is not None and raise_errors:
        raised = BacktestError(f"the run stopped at market time {run.ended_ms} ms: {run.error}")
        raised.result = out  # type: ignore[attr-defined]
        raise raised from runner.exception
    return out
