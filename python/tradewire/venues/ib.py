"""The Interactive Brokers venue: :class:`~tradewire.venues.protocols.Venue` over an
``IBClient``, and its market source (the ``smd`` top of book and last trades).

- Instruments are IB contracts: the symbol resolves to one conid and listing (``AAPL`` on
  NASDAQ in USD); the rules come from ``/iserver/contract/rules`` (a tick schedule of price
  bands, whole-share steps, no minimum notional).
- Orders carry our client order id as ``cOID``. An order whose fate is unknown is looked up by
  cOID by the client (never sent again).
- Order updates merge the client's ``sor`` (state, merged by orderId) and ``str`` (executions)
  streams: a status change is one update, each execution one update with its fill. IB may
  report an execution's commission later: the fill then says ``commission_pending`` and a
  later update carries a :class:`~tradewire.model.CommissionUpdate`.
- Balances are the ledger's cash (no "locked" part) and the positions' shares (negative when
  short); :meth:`IBVenue.positions` and :meth:`IBVenue.cash` give the broker's own view.
- The market is open during the regular hours of ``/contract/trading-schedule``: a runner
  pauses outside them (nights, weekends, the nightly reset).

Neutral order types map to IB's once, here: ``LIMIT`` is LMT, ``MARKET`` MKT,
``STOP_LOSS`` STP (``stop_price`` the trigger), ``STOP_LOSS_LIMIT`` STP LMT (``stop_price`` the
trigger, ``price`` the limit). Time in force DAY or GTC as the request says (GTC when it says
nothing, as on Binance; DAY for MARKET and STOP_LOSS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradewire.errors import InvalidOrder, OrderNotFound, ParseError
from tradewire.ib.orders import IBOrderRequest
from tradewire.model import (
    Balance,
    BookUpdate,
    CashBalance,
    CommissionUpdate,
    Fill,
    Instrument,
    MarketTrade,
    Order,
    OrderUpdate,
    Position,
    SymbolRules,
    TradingSessions,
)
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

    from tradewire.ib.client import IBClient
    from tradewire.ib.contracts import IBContract
    from tradewire.ib.orders import IBExecution, IBOrder, IBOrderType
    from tradewire.model import MarketEvent, OrderRequest, OrderType, Side

__all__ = [
    "US_STOCK_TICKS",
    "IBMarket",
    "IBVenue",
    "order_status",
    "parse_trading_schedule",
    "rules_from_contract",
    "us_stock_rules",
]

log = logging.getLogger("tradewire.venues.ib")
_ZERO = Decimal(0)
_TYPES: dict[str, IBOrderType] = {
    "LIMIT": "LMT",
    "MARKET": "MKT",
    "STOP_LOSS": "STP",
    "STOP_LOSS_LIMIT": "STOP_LIMIT",
}
_NEUTRAL_TYPES: dict[str, OrderType] = {
    "LMT": "LIMIT",
    "MKT": "MARKET",
    "STP": "STOP_LOSS",
    "STOP_LIMIT": "STOP_LOSS_LIMIT",
}


def order_status(ib_status: str, filled: Decimal, quantity: Decimal | None) -> str:
    """The neutral status of an IB order status (``Submitted`` with fills is partly filled)."""
    if ib_status == "Filled":
        return "FILLED"
    if ib_status == "Cancelled":
        return "CANCELED"
    if ib_status == "Inactive":
        return "REJECTED"
    if ib_status == "PendingCancel":
        return "PENDING_CANCEL"
    if ib_status == "PendingSubmit":
        return "PENDING_NEW"
    if filled > 0 and (quantity is None or filled < quantity):
        return "PARTIALLY_FILLED"
    return "NEW"


def rules_from_contract(contract: IBContract, currency: str = "USD") -> SymbolRules:
    """Neutral rules of a resolved contract: its tick schedule, whole-share steps, no minimum
    notional; the base asset is the ticker, the quote the currency."""
    bands = contract.rules.bands
    step = contract.rules.size_increment
    return SymbolRules(
        contract.symbol,
        contract.symbol,
        currency,
        bands[0][1],
        step,
        step,
        tick_schedule=bands,
        instrument_id=str(contract.conid),
        order_types=frozenset(_TYPES),
    )


US_STOCK_TICKS: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal(0), Decimal("0.0001")),
    (Decimal(1), Decimal("0.01")),
)
"""US stocks' tick schedule (Reg NMS rule 612): 0.0001 below a dollar, 0.01 from a dollar up,
as ``/iserver/contract/rules`` gives it for a SMART-routed US stock."""


def us_stock_rules(symbol: str, currency: str = "USD") -> SymbolRules:
    """The rules of a US stock without asking IB (backtests): the tick schedule, whole shares,
    no minimum notional."""
    symbol = symbol.strip().upper()
    return SymbolRules(
        symbol,
        symbol,
        currency,
        US_STOCK_TICKS[0][1],
        Decimal(1),
        Decimal(1),
        tick_schedule=US_STOCK_TICKS,
        order_types=frozenset(_TYPES),
    )


@dataclass
class _Tracked:
    """What the venue knows and has said about one of its orders."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    tif: str
    order_id: int | None = None
    status: str = "NEW"
    executed: Decimal = _ZERO
    quote: Decimal = _ZERO
    time_ms: int = 0
    fills: dict[str, Fill] = field(default_factory=dict)
    deferred: str | None = None
    """An end status IB reported before the executions that precede it (a cancel after a
    partial fill): said once those executions have arrived."""
    ib_filled: Decimal = _ZERO

    def order(self, client_order_id: str) -> Order:
        return Order(
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            quantity=self.quantity,
            client_order_id=client_order_id,
            status=self.status,
            price=self.price,
            executed_qty=self.executed,
            cumulative_quote_qty=self.quote,
            order_id=None if self.order_id is None else str(self.order_id),
            time_ms=self.time_ms,
            stop_price=self.stop_price,
        )


