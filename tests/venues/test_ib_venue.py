"""IBVenue and IBMarket against a LocalIBGateway started per test (127.0.0.1, any free port):
rules with a tick schedule, place/modify/cancel, short positions, fills with a late
commission reaching the P&L, the smd market as book updates and trades, trading sessions."""

from __future__ import annotations

import asyncio
import datetime
import time
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import IBContractError, InvalidOrder, OrderNotFound
from tradewire.ib import IBClient, IBLimiter
from tradewire.ib.orders import IBExecution, IBOrder
from tradewire.ib.ratelimit import DEFAULT_RULES, WindowRule
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.model import BookUpdate, MarketTrade, Order, OrderRequest, OrderUpdate
from tradewire.trading.pnl import PnLTracker
from tradewire.venues.ib import IBMarket, IBVenue
from tradewire.venues.protocols import Broker, MarketSource, ModifiesOrders, TradingHours, Venue

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable
    from pathlib import Path

MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()
QUESTIONS = ("o354", "o163", "o403", "o10151", "o10331")


def clock_from(start: float) -> Callable[[], float]:
    """A wall clock that starts at ``start`` and runs at real speed."""
    t0 = time.time()
    return lambda: start + time.time() - t0


def quick_limiter() -> IBLimiter:
    """IB's limits, with live orders at 1 per 0.2 s so tests stay quick."""
    rules = dict(DEFAULT_RULES)
    rules["/iserver/account/orders"] = WindowRule(1, 0.2)
    return IBLimiter(rules)


@asynccontextmanager
async def ib_venue(
    tmp_path: Path, *, start: float = MONDAY_10AM
) -> AsyncIterator[tuple[LocalIBGateway, IBVenue]]:
    """A gateway (AAPL, MSFT) and an IBVenue on a client connected to it."""
    async with AsyncExitStack() as stack:
        gw = await stack.enter_async_context(
            LocalIBGateway(symbols=("AAPL", "MSFT"), seed=1, clock=clock_from(start))
        )
        client = await stack.enter_async_context(
            IBClient(
                gw.url,
                cafile=gw.cert_path,
                limiter=quick_limiter(),
                error_log=tmp_path / "ib-errors.jsonl",
                confirm_questions=QUESTIONS,
            )
        )
        yield gw, IBVenue(client)


def buy_under(gw: LocalIBGateway, cid: str, qty: int = 10) -> OrderRequest:
    """A BUY limit of AAPL 5% under the bid: it rests."""
    bid = gw.market.quotes[265598].bid
    price = (bid * Decimal("0.95")).quantize(Decimal("0.01"))
    return OrderRequest("AAPL", "BUY", "LIMIT", Decimal(qty), cid, price=price)


async def collect(
    updates: AsyncIterator[OrderUpdate], until: Callable[[OrderUpdate], bool], timeout: float = 5
) -> list[OrderUpdate]:
    """Order updates up to and including the first one ``until`` accepts."""
    seen: list[OrderUpdate] = []

    async def run() -> None:
        async for update in updates:
            seen.append(update)
            if until(update):
                return

    await asyncio.wait_for(run(), timeout)
    return seen


