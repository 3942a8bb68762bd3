"""LIMIT_MAKER, the stop-limits (STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT) and the stop-markets
(STOP_LOSS, TAKE_PROFIT) on the paper broker and on the local exchange (the independent
oracle): the same scenario gives the same outcome on both.

On the exchange our order sits in the book others trade against; on paper the engine sees the
public market without it. Each scenario therefore drives the exchange with other accounts'
orders, and feeds the paper broker the book and the prints those orders make public, then
compares what happened to our order: the refusal (code and message), its status, its fills
(price, quantity, maker or taker) and the account's balances.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from tradewire._core import SimEngine
from tradewire.errors import ExchangeRejection, InvalidOrder
from tradewire.exchange.engine import ExchangeEngine, NewOrder
from tradewire.exchange.symbols import ALL_ORDER_TYPES, spec_for
from tradewire.model import BookUpdate, MarketTrade, OrderRequest, OrderUpdate, SymbolRules
from tradewire.venues.paper import PaperBroker

D = Decimal
ZERO = Decimal(0)
NOW = 1_700_000_000_000
OURS, BOOK, FLOW = 1, 2, 3
START = {"USDT": D("10000"), "BTC": D("1")}
#: The oracle's BTCUSDT, listing the stop-market types too (the 2021 exchangeInfo's do not).
SPEC = replace(spec_for("BTCUSDT"), order_types=ALL_ORDER_TYPES)
RULES = SymbolRules(
    "BTCUSDT",
    "BTC",
    "USDT",
    SPEC.tick_size,
    SPEC.step_size,
    min_qty=SPEC.min_qty,
    min_notional=SPEC.min_notional,
)


@dataclass(frozen=True)
class Outcome:
    """What happened to our order, in terms both venues share."""

    status: str
    fills: tuple[tuple[Decimal, Decimal, bool], ...]
    free: tuple[Decimal, Decimal]
    locked: tuple[Decimal, Decimal]


class Oracle:
    """The local exchange's engine: our account, a book account and a flow account."""

    def __init__(self) -> None:
        self.engine = ExchangeEngine([SPEC], lambda: NOW)
        self.engine.open_account(OURS, START)
        for account in (BOOK, FLOW):
            self.engine.open_account(account, {"USDT": D("1000000"), "BTC": D("1000")})
        self.cid = ""

    def limit(self, account: int, side: str, qty: str, price: str, tif: str = "GTC") -> None:
        self.engine.place(
            account,
            NewOrder("BTCUSDT", side, "LIMIT", quantity=D(qty), price=D(price), time_in_force=tif),
        )

    def place(self, req: OrderRequest) -> None:
        self.cid = req.client_order_id
        self.engine.place(
            OURS,
            NewOrder(
                "BTCUSDT",
                req.side,
                req.type,
                quantity=req.quantity,
                price=req.price,
                stop_price=req.stop_price,
                time_in_force=req.time_in_force,
                client_order_id=req.client_order_id,
            ),
        )

    def cancel(self) -> None:
        self.engine.cancel(OURS, "BTCUSDT", client_id=self.cid)

    def outcome(self) -> Outcome:
        order = self.engine.order(OURS, "BTCUSDT", client_id=self.cid)
        fills = tuple((f.price, f.qty, f.is_maker) for f in self.engine.my_trades(OURS))
        bal = self.engine.account_balances(OURS)
        return Outcome(
            order.status,
            fills,
            (bal["USDT"].free, bal["BTC"].free),
            (bal["USDT"].locked, bal["BTC"].locked),
        )


