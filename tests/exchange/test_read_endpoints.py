"""Read endpoints checked field by field against rest-api.md and web-socket-api.md.

Rolling window and trading day tickers, historical trades, uiKlines, commission rates, the
order count, prevented matches, exchangeInfo's flags; the same answers over the WebSocket API,
``v3/`` method names and ``session.subscriptions``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest
import websockets

from tradewire import Signer

if TYPE_CHECKING:
    import httpx

    from tradewire.exchange import LocalExchange

# The documented response fields, in the documented order.
WINDOW_FULL = [
    "symbol",
    "priceChange",
    "priceChangePercent",
    "weightedAvgPrice",
    "openPrice",
    "highPrice",
    "lowPrice",
    "lastPrice",
    "volume",
    "quoteVolume",
    "openTime",
    "closeTime",
    "firstId",
    "lastId",
    "count",
]
WINDOW_MINI = [k for k in WINDOW_FULL if k not in ("priceChange", "priceChangePercent")]
WINDOW_MINI.remove("weightedAvgPrice")
TRADE_FIELDS = ["id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"]
RATE_FIELDS = ["maker", "taker", "buyer", "seller"]
DAY_MS = 86_400_000


async def trade_three_times(make_trader: Any) -> Any:
    """Three BTCUSDT trades: 0.02 and 0.03 at 60,000, then 0.01 at 61,000; returns the buyer."""
    alice, bob = make_trader(), make_trader()
    limit = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    await alice.order(**limit, side="SELL", quantity="0.05", price="60000")
    await alice.order(**limit, side="SELL", quantity="0.02", price="61000")
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.02")
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.04")
    return bob


def weight(response: httpx.Response) -> int:
    """The IP's used weight after ``response``."""
    return int(response.headers["X-MBX-USED-WEIGHT-1M"])


async def costed(
    client: httpx.AsyncClient, path: str, params: dict[str, Any] | None = None
) -> tuple[httpx.Response, int]:
    """GET ``path`` and what it weighed (the used weight after a ping, then after it)."""
    ping = await client.get("/api/v3/ping")
    response = await client.get(path, params=params)
    used = weight(response)
    return response, used - weight(ping) if used > weight(ping) else used  # a new minute began


async def signed_cost(trader: Any, path: str, **params: Any) -> tuple[httpx.Response, int]:
    """A signed GET and what it weighed, as :func:`costed` measures it."""
    ping = await trader.client.get("/api/v3/ping")
    response = await trader.call("GET", path, **params)
    used = weight(response)
    return response, used - weight(ping) if used > weight(ping) else used


async def error(client: httpx.AsyncClient, path: str, **headers: str) -> tuple[int, int]:
    """(HTTP status, Binance code) of a request that must fail with a JSON error."""
    response = await client.get(path, headers=headers)
    assert response.status_code >= 400, response.text
    assert set(response.json()) == {"code", "msg"}
    return response.status_code, response.json()["code"]


# --- REST: rolling window and trading day tickers -----------------------------------------------


