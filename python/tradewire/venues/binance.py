"""The Binance venue: :class:`tradewire.venues.protocols.Venue` over a ``BinanceClient``, and
its market source (the synced book and the trade stream).

Orders, cancels and queries go over REST; order updates come from the WebSocket API user data
stream (``userDataStream.subscribe.signature``). Every amount is mapped to ``decimal.Decimal``
from the exact strings Binance sends. The client can be switched while a bot runs (a rotated
key): the new key's user data subscription starts before the old one stops, duplicate events are
dropped, and the orders still open are then checked over REST so no fill is missed in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from tradewire.binance.userdata import ExecutionReport
from tradewire.binance.wire import Kline, Trade
from tradewire.clock import WallClock
from tradewire.errors import APIError, ConfigError, OrderNotFound
from tradewire.model import (
    ORDER_TYPES,
    STOP_ORDER_TYPES,
    UNPRICED_TYPES,
    Balance,
    Bar,
    BookUpdate,
    Fill,
    MarketTrade,
    Order,
    OrderUpdate,
    SymbolRules,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Sequence

    from tradewire._core import Event, OrderBook
    from tradewire.binance.answers import AccountTrade, Candlestick
    from tradewire.binance.client import BinanceClient
    from tradewire.binance.filters import SymbolFilters
    from tradewire.binance.streams import Reconnected
    from tradewire.binance.wire import OrderResponse
    from tradewire.clock import Clock
    from tradewire.model import MarketEvent, OrderRequest, OrderType, Side

__all__ = [
    "BinanceMarket",
    "BinanceVenue",
    "KlineClient",
    "MarketDataClient",
    "order_from_response",
    "order_from_user_event",
    "rules_from_filters",
]

log = logging.getLogger("tradewire.venues.binance")
_ZERO = Decimal(0)


def rules_from_filters(filters: SymbolFilters) -> SymbolRules:
    """Exchange-neutral rules from Binance's symbol filters (they are the same rules)."""
    return filters


def _order_type(binance_type: str | None) -> OrderType:
    """The neutral type of a Binance order type: LIMIT, LIMIT_MAKER and the stop orders as
    they are; MARKET (and anything else) a market order."""
    for known in ORDER_TYPES:
        if binance_type == known:
            return known
    return "MARKET"


def _stop_price(text: str | None) -> Decimal | None:
    """Binance's ``stopPrice`` (``"0.00000000"`` on orders without one) as None or a Decimal."""
    if text is None:
        return None
    value = Decimal(text)
    return value if value else None


def _side(side: str | None) -> Side:
    if side not in ("BUY", "SELL"):
        raise APIError(f"the exchange sent an order without a valid side: {side!r}")
    return "BUY" if side == "BUY" else "SELL"


def _price(text: str | None, order_type: OrderType) -> Decimal | None:
    if text is None:
        return None
    value = Decimal(text)
    return None if order_type in UNPRICED_TYPES and value == 0 else value


def order_from_response(response: OrderResponse, client_order_id: str | None = None) -> Order:
    """The neutral :class:`Order` from a REST order answer (place, cancel, query, open orders)."""
    order_type = _order_type(response.order_type)
    cid = client_order_id or response.orig_client_order_id or response.client_order_id
    return Order(
        symbol=response.symbol,
        side=_side(response.side),
        type=order_type,
        quantity=Decimal(response.orig_qty or "0"),
        client_order_id=cid,
        status=response.status or "NEW",
        price=_price(response.price, order_type),
        executed_qty=Decimal(response.executed_qty or "0"),
        cumulative_quote_qty=Decimal(response.cummulative_quote_qty or "0"),
        order_id=str(response.order_id),
        time_ms=response.transact_time or response.working_time or 0,
        stop_price=_stop_price(response.stop_price) if order_type in STOP_ORDER_TYPES else None,
    )


def order_from_user_event(event: ExecutionReport) -> OrderUpdate:
    """The neutral :class:`OrderUpdate` (with its fill, on a trade) from an ``executionReport``."""
    order_type = _order_type(event.order_type)
    side = _side(event.side)
    order = Order(
        symbol=event.symbol,
        side=side,
        type=order_type,
        quantity=event.quantity,
        client_order_id=event.client_order_id,
        status=event.status,
        price=None if order_type in UNPRICED_TYPES and event.price == 0 else event.price,
        executed_qty=event.cumulative_filled_qty,
        cumulative_quote_qty=event.cumulative_quote_qty,
        order_id=str(event.order_id),
        time_ms=event.transaction_time,
    )
    fill = None
    if event.execution_type == "TRADE" and event.last_filled_qty > 0:
        fill = Fill(
            client_order_id=event.client_order_id,
            trade_id=str(event.trade_id),
            symbol=event.symbol,
            side=side,
            price=event.last_filled_price,
            quantity=event.last_filled_qty,
            commission=event.commission,
            commission_asset=event.commission_asset or "",
            time_ms=event.transaction_time,
            is_maker=event.is_maker,
        )
    return OrderUpdate(order, fill)