class Paper:
    """The paper broker, fed what the oracle's other accounts make public."""

    def __init__(self) -> None:
        self.broker = PaperBroker(RULES, START)
        self.time_ms = NOW
        self.cid = ""
        self.fills: list[tuple[Decimal, Decimal, bool]] = []

    def book(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        self.time_ms += 1
        self._take(
            self.broker.on_market(
                BookUpdate(
                    "BTCUSDT",
                    tuple((D(p), D(q)) for p, q in bids),
                    tuple((D(p), D(q)) for p, q in asks),
                    self.time_ms,
                )
            )
        )

    def trade(self, price: str, qty: str, *, buyer_took: bool) -> None:
        self.time_ms += 1
        event = MarketTrade(
            "BTCUSDT", "", D(price), D(qty), self.time_ms, buyer_is_maker=not buyer_took
        )
        self._take(self.broker.on_market(event))

    async def place(self, req: OrderRequest) -> None:
        self.cid = req.client_order_id
        await self.broker.place_order(req)
        self._take(self.broker.take_updates())

    async def cancel(self) -> None:
        await self.broker.cancel_order("BTCUSDT", self.cid)
        self._take(self.broker.take_updates())

    def _take(self, updates: list[OrderUpdate]) -> None:
        for update in updates:
            fill = update.fill
            if fill is not None:
                self.fills.append((fill.price, fill.quantity, fill.is_maker))

    async def outcome(self) -> Outcome:
        order = await self.broker.get_order("BTCUSDT", self.cid)
        assert order is not None
        bal = await self.broker.balances()
        return Outcome(
            order.status,
            tuple(self.fills),
            (bal["USDT"].free, bal["BTC"].free),
            (bal["USDT"].locked, bal["BTC"].locked),
        )


def request(
    side: str,
    type_: str,
    qty: str,
    price: str | None,
    stop: str | None = None,
    cid: str = "ours-1",
) -> OrderRequest:
    return OrderRequest(
        "BTCUSDT",
        "BUY" if side == "BUY" else "SELL",
        type_,  # type: ignore[arg-type]
        D(qty),
        cid,
        price=None if price is None else D(price),
        stop_price=None if stop is None else D(stop),
    )


def both_with_book_and_last_trade() -> tuple[Oracle, Paper]:
    """Bid 100 / ask 101 (1 BTC each) and a last trade at 100.50 on both."""
    oracle, paper = Oracle(), Paper()
    oracle.limit(BOOK, "SELL", "0.1", "100.50")
    oracle.limit(FLOW, "BUY", "0.1", "100.50")  # the last trade: 100.50
    oracle.limit(BOOK, "BUY", "1", "100")
    oracle.limit(BOOK, "SELL", "1", "101")
    paper.trade("100.50", "0.1", buyer_took=True)
    paper.book([("100", "1")], [("101", "1")])
    return oracle, paper


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("side", "price"), [("BUY", "101"), ("BUY", "101.50"), ("SELL", "100"), ("SELL", "99")]
)
async def test_a_post_only_order_that_would_take_is_refused_alike(side: str, price: str) -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request(side, "LIMIT_MAKER", "0.1", price)
    with pytest.raises(ExchangeRejection) as theirs:
        oracle.place(req)
    with pytest.raises(InvalidOrder) as ours:
        await paper.place(req)
    assert (ours.value.code, ours.value.msg) == (theirs.value.code, theirs.value.msg)
    assert (ours.value.code, ours.value.msg) == (-2010, "Order would immediately match and take.")
    assert await paper.broker.open_orders("BTCUSDT") == []
    balances = await paper.broker.balances()
    assert (balances["USDT"].free, balances["BTC"].free) == (START["USDT"], START["BTC"])


@pytest.mark.asyncio
async def test_a_post_only_order_that_rests_fills_as_maker_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("BUY", "LIMIT_MAKER", "0.1", "100.20")
    oracle.place(req)
    await paper.place(req)
    resting = await paper.outcome()
    assert resting == oracle.outcome()
    assert resting.status == "NEW" and resting.locked == (D("10.02"), ZERO)
    # Someone sells 0.3 down to 100: on the exchange it meets our bid first; on paper the
    # public tape shows the sell going through our price.
    oracle.limit(FLOW, "SELL", "0.3", "100")
    paper.trade("100", "0.2", buyer_took=False)
    filled = await paper.outcome()
    assert filled == oracle.outcome()
    assert filled.status == "FILLED" and filled.fills == ((D("100.20"), D("0.1"), True),)


@pytest.mark.asyncio
async def test_a_stop_loss_sell_triggers_on_the_last_trade_and_fills_as_a_limit_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("SELL", "STOP_LOSS_LIMIT", "0.1", "99.50", stop="100")
    oracle.place(req)
    await paper.place(req)
    waiting = await paper.outcome()
    assert waiting == oracle.outcome()
    assert waiting.status == "NEW" and waiting.locked == (ZERO, D("0.1")) and waiting.fills == ()
    # A trade at 100.10 (above the stop) changes nothing.
    oracle.limit(BOOK, "BUY", "0.05", "100.10")
    oracle.limit(FLOW, "SELL", "0.05", "100.10")
    paper.trade("100.10", "0.05", buyer_took=False)
    assert await paper.outcome() == oracle.outcome() == waiting
    # A sell of 0.5 at 100 (the stop): our stop triggers and sells into the bid left at 100.
    oracle.limit(FLOW, "SELL", "0.5", "100")
    paper.trade("100", "0.5", buyer_took=False)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "FILLED" and done.fills == ((D("100"), D("0.1"), False),)


