"""The matching engine through REST: price-time priority, order types, balances, filters."""

from __future__ import annotations

from typing import Any

import pytest

LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}


async def rest(trader: Any, side: str, qty: str, price: str, **extra: Any) -> Any:
    return await trader.order(**LIMIT, side=side, quantity=qty, price=price, **extra)


@pytest.mark.asyncio
async def test_resting_limit_locks_funds_and_cancel_releases_them(alice: Any) -> None:
    order = await rest(alice, "BUY", "0.01", "50000", newClientOrderId="mine-1")
    assert (order["status"], order["clientOrderId"], order["fills"]) == ("NEW", "mine-1", [])
    assert await alice.balance("USDT") == ("9500.00000000", "500.00000000")
    queried = await alice.ok("GET", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="mine-1")
    assert queried["orderId"] == order["orderId"]
    assert (queried["isWorking"], queried["status"]) == (True, "NEW")
    cancelled = await alice.ok(
        "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=order["orderId"]
    )
    assert (cancelled["status"], cancelled["origClientOrderId"]) == ("CANCELED", "mine-1")
    assert await alice.balance("USDT") == ("10000.00000000", "0.00000000")
    again = await alice.call("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=order["orderId"])
    assert again.json() == {"code": -2011, "msg": "Unknown order sent."}
    missing = await alice.call("GET", "/api/v3/order", symbol="BTCUSDT", orderId=999)
    assert missing.json() == {"code": -2013, "msg": "Order does not exist."}


@pytest.mark.asyncio
async def test_price_time_priority_and_partial_fills(
    alice: Any, bob: Any, make_trader: Any
) -> None:
    carol = make_trader()
    first = await rest(alice, "SELL", "0.01", "60000")
    second = await rest(carol, "SELL", "0.01", "60000")
    better = await rest(carol, "SELL", "0.005", "59990")
    taker = await bob.order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.02",
        price="60000",
    )
    fills = [(f["price"], f["qty"]) for f in taker["fills"]]
    assert fills == [
        ("59990.00000000", "0.00500000"),
        ("60000.00000000", "0.01000000"),
        ("60000.00000000", "0.00500000"),
    ]
    assert taker["status"] == "FILLED"
    assert taker["cummulativeQuoteQty"] == "1199.95000000"
    first_now = await alice.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=first["orderId"])
    second_now = await carol.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=second["orderId"])
    assert first_now["status"] == "FILLED"
    assert (second_now["status"], second_now["executedQty"]) == ("PARTIALLY_FILLED", "0.00500000")
    assert better["status"] == "NEW"
    # taker fee 0.1% in the bought asset; buyer paid exactly the quote of the fills
    assert await bob.balance("BTC") == ("1.01998000", "0.00000000")
    assert await bob.balance("USDT") == ("8800.05000000", "0.00000000")
    # maker alice sold 0.01 at 60000: 600 USDT less 0.1%
    assert await alice.balance("USDT") == ("10599.40000000", "0.00000000")
    assert await alice.balance("BTC") == ("0.99000000", "0.00000000")
    trades = await bob.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert [t["isMaker"] for t in trades] == [False, False, False]
    assert {t["commissionAsset"] for t in trades} == {"BTC"}
    maker_trades = await alice.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT")
    assert [(t["isMaker"], t["isBuyer"], t["commission"]) for t in maker_trades] == [
        (True, False, "0.60000000")
    ]


@pytest.mark.asyncio
async def test_buy_below_limit_releases_the_price_difference(alice: Any, bob: Any) -> None:
    await rest(alice, "SELL", "0.01", "59000")
    order = await rest(bob, "BUY", "0.02", "60000")
    assert order["status"] == "PARTIALLY_FILLED"
    # 0.01 bought at 59000 (590), the rest stays locked at the limit: 0.01 * 60000
    assert await bob.balance("USDT") == ("8810.00000000", "600.00000000")


