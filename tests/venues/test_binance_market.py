"""BinanceMarket: book events conflated to the latest book, trades in order, feed errors raised."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from typing import TYPE_CHECKING, Any

import pytest

from tradewire import OrderBook
from tradewire.binance import parse_message
from tradewire.errors import NetworkError
from tradewire.model import BookUpdate, MarketTrade
from tradewire.testing.synthetic import SyntheticDepthStream
from tradewire.venues.binance import BinanceMarket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class FakeClient:
    """``watch_book`` applies a synthetic stream to one book; ``stream`` yields trades."""

    def __init__(self, updates: int, *, fail: bool = False) -> None:
        self.stream_ = SyntheticDepthStream(seed=3)
        self.updates = updates
        self.fail = fail
        self.book = OrderBook("BTCUSDT")
        self.done = asyncio.Event()

    async def watch_book(self, symbol: str) -> AsyncIterator[OrderBook]:
        self.book.apply_snapshot(self.stream_.snapshot())
        for raw in self.stream_.events(self.updates):
            self.book.apply_depth_update(raw)
            yield self.book
        self.done.set()
        if self.fail:
            raise NetworkError("the depth stream broke", endpoint="stream")
        await asyncio.Event().wait()  # a live feed does not end by itself

    async def stream(self, *names: str) -> AsyncIterator[Any]:
        for trade_id in (1, 2):
            yield parse_message(
                b'{"e":"trade","E":1,"s":"BTCUSDT","t":%d,"p":"65000.01","q":"0.5",'
                b'"T":1,"m":true,"M":true}' % trade_id
            )
        await asyncio.Event().wait()


@pytest.mark.asyncio
async def test_a_slow_consumer_gets_the_latest_book_not_a_backlog() -> None:
    client = FakeClient(500)
    market = BinanceMarket(client)
    books: list[BookUpdate] = []
    trades: list[MarketTrade] = []
    events = market.events("BTCUSDT")
    async for event in events:
        if isinstance(event, BookUpdate):
            books.append(event)
            assert event.is_current  # the view is of the book as it is when taken
        else:
            trades.append(event)
        if (
            client.done.is_set()
            and len(trades) == 2
            and books[-1].update_id == (client.book.last_update_id)
        ):
            break
        await asyncio.sleep(0.001)  # a strategy slower than the feed
    await events.aclose()  # type: ignore[attr-defined]
    assert len(books) < 500  # conflated
    assert books[-1].best_bid == D(client.book.bids(1, exact=True)[0][0])
    assert [t.trade_id for t in trades] == ["1", "2"]
    assert trades[0].price == D("65000.01") and trades[0].buyer_is_maker
    assert len(market.book_lag_ms) == 500


@pytest.mark.asyncio
async def test_a_failed_feed_is_raised_to_the_consumer() -> None:
    market = BinanceMarket(FakeClient(20, fail=True))
    seen: list[object] = []

    async def consume() -> None:
        async for event in market.events("BTCUSDT"):
            seen.append(event)

    with pytest.raises(NetworkError, match="depth stream broke"):
        await asyncio.wait_for(consume(), timeout=10)
    assert seen
