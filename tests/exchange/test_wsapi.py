"""The WebSocket API: Binance's signing vectors, order methods, rateLimits and user data events."""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
import websockets

from tradewire import Signer
from tradewire.exchange import LocalExchange

DATA = Path(__file__).parent / "data"
VECTORS = {
    v["id"]: v for v in json.loads((DATA / "binance-signing.json").read_text())["signatures"]
}


def signed(params: dict[str, Any], signer: Any) -> dict[str, Any]:
    """``params`` with the WebSocket-API signature: sorted, joined raw, apiKey included."""
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    return {**params, "signature": signer.sign(payload)}


async def ask(
    ws: Any,
    request_id: Any,
    method: str,
    params: dict[str, Any] | None = None,
    events: list[Any] | None = None,
) -> Any:
    """Send a request and return its response; user data events on the way go to ``events``."""
    message: dict[str, Any] = {"id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    await ws.send(json.dumps(message))
    while True:
        reply = json.loads(await ws.recv())
        if "event" in reply:
            assert events is not None
            assert reply["subscriptionId"] == 0
            events.append(reply["event"])
        elif reply.get("id") == request_id:
            return reply


@pytest.mark.asyncio
async def test_documented_order_place_vector_is_accepted() -> None:
    vector = VECTORS["H6"]
    params = dict(pair.split("=", 1) for pair in vector["payload"].split("&"))
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        ex.add_key(vector["secret"], api_key=params["apiKey"])
        ex.set_faults(clock_skew_ms=int(params["timestamp"]) - time.time_ns() // 1_000_000 + 50)
        async with websockets.connect(ex.ws_api_url) as ws:
            reply = await ask(
                ws,
                "56374a46-3061-486b-a311-99ee972eb648",
                "order.place",
                {**params, "signature": vector["signature"]},
            )
            tampered = await ask(
                ws,
                2,
                "order.place",
                {**params, "quantity": "0.00848000", "signature": vector["signature"]},
            )
    assert reply["status"] == 200, reply
    assert reply["id"] == "56374a46-3061-486b-a311-99ee972eb648"
    result = reply["result"]
    assert (result["symbol"], result["side"], result["price"], result["origQty"]) == (
        "BTCUSDT",
        "SELL",
        "23416.10000000",
        "0.00847000",
    )
    limits = {(r["rateLimitType"], r["interval"]): r for r in reply["rateLimits"]}
    assert limits[("ORDERS", "SECOND")]["count"] == 1
    assert limits[("REQUEST_WEIGHT", "MINUTE")]["limit"] == 6000
    assert tampered["status"] == 400
    assert tampered["error"] == {"code": -1022, "msg": "Signature for this request is not valid."}


@pytest.mark.asyncio
async def test_hmac_vector_payload_shape_matches_ours() -> None:
    vector = VECTORS["H3"]
    params = dict(pair.split("=", 1) for pair in vector["payload"].split("&"))
    assert signed(params, Signer.from_secret(vector["secret"]))["signature"] == vector["signature"]


@pytest.mark.asyncio
async def test_orders_and_user_data_over_the_websocket_api(ex: LocalExchange) -> None:
    secret = secrets.token_hex(16)
    signer = Signer.from_secret(secret)
    api_key = ex.add_key(secret)
    maker_secret = secrets.token_hex(16)
    maker_key = ex.add_key(maker_secret)
    maker = Signer.from_secret(maker_secret)

    def now() -> int:
        return ex.server_time()

    events: list[Any] = []
    async with websockets.connect(ex.ws_api_url) as ws:
        sub = await ask(
            ws,
            1,
            "userDataStream.subscribe.signature",
            signed({"apiKey": api_key, "timestamp": now()}, signer),
        )
        assert sub["result"] == {"subscriptionId": 0}
        resting = await ask(
            ws,
            2,
            "order.place",
            signed(
                {
                    "apiKey": api_key,
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.01",
                    "price": "60000",
                    "timestamp": now(),
                },
                signer,
            ),
            events,
        )
        order_id = resting["result"]["orderId"]
        client_id = resting["result"]["clientOrderId"]
        # another account takes the order: alice's subscription sees the fill
        async with websockets.connect(ex.ws_api_url) as other:
            taken = await ask(
                other,
                1,
                "order.place",
                signed(
                    {
                        "apiKey": maker_key,
                        "symbol": "BTCUSDT",
                        "side": "SELL",
                        "type": "MARKET",
                        "quantity": "0.004",
                        "timestamp": now(),
                    },
                    maker,
                ),
            )
            assert taken["result"]["status"] == "FILLED"
        status = await ask(
            ws,
            3,
            "order.status",
            signed(
                {"apiKey": api_key, "symbol": "BTCUSDT", "orderId": order_id, "timestamp": now()},
                signer,
            ),
            events,
        )
        assert (status["result"]["status"], status["result"]["executedQty"]) == (
            "PARTIALLY_FILLED",
            "0.00400000",
        )
        opened = await ask(
            ws,
            4,
            "openOrders.status",
            signed({"apiKey": api_key, "symbol": "BTCUSDT", "timestamp": now()}, signer),
            events,
        )
        assert [o["orderId"] for o in opened["result"]] == [order_id]
        cancelled = await ask(
            ws,
            5,
            "order.cancel",
            signed(
                {"apiKey": api_key, "symbol": "BTCUSDT", "orderId": order_id, "timestamp": now()},
                signer,
            ),
            events,
        )
        assert cancelled["result"]["status"] == "CANCELED"
        account = await ask(
            ws, 6, "account.status", signed({"apiKey": api_key, "timestamp": now()}, signer), events
        )
        balances = {b["asset"]: b for b in account["result"]["balances"]}
        assert balances["USDT"] == {
            "asset": "USDT",
            "free": "9760.00000000",
            "locked": "0.00000000",
        }
        ex.deposit(api_key, "BNB", "2")
        while len(events) < 8:
            message = json.loads(await ws.recv())
            events.append(message["event"])
    assert [(e["e"], e.get("x")) for e in events] == [
        ("executionReport", "NEW"),
        ("outboundAccountPosition", None),
        ("executionReport", "TRADE"),
        ("outboundAccountPosition", None),
        ("executionReport", "CANCELED"),
        ("outboundAccountPosition", None),
        ("balanceUpdate", None),
        ("outboundAccountPosition", None),
    ]
    cancel = events[4]
    assert (cancel["C"], cancel["X"]) == (client_id, "CANCELED")
    assert cancel["c"] not in ("", client_id)  # the cancel's own client id
    trade = events[2]
    assert (trade["X"], trade["l"], trade["L"], trade["m"], trade["N"]) == (
        "PARTIALLY_FILLED",
        "0.00400000",
        "60000.00000000",
        True,
        "BTC",
    )
    assert trade["n"] == "0.00000400"
    assert events[6] == {
        "e": "balanceUpdate",
        "E": events[6]["E"],
        "a": "BNB",
        "d": "2.00000000",
        "T": events[6]["T"],
    }


@pytest.mark.asyncio
async def test_errors_and_public_methods(ex: LocalExchange) -> None:
    async with websockets.connect(ex.ws_api_url) as ws:
        server_time = await ask(ws, "t", "time")
        assert set(server_time["result"]) == {"serverTime"}
        assert server_time["rateLimits"][0]["count"] == 1
        missing_key = await ask(
            ws, 2, "account.status", {"timestamp": ex.server_time(), "signature": "x"}
        )
        assert (missing_key["status"], missing_key["error"]["code"]) == (401, -2014)
        bad_symbol = await ask(ws, 3, "depth", {"symbol": "NOPE"})
        assert bad_symbol["error"] == {"code": -1121, "msg": "Invalid symbol."}
        await ws.send("not json")
        garbage = json.loads(await ws.recv())
        assert (garbage["id"], garbage["status"]) == (None, 400)


@pytest.mark.asyncio
async def test_session_logon_with_ed25519_then_unsigned_requests(ex: LocalExchange) -> None:
    private_pem = VECTORS["F1"]["secret"]
    api_key = ex.add_key((DATA / "ed25519-vector-public.pem").read_text())
    hmac_secret = secrets.token_hex(16)
    hmac_key = ex.add_key(hmac_secret)
    signer = Signer.from_secret(private_pem)
    events: list[Any] = []
    async with websockets.connect(ex.ws_api_url) as ws:
        refused = await ask(
            ws,
            1,
            "session.logon",
            signed(
                {"apiKey": hmac_key, "timestamp": ex.server_time()}, Signer.from_secret(hmac_secret)
            ),
        )
        assert refused["error"]["code"] == -4056
        logon = await ask(
            ws,
            2,
            "session.logon",
            signed({"apiKey": api_key, "timestamp": ex.server_time()}, signer),
        )
        assert logon["status"] == 200
        assert logon["result"]["apiKey"] == api_key
        account = await ask(ws, 3, "account.status", {"timestamp": ex.server_time()})
        assert account["status"] == 200
        sub = await ask(ws, 4, "userDataStream.subscribe")
        assert sub["result"] == {"subscriptionId": 0}
        placed = await ask(
            ws,
            5,
            "order.place",
            {
                "symbol": "BTCUSDT",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.001",
                "price": "50000",
                "timestamp": ex.server_time(),
            },
            events,
        )
        assert placed["result"]["status"] == "NEW"
        await ask(ws, 6, "userDataStream.unsubscribe", {"subscriptionId": 0}, events)
        status = await ask(ws, 7, "session.status")
        assert status["result"]["userDataStream"] is False
        await ask(ws, 8, "session.logout")
        anonymous = await ask(ws, 9, "account.status", {"timestamp": ex.server_time()})
        assert anonymous["error"]["code"] == -2014
    # events are sent before the answer that caused them
    assert [e["e"] for e in events] == ["executionReport", "outboundAccountPosition"]