@pytest.mark.asyncio
async def test_rolling_window_ticker_full_and_mini(
    ex: LocalExchange, client: httpx.AsyncClient, make_trader: Any
) -> None:
    await trade_three_times(make_trader)
    before = ex.server_time()
    full, cost = await costed(client, "/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "1h"})
    after = ex.server_time()
    body = full.json()
    assert list(body) == WINDOW_FULL
    assert cost == 4
    assert (body["openPrice"], body["highPrice"], body["lowPrice"], body["lastPrice"]) == (
        "60000.00000000",
        "61000.00000000",
        "60000.00000000",
        "61000.00000000",
    )
    assert (body["volume"], body["quoteVolume"], body["count"]) == (
        "0.06000000",
        "3610.00000000",
        3,
    )
    assert (body["priceChange"], body["priceChangePercent"]) == ("1000.00000000", "1.667")
    assert body["weightedAvgPrice"] == "60166.66666666"  # 3610 / 0.06, as ticker/24hr has it
    assert before <= body["closeTime"] <= after
    # openTime is on a minute, at most 59,999 ms before closeTime - windowSize
    assert body["openTime"] % 60_000 == 0
    assert 0 <= body["closeTime"] - 3_600_000 - body["openTime"] < 60_000
    assert body["lastId"] - body["firstId"] == 2

    mini, cost = await costed(
        client, "/api/v3/ticker", {"symbols": '["BTCUSDT","ETHUSDT"]', "type": "MINI"}
    )
    rows = mini.json()
    assert cost == 8
    assert [list(r) for r in rows] == [WINDOW_MINI, WINDOW_MINI]
    assert [r["symbol"] for r in rows] == ["BTCUSDT", "ETHUSDT"]
    assert rows[0]["count"] == 3  # the default window is 1d
    assert (rows[1]["count"], rows[1]["firstId"], rows[1]["volume"]) == (0, -1, "0.00000000")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("", -1102),  # symbol or symbols is mandatory
        ("symbol=BTCUSDT&symbols=%5B%22ETHUSDT%22%5D", -1128),
        ("symbol=BTCUSDT&windowSize=60m", -1130),
        ("symbol=BTCUSDT&windowSize=24h", -1130),
        ("symbol=BTCUSDT&windowSize=8d", -1130),
        ("symbol=BTCUSDT&windowSize=1d2h", -1130),
        ("symbol=BTCUSDT&windowSize=0m", -1130),
        ("symbol=BTCUSDT&type=HALF", -1139),
        ("symbol=NOPEUSDT", -1121),
        ("symbol=BTCUSDT&symbolStatus=HALT", -1220),
        ("symbol=BTCUSDT&symbolStatus=OPEN", -1130),
        ("symbol=BTCUSDT&window=1h", -1104),
    ],
)
async def test_rolling_window_ticker_refuses_bad_parameters(
    client: httpx.AsyncClient, query: str, code: int
) -> None:
    assert (await error(client, f"/api/v3/ticker?{query}"))[1] == code
    assert (await error(client, f"/api/v3/ticker/tradingDay?{query.replace('window', 'tz')}"))[
        1
    ] == (-1104 if "windowSize" in query else code)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    ["/api/v3/depth", "/api/v3/ticker/price", "/api/v3/ticker/bookTicker", "/api/v3/ticker/24hr"],
)
async def test_market_data_reads_symbol_status(client: httpx.AsyncClient, path: str) -> None:
    """binance-sdk-spot sends symbolStatus on these four (Binance documents it): never -1104."""
    one = f"{path}?symbol=BTCUSDT"
    plain = await client.get(one)
    trading = await client.get(f"{one}&symbolStatus=TRADING")
    assert (plain.status_code, trading.status_code) == (200, 200), trading.text
    assert list(trading.json()) == list(plain.json())  # the same shape, filtered by nothing
    assert (await error(client, f"{one}&symbolStatus=HALT"))[1] == -1220
    assert (await error(client, f"{one}&symbolStatus=OPEN"))[1] == -1130
    if path != "/api/v3/depth":  # the others also answer for several symbols
        halted = await client.get(f"{path}?symbolStatus=BREAK")
        listed = await client.get(f"{path}?symbolStatus=TRADING")
        assert (halted.status_code, halted.json()) == (200, [])
        assert [row["symbol"] for row in listed.json()] == ["BTCUSDT", "ETHUSDT"]


@pytest.mark.asyncio
async def test_window_tickers_weigh_4_per_symbol_up_to_200(client: httpx.AsyncClient) -> None:
    names = json.dumps([f"S{i}USDT" for i in range(60)], separators=(",", ":"))
    many, cost = await costed(client, "/api/v3/ticker", {"symbols": names})
    assert many.json()["code"] == -1121  # the weight is counted before the names are checked
    assert cost == 200
    too_many = json.dumps([f"S{i}USDT" for i in range(101)], separators=(",", ":"))
    refused, cost = await costed(client, "/api/v3/ticker/tradingDay", {"symbols": too_many})
    assert refused.json()["code"] == -1101
    assert cost == 200
    three, cost = await costed(
        client, "/api/v3/ticker/tradingDay", {"symbols": '["BTCUSDT","ETHUSDT","BTCUSDT"]'}
    )
    assert (three.json()["code"], cost) == (-1151, 12)