@pytest.mark.asyncio
async def test_ioc_fok_and_limit_maker(alice: Any, bob: Any) -> None:
    await rest(alice, "SELL", "0.01", "60000")
    ioc = await bob.order(
        **{**LIMIT, "timeInForce": "IOC"}, side="BUY", quantity="0.03", price="60000"
    )
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "0.01000000")
    assert await bob.balance("USDT") == ("9400.00000000", "0.00000000")
    await rest(alice, "SELL", "0.01", "60000")
    fok = await bob.order(
        **{**LIMIT, "timeInForce": "FOK"}, side="BUY", quantity="0.02", price="60000"
    )
    assert (fok["status"], fok["executedQty"], fok["fills"]) == ("EXPIRED", "0.00000000", [])
    maker = await bob.call(
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT_MAKER",
        quantity="0.01",
        price="60000",
    )
    assert maker.json() == {"code": -2010, "msg": "Order would immediately match and take."}
    resting = await bob.order(
        symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.01", price="59000"
    )
    assert set(resting) == {"symbol", "orderId", "orderListId", "clientOrderId", "transactTime"}


@pytest.mark.asyncio
async def test_market_orders_by_quantity_and_quote(alice: Any, bob: Any) -> None:
    await rest(alice, "SELL", "0.01", "60000")
    await rest(alice, "SELL", "0.01", "61000")
    by_qty = await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.015")
    assert (by_qty["executedQty"], by_qty["cummulativeQuoteQty"]) == ("0.01500000", "905.00000000")
    by_quote = await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="100")
    # 100 USDT at 61000 buys floor(0.0016393..., step 0.00001) = 0.00163
    assert (by_quote["executedQty"], by_quote["cummulativeQuoteQty"]) == (
        "0.00163000",
        "99.43000000",
    )
    assert by_quote["origQuoteOrderQty"] == "100.00000000"
    await rest(alice, "BUY", "0.02", "59000")
    sell = await bob.order(
        symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.03", newOrderRespType="RESULT"
    )
    assert (sell["status"], sell["executedQty"]) == ("EXPIRED", "0.02000000")
    assert "fills" not in sell


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"price": "60000.001"}, (-1013, "Filter failure: PRICE_FILTER")),
        ({"quantity": "0.000015"}, (-1013, "Filter failure: LOT_SIZE")),
        ({"quantity": "0.00001", "price": "100"}, (-1013, "Filter failure: NOTIONAL")),
        (
            {"quantity": "1e-3"},
            (
                -1100,
                "Illegal characters found in parameter 'quantity'; "
                "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
            ),
        ),
        ({"quantity": "5"}, (-2010, "Account has insufficient balance for requested action.")),
        ({"side": "UP"}, (-1117, "Invalid side.")),
        ({"type": "SOMETHING"}, (-1116, "Invalid orderType.")),
        ({"timeInForce": "DAY"}, (-1115, "Invalid timeInForce.")),
        (
            {"timeInForce": None},
            (
                -1102,
                "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.",
            ),
        ),
        ({"symbol": "ZZZUSDT"}, (-1121, "Invalid symbol.")),
        (
            {"foo": "bar"},
            (-1104, "Not all sent parameters were read; read '7' parameter(s) but was sent '8'."),
        ),
    ],
)
async def test_rejections_match_binance(
    alice: Any, params: dict[str, Any], error: tuple[int, str]
) -> None:
    order = {**LIMIT, "side": "BUY", "quantity": "0.01", "price": "60000", **params}
    order = {k: v for k, v in order.items() if v is not None}
    response = await alice.call("POST", "/api/v3/order", **order)
    assert response.status_code == 400
    assert response.json() == {"code": error[0], "msg": error[1]}
    assert await alice.balance("USDT") == ("10000.00000000", "0.00000000")