def _side(side: str) -> Side:
    if side not in ("BUY", "SELL"):
        raise ParseError(f"IB sent an order without a valid side: {side!r}")
    return "BUY" if side == "BUY" else "SELL"


class IBVenue:
    """An IB account as a :class:`~tradewire.venues.protocols.Venue` (enter the client first).

    Args:
        client: A started ``IBClient``.
        currency: The currency the account trades stocks in.
        cancel_wait_s: How long :meth:`cancel_order` waits for IB to confirm a cancel.
    """

    name = "ib"

    def __init__(
        self, client: IBClient, *, currency: str = "USD", cancel_wait_s: float = 5.0
    ) -> None:
        self._client = client
        self.currency = currency
        self.cancel_wait_s = cancel_wait_s
        self._contracts: dict[str, IBContract] = {}
        self._by_conid: dict[int, str] = {}
        self._tracked: dict[str, _Tracked] = {}
        self._by_order_id: dict[int, str] = {}
        self._queue: asyncio.Queue[OrderUpdate] | None = None
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return f"IBVenue({self._client!r}, tracked={len(self._tracked)})"

    @property
    def client(self) -> IBClient:
        """The client every request goes through."""
        return self._client

    # --- instruments ----------------------------------------------------------------------------

    async def contract(self, symbol: str) -> IBContract:
        """The resolved contract of ``symbol`` (resolved once, then kept)."""
        key = symbol.strip().upper()
        found = self._contracts.get(key)
        if found is None:
            found = await self._client.resolve(key, currency=self.currency)
            self._contracts[key] = found
            self._by_conid[found.conid] = key
        return found

    async def instrument(self, symbol: str) -> Instrument:
        """The instrument ``symbol`` names: its conid and listing."""
        c = await self.contract(symbol)
        return Instrument(str(c.conid), c.symbol, c.exchange, c.currency)

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The contract's rules (tick schedule from ``/iserver/contract/rules``)."""
        return rules_from_contract(await self.contract(symbol), self.currency)

    async def server_time(self) -> int:
        """The local clock in ms (IB's Web API has no time endpoint; the gateway's clock
        shows in the quotes' and orders' timestamps)."""
        return int(time.time() * 1000)

    async def trading_sessions(self, symbol: str) -> TradingSessions:
        """The regular (liquid) hours IB lists for the contract's next days."""
        c = await self.contract(symbol)
        body = await self._client.transport.request(
            "GET",
            "/contract/trading-schedule",
            params={"assetClass": "STK", "conid": str(c.conid), "exchange": c.exchange},
        )
        return parse_trading_schedule(body)

    # --- account --------------------------------------------------------------------------------

    async def cash(self) -> dict[str, CashBalance]:
        """Cash by currency from the ledger (``BASE`` left out)."""
        ledger = await self._client.ledger()
        return {cur: CashBalance(cur, row.cash) for cur, row in ledger.items() if cur != "BASE"}

    async def positions(self) -> dict[str, Position]:
        """Every non-zero position by symbol, signed (short is negative)."""
        out: dict[str, Position] = {}
        for p in await self._client.positions():
            if p.quantity != 0:
                symbol = self._by_conid.get(p.conid, p.symbol)
                out[symbol] = Position(symbol, p.quantity, p.avg_cost, str(p.conid))
        return out

    async def balances(self) -> dict[str, Balance]:
        """Cash per currency and shares per symbol (negative when short), nothing locked."""
        out = {cur: Balance(cur, c.cash) for cur, c in (await self.cash()).items()}
        for symbol, p in (await self.positions()).items():
            out[symbol] = Balance(symbol, p.quantity)
        return out

    # --- orders ---------------------------------------------------------------------------------

    def _wire(self, request: OrderRequest, conid: int) -> IBOrderRequest:
        ib_type = _TYPES.get(request.type)
        if ib_type is None:
            raise InvalidOrder(
                f"IB has no {request.type} order here; use LIMIT, MARKET or STOP_LOSS_LIMIT",
                endpoint="local filter check",
            )
        tif = request.time_in_force or ("DAY" if request.type in ("MARKET", "STOP_LOSS") else "GTC")
        return IBOrderRequest(
            conid=conid,
            side=request.side,
            quantity=request.quantity,
            order_type=ib_type,
            client_order_id=request.client_order_id,
            price=request.stop_price if ib_type == "STP" else request.price,
            aux_price=request.stop_price if ib_type == "STOP_LIMIT" else None,
            tif=tif,
        )

    async def place_order(self, request: OrderRequest) -> Order:
        """Place the order with ``cOID`` = its client order id (questions as configured)."""
        contract = await self.contract(request.symbol)
        wire = self._wire(request, contract.conid)
        tracked = _Tracked(
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            price=request.price,
            stop_price=request.stop_price,
            tif=wire.tif,
            time_ms=int(time.time() * 1000),
        )
        self._tracked[request.client_order_id] = tracked
        try:
            ack = await self._client.place_order(wire)
        except BaseException:
            del self._tracked[request.client_order_id]
            raise
        tracked.order_id = ack.order_id
        self._by_order_id[ack.order_id] = request.client_order_id
        if ack.status in ("Inactive", "Cancelled"):
            tracked.status = order_status(ack.status, _ZERO, request.quantity)
        return tracked.order(request.client_order_id)

    async def modify_order(
        self,
        symbol: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
    ) -> Order:
        """Change an open order's quantity and/or price in place (same cOID and order id)."""
        tracked = await self._tracked_order(symbol, client_order_id)
        if tracked.order_id is None or tracked.status not in ("NEW", "PARTIALLY_FILLED"):
            raise OrderNotFound(f"order {client_order_id} is not open", endpoint="modify")
        contract = await self.contract(symbol)
        new_qty = tracked.quantity if quantity is None else quantity
        new_price = tracked.price if price is None else price
        wire = IBOrderRequest(
            conid=contract.conid,
            side=tracked.side,
            quantity=new_qty,
            order_type=_TYPES[tracked.type],
            client_order_id=client_order_id,
            price=tracked.stop_price if tracked.type == "STOP_LOSS" else new_price,
            aux_price=tracked.stop_price if tracked.type == "STOP_LOSS_LIMIT" else None,
            tif=tracked.tif,
        )
        await self._client.modify_order(tracked.order_id, wire)
        tracked.quantity, tracked.price = new_qty, new_price
        return tracked.order(client_order_id)

    async def _tracked_order(self, symbol: str, client_order_id: str) -> _Tracked:
        tracked = self._tracked.get(client_order_id)
        if tracked is not None:
            return tracked
        found = await self._client.find_order(client_order_id)
        if found is None:
            raise OrderNotFound(f"IB has no order {client_order_id}", endpoint="find_order")
        return self._adopt_row(found, symbol)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel by client order id and wait (``cancel_wait_s``) for IB's end state.

        Raises:
            OrderNotFound: the order is unknown or no longer open.
        """
        tracked = await self._tracked_order(symbol, client_order_id)
        if tracked.order_id is None or tracked.status not in (
            "NEW",
            "PARTIALLY_FILLED",
            "PENDING_NEW",
        ):
            raise OrderNotFound(f"order {client_order_id} is not open", endpoint="cancel")
        await self._client.cancel_order(tracked.order_id)
        deadline = asyncio.get_running_loop().time() + self.cancel_wait_s
        while tracked.status not in ("CANCELED", "FILLED", "REJECTED"):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                break
            if self._queue is None:
                await self._refresh(tracked.order_id)
                await asyncio.sleep(min(0.1, left))
                continue
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await within(self._changed.wait(), min(left, 0.5))
        if tracked.status not in ("CANCELED", "FILLED", "REJECTED"):
            tracked.status = "PENDING_CANCEL"
        return tracked.order(client_order_id)

    async def _refresh(self, order_id: int) -> None:
        """Take an order's state from ``/iserver/account/order/status`` (no stream read)."""
        body = await self._client.order_status(order_id)
        cid = self._by_order_id.get(order_id)
        tracked = None if cid is None else self._tracked.get(cid)
        if tracked is None or not isinstance(body, dict):
            return
        status = str(body.get("order_status") or "")
        if status:
            tracked.status = order_status(status, tracked.executed, tracked.quantity)

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that cOID (from this session or IB's live orders), or None."""
        tracked = self._tracked.get(client_order_id)
        if tracked is not None:
            return tracked.order(client_order_id)
        found = await self._client.find_order(client_order_id)
        if found is None:
            return None
        return self._adopt_row(found, symbol).order(client_order_id)

    async def open_orders(self, symbol: str) -> list[Order]:
        """The account's orders still working on ``symbol`` (from IB's live orders)."""
        contract = await self.contract(symbol)
        out = []
        for row in await self._client.live_orders():
            if row.conid == contract.conid and row.is_open and row.client_order_id:
                out.append(self._adopt_row(row, symbol).order(row.client_order_id))
        return out

    def adopt(self, order: Order) -> None:
        """Follow an order placed before (an earlier run) like one of this session's."""
        tracked = _Tracked(
            symbol=order.symbol,
            side=order.side,
            type=order.type,
            quantity=order.quantity,
            price=order.price,
            stop_price=order.stop_price,
            tif="GTC",
            order_id=None if order.order_id is None else int(order.order_id),
            status=order.status,
            executed=order.executed_qty,
            quote=order.cumulative_quote_qty,
            time_ms=order.time_ms,
        )
        self._tracked[order.client_order_id] = tracked
        if tracked.order_id is not None:
            self._by_order_id[tracked.order_id] = order.client_order_id

    def _adopt_row(self, row: IBOrder, symbol: str) -> _Tracked:
        cid = row.client_order_id or ""
        tracked = self._tracked.get(cid)
        if tracked is None:
            tracked = _Tracked(
                symbol=symbol,
                side=_side(row.side),
                type=_NEUTRAL_TYPES.get(row.order_type, "LIMIT"),
                quantity=row.quantity if row.quantity is not None else row.filled,
                price=None if row.order_type in ("STP", "MKT") else row.price,
                stop_price=(
                    row.aux_price
                    if row.order_type == "STOP_LIMIT"
                    else row.price
                    if row.order_type == "STP"
                    else None
                ),
                tif=row.tif or "GTC",
                order_id=row.order_id,
                executed=row.filled,
                quote=row.filled * (row.avg_price or _ZERO),
                time_ms=row.time_ms,
            )
            self._tracked[cid] = tracked
            self._by_order_id[row.order_id] = cid
        tracked.status = order_status(row.status, tracked.executed, tracked.quantity)
        return tracked

    # --- updates --------------------------------------------------------------------------------

    async def order_updates(self) -> AsyncGenerator[OrderUpdate, None]:
        """This venue's orders' status changes, fills and late commissions, as they happen."""
        if self._queue is not None:
            raise RuntimeError("order_updates() is already being read")
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._queue = queue
        readers = [
            asyncio.create_task(self._read_orders()),
            asyncio.create_task(self._read_executions()),
        ]
        getter: asyncio.Future[OrderUpdate] | None = None
        try:
            while True:
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    [getter, *readers], return_when=asyncio.FIRST_COMPLETED
                )
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
                for task in readers:
                    if task in done and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            self._queue = None
            # Closed while waiting (the run ended): the pending get is a task of its own.
            waiting: list[asyncio.Future[Any]] = [*readers]
            if getter is not None:
                waiting.append(getter)
            for future in waiting:
                future.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)

    def _emit(self, update: OrderUpdate) -> None:
        if self._queue is not None:
            self._queue.put_nowait(update)
        self._changed.set()

    async def _read_orders(self) -> None:
        async for row in self._client.order_updates():
            self.on_ib_order(row)

    async def _read_executions(self) -> None:
        async for execution in self._client.executions():
            self.on_ib_execution(execution)

    def on_ib_order(self, row: IBOrder) -> None:
        """Apply an order's merged ``sor`` state: a status change is one update (fills come
        from executions, so a ``Filled`` waits for the executions that make it)."""
        cid = row.client_order_id or self._by_order_id.get(row.order_id)
        tracked = None if cid is None else self._tracked.get(cid)
        if tracked is None or cid is None:
            return
        if tracked.order_id is None:
            tracked.order_id = row.order_id
            self._by_order_id[row.order_id] = cid
        if row.quantity is not None and row.quantity > 0:
            tracked.quantity = row.quantity
        status = order_status(row.status, tracked.executed, tracked.quantity)
        if status in ("FILLED", "PARTIALLY_FILLED"):
            return  # the executions say it, each with its fill
        if status in ("CANCELED", "REJECTED") and row.filled > tracked.executed:
            # Executions IB counted are still on their way: they come first, then the end.
            tracked.deferred, tracked.ib_filled = status, row.filled
            return
        if status != tracked.status:
            tracked.status = status
            tracked.time_ms = row.time_ms or tracked.time_ms
            self._emit(OrderUpdate(tracked.order(cid)))

    def on_ib_execution(self, execution: IBExecution) -> None:
        """Apply one execution: a fill (commission pending if IB has not sent it), or the
        commission of a fill already reported."""
        cid = execution.client_order_id
        if cid is None and execution.order_id is not None:
            cid = self._by_order_id.get(execution.order_id)
        tracked = None if cid is None else self._tracked.get(cid)
        if tracked is None or cid is None:
            return
        seen = tracked.fills.get(execution.execution_id)
        if seen is not None:
            if seen.commission_pending and execution.commission is not None:
                tracked.fills[execution.execution_id] = replace(
                    seen, commission=execution.commission, commission_pending=False
                )
                self._emit(
                    OrderUpdate(
                        tracked.order(cid),
                        commission=CommissionUpdate(
                            cid,
                            execution.execution_id,
                            tracked.symbol,
                            execution.commission,
                            self.currency,
                        ),
                    )
                )
            return
        pending = execution.commission is None
        fill = Fill(
            client_order_id=cid,
            trade_id=execution.execution_id,
            symbol=tracked.symbol,
            side=tracked.side,
            price=execution.price,
            quantity=execution.size,
            commission=_ZERO if execution.commission is None else execution.commission,
            commission_asset=self.currency,
            time_ms=execution.time_ms,
            is_maker=False,
            commission_pending=pending,
        )
        tracked.fills[execution.execution_id] = fill
        tracked.executed += execution.size
        tracked.quote += execution.size * execution.price
        tracked.time_ms = execution.time_ms or tracked.time_ms
        tracked.status = "FILLED" if tracked.executed >= tracked.quantity else "PARTIALLY_FILLED"
        self._emit(OrderUpdate(tracked.order(cid), fill))
        if (
            tracked.deferred is not None
            and tracked.status != "FILLED"
            and tracked.executed >= tracked.ib_filled
        ):
            tracked.status, tracked.deferred = tracked.deferred, None
            self._emit(OrderUpdate(tracked.order(cid)))


