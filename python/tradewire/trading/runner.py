"""Runs a strategy on a market source and a venue, in read-only, paper or live mode.

The runner feeds market events to the strategy one at a time. With a simulated venue (the
paper broker, anything with ``on_market`` and ``take_updates``) it first lets the venue fill
against the event, then hands the resulting order updates to the strategy, so a replayed run is
deterministic. With a live venue a task reads ``venue.order_updates()``; callbacks never overlap.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from tradewire.clock import MarketClock, WallClock
from tradewire.errors import ConfigError, ResumeError
from tradewire.model import BookUpdate, MarketTrade
from tradewire.trading.candle_feed import VenueCandles, push_candle, venue_candles
from tradewire.trading.journal import JournalFill, OrderSnapshot, ReconcileReport
from tradewire.trading.pnl import account_equity
from tradewire.trading.strategy import RunLog, StrategyContext
from tradewire.trading.strategy import Strategy as _Strategy
from tradewire.trading.timers import DEFAULT_TIMER
from tradewire.venues.protocols import (
    AdoptsOrders,
    CandleSource,
    FillHistory,
    SimulatedVenue,
    TradingHours,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

    from tradewire.clock import Clock
    from tradewire.model import (
        Balance,
        Bar,
        MarketEvent,
        Order,
        OrderUpdate,
        SymbolRules,
        TradingSessions,
    )
    from tradewire.trading.journal import Journal, OrderLookup
    from tradewire.trading.pnl import PnL
    from tradewire.trading.strategy import Mode, Strategy
    from tradewire.venues.protocols import MarketSource, Venue

__all__ = [
    "MultiMarketSource",
    "Resumption",
    "RunFailure",
    "RunResult",
    "Runner",
    "StopReason",
    "SymbolResult",
    "candle_intervals",
    "resume_journal",
    "sample_equity",
    "symbol_results",
]

_ZERO = Decimal(0)

StopReason = Literal["duration", "market_ended", "strategy", "interrupted", "error"]
"""Why a run ended: its duration was reached, the market data ended, the strategy asked
(``ctx.request_stop``), it was interrupted (the ``stop`` event: Ctrl-C, SIGTERM), or an error
(a callback raised, or the market source failed)."""

_PRIORITY: tuple[StopReason, ...] = ("strategy", "interrupted", "duration")

CANDLE_LAG_MS = 1000
"""Live, a candle is closed by the wall clock this long after its end (a trade of the next
interval closes it at once): trades still on their way count in their candle."""
_WALL_POLL_S = 0.1


@dataclass(frozen=True)
class RunFailure:
    """The error that ended a run: the exception's type and message, and where it was raised
    (``on_timer``, ``on_book``, ... or None outside the strategy's callbacks)."""

    type: str
    message: str
    callback: str | None = None

    def __str__(self) -> str:
        where = f"{self.callback} raised " if self.callback else ""
        return f"{where}{self.type}: {self.message}" if self.message else f"{where}{self.type}"


@dataclass(frozen=True)
class RunResult:
    """How a run went: what it saw and did, balances before and after, PnL at the end.

    ``stop_detail`` says more about ``stop_reason`` (the strategy's own reason, or the error);
    ``error`` is set when the run ended in one (``stop_reason == "error"``).

    ``symbol``, ``pnl``, ``start_mark`` and ``end_mark`` are the primary symbol's; a run of a
    strategy trading several symbols also has each one's in ``per_symbol`` (the primary
    first; empty for a one-symbol run), and the report adds them up in the quote asset.
    """

    mode: str
    symbol: str
    base_asset: str
    quote_asset: str
    started_ms: int
    ended_ms: int
    start_balances: dict[str, Balance]
    end_balances: dict[str, Balance]
    start_mark: Decimal | None
    end_mark: Decimal | None
    pnl: PnL
    open_orders: list[Order]
    log: RunLog
    stop_reason: StopReason
    stop_detail: str | None = None
    error: RunFailure | None = None
    per_symbol: tuple[SymbolResult, ...] = ()

    @property
    def symbols(self) -> tuple[str, ...]:
        """Every symbol the run traded, the primary first."""
        return tuple(s.symbol for s in self.per_symbol) or (self.symbol,)


@dataclass(frozen=True)
class SymbolResult:
    """One symbol of a run of a strategy trading several: its base asset, marks and P&L (in
    the quote asset all the symbols share)."""

    symbol: str
    base_asset: str
    start_mark: Decimal | None
    end_mark: Decimal | None
    pnl: PnL


@runtime_checkable
class MultiMarketSource(Protocol):
    """Market data for several symbols merged in one stream, in time order (market time for
    recorded data, arrival order live): what a strategy trading several symbols runs on."""

    def events_of(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        """Yield the book updates and trades of every symbol in ``symbols``, merged."""
        ...


class Runner:
    """One strategy: market events in, callbacks, orders out.

    ``rules`` is the primary symbol's; ``more_rules`` those of the other symbols a strategy
    trades (its ``symbols``): the market must then be a :class:`MultiMarketSource` and the
    venue one account trading them all (one ledger). The strategy starts once every symbol
    has a two-sided book.
    """

    def __init__(
        self,
        strategy: Strategy,
        venue: Venue,
        market: MarketSource,
        rules: SymbolRules,
        *,
        more_rules: Sequence[SymbolRules] = (),
        mode: Mode,
        bot: str = "bot",
        journal: Journal | None = None,
        timer_interval_s: float = 1.0,
        sample_interval_ms: int = 200,
        on_event: Callable[[StrategyContext], Any] | None = None,
        reconcile_grace_ms: int = 6000,
        clock: Clock | None = None,
        resumption: Resumption | None = None,
        sessions: TradingSessions | None = None,
    ) -> None:
        self.strategy = strategy
        self.venue = venue
        self.market = market
        self.rules = rules
        self.mode = mode
        self._simulated = venue if isinstance(venue, SimulatedVenue) else None
        self.clock: Clock = clock or WallClock()
        if journal is not None and isinstance(self.clock, MarketClock):
            raise ConfigError(
                "a replay runs in market time and keeps no journal: pass journal=None "
                "(the journal is for orders sent to a venue in real time)"
            )
        self.ctx = StrategyContext(
            venue,
            rules,
            more_rules=more_rules,
            mode=mode,
            bot=bot,
            journal=journal,
            clock=self.clock,
        )
        self.symbols = self.ctx.symbols
        declared = tuple(strategy.symbols)
        if declared and set(declared) != set(self.symbols):
            raise ConfigError(
                f"the strategy trades {', '.join(declared)} but the run was given "
                f"{', '.join(self.symbols)}: give it the rules of each"
            )
        if len(self.symbols) > 1 and not isinstance(market, MultiMarketSource):
            raise ConfigError(
                f"{type(market).__name__} serves one symbol: a strategy trading "
                f"{', '.join(self.symbols)} needs a market source of several (events_of)"
            )
        for interval in candle_intervals(strategy):
            self.ctx.subscribe_candles(interval)
        #: The venue's candles, when closed candles come from its klines (else None: trades).
        self.venue_candles: VenueCandles | None = None
        if venue_candles(strategy, market, self.clock) and isinstance(market, CandleSource):
            self.venue_candles = VenueCandles(
                market, self.ctx.schedule, self.symbols, self._venue_candle
            )
        self.timer_interval_s = timer_interval_s
        self.sample_interval_ms = sample_interval_ms
        self._on_event = on_event
        self.reconcile_grace_ms = reconcile_grace_ms
        self.resumed: ReconcileReport | None = None
        self._resumption = resumption
        self._duration_ms: int | None = None
        self._turn = _Turn()
        self._started = False
        self._last_sample: int | None = None
        self.start_mark: Decimal | None = None
        #: Every symbol's mark when the strategy started.
        self.start_marks: dict[str, Decimal | None] = {}
        self._timer_failed = False
        self._failed_in: str | None = None
        self.exception: BaseException | None = None
        #: When the market is open; None: always (a venue with :class:`TradingHours` gives
        #: its own when the run starts). Closed, the runner pauses: market events pass the
        #: strategy by and no timer fires, until the open.
        self.sessions = sessions
        #: Market events that arrived while the market was closed (not delivered).
        self.paused_events = 0
        self._paused = False

    def __repr__(self) -> str:
        return f"Runner({self.strategy.name!r}, {self.rules.symbol!r}, mode={self.mode!r})"

    @property
    def simulated(self) -> SimulatedVenue | None:
        """The venue, if it fills from the market it is fed (decided once, at construction)."""
        return self._simulated

    async def run(
        self, duration_s: float | None = None, stop: asyncio.Event | None = None
    ) -> RunResult:
        """Run until the duration ends, ``stop`` is set, the strategy stops or the market ends.

        The duration is the clock's: wall time live and on paper, market time on a
        :class:`~tradewire.clock.MarketClock` (counted from the first event; the event that
        reaches its end is not delivered).

        A callback that raises (or a market source that fails) ends the run at once: the result
        says so (``stop_reason == "error"``, ``error``; the exception is kept in
        :attr:`exception`), ``on_stop`` is not called, and on a simulated venue the strategy's
        open orders are canceled. Errors before the run starts (resuming from the journal,
        reading the balances) are raised.
        """
        ctx = self.ctx
        self._duration_ms = None if duration_s is None else round(duration_s * 1000)
        self.resumed = await self.resume()
        if self.sessions is None and isinstance(self.venue, TradingHours):
            self.sessions = await self.venue.trading_sessions(self.rules.symbol)
        start_balances = await self.venue.balances()
        ctx.start_balances = start_balances
        if self.venue_candles is not None:
            await self.venue_candles.seed()  # ctx.history is full at the first callback
        # Timers and waits first: they must be waiting before the first market event is read.
        tasks: dict[asyncio.Task[Any], StopReason | None] = {
            asyncio.create_task(self._timer()): None
        }
        if self.simulated is None:
            tasks[asyncio.create_task(self._updates())] = None
        if not isinstance(self.clock, MarketClock) and _schedules(self.strategy):
            tasks[asyncio.create_task(self._wall_schedule())] = None
        tasks[asyncio.create_task(ctx.stop_requested.wait())] = "strategy"
        if stop is not None:
            tasks[asyncio.create_task(stop.wait())] = "interrupted"
        if duration_s is not None:
            tasks[asyncio.create_task(self.clock.sleep(duration_s))] = "duration"
        consume = asyncio.create_task(self._consume(stop))
        tasks[consume] = None
        if self.venue_candles is not None:
            tasks[asyncio.create_task(self.venue_candles.watch())] = None
        reason: StopReason | None = None
        try:
            pending = set(tasks)
            while reason is None and pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                failed = [t for t in done if not t.cancelled() and t.exception() is not None]
                if failed:
                    self._fail(failed[0].exception())  # type: ignore[arg-type]
                    reason = "error"
                elif consume in done:
                    reason = consume.result()
                else:
                    ended = {tasks[t] for t in done}
                    for why in _PRIORITY:
                        if why in ended:
                            reason = why
                            break
                # A helper that ended on its own (an order-update stream closed) stops nothing.
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if reason is None:  # every task ended without a reason (cannot happen: consume has one)
            reason = "market_ended"
        async with self._turn:
            if self.exception is None and self._started:
                try:
                    await self._call("on_stop", self.strategy.on_stop(ctx))
                    await self._drain()
                except Exception as e:
                    self._fail(e)
                    reason = "error"
            if self.exception is not None:
                await self._cancel_after_error()
            await self._settle_journal()
            self._sample(force=True)
        if not self._started and not ctx.run_log.started_ms:
            # The strategy never started and the clock had no time then (a market clock before
            # its first event): count the run from its end, not from 1970.
            ctx.run_log.started_ms = self.clock.now_ms()
        failure = self._failure()
        if reason == "strategy":
            detail = ctx.stop_reason
        elif reason == "interrupted":
            detail = "the stop event was set (Ctrl-C or SIGTERM)"
        elif failure is not None:
            detail = str(failure)
        else:
            detail = None
        return RunResult(
            mode=self.mode,
            symbol=self.rules.symbol,
            base_asset=self.rules.base_asset,
            quote_asset=self.rules.quote_asset,
            started_ms=ctx.run_log.started_ms,
            ended_ms=max(self.clock.now_ms(), ctx.run_log.started_ms),
            start_balances=start_balances,
            end_balances=await self.venue.balances(),
            start_mark=self.start_mark,
            end_mark=ctx.mark_price,
            pnl=ctx.pnl(),
            open_orders=ctx.open_orders(),
            log=ctx.run_log,
            stop_reason=reason,
            stop_detail=detail,
            error=failure,
            per_symbol=symbol_results(ctx, self.start_marks),
        )

    def _fail(self, exc: BaseException) -> None:
        if self.exception is None:
            self.exception = exc
            self.ctx.log(f"stopping on an error: {self._failure()}")

    def _failure(self) -> RunFailure | None:
        exc = self.exception
        if exc is None:
            return None
        return RunFailure(type(exc).__name__, str(exc), self._failed_in)

    async def _call(self, name: str, callback: Awaitable[None]) -> None:
        """Await one strategy callback, noting its name if it raises (the first one wins)."""
        try:
            await callback
        except Exception:
            if self._failed_in is None:
                self._failed_in = name
            raise

    async def _settle_journal(self) -> None:
        """At the end of a run on a real venue, look up the journal's open orders once more: a
        cancel or a fill whose answer (or order update) the stop cut off is journaled now, not
        at the next start. An order whose fate is still unknown stays unresolved for the next
        start, which waits out the venue's window before it calls it not placed."""
        journal = self.ctx.journal
        if journal is None or self.simulated is not None or self.mode == "read-only":
            return
        try:
            await journal.reconcile(_venue_lookup(self.venue, {}), grace_ms=self.reconcile_grace_ms)
        except Exception as e:  # the run is over: say so, the next start reconciles again
            self.ctx.log(f"looking at the open orders at the end failed: {e!r}")

    async def _cancel_after_error(self) -> None:
        """After an error, cancel the strategy's open orders on a simulated venue (nobody would
        follow them); the updates go to the context only, not to the failed strategy."""
        simulated = self.simulated
        if simulated is None:
            return
        ctx = self.ctx
        try:
            canceled = await ctx.cancel_all()
            while updates := simulated.take_updates():
                for update in updates:
                    await ctx.apply_update(update)
        except Exception as e:  # the run already failed: say so, keep the first error
            ctx.log(f"canceling the open orders after the error failed too: {e!r}")
        else:
            if canceled:
                ctx.log(f"canceled {canceled} open orders after the error")

    async def resume(self) -> ReconcileReport | None:
        """Reconcile the journal with the venue by client order id; adopt the open orders.

        Uses the :class:`Resumption` given to the runner, else makes one
        (:func:`resume_journal`). The strategy takes back the adopted orders it wants in
        ``on_start``; the runner cancels the rest right after.
        """
        journal = self.ctx.journal
        if journal is None or self.mode == "read-only" or self.simulated is not None:
            return None
        resumption = self._resumption
        if resumption is None:
            resumption = await resume_journal(
                journal, self.venue, grace_ms=self.reconcile_grace_ms, clock=self.clock
            )
        self._resumption = None
        report = resumption.report
        adopted = [o for o in resumption.open_orders if o.symbol in self.ctx.all_rules]
        self.ctx.adopt(adopted)
        venue = self.venue
        if isinstance(venue, AdoptsOrders):
            for order in adopted:
                venue.adopt(order)
        if report.updated or report.not_placed:
            self.ctx.log(
                f"resumed: {len(adopted)} open orders adopted, "
                f"{len(report.updated) - len(adopted)} others updated, "
                f"{len(report.not_placed)} never placed"
            )
        return report

    async def _consume(self, stop: asyncio.Event | None) -> StopReason:
        """Feed the market to the strategy; returns why it stopped feeding.

        A replay may never suspend, so the stop conditions other tasks would notice (a timer
        that failed, a stop asked for) are checked here too, after each event and after the
        timers that ran before one.
        """
        # The per-event path: no task, no protocol check, nothing converted that nobody reads.
        market = self.market
        events = (
            market.events_of(self.symbols)
            if len(self.symbols) > 1 and isinstance(market, MultiMarketSource)
            else market.events(self.rules.symbol)
        )
        clock = self.clock
        observe, turn, on_market = clock.observe, self._turn, self._on_market
        asked = self.ctx.stop_requested
        schedule = self.ctx.schedule
        lag = 0 if isinstance(clock, MarketClock) else CANDLE_LAG_MS
        end_ms: int | None = None

        def halted() -> StopReason | None:
            if self._timer_failed:
                return "error"
            if asked.is_set():
                return "strategy"
            if stop is not None and stop.is_set():
                return "interrupted"
            return None

        try:
            async for event in events:
                if observe(event.time_ms):
                    await asyncio.sleep(0)  # timers due in market time run before this event
                    if (why := halted()) is not None:
                        return why
                if self.sessions is not None and self._closed_at(event.time_ms):
                    self.paused_events += 1
                    if end_ms is not None and clock.now_ms() >= end_ms:
                        return "duration"
                    continue
                if self._duration_ms is not None:
                    if end_ms is None:
                        end_ms = clock.now_ms() + self._duration_ms
                    elif clock.now_ms() >= end_ms:
                        return "duration"
                if turn.busy:  # a timer or an order update is being handled: wait for it
                    await turn.wait()
                    if (why := halted()) is not None:
                        return why
                turn.busy = True
                try:
                    if event.time_ms >= schedule.next_ms:
                        # Timers and candle closes due in market time, before the event.
                        await self._fire_due(
                            event.time_ms, 0 if isinstance(event, MarketTrade) else lag
                        )
                        if (why := halted()) is not None:
                            return why
                    await on_market(event)
                finally:
                    turn.release()
                if self._on_event is not None:
                    self._on_event(self.ctx)
                if (why := halted()) is not None:
                    return why
            return "market_ended"
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def _closed_at(self, time_ms: int) -> bool:
        """Whether the market is closed at ``time_ms`` (logs each pause and resumption)."""
        sessions = self.sessions
        closed = sessions is not None and not sessions.is_open(time_ms)
        if closed != self._paused:
            self._paused = closed
            if closed:
                assert sessions is not None
                opens = sessions.next_open(time_ms)
                until = "no known opening" if opens is None else f"the open at {opens} ms"
                self.ctx.log(f"market closed at {time_ms} ms: paused until {until}")
            else:
                self.ctx.log(f"market open at {time_ms} ms: resumed")
        return closed

    async def _on_market(self, event: MarketEvent) -> None:
        ctx = self.ctx
        ctx.run_log.market_events += 1
        schedule = ctx.schedule
        ctx.observe(event)
        simulated = self._simulated
        if simulated is not None:
            for update in simulated.on_market(event):
                await self._dispatch(update)
        if schedule.series and isinstance(event, MarketTrade):
            # After the fills it made, as the backtest's engine hands them before the trade.
            schedule.add_trade(
                event.time_ms,
                int(event.price.scaleb(8)),
                int(event.quantity.scaleb(8)),
                event.symbol,
            )
        if not self._started and not await self._start():
            return
        try:
            if isinstance(event, BookUpdate):
                await self.strategy.on_book(ctx, event)
            else:
                await self.strategy.on_trade(ctx, event)
        except Exception:
            if self._failed_in is None:
                self._failed_in = "on_book" if isinstance(event, BookUpdate) else "on_trade"
            raise
        if schedule.forming and not isinstance(event, BookUpdate):
            for candle in schedule.forming_candles(event.symbol):
                await self._call("on_candle", self.strategy.on_candle(ctx, candle))
        if simulated is not None:
            # What the callback's orders did on a simulated venue (inline: no coroutine per event).
            while updates := simulated.take_updates():
                for update in updates:
                    await self._dispatch(update)
        self._sample()

    async def _start(self) -> bool:
        """Start the strategy once the book is two-sided (bots size their first orders from
        its bid and ask); False while it is not."""
        ctx = self.ctx
        if ctx.book is None or ctx.book.mid is None or ctx.mark_price is None:
            return False
        for symbol in self.symbols[1:]:
            book = ctx.book_for(symbol)
            if book is None or book.mid is None:
                return False
        self._started = True
        self.start_mark = ctx.mark_price
        self.start_marks = {symbol: ctx.mark_price_for(symbol) for symbol in self.symbols}
        ctx.run_log.started_ms = self.clock.now_ms()
        self._sample(force=True)  # the equity the strategy starts from
        await self._call("on_start", self.strategy.on_start(ctx))
        if self.venue_candles is not None:
            await self.venue_candles.seed()  # the series on_start subscribed
        await ctx.cancel_unclaimed()  # no order of the last run works unfollowed
        await self._drain()
        return True

    async def _dispatch(self, update: OrderUpdate) -> None:
        if await self.ctx.apply_update(update) and self._started:
            try:
                await self.strategy.on_order_update(self.ctx, update)
            except Exception:
                if self._failed_in is None:
                    self._failed_in = "on_order_update"
                raise

    async def _drain(self) -> None:
        simulated = self.simulated
        if simulated is None:
            return
        while updates := simulated.take_updates():
            for update in updates:
                await self._dispatch(update)

    async def _updates(self) -> None:
        async for update in self.venue.order_updates():
            async with self._turn:
                await self._dispatch(update)

    async def _timer(self) -> None:
        """``on_timer`` every ``timer_interval_s`` of the clock, on a fixed schedule (a late
        wake-up does not push the next one back; ticks missed in a gap in the data are skipped).
        """
        clock, interval_ms = self.clock, max(1, round(self.timer_interval_s * 1000))
        await clock.sleep(self.timer_interval_s)
        next_ms = clock.now_ms()
        while True:
            async with self._turn:
                if (
                    self._started
                    and self.ctx.schedule.default_timer
                    and not (self.sessions is not None and self._closed_at(clock.now_ms()))
                ):
                    self.ctx.timer = DEFAULT_TIMER
                    try:
                        await self._call("on_timer", self.strategy.on_timer(self.ctx))
                        await self._drain()
                    except Exception:
                        self._timer_failed = True  # a replay that never suspends sees this
                        raise
                    finally:
                        self.ctx.timer = None
            now = clock.now_ms()
            next_ms += interval_ms
            while next_ms <= now:
                next_ms += interval_ms
            await clock.sleep((next_ms - now) / 1000)

    async def _fire_due(self, now_ms: int, candle_lag_ms: int = 0) -> None:
        """Hand the strategy what is due at ``now_ms`` (market time): closed candles
        (``on_candle``), then named timers (``on_timer`` with ``ctx.timer`` set), which follow
        the run's clock. Before the strategy started, the candles only join the history and
        the timer ticks pass."""
        ctx, strategy = self.ctx, self.strategy
        due = ctx.schedule.due(
            now_ms, candle_lag_ms=candle_lag_ms, timers_now_ms=self.clock.now_ms()
        )
        closed = self.sessions is not None and self._closed_at(self.clock.now_ms())
        for item in due:
            if not self._started or closed:
                continue
            if isinstance(item, str):
                ctx.timer = item
                try:
                    await self._call("on_timer", strategy.on_timer(ctx))
                finally:
                    ctx.timer = None
            else:
                await self._call("on_candle", strategy.on_candle(ctx, item))
            await self._drain()

    async def _venue_candle(self, bar: Bar) -> None:
        """A candle the venue closed: into its series, then ``on_candle`` (only joins the
        history before the strategy started)."""
        async with self._turn:
            if push_candle(self.ctx.schedule, bar) and self._started:
                await self._call("on_candle", self.strategy.on_candle(self.ctx, bar))
                await self._drain()

    async def _wall_schedule(self) -> None:
        """Named timers and candle closes in wall time (live and paper on a live market): a
        quiet market still closes its candles, ``CANDLE_LAG_MS`` after their end."""
        schedule, clock = self.ctx.schedule, self.clock
        while True:
            now = clock.now_ms()
            wake = schedule.wake_ms(CANDLE_LAG_MS)
            if wake > now:
                await clock.sleep(min((wake - now) / 1000, _WALL_POLL_S))
                continue
            async with self._turn:
                try:
                    await self._fire_due(clock.now_ms(), CANDLE_LAG_MS)
                except Exception:
                    self._timer_failed = True
                    raise

    def _sample(self, *, force: bool = False) -> None:
        """Record price, equity and position at most every ``sample_interval_ms`` of the clock."""
        ctx = self.ctx
        now = self.clock.now_ms()
        last = self._last_sample
        if not force and last is not None and now - last < self.sample_interval_ms:
            return
        if sample_equity(ctx, now):
            self._last_sample = now


def symbol_results(
    ctx: StrategyContext, start_marks: dict[str, Decimal | None]
) -> tuple[SymbolResult, ...]:
    """Each symbol's marks and P&L, for a strategy trading several (empty for one)."""
    if len(ctx.all_rules) < 2:
        return ()
    return tuple(
        SymbolResult(
            symbol,
            rules.base_asset,
            start_marks.get(symbol),
            ctx.mark_price_for(symbol),
            ctx.pnl(symbol),
        )
        for symbol, rules in ctx.all_rules.items()
    )


def candle_intervals(strategy: Strategy) -> tuple[str, ...]:
    """The intervals the strategy's ``candles`` attribute names (one name alone counts too)."""
    candles = strategy.candles
    return (candles,) if isinstance(candles, str) else tuple(candles)


def _schedules(strategy: Strategy) -> bool:
    """Whether the strategy can use named timers or candles (it has a callback for them)."""
    cls = type(strategy)
    return bool(strategy.candles) or any(
        getattr(cls, name) is not getattr(_Strategy, name) for name in ("on_timer", "on_candle")
    )


def sample_equity(ctx: StrategyContext, now: int) -> bool:
    """Record price, equity (start balances at the mark plus the P&L) and position at ``now``
    in the run's curve; False before a price or a start. The one sampling of every mode."""
    mark = ctx.mark_price
    start = ctx.start_balances
    if mark is None or start is None:
        return False
    pnl = ctx.pnl_tracker.snapshot(mark)
    if len(ctx.all_rules) > 1:
        equity = ctx.equity()  # every symbol's base at its own mark
        if equity is None:
            return False
    else:
        rules = ctx.rules
        equity = account_equity(start, rules.base_asset, rules.quote_asset, mark, pnl.total)
    ctx.run_log.curve.add(now, mark, equity, pnl.position)
    return True


@dataclass(frozen=True)
class Resumption:
    """The journal reconciled with the venue after a restart, before the bot is built.

    ``open_orders``: the journal's orders the venue still holds open (every symbol), as the
    venue reported them.
    """

    report: ReconcileReport
    open_orders: tuple[Order, ...]


def _venue_lookup(venue: Venue, seen: dict[str, Order]) -> OrderLookup:
    """The journal's lookup of an order on ``venue`` (its fills too, where the venue has
    them); every order found is kept in ``seen``."""
    order_fills = venue.order_fills if isinstance(venue, FillHistory) else None

    async def lookup(cid: str, symbol: str) -> OrderSnapshot | None:
        order = await venue.get_order(symbol, cid)
        if order is None:
            return None
        seen[cid] = order
        fills: tuple[JournalFill, ...] = ()
        if order_fills is not None and order.executed_qty > 0:
            fills = tuple(
                JournalFill(
                    f.trade_id, f.price, f.quantity, f.commission, f.commission_asset, f.time_ms
                )
                for f in await order_fills(symbol, cid)
            )
        return OrderSnapshot(
            cid,
            order.status,
            order_id=order.order_id,
            executed_qty=order.executed_qty,
            cumulative_quote_qty=order.cumulative_quote_qty,
            fills=fills,
            time_ms=order.time_ms or None,
        )

    return lookup


async def resume_journal(
    journal: Journal, venue: Venue, *, grace_ms: int = 6000, clock: Clock | None = None
) -> Resumption:
    """Reconcile ``journal`` with ``venue`` by client order id (what :meth:`Runner.resume` does).

    Orders sent just before a crash whose answer was lost are looked up again once they are
    older than ``grace_ms`` (the recvWindow plus a margin: later, the venue can no longer
    accept them).

    Raises:
        ResumeError: some orders of the last run stay in an unknown state.
    """
    clock = clock or WallClock()
    seen: dict[str, Order] = {}
    lookup = _venue_lookup(venue, seen)
    report = await journal.reconcile(lookup, grace_ms=grace_ms)
    updated = list(report.updated)
    not_placed = list(report.not_placed)
    waited = False
    for _ in range(3):
        if not report.unresolved:
            break
        await clock.sleep(grace_ms / 1000)
        waited = True
        report = await journal.reconcile(lookup, include_open=False, grace_ms=grace_ms)
        updated += report.updated
        not_placed += report.not_placed
    if report.unresolved:
        raise ResumeError(
            f"orders {', '.join(report.unresolved)} of the last run are in an unknown "
            f"state ({'; '.join(report.errors.values()) or 'the venue did not answer'}): "
            "not starting, so nothing is sent twice. Try again when the venue answers."
        )
    if waited:
        # The open orders were looked at before the wait: one may have filled or been canceled
        # since, and no order update of it will come (they are read only once the run starts).
        updated += (await journal.reconcile(lookup, grace_ms=grace_ms)).updated
    still_open = [
        seen[o.client_order_id] for o in journal.open_orders() if o.client_order_id in seen
    ]
    return Resumption(
        ReconcileReport(
            checked=report.checked,
            updated=tuple(updated),
            not_placed=tuple(not_placed),
            errors=report.errors,
        ),
        tuple(o for o in still_open if o.is_open),
    )


class _Turn:
    """One callback at a time: the strategy's callbacks never overlap.

    An ``asyncio.Lock`` costs two coroutines per acquisition; the market loop takes its turn
    with a flag when nobody else holds it (the usual case) and waits only when someone does.
    """

    __slots__ = ("_waiters", "busy")

    def __init__(self) -> None:
        self.busy = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def wait(self) -> None:
        """Wait until no one holds the turn (the caller then takes it by setting ``busy``)."""
        while self.busy:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            try:
                await future
            finally:
                if not future.done():
                    future.cancel()

    def release(self) -> None:
        """Give the turn back and wake the next waiter, if any."""
        self.busy = False
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)
                return

    async def __aenter__(self) -> None:
        if self.busy:
            await self.wait()
        self.busy = True

    async def __aexit__(self, *exc: object) -> None:
        self.release()