@pytest.mark.asyncio
async def test_market_order_parameter_rules(alice: Any) -> None:
    neither = await alice.call("POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="MARKET")
    assert neither.json() == {
        "code": -1102,
        "msg": "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
    }
    priced = await alice.call(
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.01",
        price="1",
    )
    assert priced.json() == {"code": -1106, "msg": "Parameter 'price' sent when not required."}


@pytest.mark.asyncio
async def test_duplicate_open_client_order_id(alice: Any) -> None:
    await rest(alice, "BUY", "0.01", "50000", newClientOrderId="dup")
    again = await alice.call(
        "POST",
        "/api/v3/order",
        **LIMIT,
        side="BUY",
        quantity="0.01",
        price="50000",
        newClientOrderId="dup",
    )
    assert again.json() == {"code": -2010, "msg": "Duplicate order sent."}
    await alice.ok("DELETE", "/api/v3/order", symbol="BTCUSDT", origClientOrderId="dup")
    reused = await rest(alice, "BUY", "0.01", "50000", newClientOrderId="dup")
    assert reused["status"] == "NEW"


@pytest.mark.asyncio
async def test_open_all_orders_and_cancel_all(alice: Any) -> None:
    await rest(alice, "BUY", "0.01", "50000")
    await rest(alice, "SELL", "0.01", "70000")
    await alice.order(
        symbol="ETHUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.1", price="3000"
    )
    assert len(await alice.ok("GET", "/api/v3/openOrders")) == 3
    assert len(await alice.ok("GET", "/api/v3/openOrders", symbol="BTCUSDT")) == 2
    cancelled = await alice.ok("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert [c["status"] for c in cancelled] == ["CANCELED", "CANCELED"]
    every = await alice.ok("GET", "/api/v3/allOrders", symbol="BTCUSDT")
    assert [o["status"] for o in every] == ["CANCELED", "CANCELED"]
    none_left = await alice.call("DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    assert none_left.json() == {"code": -2011, "msg": "Unknown order sent."}


@pytest.mark.asyncio
async def test_stop_loss_limit_triggers_on_the_last_price(alice: Any, bob: Any) -> None:
    await rest(alice, "SELL", "0.01", "60000")
    await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")  # last = 60000
    immediate = await bob.call(
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="59000",
        stopPrice="61000",
    )
    assert immediate.json() == {"code": -2010, "msg": "Order would trigger immediately."}
    stop = await bob.order(
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="58000",
        stopPrice="59000",
    )
    status = await bob.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=stop["orderId"])
    assert (status["isWorking"], status["stopPrice"]) == (False, "59000.00000000")
    assert await bob.balance("BTC") == ("0.99999000", "0.01000000")  # 1 + 0.01 - fee - 0.01
    await rest(alice, "BUY", "0.01", "59000")
    # another account's sell (alice's own would be stopped by self-trade prevention, as on
    # Binance, whose symbols default to EXPIRE_MAKER): trades at 59000, the stop triggers
    await rest(bob, "SELL", "0.01", "59000")
    status = await bob.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=stop["orderId"])
    assert (status["isWorking"], status["status"]) == (True, "NEW")
    await rest(alice, "BUY", "0.01", "58000")
    status = await bob.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=stop["orderId"])
    assert status["status"] == "FILLED"


@pytest.mark.asyncio
async def test_order_test_validates_without_placing(alice: Any) -> None:
    assert (
        await alice.ok(
            "POST", "/api/v3/order/test", **LIMIT, side="BUY", quantity="0.01", price="60000"
        )
        == {}
    )
    rates = await alice.ok(
        "POST",
        "/api/v3/order/test",
        **LIMIT,
        side="BUY",
        quantity="0.01",
        price="60000",
        computeCommissionRates="true",
    )
    assert rates["standardCommissionForOrder"] == {"maker": "0.00100000", "taker": "0.00100000"}
    bad = await alice.call(
        "POST", "/api/v3/order/test", **LIMIT, side="BUY", quantity="0.01", price="60000.005"
    )
    assert bad.json() == {"code": -1013, "msg": "Filter failure: PRICE_FILTER"}
    assert await alice.ok("GET", "/api/v3/openOrders") == []


@pytest.mark.asyncio
@pytest.mark.parametrize("client_id", ["has.dot", "a:b", "a/b", "x" * 37])
async def test_client_order_ids_outside_spots_legal_range_are_refused(
    alice: Any, client_id: str
) -> None:
    # Spot's -1100 states the legal range ^[a-zA-Z0-9-_]{1,36}$ (a dot is refused on spot).
    answer = await alice.call(
        "POST", "/api/v3/order", **LIMIT, side="BUY", quantity="0.01", price="50000",
        newClientOrderId=client_id,
    )  # fmt: skip
    assert answer.json() == {
        "code": -1100,
        "msg": "Illegal characters found in parameter 'newClientOrderId'; legal range is "
        "'^[a-zA-Z0-9-_]{1,36}$'.",
    }
    ok = await rest(alice, "BUY", "0.01", "50000", newClientOrderId="A-z_09-" + "x" * 29)
    assert ok["status"] == "NEW"