@pytest.mark.asyncio
async def test_trading_day_ticker_spans_the_day_in_the_time_zone(
    ex: LocalExchange, client: httpx.AsyncClient, make_trader: Any
) -> None:
    await trade_three_times(make_trader)
    now = ex.server_time()
    utc, cost = await costed(client, "/api/v3/ticker/tradingDay", {"symbol": "BTCUSDT"})
    body = utc.json()
    assert list(body) == WINDOW_FULL
    assert cost == 4
    midnight = now - now % DAY_MS
    assert (body["openTime"], body["closeTime"]) == (midnight, midnight + DAY_MS - 1)
    assert (body["count"], body["lastPrice"]) == (3, "61000.00000000")
    shifted = (
        await client.get(
            "/api/v3/ticker/tradingDay",
            params={"symbols": '["BTCUSDT"]', "timeZone": "-1:30", "type": "MINI"},
        )
    ).json()
    assert [list(r) for r in shifted] == [WINDOW_MINI]
    local = now - 90 * 60_000
    start = local - local % DAY_MS + 90 * 60_000
    assert (shifted[0]["openTime"], shifted[0]["closeTime"]) == (start, start + DAY_MS - 1)
    for zone in ("15", "-12:01", "5:60", "+", "UTC", "1.5"):
        response = await client.get(
            "/api/v3/ticker/tradingDay", params={"symbol": "BTCUSDT", "timeZone": zone}
        )
        assert response.json()["code"] == -1130, zone
    for zone in ("14", "-12:00", "05:45", "+8"):
        response = await client.get(
            "/api/v3/ticker/tradingDay", params={"symbol": "BTCUSDT", "timeZone": zone}
        )
        assert response.status_code == 200, (zone, response.text)


# --- REST: trades and klines ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_historical_trades_pages_the_tape_by_id(
    client: httpx.AsyncClient, make_trader: Any
) -> None:
    await trade_three_times(make_trader)
    recent = (await client.get("/api/v3/trades", params={"symbol": "BTCUSDT"})).json()
    every, cost = await costed(client, "/api/v3/historicalTrades", {"symbol": "BTCUSDT"})
    assert cost == 25
    assert every.json() == recent
    assert [list(t) for t in every.json()] == [TRADE_FIELDS] * 3
    first = recent[0]["id"]
    page = await client.get(
        "/api/v3/historicalTrades", params={"symbol": "BTCUSDT", "fromId": first + 1, "limit": 1}
    )
    assert page.json() == [recent[1]]
    last = await client.get("/api/v3/historicalTrades", params={"symbol": "BTCUSDT", "limit": 1})
    assert last.json() == [recent[2]]
    beyond = await client.get(
        "/api/v3/historicalTrades", params={"symbol": "BTCUSDT", "fromId": first + 99}
    )
    assert beyond.json() == []
    assert (await error(client, "/api/v3/historicalTrades?symbol=BTCUSDT&limit=1001"))[1] == -1130
    assert (await error(client, "/api/v3/historicalTrades?symbol=BTCUSDT&fromId=-1"))[1] == -1100
    assert (await error(client, "/api/v3/historicalTrades"))[1] == -1102