@pytest.mark.asyncio
async def test_the_venue_fits_the_protocols_and_resolves_rules(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        assert isinstance(venue, Venue)
        assert isinstance(venue, Broker)
        assert isinstance(venue, TradingHours)
        assert isinstance(venue, ModifiesOrders)
        assert isinstance(IBMarket(venue), MarketSource)
        instrument = await venue.instrument("aapl")
        assert (instrument.id, instrument.listing) == ("265598", "AAPL@NASDAQ (USD)")
        rules = await venue.symbol_rules("AAPL")
        assert rules.instrument_id == "265598"
        assert rules.step_size == 1
        assert rules.min_notional == 0
        assert rules.tick_for(Decimal("0.5")) == Decimal("0.0001")
        assert rules.tick_for(Decimal("180")) == Decimal("0.01")
        prepared = rules.prepare("BUY", "LIMIT", quantity="7.9", price="180.129")
        assert (prepared.quantity, prepared.price) == (Decimal(7), Decimal("180.12"))


@pytest.mark.asyncio
async def test_place_modify_and_cancel_by_client_order_id(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (gw, venue):
        updates = venue.order_updates()
        request = buy_under(gw, "tw-ib-1")
        order = await venue.place_order(request)
        assert (order.status, order.client_order_id) == ("NEW", "tw-ib-1")
        assert order.order_id is not None
        gw_order = gw.blotter.by_coid("tw-ib-1")
        assert gw_order is not None and gw_order.tif == "GTC"
        assert [o.client_order_id for o in await venue.open_orders("AAPL")] == ["tw-ib-1"]

        new_price = request.price - Decimal("0.50")  # type: ignore[operator]
        modified = await venue.modify_order("AAPL", "tw-ib-1", quantity=Decimal(5), price=new_price)
        assert (modified.quantity, modified.price) == (Decimal(5), new_price)
        await gw.wait_for(lambda: gw_order.price == new_price and gw_order.quantity == 5)

        reader = asyncio.ensure_future(collect(updates, lambda u: u.order.status == "CANCELED"))
        await asyncio.sleep(0.2)  # the reader subscribes before the cancel
        canceled = await venue.cancel_order("AAPL", "tw-ib-1")
        assert canceled.status == "CANCELED"
        seen = await reader
        assert seen[-1].order.client_order_id == "tw-ib-1"
        assert gw_order.status == "Cancelled"
        with pytest.raises(OrderNotFound):
            await venue.cancel_order("AAPL", "tw-ib-1")
        assert await venue.get_order("AAPL", "never-sent") is None
        await updates.aclose()


@pytest.mark.asyncio
async def test_a_type_ib_does_not_take_here_is_refused_before_sending(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (gw, venue):
        price = gw.market.quotes[265598].bid
        request = OrderRequest("AAPL", "BUY", "LIMIT_MAKER", Decimal(1), "tw-mk", price=price)
        with pytest.raises(InvalidOrder, match="LIMIT_MAKER"):
            await venue.place_order(request)
        assert gw.blotter.by_coid("tw-mk") is None


@pytest.mark.asyncio
async def test_a_sell_without_shares_leaves_a_short_position(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        updates = venue.order_updates()
        reader = asyncio.ensure_future(collect(updates, lambda u: u.order.status == "FILLED"))
        await asyncio.sleep(0.2)
        cash_before = (await venue.cash())["USD"].cash
        await venue.place_order(OrderRequest("AAPL", "SELL", "MARKET", Decimal(30), "tw-short"))
        seen = await reader
        fills = [u.fill for u in seen if u.fill is not None]
        assert sum(f.quantity for f in fills) == 30
        positions = await venue.positions()
        assert positions["AAPL"].quantity == -30
        assert positions["AAPL"].is_short
        assert positions["AAPL"].average_cost > 0
        balances = await venue.balances()
        assert balances["AAPL"].free == -30
        received = sum(f.price * f.quantity for f in fills)
        fees = sum(f.commission for f in fills)
        assert (await venue.cash())["USD"].cash == cash_before + received - fees
        await updates.aclose()


@pytest.mark.asyncio
async def test_a_late_commission_reaches_the_pnl(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (gw, venue):
        gw.set_faults(late_commission=True)
        updates = venue.order_updates()
        reader = asyncio.ensure_future(collect(updates, lambda u: u.commission is not None))
        await asyncio.sleep(0.2)
        await venue.place_order(OrderRequest("AAPL", "BUY", "MARKET", Decimal(10), "tw-late"))
        seen = await reader
        fill_update = next(u for u in seen if u.fill is not None)
        assert fill_update.fill is not None
        assert fill_update.fill.commission_pending
        assert fill_update.fill.commission == 0
        late = seen[-1].commission
        assert late is not None and late.trade_id == fill_update.fill.trade_id
        execution = gw.blotter.executions[0]
        assert late.commission == execution.commission == Decimal("1.00")  # IB's USD 1 minimum

        tracker = PnLTracker("AAPL", "USD")
        tracker.apply(fill_update.fill)
        assert tracker.fees == 0
        tracker.apply_commission(late.commission, late.commission_asset)
        assert tracker.fees == Decimal("1.00")
        await updates.aclose()


@pytest.mark.asyncio
async def test_the_market_yields_exact_books_and_trades(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        market = IBMarket(venue)
        books: list[BookUpdate] = []
        trades: list[MarketTrade] = []

        async def read() -> None:
            async for event in market.events("AAPL"):
                if isinstance(event, BookUpdate):
                    books.append(event)
                else:
                    trades.append(event)
                if len(books) >= 3 and trades:
                    return

        await asyncio.wait_for(read(), 10)
        for book in books:
            assert book.best_bid is not None and book.best_ask is not None
            assert book.best_bid < book.best_ask
            assert isinstance(book.best_bid, Decimal)
            assert book.bids[0][1] % 100 == 0  # sizes in shares, from lots of 100
        assert trades[0].quantity > 0
        assert trades[0].symbol == "AAPL"


@pytest.mark.asyncio
async def test_the_market_merges_several_symbols_each_with_its_own_prices(
    tmp_path: Path,
) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        market = IBMarket(venue)
        books: dict[str, list[BookUpdate]] = {"AAPL": [], "MSFT": []}
        trades: dict[str, list[MarketTrade]] = {"AAPL": [], "MSFT": []}

        async def read() -> None:
            async for event in market.events_of(("AAPL", "MSFT")):
                if isinstance(event, BookUpdate):
                    books[event.symbol].append(event)
                else:
                    trades[event.symbol].append(event)
                if all(books.values()) and all(trades.values()):
                    return

        await asyncio.wait_for(read(), 10)
        aapl = (await venue.contract("AAPL")).conid
        msft = (await venue.contract("MSFT")).conid
        quotes = await venue.client.snapshot([aapl, msft])
        # Each symbol's events carry its own market (AAPL near 190, MSFT near 380), not the
        # other's: within 10% of the snapshot's last price.
        for symbol, conid in (("AAPL", aapl), ("MSFT", msft)):
            last = quotes[conid].last
            assert last is not None
            for book in books[symbol]:
                assert book.best_bid is not None
                assert abs(book.best_bid - last) < last / 10
            assert all(abs(t.price - last) < last / 10 for t in trades[symbol])


@pytest.mark.asyncio
async def test_a_merged_market_ends_with_the_error_of_a_symbol_that_fails(
    tmp_path: Path,
) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        market = IBMarket(venue)
        with pytest.raises(IBContractError):
            async for _ in market.events_of(("AAPL", "NOSUCH")):
                pass


@pytest.mark.asyncio
async def test_order_updates_closed_while_waiting_leave_no_task_behind(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        before = asyncio.all_tasks()
        updates = venue.order_updates()
        reading = asyncio.create_task(anext(updates))  # waits: no order, no update
        for _ in range(20):  # the generator starts its two readers and its queue get
            await asyncio.sleep(0)
        started = {getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks() - before}
        assert "Queue.get" in started, started
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading
        await updates.aclose()
        # The readers and the pending queue get were cancelled and awaited with it (the
        # client's own WebSocket task, started by the first subscription, may stay).
        left = {getattr(t.get_coro(), "__qualname__", "") for t in asyncio.all_tasks() - before}
        assert not left & {"Queue.get", "IBVenue._read_orders", "IBVenue._read_executions"}, left
        assert started & {"IBVenue._read_orders", "IBVenue._read_executions"}, started


@pytest.mark.asyncio
async def test_the_trading_sessions_are_the_regular_hours(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (_gw, venue):
        sessions = await venue.trading_sessions("AAPL")
        now_ms = int(MONDAY_10AM * 1000)
        assert sessions.is_open(now_ms)
        close = int(datetime.datetime(2026, 11, 30, 16, 0, tzinfo=NEW_YORK).timestamp() * 1000)
        assert not sessions.is_open(close)
        reopen = int(datetime.datetime(2026, 12, 1, 9, 30, tzinfo=NEW_YORK).timestamp() * 1000)
        assert sessions.next_open(close) == reopen
        midnight = int(datetime.datetime(2026, 12, 1, 0, 1, tzinfo=NEW_YORK).timestamp() * 1000)
        assert not sessions.is_open(midnight)  # the nightly reset is outside the hours


@pytest.mark.asyncio
async def test_stop_orders_and_day_orders_map_to_ib_types(tmp_path: Path) -> None:
    async with ib_venue(tmp_path) as (gw, venue):
        last = gw.market.quotes[265598].last
        stop = (last * Decimal("0.97")).quantize(Decimal("0.01"))
        await venue.place_order(
            OrderRequest("AAPL", "SELL", "STOP_LOSS", Decimal(3), "tw-stp", stop_price=stop)
        )
        limit = stop - Decimal("0.10")
        await venue.place_order(
            OrderRequest(
                "AAPL",
                "SELL",
                "STOP_LOSS_LIMIT",
                Decimal(3),
                "tw-stplmt",
                price=limit,
                stop_price=stop,
                time_in_force="DAY",
            )
        )
        stp, stp_lmt = gw.blotter.by_coid("tw-stp"), gw.blotter.by_coid("tw-stplmt")
        assert stp is not None and stp_lmt is not None
        assert (stp.order_type, stp.price, stp.tif) == ("STP", stop, "DAY")
        assert (stp_lmt.order_type, stp_lmt.price, stp_lmt.aux_price, stp_lmt.tif) == (
            "STOP_LIMIT",
            limit,
            stop,
            "DAY",
        )
        order = await venue.get_order("AAPL", "tw-stp")
        assert order is not None and (order.type, order.stop_price) == ("STOP_LOSS", stop)


def _row(status: str, filled: str) -> IBOrder:
    return IBOrder(
        order_id=7,
        client_order_id="tw-part",
        conid=265598,
        symbol="AAPL",
        side="BUY",
        order_type="LMT",
        status=status,
        quantity=Decimal(10),
        filled=Decimal(filled),
        remaining=Decimal(10) - Decimal(filled),
        price=Decimal("190.00"),
        aux_price=None,
        avg_price=None,
        tif="GTC",
        time_ms=1,
    )


def _execution(execution_id: str, size: str) -> IBExecution:
    return IBExecution(
        execution_id=execution_id,
        order_id=7,
        client_order_id="tw-part",
        conid=265598,
        symbol="AAPL",
        side="BUY",
        size=Decimal(size),
        price=Decimal("190.00"),
        commission=Decimal("1.00"),
        time_ms=2,
    )


@pytest.mark.asyncio
async def test_a_cancel_reported_before_its_partial_fill_comes_after_the_fill(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    venue = IBVenue(None)  # type: ignore[arg-type]  # no request is made here
    venue.adopt(
        Order(
            "AAPL", "BUY", "LIMIT", Decimal(10), "tw-part", "NEW", Decimal("190.00"), order_id="7"
        )
    )
    seen: list[OrderUpdate] = []
    monkeypatch.setattr(venue, "_emit", seen.append)  # what would be queued
    venue.on_ib_order(_row("Submitted", "0"))
    venue.on_ib_order(_row("Cancelled", "4"))  # IB counted 4 filled; the execution is late
    assert seen == []
    venue.on_ib_execution(_execution("e1", "4"))
    assert [(u.order.status, u.fill is not None) for u in seen] == [
        ("PARTIALLY_FILLED", True),
        ("CANCELED", False),
    ]
    assert seen[-1].order.executed_qty == 4
