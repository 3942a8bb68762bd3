"""Paper trading on several symbols: one account filled per symbol, tapes merged in time."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

import pytest

from tradewire._core import Tape
from tradewire.errors import ConfigError, InsufficientFunds, InvalidOrder, OrderNotFound
from tradewire.model import BookUpdate, MarketTrade, OrderRequest, SymbolRules
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

BTC = SymbolRules("BTCUSDT", "BTC", "USDT", D("0.01"), D("0.001"), D("0.001"), D("5"))
ETH = SymbolRules("ETHUSDT", "ETH", "USDT", D("0.01"), D("0.01"), D("0.01"), D("5"))
TRADE_BUY, TRADE_SELL, BID, ASK, BOOK_END, CLEAR = range(6)
U = 10**8


def _book(symbol: str, bid: str, ask: str, time_ms: int = 1) -> BookUpdate:
    return BookUpdate(symbol, bids=((D(bid), D(10)),), asks=((D(ask), D(10)),), time_ms=time_ms)


def _broker(usdt: str = "1000") -> PaperBroker:
    broker = PaperBroker(BTC, {"USDT": usdt}, more_rules=[ETH])
    broker.on_market(_book("BTCUSDT", "100.00", "101.00"))
    broker.on_market(_book("ETHUSDT", "10.00", "10.10"))
    return broker


@pytest.mark.asyncio
async def test_the_symbols_share_one_ledger() -> None:
    broker = _broker()
    assert broker.symbols == ("BTCUSDT", "ETHUSDT")
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D(6), "b1", D("99.00")))
    balances = await broker.balances()
    assert (balances["USDT"].free, balances["USDT"].locked) == (D(406), D(594))
    assert set(balances) == {"BTC", "ETH", "USDT"}
    # The USDT the BTC order locks is not there for an ETH order.
    with pytest.raises(InsufficientFunds):
        await broker.place_order(OrderRequest("ETHUSDT", "BUY", "LIMIT", D(42), "e1", D("9.90")))
    await broker.place_order(OrderRequest("ETHUSDT", "BUY", "LIMIT", D(40), "e2", D("9.90")))
    assert (await broker.balances())["USDT"].free == D(10)


@pytest.mark.asyncio
async def test_a_symbols_market_fills_only_its_own_orders_by_its_own_rules() -> None:
    broker = _broker()
    btc = await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D(1), "b", D("99.00")))
    eth = await broker.place_order(
        OrderRequest("ETHUSDT", "BUY", "LIMIT", D("5.678"), "e", D("9.999"))
    )
    assert (eth.quantity, eth.price) == (D("5.67"), D("9.99"))  # ETH's step, a buy's tick
    # An ETH trade through 9.99 fills the ETH order, not the BTC one resting at a higher price.
    updates = broker.on_market(
        MarketTrade("ETHUSDT", "", D("9.50"), D(100), 2, buyer_is_maker=True)
    )
    fills = [u.fill for u in updates if u.fill is not None]
    assert [(f.symbol, f.quantity, f.price) for f in fills] == [("ETHUSDT", D("5.67"), D("9.99"))]
    assert (await broker.get_order("BTCUSDT", btc.client_order_id)) == btc
    balances = await broker.balances()
    assert balances["ETH"].free == D("5.67") - D("0.00567")
    assert balances["USDT"].locked == D(99)  # only the BTC order's lock is left
    assert await broker.open_orders("ETHUSDT") == []
    assert [o.client_order_id for o in await broker.open_orders("BTCUSDT")] == ["b"]


@pytest.mark.asyncio
async def test_a_symbol_the_account_does_not_trade_is_refused() -> None:
    broker = _broker()
    with pytest.raises(InvalidOrder) as refused:
        await broker.place_order(OrderRequest("BNBUSDT", "BUY", "LIMIT", D(1), "x", D(1)))
    assert refused.value.code == -1121 and "BTCUSDT, ETHUSDT" in str(refused.value)
    await broker.place_order(OrderRequest("BTCUSDT", "BUY", "LIMIT", D(1), "b", D("99.00")))
    with pytest.raises(OrderNotFound):  # the order is BTCUSDT's: not found under ETHUSDT
        await broker.cancel_order("ETHUSDT", "b")
    assert (await broker.cancel_order("BTCUSDT", "b")).status == "CANCELED"


def _tape(rows: list[tuple[int, int, int, int]]) -> Tape:
    kinds, times, prices, qtys = (list(c) for c in zip(*rows, strict=True))
    return Tape.from_columns(kinds, times, prices, qtys)


def _collect(market: TapeMarket, symbols: tuple[str, ...]) -> list[BookUpdate | MarketTrade]:
    async def collect() -> list[BookUpdate | MarketTrade]:
        return [event async for event in market.events_of(symbols)]

    return asyncio.run(collect())


def test_tapes_of_several_symbols_are_merged_in_market_time() -> None:
    btc = _tape(
        [
            (BID, 1_000, 100 * U, U),
            (ASK, 1_000, 101 * U, U),
            (BOOK_END, 1_000, 0, 0),
            (TRADE_BUY, 3_000, 101 * U, U),
            (TRADE_SELL, 5_000, 100 * U, U),
        ]
    )
    eth = _tape(
        [
            (BID, 2_000, 10 * U, U),
            (ASK, 2_000, 11 * U, U),
            (BOOK_END, 2_000, 0, 0),
            (TRADE_SELL, 3_000, 10 * U, U),
            (TRADE_BUY, 4_000, 11 * U, U),
        ]
    )
    market = TapeMarket({"BTCUSDT": [btc], "ETHUSDT": [eth]})
    events = _collect(market, ("BTCUSDT", "ETHUSDT"))
    # By time in µs; at the same time, in the order the symbols were asked for.
    assert [(e.symbol, type(e).__name__, e.time_ms) for e in events] == [
        ("BTCUSDT", "BookUpdate", 1),
        ("ETHUSDT", "BookUpdate", 2),
        ("BTCUSDT", "MarketTrade", 3),
        ("ETHUSDT", "MarketTrade", 3),
        ("ETHUSDT", "MarketTrade", 4),
        ("BTCUSDT", "MarketTrade", 5),
    ]
    btc_book, eth_book = events[0], events[1]
    assert isinstance(btc_book, BookUpdate) and isinstance(eth_book, BookUpdate)
    assert (btc_book.best_bid, eth_book.best_bid) == (D(100), D(10))  # each its own book

    # One symbol of the mapping alone, through the one-symbol call.
    async def eth_only() -> list[str]:
        return [e.symbol async for e in market.events("ETHUSDT")]

    assert asyncio.run(eth_only()) == ["ETHUSDT"] * 3


def test_one_symbols_tapes_cannot_serve_several() -> None:
    with pytest.raises(ConfigError, match="one symbol's"):
        _collect(TapeMarket([]), ("BTCUSDT", "ETHUSDT"))
    with pytest.raises(ConfigError, match="no tapes of BNBUSDT"):
        _collect(TapeMarket({"BTCUSDT": []}), ("BNBUSDT",))