@pytest.mark.asyncio
async def test_ui_klines_answer_as_klines(client: httpx.AsyncClient, make_trader: Any) -> None:
    await trade_three_times(make_trader)
    params: dict[str, Any] = {"symbol": "BTCUSDT", "interval": "1m", "limit": 5}
    klines = await client.get("/api/v3/klines", params=params)
    ui, cost = await costed(client, "/api/v3/uiKlines", params)
    assert cost == 2
    assert ui.json() == klines.json()
    (row,) = ui.json()
    assert [type(v) for v in row] == [int, str, str, str, str, str, int, str, int, str, str, str]
    assert row[8] == 3
    assert (await error(client, "/api/v3/uiKlines?symbol=BTCUSDT&interval=2m"))[1] == -1120


# --- REST: account reads -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_commission_rates_have_the_documented_shape(
    client: httpx.AsyncClient, alice: Any
) -> None:
    response, cost = await signed_cost(alice, "/api/v3/account/commission", symbol="BTCUSDT")
    body = response.json()
    assert cost == 20
    assert list(body) == [
        "symbol",
        "standardCommission",
        "specialCommission",
        "taxCommission",
        "discount",
    ]
    assert body["standardCommission"] == {
        "maker": "0.00100000",
        "taker": "0.00100000",
        "buyer": "0.00000000",
        "seller": "0.00000000",
    }
    for part in ("specialCommission", "taxCommission"):
        assert list(body[part]) == RATE_FIELDS
    assert body["discount"] == {
        "enabledForAccount": False,
        "enabledForSymbol": False,
        "discountAsset": "BNB",
        "discount": "0.00000000",
    }
    assert (await alice.call("GET", "/api/v3/account/commission")).json()["code"] == -1102
    unsigned = await client.get("/api/v3/account/commission", params={"symbol": "BTCUSDT"})
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, -2014)


@pytest.mark.asyncio
async def test_order_rate_limit_counts_the_accounts_orders(alice: Any, bob: Any) -> None:
    for price in ("50000", "50001"):
        await alice.order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price=price,
        )
    response, cost = await signed_cost(alice, "/api/v3/rateLimit/order")
    assert cost == 40
    assert response.json() == [
        {
            "rateLimitType": "ORDERS",
            "interval": "SECOND",
            "intervalNum": 10,
            "limit": 50,
            "count": 2,
        },
        {
            "rateLimitType": "ORDERS",
            "interval": "DAY",
            "intervalNum": 1,
            "limit": 160_000,
            "count": 2,
        },
    ]
    others = await bob.ok("GET", "/api/v3/rateLimit/order")
    assert [r["count"] for r in others] == [0, 0]


@pytest.mark.asyncio
async def test_prevented_matches_answer_the_supported_combinations(alice: Any) -> None:
    path = "/api/v3/myPreventedMatches"
    by_match, cost = await signed_cost(alice, path, symbol="BTCUSDT", preventedMatchId=1)
    assert (by_match.json(), cost) == ([], 2)
    by_order, cost = await signed_cost(alice, path, symbol="BTCUSDT", orderId=5)
    assert (by_order.json(), cost) == ([], 20)
    paged = await alice.ok(
        "GET", path, symbol="BTCUSDT", orderId=5, fromPreventedMatchId=1, limit=10
    )
    assert paged == []
    for params in (
        {"symbol": "BTCUSDT"},
        {"symbol": "BTCUSDT", "limit": 10},
        {"symbol": "BTCUSDT", "orderId": 5, "limit": 10},
        {"symbol": "BTCUSDT", "preventedMatchId": 1, "orderId": 5},
        {"symbol": "BTCUSDT", "preventedMatchId": 1, "fromPreventedMatchId": 1},
    ):
        response = await alice.call("GET", path, **params)
        assert (response.status_code, response.json()["code"]) == (400, -1128), params
    assert (await alice.call("GET", path, orderId=5)).json()["code"] == -1102
    assert (await alice.call("GET", path, symbol="NOPEUSDT", orderId=5)).json()["code"] == -1121
    too_many = await alice.call("GET", path, symbol="BTCUSDT", orderId=5, limit=1001)
    assert too_many.json()["code"] == -1130