@dataclass
class _Tracked:
    """What the venue has told the strategy about one order."""

    symbol: str
    order_id: str | None
    executed_qty: Decimal = _ZERO
    trade_ids: set[str] = field(default_factory=set)
    is_open: bool = True
    stop_price: Decimal | None = None


class BinanceVenue:
    """A Binance account as a :class:`~tradewire.venues.protocols.Venue` (enter the client)."""

    name = "binance"

    def __init__(self, client: BinanceClient, *, overlap_s: float = 1.0) -> None:
        self._client = client
        self.overlap_s = overlap_s
        self.switches = 0
        self._tracked: dict[str, _Tracked] = {}
        self._queue: asyncio.Queue[OrderUpdate] | None = None
        self._readers: dict[int, asyncio.Task[None]] = {}
        self._catch_ups: set[asyncio.Task[int]] = set()
        self._generation = 0
        self._seen: set[tuple[object, ...]] = set()
        self._seen_order: deque[tuple[object, ...]] = deque()

    def __repr__(self) -> str:
        return f"BinanceVenue({self._client!r}, tracked={len(self._tracked)})"

    @property
    def client(self) -> BinanceClient:
        """The client every request goes through now."""
        return self._client

    # --- Venue ----------------------------------------------------------------------------------

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        """The symbol's rules from exchangeInfo."""
        return rules_from_filters(await self._client.filters(symbol))

    async def server_time(self) -> int:
        """Binance's clock in ms."""
        return await self._client.server_time()

    async def balances(self) -> dict[str, Balance]:
        """Every asset of the account, free and locked."""
        account = await self._client.account()
        return {b.asset: Balance(b.asset, b.free, b.locked) for b in account.balances}

    async def place_order(self, request: OrderRequest) -> Order:
        """Place the order with ``newClientOrderId`` = the request's client order id.

        Sends ``type`` as it is, ``timeInForce`` (GTC unless the request says otherwise) with
        LIMIT and the stop-limits, none with LIMIT_MAKER, MARKET and the stop-markets
        (STOP_LOSS, TAKE_PROFIT), and ``stopPrice`` with every stop order.
        """
        response = await self._client.place_order(
            request.symbol,
            request.side,
            request.type,
            quantity=request.quantity,
            price=request.price,
            time_in_force=(
                request.time_in_force
                if request.type in ("LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
                else None
            ),
            stop_price=request.stop_price,
            client_order_id=request.client_order_id,
            response_type="RESULT",
        )
        order = order_from_response(response, request.client_order_id)
        self._track(order)
        return order

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        """Cancel by client order id; ``OrderNotFound`` if it is not open."""
        response = await self._client.cancel_order(symbol, client_order_id=client_order_id)
        order = self._with_stop_price(order_from_response(response, client_order_id))
        self._track(order)
        return order

    async def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order with that client order id, or None if Binance never had it."""
        try:
            response = await self._client.get_order(symbol, client_order_id=client_order_id)
        except OrderNotFound:
            return None
        return order_from_response(response, client_order_id)

    async def open_orders(self, symbol: str) -> list[Order]:
        """The account's open orders on ``symbol``."""
        return [order_from_response(r) for r in await self._client.open_orders(symbol)]

    async def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        """Every fill of one order so far (``myTrades``), oldest first."""
        order = await self.get_order(symbol, client_order_id)
        if order is None or order.order_id is None or order.executed_qty == 0:
            return []
        trades = await self._client.my_trades(symbol, order_id=int(order.order_id))
        return [self._fill(order, t) for t in trades]

    def adopt(self, order: Order) -> None:
        """Follow an order placed before (e.g. by the run before a restart) like a new one."""
        self._track(order)

    async def order_updates(self) -> AsyncGenerator[OrderUpdate, None]:
        """Order updates from the user data stream, each once, across key switches."""
        if self._queue is not None:
            raise RuntimeError("order_updates() is already being read")
        queue: asyncio.Queue[OrderUpdate] = asyncio.Queue()
        self._queue = queue
        self._start_reader()
        try:
            while True:
                yield await queue.get()
        finally:
            self._queue = None
            readers, self._readers = self._readers, {}
            tasks: list[asyncio.Task[Any]] = [*readers.values(), *self._catch_ups]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- switching keys -------------------------------------------------------------------------

    async def switch_client(self, client: BinanceClient) -> BinanceClient:
        """Send everything through ``client`` from now on; returns the old one (to close).

        If order updates are being read, the new client's subscription runs beside the old one
        for ``overlap_s``, then the old one stops and the open orders are checked over REST.
        """
        old, self._client = self._client, client
        self.switches += 1
        if self._queue is None:
            return old
        old_generation = self._generation
        self._start_reader()
        await asyncio.sleep(self.overlap_s)
        task = self._readers.pop(old_generation, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.catch_up()
        return old

    def _catch_up_soon(self) -> None:
        """A user data subscription is live (at the start, after a reconnect): check the
        tracked orders over REST for what happened before it (a fill between a resume and the
        subscription, or during a gap); the stream brings what happens from now on."""
        task = asyncio.create_task(self.catch_up(), name="tradewire-binance-catch-up")
        self._catch_ups.add(task)
        task.add_done_callback(self._catch_ups.discard)

    async def catch_up(self) -> int:
        """Check the open orders over REST and emit what the stream may have missed."""
        sent = 0
        for cid, tracked in list(self._tracked.items()):
            if not tracked.is_open:
                continue
            try:
                order = await self.get_order(tracked.symbol, cid)
                if order is None:
                    continue
                fills: list[Fill] = []
                if order.executed_qty > tracked.executed_qty and order.order_id is not None:
                    trades = await self._client.my_trades(
                        tracked.symbol, order_id=int(order.order_id)
                    )
                    fills = [self._fill(order, t) for t in trades]
            except APIError as e:
                log.warning("catching up order %s failed: %s", cid, e)
                continue
            executed = tracked.executed_qty
            last_status: str | None = None
            for fill in fills:
                if fill.trade_id in tracked.trade_ids:
                    continue
                executed += fill.quantity
                done = executed >= order.quantity
                status = order.status if done else "PARTIALLY_FILLED"
                step = replace(order, status=status, executed_qty=executed)
                sent += self._emit(OrderUpdate(step, fill), ("catch-up", cid, fill.trade_id))
                last_status = status
            if not order.is_open and order.status != last_status:
                sent += self._emit(OrderUpdate(order), ("catch-up", cid, order.status))
        return sent

    # --- internals ------------------------------------------------------------------------------

    def _fill(self, order: Order, trade: AccountTrade) -> Fill:
        return Fill(
            client_order_id=order.client_order_id,
            trade_id=str(trade.id),
            symbol=order.symbol,
            side=order.side,
            price=trade.price,
            quantity=trade.qty,
            commission=trade.commission,
            commission_asset=trade.commission_asset,
            time_ms=trade.time,
            is_maker=trade.is_maker,
        )

    def _track(self, order: Order, fill: Fill | None = None) -> None:
        tracked = self._tracked.get(order.client_order_id)
        if tracked is None:
            tracked = self._tracked[order.client_order_id] = _Tracked(order.symbol, order.order_id)
        tracked.order_id = order.order_id or tracked.order_id
        tracked.is_open = order.is_open
        tracked.stop_price = order.stop_price or tracked.stop_price
        if fill is not None:
            tracked.trade_ids.add(fill.trade_id)
            tracked.executed_qty += fill.quantity

    def _with_stop_price(self, order: Order) -> Order:
        """``order`` with the stop price it was sent with, where the answer leaves it out (a
        cancel answer, an ``executionReport``)."""
        tracked = self._tracked.get(order.client_order_id)
        if order.stop_price is not None or tracked is None or tracked.stop_price is None:
            return order
        return replace(order, stop_price=tracked.stop_price)

    def _emit(self, update: OrderUpdate, key: tuple[object, ...]) -> int:
        """Queue an update unless one with the same key was already sent."""
        if key in self._seen or self._queue is None:
            return 0
        self._seen.add(key)
        self._seen_order.append(key)
        if len(self._seen_order) > 100_000:
            self._seen.discard(self._seen_order.popleft())
        fill = update.fill
        tracked = self._tracked.get(update.order.client_order_id)
        if fill is not None and tracked is not None and fill.trade_id in tracked.trade_ids:
            return 0  # already reported (by the stream, or by a catch-up)
        if (
            tracked is not None
            and tracked.stop_price is not None
            and update.order.stop_price is None
        ):
            # executionReport's stop price is not parsed: keep the one the order was sent with
            update = OrderUpdate(replace(update.order, stop_price=tracked.stop_price), fill)
        self._track(update.order, fill)
        self._queue.put_nowait(update)
        return 1

    def _start_reader(self) -> None:
        self._generation += 1
        generation = self._generation
        self._readers[generation] = asyncio.create_task(
            self._read(self._client), name=f"tradewire-binance-user-data-{generation}"
        )

    async def _read(self, client: BinanceClient) -> None:
        """Feed one client's user data events into the queue; reconnect on failure."""
        delay = 0.1
        while True:
            try:
                async with client.ws_api() as ws:
                    async for event in ws.user_data(on_subscribed=self._catch_up_soon):
                        delay = 0.1
                        if isinstance(event, ExecutionReport):
                            key = (
                                event.order_id,
                                event.execution_type,
                                event.status,
                                event.trade_id,
                                event.cumulative_filled_qty,
                            )
                            self._emit(order_from_user_event(event), key)
            except APIError as e:
                log.warning("user data stream failed (%s); retrying in %.1f s", e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


class MarketDataClient(Protocol):
    """What :class:`BinanceMarket` reads: a ``BinanceClient`` (or a stand-in in tests)."""

    def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        """The synced local book of ``symbol``, after every applied update."""
        ...

    def stream(self, *names: str) -> AsyncIterator[Event | Reconnected]:
        """Parsed events of the market streams ``names``."""
        ...


@runtime_checkable
class KlineClient(Protocol):
    """What :class:`BinanceMarket` reads for the venue's candles: ``BinanceClient.klines``."""

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        limit: int = 500,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Candlestick]:
        """Klines (``GET /api/v3/klines``), oldest first."""
        ...


_KLINES_MAX = 1000  # the most rows one GET /api/v3/klines returns


def bar_from_candlestick(symbol: str, interval: str, row: Candlestick) -> Bar:
    """The neutral closed :class:`Bar` of one REST kline row (exact Decimals)."""
    return Bar(
        symbol,
        interval,
        row.open_time,
        row.close_time,
        row.open,
        row.high,
        row.low,
        row.close,
        row.volume,
        row.quote_asset_volume,
        row.number_of_trades,
        True,
    )


def bar_from_kline(event: Kline) -> Bar:
    """The neutral :class:`Bar` of one kline stream event (``closed`` from its ``x``)."""
    return Bar(
        event.symbol,
        event.interval,
        event.start_time,
        event.close_time,
        Decimal(event.open),
        Decimal(event.high),
        Decimal(event.low),
        Decimal(event.close),
        Decimal(event.volume),
        Decimal(event.quote_volume),
        event.trade_count,
        event.is_closed,
    )


class BinanceMarket:
    """Live market data through a ``BinanceClient``: the synced book and the trade stream of
    one symbol (:meth:`events`) or of several merged (:meth:`events_of`), and the venue's
    candles (:meth:`candle_history` over REST klines, :meth:`closed_candles` from the kline
    stream): a :class:`~tradewire.venues.protocols.CandleSource`."""

    def __init__(
        self,
        client: MarketDataClient,
        *,
        depth: int = 20,
        queue_size: int = 10_000,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.depth = depth
        self.queue_size = queue_size
        self.clock = clock or WallClock()
        self.book_lag_ms: list[int] = []

    def __repr__(self) -> str:
        return f"BinanceMarket({self.client!r})"

    async def events(self, symbol: str) -> AsyncIterator[MarketEvent]:
        """Book events and trades of ``symbol``, merged in arrival order (see :meth:`events_of`)."""
        async for event in self.events_of((symbol,)):
            yield event

    async def events_of(self, symbols: Sequence[str]) -> AsyncIterator[MarketEvent]:
        """Book events and trades of every symbol in ``symbols``, merged in arrival order.

        Book events are conflated per symbol: while one waits to be taken, later diffs only
        move the book it views, so a slow strategy reads the latest book instead of a backlog
        of old ones. Each symbol has its own synced book and trade stream; one that fails
        ends the whole feed with its error.
        """
        queue: asyncio.Queue[MarketTrade | _Marker] = asyncio.Queue(self.queue_size)
        now_ms = self.clock.now_ms
        latest: dict[str, OrderBook] = {}

        async def books(symbol: str, marker: _BookMoved) -> None:
            async for book in self.client.watch_book(symbol):
                time_ms = book.last_event_time
                if time_ms:
                    self.book_lag_ms.append(now_ms() - time_ms)
                    del self.book_lag_ms[:-1000]
                if symbol not in latest:
                    latest[symbol] = book
                    await queue.put(marker)
                else:
                    latest[symbol] = book

        async def trades(symbol: str) -> None:
            async for event in self.client.stream(f"{symbol.lower()}@trade"):
                if isinstance(event, Trade):
                    await queue.put(
                        MarketTrade(
                            symbol=event.symbol,
                            trade_id=str(event.trade_id),
                            price=Decimal(event.price),
                            quantity=Decimal(event.quantity),
                            time_ms=event.trade_time,
                            buyer_is_maker=event.is_buyer_maker,
                            received_ms=now_ms(),
                        )
                    )

        def ended(task: asyncio.Task[None]) -> None:
            queue.put_nowait(_Ended(task))

        tasks = []
        for symbol in symbols:
            tasks.append(asyncio.create_task(books(symbol, _BookMoved(symbol))))
            tasks.append(asyncio.create_task(trades(symbol)))
        for task in tasks:
            task.add_done_callback(ended)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, _BookMoved):
                    book = latest.pop(item.symbol)
                    yield BookUpdate.of_book(book, depth=self.depth, received_ms=now_ms())
                elif isinstance(item, _Ended):
                    if not item.task.cancelled() and item.task.exception() is not None:
                        raise item.task.exception()  # type: ignore[misc]
                    return
                else:
                    yield item  # type: ignore[misc]
        finally:
            for task in tasks:
                task.remove_done_callback(ended)
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- candles ---------------------------------------------------------------------------------

    def _klines(self) -> KlineClient:
        client = self.client
        if not isinstance(client, KlineClient):
            raise ConfigError(
                f"{type(client).__name__} has no klines: the venue's candles need a "
                "BinanceClient (or a client with klines)"
            )
        return client

    async def candle_history(self, symbol: str, interval: str, limit: int) -> list[Bar]:
        """The last ``limit`` closed candles of ``symbol`` and ``interval`` from REST klines,
        oldest first: the forming candle (its close time not yet passed) is left out, and more
        than 1000 are read in pages, backwards."""
        klines = self._klines()
        now = self.clock.now_ms()
        out: list[Bar] = []
        end: int | None = None
        while len(out) < limit:
            want = min(limit - len(out) + 1, _KLINES_MAX)
            rows = await klines.klines(symbol, interval, limit=want, end_time=end)
            page = [
                bar_from_candlestick(symbol, interval, r)
                for r in rows
                if r.close_time < now and (end is None or r.close_time <= end)
            ]
            out[:0] = page
            if len(rows) < want or not rows:
                break  # the venue has no older ones
            end = rows[0].open_time - 1
        return out[-limit:] if limit > 0 else []

    async def _candles_between(
        self, symbol: str, interval: str, start_ms: int, end_ms: int
    ) -> list[Bar]:
        """The closed candles opening from ``start_ms`` up to ``end_ms`` (excluded), from REST."""
        klines = self._klines()
        out: list[Bar] = []
        while start_ms < end_ms:
            rows = await klines.klines(
                symbol, interval, limit=_KLINES_MAX, start_time=start_ms, end_time=end_ms - 1
            )
            page = [
                bar_from_candlestick(symbol, interval, r)
                for r in rows
                if start_ms <= r.open_time < end_ms
            ]
            out.extend(page)
            if len(rows) < _KLINES_MAX or not page:
                break
            start_ms = page[-1].close_time_ms + 1
        return out

    async def closed_candles(
        self, symbol: str, interval: str, *, since_ms: int | None = None
    ) -> AsyncIterator[Bar]:
        """Each candle of ``symbol`` and ``interval`` as it closes (the kline stream's update
        with ``x: true``), oldest first.

        The stream's candles follow each other: when one opens later than the last one given
        (a reconnect, or the time between ``since_ms``, the open time of the first candle
        wanted, and the first closed update), the candles in between are read from REST
        klines first, so none is missed; one already given is never given again.
        """
        next_ms = since_ms  # the open time of the next candle due
        name = f"{symbol.lower()}@kline_{interval}"
        async for event in self.client.stream(name):
            if not isinstance(event, Kline) or not event.is_closed:
                continue
            if next_ms is not None:
                if event.start_time < next_ms:
                    continue  # given already (a reconnect sends it again)
                if event.start_time > next_ms:
                    for bar in await self._candles_between(
                        symbol, interval, next_ms, event.start_time
                    ):
                        yield bar
            yield bar_from_kline(event)
            next_ms = event.close_time + 1


class _Marker:
    """A queue item that is not a market event."""

    __slots__ = ()


class _Ended(_Marker):
    """One of the feeds ended (its exception, if any, is re-raised to the consumer)."""

    __slots__ = ("task",)

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task


class _BookMoved(_Marker):
    """A symbol's book moved: take its latest state."""

    __slots__ = ("symbol",)

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
