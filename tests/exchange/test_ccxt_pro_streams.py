"""ccxt.pro, unmodified, watches the local exchange's market streams on its default URL layout.

ccxt.pro connects to ``<ws base>/ws/<n>`` (``/ws/0``, ``/ws/1``, ...) and then sends SUBSCRIBE;
only its base URLs are pointed at the local exchange, as a user would.
"""

from __future__ import annotations

import asyncio

import pytest

from tradewire.exchange import LocalExchange, StreamConfig

ccxtpro = pytest.importorskip("ccxt.pro")

BINANCE_REST = "https://api.binance.com"
BINANCE_STREAMS = "wss://stream.binance.com:9443"


@pytest.mark.asyncio
async def test_ccxt_pro_watches_ticker_trades_and_order_book() -> None:
    config = StreamConfig(ticker_ms=100)  # tickers every 100 ms (Binance: 1000 ms)
    async with LocalExchange(
        symbols=("BTCUSDT",), seed=1, market_interval_ms=20, streams=config
    ) as ex:
        client = ccxtpro.binance(
            {
                # The local exchange serves Spot only: no margin or currency (sapi) catalogues.
                "options": {
                    "fetchCurrencies": False,
                    "fetchMarkets": ["spot"],
                    "fetchMargins": False,
                },
            }
        )
        for name, url in list(client.urls["api"].items()):
            if isinstance(url, str) and url.startswith(BINANCE_REST):
                client.urls["api"][name] = url.replace(BINANCE_REST, ex.rest_url)
        streams = client.urls["api"]["ws"]
        streams["spot"] = streams["spot"].replace(BINANCE_STREAMS, ex.stream_url)
        ex.advance(50)  # a tape to compute the ticker from
        try:
            await client.load_markets()
            ticker = await asyncio.wait_for(client.watch_ticker("BTC/USDT"), 10)
            trades = await asyncio.wait_for(client.watch_trades("BTC/USDT"), 10)
            book = await asyncio.wait_for(client.watch_order_book("BTC/USDT"), 10)
            book = await asyncio.wait_for(client.watch_order_book("BTC/USDT"), 10)  # an update
        finally:
            await client.close()
    assert ticker["symbol"] == "BTC/USDT"
    assert ticker["last"] > 0 and ticker["baseVolume"] > 0
    assert trades and all(t["symbol"] == "BTC/USDT" and t["price"] > 0 for t in trades)
    assert book["symbol"] == "BTC/USDT"
    best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
    assert 0 < best_bid < best_ask
    assert isinstance(book["nonce"], int)