@pytest.mark.asyncio
async def test_exchange_info_flags_and_permission_sets(client: httpx.AsyncClient) -> None:
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    (symbol,) = info["symbols"]
    keys = list(symbol)
    # the documented order of the order-type flags
    flags = [
        "icebergAllowed",
        "ocoAllowed",
        "otoAllowed",
        "opoAllowed",
        "quoteOrderQtyMarketAllowed",
        "allowTrailingStop",
        "cancelReplaceAllowed",
        "amendAllowed",
        "pegInstructionsAllowed",
        "isSpotTradingAllowed",
        "isMarginTradingAllowed",
    ]
    assert keys[keys.index("icebergAllowed") : keys.index("icebergAllowed") + len(flags)] == flags
    assert symbol["opoAllowed"] is False
    assert symbol["pegInstructionsAllowed"] is False
    assert symbol["permissionSets"] == [["SPOT"]]
    hidden = (
        await client.get("/api/v3/exchangeInfo", params={"showPermissionSets": "false"})
    ).json()
    assert [s["permissionSets"] for s in hidden["symbols"]] == [[], []]
    shown = (await client.get("/api/v3/exchangeInfo?showPermissionSets=true")).json()
    assert [s["permissionSets"] for s in shown["symbols"]] == [[["SPOT"]], [["SPOT"]]]
    assert (await error(client, "/api/v3/exchangeInfo?showPermissionSets=no"))[1] == -1130


# --- the WebSocket API answers the same --------------------------------------------------------


def signed(params: dict[str, Any], secret: str) -> dict[str, Any]:
    """``params`` signed as the WebSocket API wants: sorted, joined raw."""
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": Signer.from_secret(secret).sign(payload)}


async def ask(ws: Any, request_id: Any, method: str, params: dict[str, Any] | None = None) -> Any:
    """Send one request, return its answer (skipping events)."""
    message: dict[str, Any] = {"id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await ws.recv())
        if reply.get("id") == request_id:
            return reply


def without_times(body: Any) -> Any:
    """``body`` without the fields that move with the clock (a window's open and close)."""
    if isinstance(body, list):
        return [without_times(b) for b in body]
    if isinstance(body, dict):
        return {k: v for k, v in body.items() if k not in ("openTime", "closeTime")}
    return body


@pytest.mark.asyncio
async def test_websocket_api_answers_as_rest(
    ex: LocalExchange, client: httpx.AsyncClient, make_trader: Any
) -> None:
    buyer = await trade_three_times(make_trader)
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret, account_of=buyer.api_key)

    def private(**params: Any) -> dict[str, Any]:
        return signed({**params, "apiKey": api_key, "timestamp": int(time.time() * 1000)}, secret)

    public: list[tuple[str, str, dict[str, Any], int]] = [
        ("ticker", "/api/v3/ticker", {"symbol": "BTCUSDT", "windowSize": "2h"}, 4),
        ("ticker", "/api/v3/ticker", {"symbols": ["BTCUSDT", "ETHUSDT"], "type": "MINI"}, 8),
        ("ticker.tradingDay", "/api/v3/ticker/tradingDay", {"symbol": "BTCUSDT"}, 4),
        ("trades.historical", "/api/v3/historicalTrades", {"symbol": "BTCUSDT", "limit": 2}, 25),
        ("uiKlines", "/api/v3/uiKlines", {"symbol": "BTCUSDT", "interval": "1h"}, 2),
    ]
    async with websockets.connect(ex.ws_api_url) as ws:
        for i, (method, path, params, cost) in enumerate(public):
            query = {k: json.dumps(v) if isinstance(v, list) else v for k, v in params.items()}
            rest = (await client.get(path, params=query)).json()
            reply = await ask(ws, i, method, params)
            assert reply["status"] == 200, reply
            assert without_times(reply["result"]) == without_times(rest), method
            used = {r["rateLimitType"]: r["count"] for r in reply["rateLimits"]}
            assert used["REQUEST_WEIGHT"] >= cost
        # a MARKET_DATA-era client still sends its API key with trades.historical
        keyed = await ask(
            ws, "k", "trades.historical", {"symbol": "BTCUSDT", "limit": 1, "apiKey": api_key}
        )
        assert (
            keyed["result"]
            == (
                await client.get(
                    "/api/v3/historicalTrades", params={"symbol": "BTCUSDT", "limit": 1}
                )
            ).json()
        )

        commission = await ask(ws, "c", "account.commission", private(symbol="BTCUSDT"))
        rest_commission = await buyer.ok("GET", "/api/v3/account/commission", symbol="BTCUSDT")
        assert commission["result"] == rest_commission
        orders = await ask(ws, "o", "account.rateLimits.orders", private())
        assert orders["result"] == await buyer.ok("GET", "/api/v3/rateLimit/order")
        # bob's two MARKET orders filled, and a filled order leaves the unfilled order count
        # (faqs/order_count_decrement.md)
        assert [r["count"] for r in orders["result"]] == [0, 0]
        prevented = await ask(ws, "p", "myPreventedMatches", private(symbol="BTCUSDT", orderId=1))
        assert prevented["result"] == []
        bad = await ask(ws, "b", "myPreventedMatches", private(symbol="BTCUSDT"))
        assert (bad["status"], bad["error"]["code"]) == (400, -1128)
        unsigned = await ask(ws, "u", "account.commission", {"symbol": "BTCUSDT"})
        assert unsigned["error"]["code"] == -2014