@pytest.mark.asyncio
async def test_a_take_profit_sell_triggers_on_a_rise_and_fills_as_maker_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("SELL", "TAKE_PROFIT_LIMIT", "0.1", "101", stop="101")
    oracle.place(req)
    await paper.place(req)
    assert await paper.outcome() == oracle.outcome()
    # A buy of the whole ask at 101 prints 101: the take-profit triggers and rests at 101.
    oracle.limit(FLOW, "BUY", "1", "101")
    paper.trade("101", "1", buyer_took=True)
    paper.book([("100", "1")], [])
    resting = await paper.outcome()
    assert resting == oracle.outcome()
    assert resting.status == "NEW" and resting.fills == ()
    # A buyer lifts it: on paper the tape shows the buy going through (the next ask is 102).
    oracle.limit(BOOK, "SELL", "1", "102")
    oracle.limit(FLOW, "BUY", "0.1", "102")
    paper.book([("100", "1")], [("102", "1")])
    paper.trade("102", "0.1", buyer_took=True)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "FILLED" and done.fills == ((D("101"), D("0.1"), True),)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("side", "type_", "stop"),
    [
        ("SELL", "STOP_LOSS_LIMIT", "101"),  # the last price 100.50 is already below 101
        ("BUY", "STOP_LOSS_LIMIT", "100"),
        ("SELL", "TAKE_PROFIT_LIMIT", "100"),
        ("BUY", "TAKE_PROFIT_LIMIT", "100.50"),
        ("SELL", "STOP_LOSS", "101"),
        ("BUY", "STOP_LOSS", "100.50"),
        ("SELL", "TAKE_PROFIT", "100"),
        ("BUY", "TAKE_PROFIT", "101"),
    ],
)
async def test_a_stop_the_last_price_already_reached_is_refused_alike(
    side: str, type_: str, stop: str
) -> None:
    oracle, paper = both_with_book_and_last_trade()
    price = None if type_ in ("STOP_LOSS", "TAKE_PROFIT") else "100.50"
    req = request(side, type_, "0.1", price, stop=stop)
    with pytest.raises(ExchangeRejection) as theirs:
        oracle.place(req)
    with pytest.raises(InvalidOrder) as ours:
        await paper.place(req)
    assert (ours.value.code, ours.value.msg) == (theirs.value.code, theirs.value.msg)
    assert ours.value.msg == "Order would trigger immediately."


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "type_", ["STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT", "STOP_LOSS", "TAKE_PROFIT"]
)
async def test_cancel_of_an_untriggered_stop_releases_its_funds_alike(type_: str) -> None:
    oracle, paper = both_with_book_and_last_trade()
    stop = "99" if type_.startswith("STOP_LOSS") else "102"
    req = request("SELL", type_, "0.1", "99" if type_.endswith("_LIMIT") else None, stop=stop)
    oracle.place(req)
    await paper.place(req)
    assert (await paper.outcome()).locked == (ZERO, D("0.1"))
    oracle.cancel()
    await paper.cancel()
    canceled = await paper.outcome()
    assert canceled == oracle.outcome()
    assert canceled.status == "CANCELED" and canceled.locked == (ZERO, ZERO)
    assert canceled.free == (START["USDT"], START["BTC"])
    # A trade through the stop afterwards triggers nothing.
    oracle.limit(FLOW, "SELL", "1", "98")
    paper.trade("98", "1", buyer_took=False)
    assert await paper.outcome() == oracle.outcome() == canceled


def both_with_a_deeper_bid() -> tuple[Oracle, Paper]:
    """As :func:`both_with_book_and_last_trade`, with more bids: 100 (1), 99.50 (0.5), 99 (1)."""
    oracle, paper = Oracle(), Paper()
    oracle.limit(BOOK, "SELL", "0.1", "100.50")
    oracle.limit(FLOW, "BUY", "0.1", "100.50")  # the last trade: 100.50
    oracle.limit(BOOK, "BUY", "1", "100")
    oracle.limit(BOOK, "BUY", "0.5", "99.50")
    oracle.limit(BOOK, "BUY", "1", "99")
    oracle.limit(BOOK, "SELL", "1", "101")
    paper.trade("100.50", "0.1", buyer_took=True)
    paper.book([("100", "1"), ("99.50", "0.5"), ("99", "1")], [("101", "1")])
    return oracle, paper


