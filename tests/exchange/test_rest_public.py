"""Public REST endpoints: shapes, weights and errors as Binance's rest-api.md documents them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_ping_and_time(client: httpx.AsyncClient) -> None:
    ping = await client.get("/api/v3/ping")
    assert ping.status_code == 200
    assert ping.json() == {}
    assert ping.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    server_time = (await client.get("/api/v3/time")).json()
    assert set(server_time) == {"serverTime"}
    assert isinstance(server_time["serverTime"], int)


@pytest.mark.asyncio
async def test_exchange_info_lists_filters_and_configured_limits() -> None:
    async with (
        LocalExchange(
            symbols=("BTCUSDT",), market="none", request_weight_per_minute=1234, orders_per_10s=7
        ) as ex,
        httpx.AsyncClient(base_url=ex.rest_url) as client,
    ):
        response = await client.get("/api/v3/exchangeInfo")
        info = response.json()
    assert response.headers["X-MBX-USED-WEIGHT-1M"] == "20"
    assert info["timezone"] == "UTC"
    limits = {
        (r["rateLimitType"], r["interval"], r["intervalNum"]): r["limit"]
        for r in info["rateLimits"]
    }
    assert limits[("REQUEST_WEIGHT", "MINUTE", 1)] == 1234
    assert limits[("ORDERS", "SECOND", 10)] == 7
    (symbol,) = info["symbols"]
    assert (symbol["symbol"], symbol["baseAsset"], symbol["quoteAsset"]) == (
        "BTCUSDT",
        "BTC",
        "USDT",
    )
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    assert "STOP_LOSS_LIMIT" in symbol["orderTypes"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("path", "code", "msg"),
    [
        ("/api/v3/depth?symbol=NOPEUSDT", -1121, "Invalid symbol."),
        (
            "/api/v3/depth",
            -1102,
            "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
        ),
        ("/api/v3/klines?symbol=BTCUSDT&interval=7m", -1120, "Invalid interval."),
        (
            "/api/v3/trades?symbol=BTCUSDT&limit=abc",
            -1100,
            "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
        ),
        (
            "/api/v3/depth?symbol=BTCUSDT&symbol=ETHUSDT",
            -1101,
            "Duplicate values for a parameter detected.",
        ),
    ],
)
async def test_malformed_public_requests_get_binance_errors(
    client: httpx.AsyncClient, path: str, code: int, msg: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert response.json() == {"code": code, "msg": msg}


@pytest.mark.asyncio
async def test_depth_weight_follows_limit(client: httpx.AsyncClient) -> None:
    used = []
    for limit in (100, 500, 1000, 5000):
        response = await client.get(f"/api/v3/depth?symbol=BTCUSDT&limit={limit}")
        used.append(int(response.headers["X-MBX-USED-WEIGHT-1M"]))
    assert used == [5, 30, 80, 330]


@pytest.mark.asyncio
async def test_market_data_after_a_trade(client: httpx.AsyncClient, alice: Any, bob: Any) -> None:
    await alice.order(
        symbol="BTCUSDT",
        side="SELL",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.05",
        price="60000",
    )
    await alice.order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="59000",
    )
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.02")

    depth = (await client.get("/api/v3/depth?symbol=BTCUSDT&limit=5")).json()
    assert depth["bids"] == [["59000.00000000", "0.01000000"]]
    assert depth["asks"] == [["60000.00000000", "0.03000000"]]
    assert isinstance(depth["lastUpdateId"], int)

    (trade,) = (await client.get("/api/v3/trades?symbol=BTCUSDT")).json()
    assert trade["price"] == "60000.00000000"
    assert trade["qty"] == "0.02000000"
    assert trade["quoteQty"] == "1200.00000000"
    assert trade["isBuyerMaker"] is False

    (agg,) = (await client.get("/api/v3/aggTrades?symbol=BTCUSDT")).json()
    assert set(agg) == {"a", "p", "q", "f", "l", "T", "m", "M"}
    assert (agg["p"], agg["q"], agg["f"], agg["l"]) == ("60000.00000000", "0.02000000", 1, 1)

    # the trade's candle (a minute boundary crossed meanwhile adds a flat one after it)
    kline = (await client.get("/api/v3/klines?symbol=BTCUSDT&interval=1m")).json()[0]
    assert len(kline) == 12
    assert kline[1:6] == ["60000.00000000"] * 4 + ["0.02000000"]
    assert kline[6] - kline[0] == 59_999

    ticker = (await client.get("/api/v3/ticker/bookTicker?symbol=BTCUSDT")).json()
    assert ticker == {
        "symbol": "BTCUSDT",
        "bidPrice": "59000.00000000",
        "bidQty": "0.01000000",
        "askPrice": "60000.00000000",
        "askQty": "0.03000000",
    }
    both = (await client.get('/api/v3/ticker/bookTicker?symbols=["BTCUSDT","ETHUSDT"]')).json()
    assert [t["symbol"] for t in both] == ["BTCUSDT", "ETHUSDT"]
    avg = (await client.get("/api/v3/avgPrice?symbol=BTCUSDT")).json()
    assert (avg["mins"], avg["price"]) == (5, "60000.00000000")
    day = await client.get("/api/v3/ticker/24hr?symbol=BTCUSDT")
    every = await client.get("/api/v3/ticker/24hr")
    used = [int(r.headers["X-MBX-USED-WEIGHT-1M"]) for r in (day, every)]
    assert used[1] - used[0] == 80  # documented weight without a symbol
    assert [t["symbol"] for t in every.json()] == ["BTCUSDT", "ETHUSDT"]
    stats = day.json()
    assert (stats["lastPrice"], stats["volume"], stats["quoteVolume"], stats["count"]) == (
        "60000.00000000",
        "0.02000000",
        "1200.00000000",
        1,
    )
    assert (stats["bidPrice"], stats["askPrice"]) == ("59000.00000000", "60000.00000000")
    price = (await client.get("/api/v3/ticker/price?symbol=BTCUSDT")).json()
    assert price == {"symbol": "BTCUSDT", "price": "60000.00000000"}


@pytest.mark.asyncio
async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v3/nothing")).status_code == 404