@pytest.mark.asyncio
async def test_websocket_api_accepts_the_v3_method_prefix(ex: LocalExchange) -> None:
    text = secrets.token_hex(32)
    api_key = ex.add_key(text)
    order = signed(
        {
            "apiKey": api_key,
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": "0.001",
            "price": "50000",
            "timestamp": int(time.time() * 1000),
        },
        text,
    )
    async with websockets.connect(ex.ws_api_url) as ws:
        placed = await ask(ws, 1, "v3/order.place", order)
        price = await ask(ws, 2, "v3/ticker.price", {"symbol": "BTCUSDT"})
        unknown = await ask(ws, 3, "v4/ticker.price", {"symbol": "BTCUSDT"})
        doubled = await ask(ws, 4, "v3/v3/ticker.price", {"symbol": "BTCUSDT"})
    assert placed["status"] == 200, placed
    assert placed["result"]["status"] == "NEW"
    assert price["status"] == 200
    assert price["result"]["symbol"] == "BTCUSDT"
    assert (unknown["status"], unknown["error"]["code"]) == (400, -1102)
    assert (doubled["status"], doubled["error"]["code"]) == (400, -1102)


@pytest.mark.asyncio
async def test_session_subscriptions_lists_the_sessions_subscriptions(ex: LocalExchange) -> None:
    text = secrets.token_hex(32)
    api_key = ex.add_key(text)

    def subscribe() -> dict[str, Any]:
        return signed({"apiKey": api_key, "timestamp": int(time.time() * 1000)}, text)

    async with websockets.connect(ex.ws_api_url) as ws:
        empty = await ask(ws, 1, "session.subscriptions", {})
        await ask(ws, 2, "userDataStream.subscribe.signature", subscribe())
        await ask(ws, 3, "userDataStream.subscribe.signature", subscribe())
        both = await ask(ws, 4, "session.subscriptions")
        await ask(ws, 5, "userDataStream.unsubscribe", {"subscriptionId": 0})
        one = await ask(ws, 6, "v3/session.subscriptions")
        extra = await ask(ws, 7, "session.subscriptions", {"subscriptionId": 1})
    assert empty["result"] == []
    assert both["result"] == [{"subscriptionId": 0}, {"subscriptionId": 1}]
    assert one["result"] == [{"subscriptionId": 1}]
    assert extra["error"]["code"] == -1104
    limits = {r["rateLimitType"]: r["count"] for r in empty["rateLimits"]}
    assert limits["REQUEST_WEIGHT"] == 2
