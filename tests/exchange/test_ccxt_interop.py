"""Any Binance client can be pointed at the local exchange: ccxt, unchanged, over real sockets."""

from __future__ import annotations

import secrets

import pytest

from tradewire.exchange import LocalExchange

ccxt = pytest.importorskip("ccxt.async_support")


@pytest.mark.asyncio
async def test_ccxt_trades_on_the_local_exchange() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), seed=1) as ex:
        secret = secrets.token_hex(32)
        key = ex.add_key(secret, permissions=("reading", "spot"))
        client = ccxt.binance(
            {
                "apiKey": key,
                "secret": secret,
                # The local exchange serves Spot only: no margin or currency (sapi) catalogues.
                "options": {
                    "fetchCurrencies": False,
                    "fetchMarkets": ["spot"],
                    "fetchMargins": False,
                },
            }
        )
        for name, url in list(client.urls["api"].items()):
            if isinstance(url, str) and url.startswith("https://api.binance.com"):
                client.urls["api"][name] = url.replace("https://api.binance.com", ex.rest_url)
        try:
            await client.load_markets()
            book = await client.fetch_order_book("BTC/USDT", 5)
            best_bid, best_ask = book["bids"][0][0], book["asks"][0][0]
            assert 0 < best_bid < best_ask
            order = await client.create_order(
                "BTC/USDT", "limit", "buy", 0.001, round(best_bid * 0.9, 2)
            )
            assert order["status"] == "open"
            balance = await client.fetch_balance()
            assert balance["USDT"]["used"] > 0
            canceled = await client.cancel_order(order["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            balance = await client.fetch_balance()
            assert balance["USDT"]["free"] == 10_000.0 and balance["USDT"]["used"] == 0.0
        finally:
            await client.close()
    assert ex.metrics()["orders_placed"] == 1