def parse_trading_schedule(body: Any) -> TradingSessions:
    """:class:`TradingSessions` from ``/contract/trading-schedule`` (its liquid hours)."""
    if not isinstance(body, dict) or not isinstance(body.get("schedules"), dict):
        raise ParseError("/contract/trading-schedule did not answer its schedules")
    out: list[tuple[int, int]] = []
    for day in body["schedules"].values():
        hours = day.get("liquid_hours") if isinstance(day, dict) else None
        for span in hours if isinstance(hours, list) else []:
            if not isinstance(span, dict):
                continue
            opening, closing = span.get("opening"), span.get("closing")
            if not isinstance(opening, int) or not isinstance(closing, int):
                raise ParseError(f"a trading-schedule span without times: {span!r}")
            out.append((opening * 1000, closing * 1000))
    return TradingSessions(tuple(sorted(out)))


class IBMarket:
    """A :class:`~tradewire.venues.protocols.MarketSource` from IB's ``smd`` topic: the top of
    book as a one-level :class:`BookUpdate`, each rise of the day's volume as a
    :class:`MarketTrade` of that many shares at the last price (exact Decimals)."""

    def __init__(self, venue: IBVenue, *, queue_size: int = 1000) -> None:
        self._venue = venue
        self.queue_size = queue_size

    def __repr__(self) -> str:
        return f"IBMarket({self._venue!r})"

    async def events_of(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        """Book updates and trades of every symbol in ``symbols`` (one ``smd`` subscription
        each, on the one WebSocket), merged in arrival order until closed. A symbol whose feed
        fails ends the whole feed with its error; one that ends, ends it too."""
        if len(symbols) == 1:
            async for event in self.events(symbols[0]):
                yield event
            return
        queue: asyncio.Queue[MarketEvent | Exception | None] = asyncio.Queue(self.queue_size)

        async def pump(symbol: str) -> None:
            try:
                async for event in self.events(symbol):
                    await queue.put(event)
            except Exception as e:  # handed to the reader, raised there
                await queue.put(e)
            else:
                await queue.put(None)

        tasks = [asyncio.create_task(pump(s), name=f"ib-market-{s}") for s in symbols]
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Book updates and trades of ``symbol`` until closed."""
        contract = await self._venue.contract(symbol)
        top: tuple[object, ...] | None = None
        volume: Decimal | None = None
        trades = 0
        async for q in self._venue.client.quotes(contract.conid):
            now = q.updated_ms or int(time.time() * 1000)
            received = int(time.time() * 1000)
            if q.volume is not None:
                if (
                    volume is not None
                    and q.volume > volume
                    and q.last is not None
                    and not q.last_is_close
                ):
                    trades += 1
                    yield MarketTrade(
                        symbol,
                        f"{contract.conid}-{now}-{trades}",
                        q.last,
                        q.volume - volume,
                        time_ms=now,
                        received_ms=received,
                    )
                volume = q.volume
            quote_top = (q.bid, q.bid_size, q.ask, q.ask_size)
            if quote_top != top and q.bid is not None and q.ask is not None:
                top = quote_top
                yield BookUpdate(
                    symbol,
                    ((q.bid, q.bid_size or _ZERO),),
                    ((q.ask, q.ask_size or _ZERO),),
                    time_ms=now,
                    received_ms=received,
                )