@pytest.mark.asyncio
async def test_a_stop_market_sell_triggers_and_walks_the_bids_as_taker_alike() -> None:
    oracle, paper = both_with_a_deeper_bid()
    req = request("SELL", "STOP_LOSS", "0.9", None, stop="100")
    oracle.place(req)
    await paper.place(req)
    waiting = await paper.outcome()
    assert waiting == oracle.outcome()
    assert waiting.status == "NEW" and waiting.locked == (ZERO, D("0.9")) and waiting.fills == ()
    # A trade above the stop changes nothing.
    oracle.limit(BOOK, "BUY", "0.05", "100.10")
    oracle.limit(FLOW, "SELL", "0.05", "100.10")
    paper.trade("100.10", "0.05", buyer_took=False)
    assert await paper.outcome() == oracle.outcome() == waiting
    # Someone sells 0.8 at 100 (the stop): our order becomes a MARKET sell after that trade
    # and takes the 0.2 left at 100, then the levels below.
    oracle.limit(FLOW, "SELL", "0.8", "100")
    paper.trade("100", "0.8", buyer_took=False)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "FILLED"
    assert done.fills == (
        (D("100"), D("0.2"), False),
        (D("99.50"), D("0.5"), False),
        (D("99"), D("0.2"), False),
    )
    assert done.locked == (ZERO, ZERO)


@pytest.mark.asyncio
async def test_a_stop_market_the_book_cannot_fill_expires_its_rest_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("SELL", "STOP_LOSS", "0.5", None, stop="100")
    oracle.place(req)
    await paper.place(req)
    # 0.8 of the only bid (1 at 100) trades: 0.2 is left for our market sell.
    oracle.limit(FLOW, "SELL", "0.8", "100")
    paper.trade("100", "0.8", buyer_took=False)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "EXPIRED" and done.fills == ((D("100"), D("0.2"), False),)
    assert done.locked == (ZERO, ZERO)


@pytest.mark.asyncio
async def test_a_take_profit_market_buy_triggers_on_a_fall_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("BUY", "TAKE_PROFIT", "0.2", None, stop="100")
    oracle.place(req)
    await paper.place(req)
    waiting = await paper.outcome()
    assert waiting == oracle.outcome()
    # A stop-market BUY locks the quote at the last trade price (100.50).
    assert waiting.status == "NEW" and waiting.locked == (D("20.10"), ZERO)
    # A sell of 0.5 at 100 prints 100: the take-profit buys the ask at 101 (more than it
    # locked: the rest comes from the free balance).
    oracle.limit(FLOW, "SELL", "0.5", "100")
    paper.trade("100", "0.5", buyer_took=False)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "FILLED" and done.fills == ((D("101"), D("0.2"), False),)
    assert done.locked == (ZERO, ZERO)
    assert done.free == (START["USDT"] - D("20.2"), START["BTC"] + D("0.2") - D("0.0002"))


@pytest.mark.asyncio
async def test_a_stop_loss_market_buy_triggers_on_a_rise_alike() -> None:
    oracle, paper = both_with_book_and_last_trade()
    req = request("BUY", "STOP_LOSS", "0.3", None, stop="101")
    oracle.place(req)
    await paper.place(req)
    assert await paper.outcome() == oracle.outcome()
    # A buyer takes 0.5 of the ask at 101: the stop triggers and buys the 0.5 left there.
    oracle.limit(FLOW, "BUY", "0.5", "101")
    paper.trade("101", "0.5", buyer_took=True)
    done = await paper.outcome()
    assert done == oracle.outcome()
    assert done.status == "FILLED" and done.fills == ((D("101"), D("0.3"), False),)


@pytest.mark.asyncio
async def test_with_latency_a_post_only_order_crossed_before_it_arrives_is_rejected() -> None:
    broker = PaperBroker(
        RULES, START, engine=SimEngine("trade-through", order_latency_us=5_000, books=False)
    )

    def book(ask: str, time_ms: int) -> None:
        broker.on_market(BookUpdate("BTCUSDT", ((D("100"), D("1")),), ((D(ask), D("1")),), time_ms))

    book("101", NOW)
    placed = await broker.place_order(request("BUY", "LIMIT_MAKER", "0.1", "100.50"))
    assert placed.status == "NEW"
    assert (await broker.balances())["USDT"].locked == D("10.05")
    book("100.50", NOW + 1)  # the ask comes down to the price while the order travels
    book("100.50", NOW + 6)  # it arrives at NOW + 5 ms: it would take
    done = await broker.get_order("BTCUSDT", "ours-1")
    assert done is not None and done.status == "REJECTED" and done.executed_qty == 0
    assert broker.rejections == {"ours-1": "Order would immediately match and take."}
    balances = await broker.balances()
    assert (balances["USDT"].free, balances["USDT"].locked) == (START["USDT"], ZERO)
    assert await broker.open_orders("BTCUSDT") == []
