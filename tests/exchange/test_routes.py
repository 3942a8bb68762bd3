"""Every route answers Binance-style JSON: refused order lists, unknown paths, wallet catalogues.

Clients type a body-less 404 as a network error and retry it; a JSON ``{"code", "msg"}`` is an API
error they report. ccxt with an API key and its default options reads the /sapi wallet and margin
catalogues while loading markets, so those are served too.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    import httpx

# (method, path, exchangeInfo flag that disables it, the message Binance sends)
PLACEMENTS = [
    ("POST", "/api/v3/order/oco", "ocoAllowed", "OCO orders are not supported for this symbol"),
    ("POST", "/api/v3/orderList/oco", "ocoAllowed", "OCO orders are not supported for this symbol"),
    (
        "POST",
        "/api/v3/orderList/oto",
        "otoAllowed",
        "OTO orders are not supported for this symbol.",
    ),
    (
        "POST",
        "/api/v3/orderList/otoco",
        "otoAllowed",
        "OTO orders are not supported for this symbol.",
    ),
    (
        "POST",
        "/api/v3/orderList/opo",
        "opoAllowed",
        "OPO orders are not supported for this symbol.",
    ),
    (
        "POST",
        "/api/v3/orderList/opoco",
        "opoAllowed",
        "OPO orders are not supported for this symbol.",
    ),
    (
        "POST",
        "/api/v3/order/cancelReplace",
        "cancelReplaceAllowed",
        "Order cancel-replace is not supported for this symbol.",
    ),
    (
        "PUT",
        "/api/v3/order/amend/keepPriority",
        "amendAllowed",
        "Order amend is not supported for this symbol.",
    ),
]


def _is_json_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "msg"}
    assert isinstance(body["code"], int) and body["msg"]
    return body


@pytest.mark.asyncio
@pytest.mark.parametrize(("method", "path", "flag", "message"), PLACEMENTS)
async def test_order_list_placements_are_refused_as_exchange_info_says(
    client: httpx.AsyncClient, alice: Any, method: str, path: str, flag: str, message: str
) -> None:
    info = (await client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})).json()
    assert info["symbols"][0][flag] is False
    response = await alice.call(method, path, symbol="BTCUSDT", side="BUY", quantity="0.001")
    assert response.status_code == 400
    assert _is_json_error(response) == {"code": -2010, "msg": message}
    # unsigned, it is refused for its signature first, as every TRADE endpoint is
    unsigned = await client.request(method, path, params={"symbol": "BTCUSDT"})
    assert _is_json_error(unsigned)["code"] != -2010
    unknown = await alice.call(method, path, symbol="NOPEUSDT")
    assert _is_json_error(unknown)["code"] == -1121


@pytest.mark.asyncio
async def test_order_list_queries_answer_as_for_an_account_without_order_lists(
    alice: Any,
) -> None:
    cancel = await alice.call("DELETE", "/api/v3/orderList", symbol="BTCUSDT", orderListId=1)
    assert cancel.status_code == 400
    assert _is_json_error(cancel) == {"code": -2011, "msg": "Unknown order list sent."}
    query = await alice.call("GET", "/api/v3/orderList", orderListId=1)
    assert query.status_code == 400
    assert _is_json_error(query) == {"code": -2013, "msg": "Order list does not exist."}
    assert await alice.ok("GET", "/api/v3/allOrderList", limit=10) == []
    assert await alice.ok("GET", "/api/v3/openOrderList") == []


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path", ["/", "/api/v3/nope", "/api/v3/order/oco/x", "/sapi/v1/nope", "/fapi/v1/exchangeInfo"]
)
async def test_an_unknown_path_answers_json_404(client: httpx.AsyncClient, path: str) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = await client.request(method, path)
        assert response.status_code == 404
        assert _is_json_error(response)["code"] == -1020


@pytest.mark.asyncio
async def test_a_wrong_method_on_a_known_path_answers_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v3/ping")
    assert response.status_code == 405
    assert _is_json_error(response)["code"] == -1020
    assert response.headers["Allow"] == "GET"
    response = await client.put("/api/v3/order")
    assert response.status_code == 405
    assert _is_json_error(response)["code"] == -1020
    assert response.headers["Allow"] == "DELETE, GET, POST"


@pytest.mark.asyncio
async def test_wallet_catalogues_describe_the_served_assets(
    client: httpx.AsyncClient, make_trader: Any
) -> None:
    trader = make_trader(balances={"USDT": "250.5", "BNB": "3"})
    status = await client.get("/sapi/v1/system/status")
    assert status.json() == {"status": 0, "msg": "normal"}
    unsigned = await client.get("/sapi/v1/capital/config/getall")
    assert unsigned.status_code in (400, 401)
    assert _is_json_error(unsigned)["code"] in (-1102, -2014, -2015)
    coins = {c["coin"]: c for c in await trader.ok("GET", "/sapi/v1/capital/config/getall")}
    assert set(coins) == {"BTC", "ETH", "USDT", "BNB"}  # the symbols' assets and the account's
    assert coins["USDT"]["free"] == "250.50000000"
    assert coins["BNB"]["free"] == "3.00000000"
    assert coins["BTC"]["free"] == "0.00000000"
    (network,) = coins["BTC"]["networkList"]
    assert network["depositEnable"] is False and network["withdrawEnable"] is False
    fees = await trader.ok("GET", "/sapi/v1/asset/tradeFee")
    assert {f["symbol"] for f in fees} == {"BTCUSDT", "ETHUSDT"}
    assert all(f["makerCommission"] == f["takerCommission"] == "0.00100000" for f in fees)
    one = await trader.ok("GET", "/sapi/v1/asset/tradeFee", symbol="ETHUSDT")
    assert [f["symbol"] for f in one] == ["ETHUSDT"]
    assert await trader.ok("GET", "/sapi/v1/margin/allPairs") == []
    assert await trader.ok("GET", "/sapi/v1/margin/isolated/allPairs") == []


@pytest.mark.asyncio
async def test_ccxt_with_an_api_key_and_default_options_loads_markets_and_balance() -> None:
    ccxt = pytest.importorskip("ccxt.async_support")
    async with LocalExchange(symbols=("BTCUSDT", "ETHUSDT", "BNBUSDT"), seed=1) as ex:
        secret = secrets.token_hex(32)
        key = ex.add_key(secret, permissions=("reading", "spot"))
        # Only the market kinds are narrowed, to Spot: futures live on other hosts (fapi, dapi).
        # fetchCurrencies and fetchMargins keep their defaults, so the /sapi catalogues are read.
        client = ccxt.binance(
            {"apiKey": key, "secret": secret, "options": {"fetchMarkets": ["spot"]}}
        )
        for name, url in list(client.urls["api"].items()):
            if isinstance(url, str) and url.startswith("https://api.binance.com"):
                client.urls["api"][name] = url.replace("https://api.binance.com", ex.rest_url)
        seen: list[str] = []
        fetch = client.fetch

        async def recording_fetch(url: str, *args: Any, **kwargs: Any) -> Any:
            seen.append(url.split("?")[0])
            return await fetch(url, *args, **kwargs)

        client.fetch = recording_fetch
        try:
            markets = await client.load_markets()
            balance = await client.fetch_balance()
        finally:
            await client.close()
    assert {"BTC/USDT", "ETH/USDT", "BNB/USDT"} <= set(markets)
    assert {"BTC", "ETH", "USDT", "BNB"} <= set(client.currencies)
    assert balance["USDT"]["free"] == 10_000.0
    paths = {url.removeprefix(ex.rest_url) for url in seen}
    assert all(url.startswith(ex.rest_url) for url in seen), seen
    assert {
        "/sapi/v1/capital/config/getall",
        "/sapi/v1/margin/allPairs",
        "/sapi/v1/margin/isolated/allPairs",
    } <= paths
