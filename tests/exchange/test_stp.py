"""Self-trade prevention as Binance's stp_faq.md describes it, scenario by scenario.

A bot whose own orders cross (a grid whose lines overlap, two strategies on one account) must see
what Binance does: the taker's ``selfTradePreventionMode`` (the symbol's
``defaultSelfTradePreventionMode`` when not sent) stops the trade, the expired orders end
``EXPIRED_IN_MATCH`` with ``preventedMatchId`` and ``preventedQuantity``, and a mode the symbol
does not list is refused, not accepted and reported as another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tradewire.exchange import LocalExchange

pytestmark = pytest.mark.asyncio

LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
STP_REFUSED = {
    "code": -1013,
    "msg": "This symbol does not allow the specified self-trade prevention mode.",
}


def collect(ex: LocalExchange, api_key: str) -> list[dict[str, Any]]:
    """The user data events of ``api_key``'s account from now on."""
    events: list[dict[str, Any]] = []
    key = ex.core.keys.get(api_key)
    assert key is not None
    ex.userdata.subscribe(key.account, events.append)
    return events


async def status(trader: Any, order_id: int) -> Any:
    return await trader.ok("GET", "/api/v3/order", symbol="BTCUSDT", orderId=order_id)


async def three_bids(trader: Any) -> list[int]:
    """stp_faq.md's makers 1-3 (quantities 1.2, 1.3, 8.1 at 1.2, 1.1, 1), scaled to BTCUSDT."""
    ids = []
    for qty, price in (("0.012", "60200"), ("0.013", "60100"), ("0.081", "60000")):
        order = await trader.order(**LIMIT, side="BUY", quantity=qty, price=price)
        ids.append(order["orderId"])
    return ids


async def test_exchange_info_lists_the_modes_and_refuses_the_others(alice: Any) -> None:
    info = await alice.client.get("/api/v3/exchangeInfo", params={"symbol": "BTCUSDT"})
    symbol = info.json()["symbols"][0]
    # what Binance's BTCUSDT lists today
    assert symbol["defaultSelfTradePreventionMode"] == "EXPIRE_MAKER"
    assert symbol["allowedSelfTradePreventionModes"] == [
        "EXPIRE_TAKER",
        "EXPIRE_MAKER",
        "EXPIRE_BOTH",
        "DECREMENT",
    ]
    order = {**LIMIT, "side": "BUY", "quantity": "0.001", "price": "50000"}
    for path in ("/api/v3/order", "/api/v3/order/test"):
        for mode in ("NONE", "TRANSFER"):  # valid enums this symbol does not allow
            refused = await alice.call("POST", path, **order, selfTradePreventionMode=mode)
            assert (refused.status_code, refused.json()) == (400, STP_REFUSED)
        unknown = await alice.call("POST", path, **order, selfTradePreventionMode="expire_maker")
        assert unknown.json() == {
            "code": -1130,
            "msg": "Data sent for parameter 'selfTradePreventionMode' is not valid.",
        }
    assert await alice.ok("GET", "/api/v3/openOrders") == []
    placed = await alice.order(**order, selfTradePreventionMode="EXPIRE_BOTH")
    assert placed["selfTradePreventionMode"] == "EXPIRE_BOTH"
    assert (await status(alice, placed["orderId"]))["selfTradePreventionMode"] == "EXPIRE_BOTH"
    default = await alice.order(**order)
    assert default["selfTradePreventionMode"] == "EXPIRE_MAKER"


