"""The DCA bot (long): a market base order, limit safety orders below it, a take profit above.

A deal starts with a market buy of ``base_order_size`` (quote). Once it fills, the safety orders
of :func:`~tradewire.bots.params.dca_ladder` go on the book below the base order's average
price. After every filled buy the take-profit sell is re-placed at the deal's average price
(fees included) plus ``take_profit`` percent, for all the deal holds. When it fills the deal is
closed, the remaining safety orders canceled, and a new deal starts until ``max_deals``. A price
``stop_loss`` percent below the base order's price cancels everything and sells the deal.

What the platforms add (the parameters of :class:`~tradewire.bots.params.DcaParams`):

- **Trailing take profit** (``trailing_deviation``): no take-profit order on the book; once the
  bid reaches the take-profit price the bot follows it up and sells at market when it falls
  ``trailing_deviation`` percent from its peak.
- **Trailing stop loss** (``trailing_stop_loss``): the stop is ``stop_loss`` percent below the
  deal's highest bid, not below its base price.
- **Cooldown** (``cooldown`` seconds, on the run's clock) between a deal's end and the next
  start, and **max active deals** (``max_active_deals``): with more than one, a new deal starts
  while others are open, ``cooldown`` seconds after the last one started.
- **Deal history** (:attr:`DcaBot.history`): every closed deal's start and end, average price,
  safety orders filled, P&L and why it closed.

The open deals (their orders, peak and trailing state) and the history are journaled
(:meth:`~tradewire.trading.journal.Journal.record_state`); after a restart each deal's
quantity, cost, average price and P&L are rebuilt from the journal's fills, its open orders
taken back, and only what is missing placed.

A take profit that cannot pay the deal's round trip (the base order's taker fee and the take
profit's maker fee) is refused when the bot starts (:func:`~tradewire.bots.params.check_fees`),
unless ``force``: it then runs, with the warning in the log and in :attr:`DcaBot.warnings`.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewire.bots.params import check_fees, check_funds, dca_ladder, venue_fees
from tradewire.errors import BotConfigError
from tradewire.trading.strategy import Strategy

if TYPE_CHECKING:
    from tradewire.bots.params import DcaParams
    from tradewire.model import BookUpdate, Order, OrderUpdate, Side, SymbolRules
    from tradewire.trading.strategy import StrategyContext

__all__ = ["DcaBot", "Deal", "DealRecord", "funds_needed"]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def funds_needed(params: DcaParams, rules: SymbolRules, price: Decimal) -> Decimal:
    """Quote a deal started at ``price`` can spend: the base order plus every safety order."""
    ladder = dca_ladder(params, rules, price)
    return params.base_order_size + sum((o.price * o.quantity for o in ladder), _ZERO)


@dataclass(frozen=True)
class DealRecord:
    """A closed deal, as the report shows it (amounts as exact decimal strings)."""

    number: int
    started_ms: int
    ended_ms: int
    average_price: str | None
    safety_orders_filled: int
    bought: str
    cost: str
    proceeds: str
    pnl: str
    close_reason: str


@dataclass
class Deal:
    """One open deal: its orders, what it bought and sold, and its trailing state."""

    number: int
    started_ms: int
    base_cid: str | None = None
    safety: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    """Orders replaced or canceled after a partial fill: their fills still count."""
    tp_cid: str | None = None
    closing_cid: str | None = None
    close_reason: str | None = None
    base_price: Decimal | None = None
    peak: Decimal | None = None
    """The highest bid since the deal started (a trailing stop loss trails it)."""
    trailing_peak: Decimal | None = None
    """Set once the trailing take profit is armed: the highest bid since."""
    bought: Decimal = _ZERO  # base bought, after base-asset fees
    cost: Decimal = _ZERO  # quote spent
    sold: Decimal = _ZERO  # base sold
    proceeds: Decimal = _ZERO  # quote received, after quote-asset fees
    safety_filled: int = 0

    @property
    def held(self) -> Decimal:
        """Base the deal holds now."""
        return self.bought - self.sold

    @property
    def average_price(self) -> Decimal | None:
        """Quote spent per base bought (fees included); None before a fill."""
        return self.cost / self.bought if self.bought > 0 else None

    def cids(self) -> list[str]:
        """The client order ids of all the deal's orders."""
        out = [c for c in (self.base_cid, self.tp_cid, self.closing_cid) if c is not None]
        return out + self.safety + self.retired

    def to_state(self) -> dict[str, Any]:
        """What the journal keeps (the amounts are rebuilt from its fills)."""
        return {
            "number": self.number,
            "started_ms": self.started_ms,
            "base_cid": self.base_cid,
            "safety": list(self.safety),
            "retired": list(self.retired),
            "tp_cid": self.tp_cid,
            "closing_cid": self.closing_cid,
            "close_reason": self.close_reason,
            "base_price": _text(self.base_price),
            "peak": _text(self.peak),
            "trailing_peak": _text(self.trailing_peak),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Deal:
        """A deal from :meth:`to_state` (amounts zero: rebuilt from fills)."""
        return cls(
            number=int(state["number"]),
            started_ms=int(state["started_ms"]),
            base_cid=state.get("base_cid"),
            safety=list(state.get("safety", [])),
            retired=list(state.get("retired", [])),
            tp_cid=state.get("tp_cid"),
            closing_cid=state.get("closing_cid"),
            close_reason=state.get("close_reason"),
            base_price=_dec(state.get("base_price")),
            peak=_dec(state.get("peak")),
            trailing_peak=_dec(state.get("trailing_peak")),
        )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


class DcaBot(Strategy):
    """A long DCA bot with safety orders (3Commas-style parameters).

    ``maker_fee`` and ``taker_fee`` are the rates its fee check counts with (fractions:
    ``0.001`` is 0.1%); left out, they are the venue's (a paper broker's), else Binance's 0.1%.
    """

    name = "dca"

    def __init__(
        self,
        params: DcaParams,
        *,
        maker_fee: Decimal | None = None,
        taker_fee: Decimal | None = None,
    ) -> None:
        self.params = params
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.warnings: list[str] = []
        """Why the parameters may lose money (set when forced past the fee check)."""
        self.deals_done = 0
        self.deals_started = 0
        self.deals: list[Deal] = []
        """The open deals, oldest first."""
        self.history: list[DealRecord] = []
        """The closed deals, in the order they closed."""
        self.next_start_ms = 0
        """When the next deal may start (the cooldown), on the run's clock."""
        self._stopping: str | None = None
        self._pending: dict[str, Any] | None = None  # the order being sent: its deal and role

    async def _send(
        self,
        ctx: StrategyContext,
        deal: Deal,
        role: str,
        side: Side,
        quantity: Decimal,
        price: Decimal | None = None,
    ) -> Order:
        """Place one of ``deal``'s orders, its deal and role on record before it is sent and
        its id after, so a restart knows the order even if the bot died in between."""
        self._pending = {"deal": deal.number, "role": role}
        await self._save(ctx)
        order = await ctx.place(side, quantity, price)
        self._pending = None
        self._assign(deal, role, order.client_order_id)
        await self._save(ctx)
        return order

    @staticmethod
    def _assign(deal: Deal, role: str, cid: str) -> None:
        if role == "base":
            deal.base_cid = cid
        elif role == "safety":
            if cid not in deal.safety:
                deal.safety.append(cid)
        elif role == "tp":
            deal.tp_cid = cid
        else:
            deal.closing_cid = cid

    @property
    def base_price(self) -> Decimal | None:
        """The base order's average price of the oldest open deal (None before it filled)."""
        return self.deals[0].base_price if self.deals else None

    def _deal_of(self, cid: str) -> Deal | None:
        for deal in self.deals:
            if cid in deal.cids():
                return deal
        return None

    async def _save(self, ctx: StrategyContext, *, ended: bool = False) -> None:
        if ctx.journal is None:
            return
        state = {
            "bot": "dca",
            # True only when the run stopped cleanly: a restart after a kill between two deals
            # goes on with the counts and the cooldown, a new run after a clean stop starts anew
            "ended": ended,
            "deals_started": self.deals_started,
            "deals_done": self.deals_done,
            "next_start_ms": self.next_start_ms,
            "deals": [d.to_state() for d in self.deals],
            "history": [asdict(r) for r in self.history],
            "pending": self._pending,
            "saved_ms": ctx.now_ms(),
        }
        await asyncio.to_thread(ctx.journal.record_state, state)

    async def on_start(self, ctx: StrategyContext) -> None:
        """Check the fees, ladder and funds at the current price, then open the first deal (or
        take the journaled deals back after a restart)."""
        price = ctx.book.best_ask if ctx.book is not None else None
        if price is None:
            raise BotConfigError("no ask in the book: cannot size the base order")
        maker, taker = venue_fees(ctx.venue, self.maker_fee, self.taker_fee)
        self.warnings = check_fees(self.params, ctx.rules, price, maker_fee=maker, taker_fee=taker)
        for warning in self.warnings:
            ctx.log(f"warning: {warning}")
        if await self._restore(ctx):
            return
        check_funds(
            await ctx.balances(), ctx.rules, funds_needed(self.params, ctx.rules, price), _ZERO
        )
        await self._maybe_open(ctx)

    # --- restarts -----------------------------------------------------------------------------

    async def _restore(self, ctx: StrategyContext) -> bool:
        """Rebuild the journaled deals from the journal's orders and fills; False if none."""
        journal = ctx.journal
        if journal is None:
            return False
        state = await asyncio.to_thread(journal.last_state)
        if state is None or state.get("bot") != "dca":
            return False
        deals = [Deal.from_state(d) for d in state.get("deals", [])]
        pending = state.get("pending")
        if isinstance(pending, dict):  # the bot died sending an order: find it in the journal
            known = {cid for d in deals for cid in d.cids()}
            since = int(state.get("saved_ms", 0))
            for deal in deals:
                if deal.number != pending.get("deal"):
                    continue
                for o in journal.orders():
                    if o.created_ms >= since and o.client_order_id not in known:
                        self._assign(deal, str(pending.get("role")), o.client_order_id)
        if not deals:
            if state.get("ended", True):  # the last run stopped cleanly: this one starts afresh
                return False
            # Killed between two deals: the deal count (so --deals is never exceeded), the
            # cooldown and the history go on; the next deal opens as on a first start.
            self._restore_counts(state)
            ctx.log(
                f"the last run died between deals: {self.deals_started} deal(s) started, "
                "its counts and cooldown go on"
            )
            return False
        self._restore_counts(state)
        ctx.log(f"{len(deals)} open deal(s) from the journal: rebuilding them from its fills")
        for deal in deals:
            self._rebuild_amounts(ctx, deal)
            self.deals.append(deal)
        for deal in list(self.deals):
            await self._resume_deal(ctx, deal)
        await self._save(ctx)
        if not self._finished(ctx):
            await self._maybe_open(ctx)
        return True

    def _restore_counts(self, state: dict[str, Any]) -> None:
        self.deals_started = int(state.get("deals_started", 0))
        self.deals_done = int(state.get("deals_done", 0))
        self.next_start_ms = int(state.get("next_start_ms", 0))
        self.history = [DealRecord(**r) for r in state.get("history", [])]

    async def on_stop(self, ctx: StrategyContext) -> None:
        """Record that the run stopped cleanly (a new run then starts its deal count anew)."""
        await self._save(ctx, ended=True)

    def _rebuild_amounts(self, ctx: StrategyContext, deal: Deal) -> None:
        """The deal's bought, cost, sold and proceeds from the journal's fills."""
        journal = ctx.journal
        assert journal is not None
        rules = ctx.rules
        deal.bought = deal.cost = deal.sold = deal.proceeds = _ZERO
        deal.safety_filled = 0
        for cid in deal.cids():
            record = journal.get(cid)
            if record is None:
                continue
            for f in journal.fills(cid):
                price, qty = Decimal(f.price), Decimal(f.quantity)
                commission = Decimal(f.commission)
                if record.side == "BUY":
                    fee = commission if f.commission_asset == rules.base_asset else _ZERO
                    deal.bought += qty - fee
                    deal.cost += price * qty
                else:
                    fee = commission if f.commission_asset == rules.quote_asset else _ZERO
                    deal.sold += qty
                    deal.proceeds += price * qty - fee
            if cid in deal.safety and record.state == "FILLED":
                deal.safety_filled += 1

    def _journaled_state(self, ctx: StrategyContext, cid: str | None) -> str | None:
        if cid is None or ctx.journal is None:
            return None
        record = ctx.journal.get(cid)
        return None if record is None else record.state

    async def _resume_deal(self, ctx: StrategyContext, deal: Deal) -> None:
        """Carry a rebuilt deal on: close what closed while the bot was down, take its open
        orders back, place what is missing."""
        if self._journaled_state(ctx, deal.closing_cid) == "FILLED":
            await self._finish(ctx, deal, deal.close_reason or "closed")
            return
        if self._journaled_state(ctx, deal.tp_cid) == "FILLED":
            await self._finish(ctx, deal, "take profit")
            return
        if deal.closing_cid is not None:
            kept = self._take_back(ctx, deal.closing_cid)
            if kept is None:  # the close never went through: send it again
                deal.closing_cid = None
                await self._close(ctx, deal, deal.close_reason or "closed")
            return
        if deal.bought <= 0:
            if self._take_back(ctx, deal.base_cid) is None:
                self.deals.remove(deal)  # the base order never filled: no deal
            return
        if deal.base_price is None:
            record = ctx.journal.get(deal.base_cid) if ctx.journal and deal.base_cid else None
            if record is None or record.executed_qty <= 0 or record.cumulative_quote_qty is None:
                deal.base_price = deal.average_price
            else:
                deal.base_price = record.cumulative_quote_qty / record.executed_qty
        filled = set()
        journal = ctx.journal
        assert journal is not None
        for cid in deal.safety:
            record = journal.get(cid)
            if record is not None and record.state == "FILLED" and record.price is not None:
                filled.add(record.price)
        for cid in deal.safety:  # canceled after a partial fill: kept for its fills
            record = journal.get(cid)
            if record is not None and record.state != "FILLED" and record.executed_qty > 0:
                deal.retired.append(cid)
        deal.safety = [c for c in deal.safety if self._journaled_state(ctx, c) == "FILLED"]
        await self._place_ladder(ctx, deal, skip=filled)
        await self._take_profit(ctx, deal)

    def _take_back(self, ctx: StrategyContext, cid: str | None) -> str | None:
        """Claim the adopted open order ``cid``; its id, or None if it is not open."""
        order = ctx.order(cid) if cid is not None else None
        if order is None or not order.is_open:
            return None
        kept = ctx.claim(order.side, order.quantity, order.price, type=order.type)
        return None if kept is None else kept.client_order_id

    # --- deals --------------------------------------------------------------------------------

    def _finished(self, ctx: StrategyContext) -> bool:
        if self._stopping is not None:
            return True
        if self.deals_done >= self.params.max_deals and not self.deals:
            ctx.request_stop(f"take profit: {self.deals_done} deal(s) closed")
            return True
        return False

    async def _maybe_open(self, ctx: StrategyContext) -> None:
        """Start a deal if there is room (``max_active_deals``, ``max_deals``) and the
        cooldown is over."""
        p = self.params
        if (
            self._stopping is not None
            or ctx.stop_requested.is_set()
            or len(self.deals) >= p.max_active_deals
            or self.deals_started >= p.max_deals
            or ctx.now_ms() < self.next_start_ms
        ):
            return
        book = ctx.book
        if book is None or book.best_ask is None:
            return
        qty = ctx.rules.floor_quantity(p.base_order_size / book.best_ask)
        self.deals_started += 1
        deal = Deal(self.deals_started, ctx.now_ms())
        self.deals.append(deal)
        self.next_start_ms = ctx.now_ms() + p.cooldown * 1000
        ctx.log(f"deal {deal.number}: base order {qty}")
        await self._send(ctx, deal, "base", "BUY", qty)

    async def _place_ladder(
        self, ctx: StrategyContext, deal: Deal, *, skip: set[Decimal] | None = None
    ) -> None:
        assert deal.base_price is not None
        for so in dca_ladder(self.params, ctx.rules, deal.base_price):
            if skip and so.price in skip:
                continue
            # An adopted twin (a restart) is taken back rather than sent again.
            await self._send(ctx, deal, "safety", "BUY", so.quantity, so.price)

    async def on_order_update(self, ctx: StrategyContext, update: OrderUpdate) -> None:
        """Follow the deals: safety orders after the base order, a new take profit per buy."""
        order, fill = update.order, update.fill
        cid = order.client_order_id
        deal = self._deal_of(cid)
        if deal is None:
            return
        rules = ctx.rules
        if fill is not None and order.side == "BUY":
            fee = fill.commission if fill.commission_asset == rules.base_asset else _ZERO
            deal.bought += fill.quantity - fee
            deal.cost += fill.price * fill.quantity
        elif fill is not None:
            fee = fill.commission if fill.commission_asset == rules.quote_asset else _ZERO
            deal.sold += fill.quantity
            deal.proceeds += fill.price * fill.quantity - fee
        if order.is_open:
            return
        if cid == deal.base_cid and deal.base_price is None:
            if order.executed_qty == 0:
                self.deals.remove(deal)
                await self._save(ctx)
                ctx.request_stop("the base order did not fill")
                return
            deal.base_price = order.cumulative_quote_qty / order.executed_qty
            deal.peak = deal.base_price
            await self._place_ladder(ctx, deal)
            await self._take_profit(ctx, deal)
        elif cid in deal.safety and order.status == "FILLED":
            deal.safety_filled += 1
            await self._take_profit(ctx, deal)
        elif cid == deal.tp_cid and order.status == "FILLED":
            deal.tp_cid = None
            await self._finish(ctx, deal, "take profit")
        elif cid == deal.closing_cid:
            await self._finish(ctx, deal, deal.close_reason or "closed")

    def _tp_price(self, ctx: StrategyContext, deal: Deal) -> Decimal | None:
        average = deal.average_price
        if average is None:
            return None
        return ctx.rules.round_price(
            average * (_HUNDRED + self.params.take_profit) / _HUNDRED, "SELL"
        )

    async def _take_profit(self, ctx: StrategyContext, deal: Deal) -> None:
        """(Re)place the take profit for all the deal holds (none with a trailing one)."""
        qty = ctx.rules.floor_quantity(deal.held)
        price = self._tp_price(ctx, deal)
        wanted = (
            price is not None
            and self.params.trailing_deviation is None
            and qty > 0
            and qty >= ctx.rules.min_qty
        )
        old = ctx.order(deal.tp_cid) if deal.tp_cid is not None else None
        if old is not None and old.is_open:  # an adopted take profit (a restart) is the deal's
            ctx.claim("SELL", old.quantity, old.price)
        if wanted and old is not None and old.is_open and (old.quantity, old.price) == (qty, price):
            return
        if deal.tp_cid is not None:
            await ctx.cancel(deal.tp_cid)
            last = ctx.order(deal.tp_cid)
            if last is not None and last.executed_qty > 0:
                deal.retired.append(deal.tp_cid)
            deal.tp_cid = None
        if wanted:
            assert price is not None
            await self._send(ctx, deal, "tp", "SELL", qty, price)
        else:
            await self._save(ctx)

    async def _close(self, ctx: StrategyContext, deal: Deal, reason: str) -> None:
        """Cancel the deal's orders and sell what it holds at market."""
        for cid in [*deal.safety, deal.tp_cid]:
            if cid is not None and (o := ctx.order(cid)) is not None and o.is_open:
                await ctx.cancel(cid)
        last = ctx.order(deal.tp_cid) if deal.tp_cid is not None else None
        if last is not None and last.executed_qty > 0:
            deal.retired.append(last.client_order_id)
        deal.tp_cid = None
        deal.close_reason = reason
        qty = ctx.rules.floor_quantity(deal.held)
        if qty <= 0 or qty < ctx.rules.min_qty:
            await self._finish(ctx, deal, reason)
            return
        order = await self._send(ctx, deal, "close", "SELL", qty)
        if order.status == "FILLED" and deal in self.deals and deal.sold >= qty:
            await self._finish(ctx, deal, reason)

    async def _finish(self, ctx: StrategyContext, deal: Deal, reason: str) -> None:
        """Record a closed deal, cancel what is left of it, start the next one."""
        if deal not in self.deals:
            return
        self.deals.remove(deal)
        for cid in deal.safety:
            if (o := ctx.order(cid)) is not None and o.is_open:
                await ctx.cancel(cid)
        self.deals_done += 1
        average = deal.average_price
        pnl = deal.proceeds - (deal.cost * deal.sold / deal.bought if deal.bought else _ZERO)
        record = DealRecord(
            number=deal.number,
            started_ms=deal.started_ms,
            ended_ms=ctx.now_ms(),
            average_price=None if average is None else format(average, "f"),
            safety_orders_filled=deal.safety_filled,
            bought=format(deal.bought, "f"),
            cost=format(deal.cost, "f"),
            proceeds=format(deal.proceeds, "f"),
            pnl=format(pnl, "f"),
            close_reason=reason,
        )
        self.history.append(record)
        self.next_start_ms = ctx.now_ms() + self.params.cooldown * 1000
        ctx.log(f"deal {deal.number} closed ({reason}): P&L {pnl} {ctx.rules.quote_asset}")
        await self._save(ctx)
        if reason in ("stop loss", "trailing stop loss"):
            self._stopping = reason
            for other in list(self.deals):
                await self._close(ctx, other, reason)
            if not self.deals:
                ctx.request_stop(f"{reason}: deal {deal.number} closed (P&L {pnl})")
            return
        if self._stopping is not None:
            if not self.deals:
                ctx.request_stop(f"{self._stopping}: deal {deal.number} closed (P&L {pnl})")
            return
        if not self._finished(ctx):
            await self._maybe_open(ctx)

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        """Trail the take profit and stop loss; stop at a loss; start deals after the cooldown."""
        if ctx.stop_requested.is_set():
            return
        bid = book.best_bid
        if bid is not None:
            for deal in list(self.deals):
                await self._watch(ctx, deal, bid)
        if not self._finished(ctx):
            await self._maybe_open(ctx)

    async def _watch(self, ctx: StrategyContext, deal: Deal, bid: Decimal) -> None:
        p = self.params
        if deal.base_price is None or deal.closing_cid is not None or deal.close_reason:
            return
        if deal.peak is None or bid > deal.peak:
            deal.peak = bid
        sl = p.stop_loss
        if sl is not None:
            anchor = deal.peak if p.trailing_stop_loss else deal.base_price
            if bid <= anchor * (_HUNDRED - sl) / _HUNDRED:
                reason = "trailing stop loss" if p.trailing_stop_loss else "stop loss"
                ctx.log(f"{reason}: bid {bid} is {sl}% below {anchor}")
                await self._close(ctx, deal, reason)
                return
        dev = p.trailing_deviation
        if dev is None:
            return
        target = self._tp_price(ctx, deal)
        if deal.trailing_peak is None:
            if target is not None and bid >= target:
                deal.trailing_peak = bid
                ctx.log(f"deal {deal.number}: take profit {target} reached, trailing by {dev}%")
                await self._save(ctx)
            return
        if bid > deal.trailing_peak:
            deal.trailing_peak = bid
            return
        if bid <= deal.trailing_peak * (_HUNDRED - dev) / _HUNDRED:
            ctx.log(f"deal {deal.number}: bid {bid} is {dev}% below the peak {deal.trailing_peak}")
            await self._close(ctx, deal, "trailing take profit")
