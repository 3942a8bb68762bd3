"""The signal bot: a strategy driven by outside signals (webhook alerts) through an inbox.

A signal says what to do now: ``buy`` or ``sell`` an amount (a MARKET order, or a LIMIT at
``price``), ``close`` the bot's position, ``stop`` (cancel the open orders, refuse buys and sells)
or ``start`` (take them again). Whoever receives the signals (the webhook server,
:mod:`tradewire.signals`) hands them to a :class:`SignalInbox` and awaits the
:class:`SignalVerdict`; the :class:`SignalBot` carries them out in its own turn (callbacks never
overlap), through the one rules path of every order (``ctx.buy``/``ctx.sell``).

The bot's state (paused, its position, the nonces of the signals it carried out) is kept in the
journal, so a bot started again neither carries out a signal twice nor forgets that it was
stopped.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from tradewire.errors import (
    APIError,
    ExchangeUnavailable,
    InsufficientFunds,
    InvalidOrder,
    NetworkError,
    OrderStatusUnknown,
)
from tradewire.timeouts import within
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from tradewire.model import BookUpdate, MarketTrade, Order, OrderUpdate, Side, SymbolRules
    from tradewire.trading.journal import Journal
    from tradewire.trading.strategy import StrategyContext

__all__ = [
    "ACTIONS",
    "Action",
    "Signal",
    "SignalBot",
    "SignalInbox",
    "SignalVerdict",
    "journal_position",
]

Action = Literal["buy", "sell", "start", "stop", "close"]
"""What a signal asks: place an order (``buy``, ``sell``), close the position, pause, resume."""
ACTIONS: tuple[Action, ...] = ("buy", "sell", "start", "stop", "close")

_ZERO = Decimal(0)
_FILTER = re.compile(
    r"\b(MARKET_LOT_SIZE|LOT_SIZE|PRICE_FILTER|PERCENT_PRICE_BY_SIDE|PERCENT_PRICE|"
    r"MIN_NOTIONAL|NOTIONAL|MAX_NUM_ORDERS)\b"
)


@dataclass(frozen=True)
class Signal:
    """One authenticated signal, parsed: amounts exact (Decimal from the sender's text).

    ``symbol`` is None when the signal names none (the bot's own is meant); ``quantity`` is in
    the base asset, ``quote_amount`` in the quote asset (at most one of them is set, and one of
    them is for ``buy`` and ``sell``); ``price`` makes the order a LIMIT. ``timestamp_ms`` is
    the sender's time, ``nonce`` its single-use id.
    """

    bot: str
    action: Action
    nonce: str
    timestamp_ms: int
    symbol: str | None = None
    quantity: Decimal | None = None
    quote_amount: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class SignalVerdict:
    """What became of a signal: an HTTP-like ``status`` (200 done, 409 already carried out,
    422 the bot cannot do it, 503 not carried out), the ``rule`` that refused it, a message,
    and what was done (``detail``: the order placed, the state now)."""

    status: int
    outcome: str
    message: str
    rule: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        """Whether the signal was carried out (or is being carried out)."""
        return self.status in (200, 202)


def _refused(rule: str, message: str) -> SignalVerdict:
    return SignalVerdict(422, "refused", message, rule)


@dataclass
class _Pending:
    signal: Signal
    future: asyncio.Future[SignalVerdict]
    taken: bool = False
    withdrawn: bool = False


class SignalInbox:
    """The queue between whoever receives signals and the :class:`SignalBot` that runs them.

    :meth:`submit` waits for the bot's verdict up to a timeout; a signal the bot has not taken
    by then is withdrawn (never carried out later) and answered 503.
    """

    def __init__(self, maxsize: int = 64) -> None:
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue(maxsize)
        self.waiting = asyncio.Event()
        """Set while signals wait for the bot (it may carry them out at once)."""

    def __repr__(self) -> str:
        return f"SignalInbox({self._queue.qsize()} waiting)"

    async def submit(self, signal: Signal, *, timeout_s: float = 2.5) -> SignalVerdict:
        """Hand ``signal`` to the bot and wait for its verdict (at most ``timeout_s``)."""
        pending = _Pending(signal, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(pending)
        except asyncio.QueueFull:
            return SignalVerdict(503, "busy", "too many signals wait for the bot: not carried out")
        self.waiting.set()
        try:
            return await within(asyncio.shield(pending.future), timeout_s)
        except asyncio.TimeoutError:
            if not pending.taken:
                pending.withdrawn = True
                return SignalVerdict(
                    503,
                    "not_started",
                    f"the bot did not take the signal within {timeout_s:g} s (not started yet, "
                    "or busy): not carried out",
                )
            return SignalVerdict(202, "in_progress", "the bot is carrying the signal out")

    def take(self) -> list[_Pending]:
        """The signals waiting (withdrawn ones dropped), each marked as taken."""
        out: list[_Pending] = []
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if pending.withdrawn or pending.future.done():
                continue
            pending.taken = True
            out.append(pending)
        self.waiting.clear()
        return out


class SignalBot(Strategy):
    """Carries out the signals of a :class:`SignalInbox` (docs/signals.md).

    Args:
        inbox: Where the signals arrive.
        journal: Where the bot keeps its state (paused, position, the nonces of the signals it
            carried out); None keeps it in memory only.
        bot: The bot's name in the journal.
    """

    name = "signal"

    def __init__(self, inbox: SignalInbox, *, journal: Journal | None = None, bot: str = "signal"):
        self.inbox = inbox
        self.journal = journal
        self.bot = bot
        self.paused = False
        self.carried = _ZERO
        """The position earlier runs left (from the journal)."""
        self.signals_done = 0
        self._nonces: set[str] = set()
        self._ctx: StrategyContext | None = None
        if journal is not None:
            state = journal.last_state()
            if state is not None and state.get("bot") == "signal":
                self.paused = bool(state.get("paused", False))
                self.carried = Decimal(str(state.get("position", "0")))

    def __repr__(self) -> str:
        return f"SignalBot({self.bot!r}, paused={self.paused})"

    def position(self) -> Decimal:
        """The bot's net base position: what earlier runs left plus this run's fills."""
        ctx = self._ctx
        return self.carried + (ctx.position if ctx is not None else _ZERO)

    # --- callbacks: every one serves the inbox -------------------------------------------------

    async def on_start(self, ctx: StrategyContext) -> None:
        """Take back the orders of the last run, rebuild the position, serve the signals waiting.

        Where the run journals its orders (live, and paper on a live market), the position is
        rebuilt from the journaled fills, reconciled with the venue (so fills while the bot was
        down count); else it is the one the bot's state recorded.
        """
        self._ctx = ctx
        for order in ctx.unclaimed:  # a LIMIT a signal placed keeps working across a restart
            ctx.claim(
                order.side,
                order.quantity,
                order.price,
                type=order.type,
                stop_price=order.stop_price,
            )
        if ctx.journal is not None:
            journaled = await asyncio.to_thread(journal_position, ctx.journal, ctx.rules)
            # less the fills this run already counts: an adopted order that filled before the
            # start is in both the journal and ctx.position
            self.carried = journaled - ctx.position
        if self.paused:
            ctx.log(f"{self.bot}: stopped by a signal in an earlier run: buys and sells refused")
        if self.carried:
            ctx.log(f"{self.bot}: position {self.carried} carried from earlier runs")
        await self.serve(ctx)

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Serve the signals waiting."""
        if self.inbox.waiting.is_set():
            await self.serve(ctx)

    async def on_trade(self, ctx: StrategyContext, trade: MarketTrade) -> None:
        """Serve the signals waiting."""
        if self.inbox.waiting.is_set():
            await self.serve(ctx)

    async def on_timer(self, ctx: StrategyContext) -> None:
        """Serve the signals waiting (a quiet market still gets them carried out)."""
        if self.inbox.waiting.is_set():
            await self.serve(ctx)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """Keep the position in the journal after each fill."""
        if update.fill is not None:
            await self._save(ctx)

    async def on_stop(self, ctx: StrategyContext) -> None:
        """Journal the state once more: a fill the run recorded as it was ending may not have
        reached :meth:`on_order_update` (its task is canceled at the end)."""
        await self._save(ctx)

    async def serve(self, ctx: StrategyContext) -> None:
        """Carry out every signal waiting, in the order they came, answering each."""
        for pending in self.inbox.take():
            try:
                verdict = await self.carry_out(ctx, pending.signal)
            except BaseException as e:
                if not pending.future.done():
                    pending.future.set_result(
                        SignalVerdict(500, "error", f"the bot failed: {type(e).__name__}")
                    )
                raise
            if not pending.future.done():
                pending.future.set_result(verdict)

    # --- the actions ---------------------------------------------------------------------------

    async def carry_out(self, ctx: StrategyContext, signal: Signal) -> SignalVerdict:
        """Carry out one signal; the verdict says what was done or which rule refused it."""
        self._ctx = ctx
        if signal.symbol is not None and signal.symbol.upper() != ctx.symbol:
            return _refused(
                "UNKNOWN_SYMBOL", f"this bot trades {ctx.symbol}, not {signal.symbol!r}"
            )
        if signal.nonce in self._nonces or (
            self.journal is not None
            and await asyncio.to_thread(self.journal.signal_seen, self.bot, signal.nonce)
        ):
            return SignalVerdict(409, "replayed", f"nonce {signal.nonce!r} was already used")
        if signal.action == "start":
            was = self.paused
            self.paused = False
            await self._record(ctx, signal, "started" if was else "already running")
            return self._done("started" if was else "already running")
        if signal.action == "stop":
            canceled = await ctx.cancel_all()
            self.paused = True
            await self._record(ctx, signal, f"stopped, {canceled} orders canceled")
            return self._done(f"stopped: {canceled} open orders canceled", canceled=canceled)
        if self.paused:
            return _refused("PAUSED", "the bot was stopped by a signal: send start first")
        if signal.action == "close":
            return await self._close(ctx, signal)
        return await self._order(ctx, signal, "BUY" if signal.action == "buy" else "SELL")

    async def _order(self, ctx: StrategyContext, signal: Signal, side: Side) -> SignalVerdict:
        price = signal.price
        quantity = signal.quantity
        if quantity is None:
            assert signal.quote_amount is not None  # the parser requires one of them
            at = price if price is not None else _reference_price(ctx, side)
            if at is None or at <= 0:
                return _refused("NO_PRICE", "no market price yet to turn quote_amount into a size")
            step = ctx.rules.step_size
            # whole steps the amount buys, exactly (an integer division, never rounded up)
            quantity = (signal.quote_amount // (at * step)) * step if step > 0 else None
            if quantity is None:
                quantity = signal.quote_amount / at
        return await self._place(ctx, signal, side, quantity, price)

    async def _close(self, ctx: StrategyContext, signal: Signal) -> SignalVerdict:
        position = self.position()
        if position == 0:
            return _refused("NO_POSITION", "the bot holds no position to close")
        side: Side = "SELL" if position > 0 else "BUY"
        check = self._check(ctx, side, abs(position), None)
        if check is not None:
            return check
        canceled = await ctx.cancel_all()
        verdict = await self._place(ctx, signal, side, abs(position), None)
        if canceled:
            verdict.detail["canceled"] = canceled
        return verdict

    def _check(
        self, ctx: StrategyContext, side: Side, quantity: Decimal, price: Decimal | None
    ) -> SignalVerdict | None:
        """The rules' refusal of the order, before anything is recorded or sent."""
        try:
            ctx.rules.prepare(
                side,
                "MARKET" if price is None else "LIMIT",
                quantity=quantity,
                price=price,
                reference_price=_reference_price(ctx, side) if price is None else None,
            )
        except InvalidOrder as e:
            found = _FILTER.search(e.msg)
            return _refused(found.group(1) if found else "ORDER_RULES", e.msg)
        return None

    async def _place(
        self,
        ctx: StrategyContext,
        signal: Signal,
        side: Side,
        quantity: Decimal,
        price: Decimal | None,
    ) -> SignalVerdict:
        check = self._check(ctx, side, quantity, price)
        if check is not None:
            return check
        journal = self.journal
        if journal is not None:  # before the order: a restart never carries it out again
            await asyncio.to_thread(
                journal.record_signal, self.bot, signal.nonce, signal.action, "received"
            )
        self._nonces.add(signal.nonce)
        try:
            order = await ctx.place(side, quantity, price)
        except (InvalidOrder, InsufficientFunds) as e:
            rule = "INSUFFICIENT_FUNDS" if isinstance(e, InsufficientFunds) else "ORDER_RULES"
            found = _FILTER.search(e.msg)
            verdict = _refused(found.group(1) if found else rule, e.msg)
            await self._finish(signal, f"refused: {verdict.rule}")
            return verdict
        except (OrderStatusUnknown, NetworkError, ExchangeUnavailable) as e:
            await self._finish(signal, f"unknown: {type(e).__name__}")
            return SignalVerdict(
                504,
                "unknown",
                f"the venue's answer was lost ({type(e).__name__}): the order may be placed; it "
                "is reconciled by its client order id and never sent again (this nonce is used)",
            )
        except APIError as e:
            await self._finish(signal, f"failed: {type(e).__name__}")
            return SignalVerdict(502, "venue_error", f"the venue answered: {e.msg}")
        await self._finish(signal, f"order {order.client_order_id}")
        ctx.log(
            f"{self.bot}: {signal.action} signal {signal.nonce!r}: {side} {order.quantity} @ "
            f"{order.price or 'market'} ({order.client_order_id}, {order.status})"
        )
        self.signals_done += 1
        return self._done(f"{side} order placed", order=_order_detail(order))

    def _done(self, message: str, **detail: Any) -> SignalVerdict:
        return SignalVerdict(200, "done", message, None, {"paused": self.paused, **detail})

    async def _record(self, ctx: StrategyContext, signal: Signal, outcome: str) -> None:
        self._nonces.add(signal.nonce)
        self.signals_done += 1
        ctx.log(f"{self.bot}: {signal.action} signal {signal.nonce!r}: {outcome}")
        journal = self.journal
        if journal is not None:
            await asyncio.to_thread(
                journal.record_signal, self.bot, signal.nonce, signal.action, outcome
            )
        await self._save(ctx)

    async def _finish(self, signal: Signal, outcome: str) -> None:
        if self.journal is not None:
            await asyncio.to_thread(self.journal.finish_signal, self.bot, signal.nonce, outcome)

    async def _save(self, ctx: StrategyContext) -> None:
        journal = self.journal
        if journal is None:
            return
        state: dict[str, str | int | bool | None] = {
            "bot": "signal",
            "name": self.bot,
            "paused": self.paused,
            "position": str(self.position()),
            "symbol": ctx.symbol,
        }
        await asyncio.to_thread(journal.record_state, state)


def journal_position(journal: Journal, rules: SymbolRules) -> Decimal:
    """The net base position the journaled fills of ``rules.symbol`` add up to (a commission
    paid in the base asset counted off), as the P&L tracker counts it."""
    position = _ZERO
    for order in journal.orders():
        if order.symbol != rules.symbol or order.executed_qty == 0:
            continue
        for fill in journal.fills(order.client_order_id):
            quantity = Decimal(fill.quantity)
            fee = Decimal(fill.commission) if fill.commission_asset == rules.base_asset else _ZERO
            position += (quantity if order.side == "BUY" else -quantity) - fee
    return position


def _reference_price(ctx: StrategyContext, side: Side) -> Decimal | None:
    """The price a market order would meet: the best ask for a BUY, the best bid for a SELL."""
    book = ctx.book
    best = None if book is None else book.best_ask if side == "BUY" else book.best_bid
    return best if best is not None else ctx.mark_price


def _order_detail(order: Order) -> dict[str, str | None]:
    return {
        "client_order_id": order.client_order_id,
        "side": order.side,
        "type": order.type,
        "quantity": str(order.quantity),
        "price": None if order.price is None else str(order.price),
        "status": order.status,
        "executed_qty": str(order.executed_qty),
    }