async def test_expire_maker_expires_the_resting_orders_and_the_taker_rests(
    ex: LocalExchange, alice: Any
) -> None:
    """Scenario B."""
    makers = await three_bids(alice)
    events = collect(ex, alice.api_key)
    taker = await alice.order(
        **LIMIT, side="SELL", quantity="0.03", price="60000", selfTradePreventionMode="EXPIRE_MAKER"
    )
    assert (taker["status"], taker["executedQty"], taker["fills"]) == ("NEW", "0.00000000", [])
    assert taker["preventedMatches"] == [
        {"preventedMatchId": 0, "makerOrderId": makers[0], "price": "60200.00000000",
         "makerPreventedQuantity": "0.01200000"},
        {"preventedMatchId": 1, "makerOrderId": makers[1], "price": "60100.00000000",
         "makerPreventedQuantity": "0.01300000"},
        {"preventedMatchId": 2, "makerOrderId": makers[2], "price": "60000.00000000",
         "makerPreventedQuantity": "0.08100000"},
    ]  # fmt: skip
    for match_id, (order_id, qty) in enumerate(
        zip(makers, ("0.012", "0.013", "0.081"), strict=True)
    ):
        maker = await status(alice, order_id)
        assert (maker["status"], maker["preventedMatchId"], maker["preventedQuantity"]) == (
            "EXPIRED_IN_MATCH",
            match_id,
            f"{qty}00000",
        )
        assert maker["executedQty"] == "0.00000000"
    assert await alice.balance("USDT") == ("10000.00000000", "0.00000000")  # nothing locked
    reports = [e for e in events if e["e"] == "executionReport"]
    assert [(r["i"], r["x"], r["X"]) for r in reports] == [
        (taker["orderId"], "NEW", "NEW"),
        (makers[0], "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
        (makers[1], "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
        (makers[2], "TRADE_PREVENTION", "EXPIRED_IN_MATCH"),
    ]
    first = reports[1]
    # user-data-stream.md: v, A, B (and the counter order, the prevented execution) for orders
    # that expired due to STP
    assert (first["v"], first["A"], first["B"], first["U"]) == (
        0,
        "0.01200000",
        "0.01200000",
        taker["orderId"],
    )
    assert (first["pl"], first["pL"], first["V"]) == (
        "0.01200000",
        "60200.00000000",
        "EXPIRE_MAKER",
    )
    book = (await alice.client.get("/api/v3/depth", params={"symbol": "BTCUSDT"})).json()
    assert (book["bids"], book["asks"]) == ([], [["60000.00000000", "0.03000000"]])


async def test_expire_taker_leaves_the_book_and_expires_the_taker(
    ex: LocalExchange, alice: Any
) -> None:
    """Scenario C."""
    makers = await three_bids(alice)
    events = collect(ex, alice.api_key)
    taker = await alice.order(
        **LIMIT, side="SELL", quantity="0.03", price="60000", selfTradePreventionMode="EXPIRE_TAKER"
    )
    assert (taker["status"], taker["preventedQuantity"]) == ("EXPIRED_IN_MATCH", "0.03000000")
    assert taker["preventedMatches"] == [
        {"preventedMatchId": 0, "makerOrderId": makers[0], "price": "60200.00000000",
         "takerPreventedQuantity": "0.03000000"},
    ]  # fmt: skip
    assert [(await status(alice, m))["status"] for m in makers] == ["NEW"] * 3
    queried = await status(alice, taker["orderId"])
    assert (queried["preventedMatchId"], queried["preventedQuantity"]) == (0, "0.03000000")
    assert await alice.balance("BTC") == ("1.00000000", "0.00000000")
    expired = [e for e in events if e.get("x") == "TRADE_PREVENTION"]
    assert [(e["i"], e["X"], e["B"], e["U"]) for e in expired] == [
        (taker["orderId"], "EXPIRED_IN_MATCH", "0.03000000", makers[0])
    ]


async def test_expire_both_expires_maker_and_taker(alice: Any) -> None:
    """Scenario D."""
    maker = await alice.order(**LIMIT, side="BUY", quantity="0.01", price="60000")
    taker = await alice.order(
        **LIMIT, side="SELL", quantity="0.03", price="60000", selfTradePreventionMode="EXPIRE_BOTH"
    )
    assert (taker["status"], taker["preventedQuantity"]) == ("EXPIRED_IN_MATCH", "0.03000000")
    assert taker["preventedMatches"] == [
        {"preventedMatchId": 0, "makerOrderId": maker["orderId"], "price": "60000.00000000",
         "takerPreventedQuantity": "0.03000000", "makerPreventedQuantity": "0.01000000"},
    ]  # fmt: skip
    assert (await status(alice, maker["orderId"]))["status"] == "EXPIRED_IN_MATCH"
    assert await alice.ok("GET", "/api/v3/openOrders") == []


async def test_a_market_order_expires_the_maker_then_itself_for_liquidity(alice: Any) -> None:
    """Scenario F: the maker EXPIRED_IN_MATCH, the MARKET taker EXPIRED (no liquidity left)."""
    maker = await alice.order(**LIMIT, side="BUY", quantity="0.01", price="60000")
    taker = await alice.order(
        symbol="BTCUSDT",
        side="SELL",
        type="MARKET",
        quantity="0.01",
        selfTradePreventionMode="EXPIRE_MAKER",
    )
    assert (taker["status"], taker["fills"]) == ("EXPIRED", [])
    assert "preventedQuantity" not in taker
    assert [m["makerOrderId"] for m in taker["preventedMatches"]] == [maker["orderId"]]
    assert (await status(alice, maker["orderId"]))["status"] == "EXPIRED_IN_MATCH"
    assert await alice.balance("BTC") == ("1.00000000", "0.00000000")


async def test_decrement_takes_the_match_off_both_and_expires_the_smaller(
    ex: LocalExchange, alice: Any, bob: Any
) -> None:
    """Scenario G: maker BUY 6, taker SELL 2 with DECREMENT: both prevent 2, the taker expires."""
    maker = await alice.order(**LIMIT, side="BUY", quantity="0.06", price="60000")
    events = collect(ex, alice.api_key)
    taker = await alice.order(
        **LIMIT, side="SELL", quantity="0.02", price="60000", selfTradePreventionMode="DECREMENT"
    )
    assert (taker["status"], taker["preventedQuantity"]) == ("EXPIRED_IN_MATCH", "0.02000000")
    kept = await status(alice, maker["orderId"])
    assert (kept["status"], kept["preventedMatchId"], kept["preventedQuantity"]) == (
        "NEW",
        0,
        "0.02000000",
    )
    # what is left of the maker is still on the book, and only that is still locked
    book = (await alice.client.get("/api/v3/depth", params={"symbol": "BTCUSDT"})).json()
    assert book["bids"] == [["60000.00000000", "0.04000000"]]
    assert await alice.balance("USDT") == ("7600.00000000", "2400.00000000")
    prevented = [e for e in events if e.get("x") == "TRADE_PREVENTION"]
    assert [(e["i"], e["X"], e["A"], e["B"], e["v"]) for e in prevented] == [
        (maker["orderId"], "NEW", "0.02000000", "0.02000000", 0),
        (taker["orderId"], "EXPIRED_IN_MATCH", "0.02000000", "0.02000000", 0),
    ]
    # another account takes what is left: executed 0.04 + prevented 0.02 = the 0.06 ordered
    await bob.order(symbol="BTCUSDT", side="SELL", type="MARKET", quantity="0.04")
    done = await status(alice, maker["orderId"])
    assert (done["status"], done["executedQty"], done["preventedQuantity"]) == (
        "FILLED",
        "0.04000000",
        "0.02000000",
    )


async def test_an_own_crossing_order_without_a_mode_uses_the_symbols_default(
    alice: Any, bob: Any
) -> None:
    """A bot that never heard of STP: its crossing sell does not trade with its own bid."""
    bid = await alice.order(**LIMIT, side="BUY", quantity="0.01", price="60000")
    sell = await alice.order(**LIMIT, side="SELL", quantity="0.01", price="60000")
    assert (sell["status"], sell["selfTradePreventionMode"], sell["fills"]) == (
        "NEW",
        "EXPIRE_MAKER",
        [],
    )
    assert (await status(alice, bid["orderId"]))["status"] == "EXPIRED_IN_MATCH"
    assert await alice.ok("GET", "/api/v3/myTrades", symbol="BTCUSDT") == []
    # another account's order still trades with it
    taken = await bob.order(**LIMIT, side="BUY", quantity="0.01", price="60000")
    assert (taken["status"], len(taken["fills"])) == ("FILLED", 1)


async def test_my_prevented_matches_lists_what_stp_stopped(alice: Any) -> None:
    """rest-api.md, GET /api/v3/myPreventedMatches: by preventedMatchId, or by orderId (from
    fromPreventedMatchId, up to limit)."""
    makers = await three_bids(alice)
    taker = await alice.order(
        **LIMIT, side="SELL", quantity="0.03", price="60000", selfTradePreventionMode="EXPIRE_MAKER"
    )
    path = "/api/v3/myPreventedMatches"
    by_taker = await alice.ok("GET", path, symbol="BTCUSDT", orderId=taker["orderId"])
    assert [(m["preventedMatchId"], m["makerOrderId"]) for m in by_taker] == list(enumerate(makers))
    first = by_taker[0]
    assert first == {
        "symbol": "BTCUSDT",
        "preventedMatchId": 0,
        "takerOrderId": taker["orderId"],
        "makerOrderId": makers[0],
        "tradeGroupId": -1,
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "price": "60200.00000000",
        "makerPreventedQuantity": "0.01200000",
        "transactTime": first["transactTime"],
    }
    assert isinstance(first["transactTime"], int) and first["transactTime"] > 0
    one = await alice.ok("GET", path, symbol="BTCUSDT", preventedMatchId=1)
    assert [m["makerOrderId"] for m in one] == [makers[1]]
    by_maker = await alice.ok("GET", path, symbol="BTCUSDT", orderId=makers[2])
    assert [m["preventedMatchId"] for m in by_maker] == [2]
    paged = await alice.ok(
        "GET", path, symbol="BTCUSDT", orderId=taker["orderId"], fromPreventedMatchId=1, limit=1
    )
    assert [m["preventedMatchId"] for m in paged] == [1]
