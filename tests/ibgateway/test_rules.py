"""The gateway's own rules, checked with plain HTTPS calls: tick bands, IB's formatting, the
order state machine, question chains and every fault."""

from __future__ import annotations

import asyncio
import datetime
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest

from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.contracts import on_tick, tick_for
from tradewire.ibgateway.market import (
    NEW_YORK,
    format_lots,
    format_price,
    format_volume,
    session_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ibgateway.orders import GatewayOrder

AAPL = 265598
MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()


async def call(
    http: aiohttp.ClientSession, gw: LocalIBGateway, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One request to the gateway: (HTTP status, JSON body)."""
    kwargs: dict[str, Any] = {} if body is None else {"json": body}
    if method == "POST" and body is None:
        kwargs["data"] = b""
    async with http.request(method, f"{gw.url}{path}", **kwargs) as response:
        return response.status, await response.json(content_type=None)


def limit(side: str, qty: int, price: str, **extra: Any) -> dict[str, Any]:
    """An order body for AAPL."""
    return {
        "orders": [
            {
                "conid": AAPL,
                "orderType": "LMT",
                "side": side,
                "quantity": qty,
                "price": price,
                "tif": "DAY",
                **extra,
            }
        ]
    }


async def place(http: aiohttp.ClientSession, gw: LocalIBGateway, body: dict[str, Any]) -> int:
    """Place an order, confirming every question; its order id."""
    status, answer = await call(http, gw, "POST", f"/iserver/account/{gw.account_id}/orders", body)
    while status == 200 and isinstance(answer, list) and "id" in answer[0]:
        status, answer = await call(
            http, gw, "POST", f"/iserver/reply/{answer[0]['id']}", {"confirmed": True}
        )
    assert status == 200 and isinstance(answer, list), answer
    return int(answer[0]["order_id"])


def order(gw: LocalIBGateway, order_id: int) -> GatewayOrder:
    return gw.blotter.orders[order_id]


def test_tick_bands_follow_the_price() -> None:
    assert tick_for(Decimal("0.5")) == Decimal("0.0001")
    assert tick_for(Decimal("1")) == Decimal("0.01")
    assert on_tick(Decimal("0.1234"))
    assert not on_tick(Decimal("1.234"))
    assert on_tick(Decimal("190.01"))
    assert not on_tick(Decimal("0"))


def test_values_are_formatted_as_ib_does() -> None:
    assert format_price(Decimal("1234.5")) == "1,234.50"
    assert format_price(Decimal("0.12345")) == "0.1235"
    assert format_lots(130_000) == "1,300"
    assert format_lots(500) == "5"
    assert format_volume(12_345_678) == "12.35M"
    assert format_volume(4_500) == "4.5K"


def test_trading_sessions_follow_new_york_hours() -> None:
    assert session_of(MONDAY_10AM) == "regular"
    assert session_of(MONDAY_10AM - 2 * 3600) == "extended"
    assert session_of(MONDAY_10AM - 8 * 3600) == "closed"
    assert session_of(MONDAY_10AM - 2 * 86400) == "closed"  # Saturday


def test_bad_construction_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError, match="at least one symbol"):
        LocalIBGateway(symbols=())
    with pytest.raises(ValueError, match="not a stock symbol"):
        LocalIBGateway(symbols=("AA PL",))
    with pytest.raises(ValueError, match="step_s"):
        LocalIBGateway(step_s=0)


@pytest.mark.asyncio
async def test_url_and_rules_answer(gw: LocalIBGateway, http: aiohttp.ClientSession) -> None:
    assert gw.url.startswith("https://127.0.0.1:") and gw.url.endswith("/v1/api")
    assert gw.ws_url.endswith("/v1/api/ws") and gw.ws_url.startswith("wss://")
    status, rules = await call(
        http, gw, "POST", "/iserver/contract/rules", {"conid": AAPL, "isBuy": True}
    )
    assert status == 200
    assert rules["incrementRules"] == [
        {"lowerEdge": 0.0, "increment": 0.0001},
        {"lowerEdge": 1.0, "increment": 0.01},
    ]
    status, body = await call(http, gw, "POST", "/iserver/contract/rules", {"conid": 1})
    assert status == 400 and "error" in body


@pytest.mark.asyncio
async def test_post_without_content_length_is_411(gw: LocalIBGateway) -> None:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", int(gw.url.split(":")[2].split("/")[0]), ssl=gw.ssl_context()
    )
    writer.write(b"POST /v1/api/tickle HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    await writer.drain()
    head = await reader.readline()
    writer.close()
    assert b" 411 " in head


@pytest.mark.asyncio
async def test_snapshot_preflight_then_values(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    path = f"/iserver/marketdata/snapshot?conids={AAPL}&fields=31,84,86,88,85,7059"
    _, first = await call(http, gw, "GET", path)
    assert first == [{"conid": AAPL, "conidEx": str(AAPL)}]
    _, second = await call(http, gw, "GET", path)
    row = second[0]
    assert {"31", "84", "86", "88", "85", "7059", "_updated", "6509"} <= set(row)
    assert all(isinstance(row[f], str) for f in ("31", "84", "86", "88"))
    bid, ask = Decimal(row["84"].replace(",", "")), Decimal(row["86"].replace(",", ""))
    assert bid < ask


@pytest.mark.asyncio
async def test_order_walks_presubmitted_submitted_filled(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    ask = gw.market.quotes[AAPL].ask
    order_id = await place(http, gw, limit("BUY", 10, str(ask + 1), cOID="fill-1"))
    seen: list[str] = []
    gw.blotter.on_order.append(
        lambda o, d: seen.append(d["status"]) if o.order_id == order_id and "status" in d else None
    )
    await gw.wait_for(lambda: order(gw, order_id).status == "Filled")
    assert seen[-1] == "Filled"
    assert order(gw, order_id).filled == 10
    _status, body = await call(http, gw, "GET", f"/iserver/account/order/status/{order_id}")
    assert body["order_status"] == "Filled" and body["cum_fill"] == "10"
    _, positions = await call(http, gw, "GET", f"/portfolio/{gw.account_id}/positions/0")
    assert positions[0]["position"] == 10.0
    _, trades = await call(http, gw, "GET", "/iserver/account/trades?days=1")
    assert trades[0]["order_ref"] == "fill-1" and Decimal(trades[0]["commission"]) == Decimal(
        "1.00"
    )


@pytest.mark.asyncio
async def test_question_chain_and_suppression(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    far = (gw.market.quotes[AAPL].last * Decimal("0.9")).quantize(Decimal("0.01"))
    path = f"/iserver/account/{gw.account_id}/orders"
    _, q1 = await call(http, gw, "POST", path, limit("BUY", 1, str(far)))
    assert q1[0]["messageIds"] == ["o354"]
    _, q2 = await call(http, gw, "POST", f"/iserver/reply/{q1[0]['id']}", {"confirmed": True})
    assert q2[0]["messageIds"] == ["o163"] and "Percentage constraint of 3%" in q2[0]["message"][0]
    status, stale = await call(
        http, gw, "POST", f"/iserver/reply/{q1[0]['id']}", {"confirmed": True}
    )
    assert status == 400 and stale["error"].startswith("reply id not found")
    _, done = await call(http, gw, "POST", f"/iserver/reply/{q2[0]['id']}", {"confirmed": True})
    assert done[0]["order_status"] == "PreSubmitted"
    _, ok = await call(
        http, gw, "POST", "/iserver/questions/suppress", {"messageIds": ["o354", "o163"]}
    )
    assert ok == {"status": "submitted"}
    _, direct = await call(http, gw, "POST", path, limit("BUY", 1, str(far)))
    assert "order_id" in direct[0]
    _, declined_q = await call(
        http, gw, "POST", path, limit("BUY", 1, str(far + Decimal("0.01")), orderType="MKT")
    )
    _, declined = await call(
        http, gw, "POST", f"/iserver/reply/{declined_q[0]['id']}", {"confirmed": False}
    )
    assert "error" in declined


@pytest.mark.asyncio
async def test_rejects_arrive_as_200_with_error(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    path = f"/iserver/account/{gw.account_id}/orders"
    status, off_tick = await call(http, gw, "POST", path, limit("BUY", 1, "190.005"))
    assert status == 200 and "minimum price variation" in off_tick["error"]
    status, fraction = await call(http, gw, "POST", path, limit("BUY", 1.5, "190.00"))  # type: ignore[arg-type]
    assert status == 200 and "whole share" in fraction["error"]
    gw.set_faults(reject_orders=1)
    status, rejected = await call(http, gw, "POST", path, limit("BUY", 1, "190.00"))
    assert status == 200 and "cannot accept an order" in rejected["error"]
    await place(http, gw, limit("BUY", 1, "150.00", cOID="dup"))
    status, dup = await call(http, gw, "POST", path, limit("BUY", 1, "150.00", cOID="dup"))
    assert "Local order ID=dup is already registered" in dup["error"]


@pytest.mark.asyncio
async def test_cancel_and_pending_cancel_fill(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    resting = await place(http, gw, limit("BUY", 5, "150.00"))
    await gw.wait_for(lambda: order(gw, resting).status == "Submitted")
    _, ack = await call(http, gw, "DELETE", f"/iserver/account/{gw.account_id}/order/{resting}")
    assert ack["msg"] == "Request was submitted"
    assert order(gw, resting).status == "PendingCancel"
    await gw.wait_for(lambda: order(gw, resting).status == "Cancelled")
    _, missing = await call(http, gw, "DELETE", f"/iserver/account/{gw.account_id}/order/1")
    assert missing == {"error": "OrderID 1 doesn't exist"}

    gw.set_faults(fill_on_cancel=True)
    other = await place(http, gw, limit("SELL", 5, "250.00"))
    await gw.wait_for(lambda: order(gw, other).status == "Submitted")
    await call(http, gw, "DELETE", f"/iserver/account/{gw.account_id}/order/{other}")
    assert order(gw, other).status == "PendingCancel"
    await gw.wait_for(lambda: order(gw, other).status != "PendingCancel")
    assert order(gw, other).status == "Filled"


@pytest.mark.asyncio
async def test_inactive_orders(gw: LocalIBGateway, http: aiohttp.ClientSession) -> None:
    gw.set_faults(inactive_orders=1)
    order_id = await place(http, gw, limit("BUY", 1, "150.00"))
    assert order(gw, order_id).status == "Inactive"
    _, live = await call(http, gw, "GET", "/iserver/account/orders?filters=inactive")
    assert [o["orderId"] for o in live["orders"]] == [order_id]


@pytest.mark.asyncio
async def test_modify_changes_the_price(gw: LocalIBGateway, http: aiohttp.ClientSession) -> None:
    order_id = await place(http, gw, limit("BUY", 3, "150.00"))
    body = limit("BUY", 3, "151.00")["orders"][0]
    status, answer = await call(
        http, gw, "POST", f"/iserver/account/{gw.account_id}/order/{order_id}", body
    )
    while "id" in answer[0]:
        status, answer = await call(
            http, gw, "POST", f"/iserver/reply/{answer[0]['id']}", {"confirmed": True}
        )
    assert status == 200 and order(gw, order_id).price == Decimal("151.00")


@pytest.mark.asyncio
async def test_session_timeout_without_requests(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    gw.set_faults(session_timeout_s=0.2)
    await asyncio.sleep(0.3)  # the fault under test is the passage of time without requests
    status, body = await call(http, gw, "GET", "/iserver/accounts")
    assert status == 400 and body == {"error": "Init session first", "statusCode": 400}
    _, auth = await call(http, gw, "POST", "/iserver/auth/status")
    assert auth["authenticated"] is False
    gw.set_faults(session_timeout_s=360.0)
    _, init = await call(
        http, gw, "POST", "/iserver/auth/ssodh/init", {"publish": True, "compete": True}
    )
    assert init["authenticated"] is True
    status, _ = await call(http, gw, "GET", "/iserver/accounts")
    assert status == 200


@pytest.mark.asyncio
async def test_competing_session(gw: LocalIBGateway, http: aiohttp.ClientSession) -> None:
    gw.set_faults(competing=True)
    _, auth = await call(http, gw, "POST", "/iserver/auth/status")
    assert auth["competing"] is True and auth["authenticated"] is False
    _, body = await call(
        http, gw, "POST", f"/iserver/account/{gw.account_id}/orders", limit("BUY", 1, "150.00")
    )
    assert body["error"] == "Trading TWS session is connected from a different IP address"
    _, refused = await call(
        http, gw, "POST", "/iserver/auth/ssodh/init", {"publish": True, "compete": False}
    )
    assert refused["authenticated"] is False
    _, init = await call(
        http, gw, "POST", "/iserver/auth/ssodh/init", {"publish": True, "compete": True}
    )
    assert init["authenticated"] is True and init["competing"] is False


@pytest.mark.asyncio
async def test_outage_and_penalty_box(gw: LocalIBGateway, http: aiohttp.ClientSession) -> None:
    gw.set_faults(outage=True)
    status, _ = await call(http, gw, "GET", "/iserver/accounts")
    assert status == 503
    status, _ = await call(http, gw, "GET", "/portfolio/accounts")
    assert status == 200  # the outage is /iserver's only
    gw.set_faults(outage=False, rate_limit_per_s=3, penalty_box_s=0.3)
    statuses = [(await call(http, gw, "POST", "/tickle"))[0] for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    gw.set_faults(rate_limit_per_s=None)
    status, _ = await call(http, gw, "POST", "/tickle")
    assert status == 429  # still in the box
    await asyncio.sleep(0.35)  # the penalty box is a span of time
    status, _ = await call(http, gw, "POST", "/tickle")
    assert status == 200


@pytest.mark.asyncio
async def test_nightly_reset_ends_the_session_and_day_orders(
    clock_at: Callable[[float], Callable[[], float]],
) -> None:
    late = clock_at(MONDAY_10AM + 14 * 3600 - 0.3)  # Tuesday 00:00 New York in 0.3 s
    async with LocalIBGateway(symbols=("AAPL",), seed=2, clock=late) as night:
        connector = aiohttp.TCPConnector(ssl=night.ssl_context())
        async with aiohttp.ClientSession(connector=connector) as client:
            night.set_faults(session_timeout_s=3600.0)
            day = await place(client, night, limit("BUY", 1, "150.00", outsideRTH=True))
            gtc = await place(client, night, limit("BUY", 1, "150.00", tif="GTC"))
            await night.wait_for(lambda: night.blotter.orders[day].status == "Cancelled")
            assert night.blotter.orders[gtc].status == "PreSubmitted"
            status, _body = await call(client, night, "GET", "/iserver/accounts")
            assert status == 503  # the outage after midnight
            _, auth = await call(client, night, "POST", "/iserver/auth/status")
            assert auth["authenticated"] is False


@pytest.mark.asyncio
async def test_websocket_topics_drops_and_smd_expiry(
    gw: LocalIBGateway, http: aiohttp.ClientSession
) -> None:
    _, tickle = await call(http, gw, "POST", "/tickle")
    cookie = json.dumps({"session": tickle["session"]})
    async with http.ws_connect(gw.ws_url, headers={"Cookie": f"api={cookie}"}) as ws:
        topics = [json.loads((await ws.receive()).data)["topic"] for _ in range(3)]
        assert topics == ["system", "sts", "act"]
        gw.set_faults(smd_expiry_s=0.3)
        await ws.send_str(f'smd+{AAPL}+{{"fields":["31","84","86"]}}')
        first = json.loads((await ws.receive()).data)
        assert first["topic"] == f"smd+{AAPL}" and {"31", "84", "86"} <= set(first)
        await gw.wait_for(lambda: not any(c.smd for c in gw.ws.clients), timeout=3)
        await ws.send_str("tic")
        await ws.send_str("sor+{}")
        kinds: set[str] = set()
        while not {"tic", "sor"} <= kinds:
            kinds.add(json.loads((await asyncio.wait_for(ws.receive(), 3)).data)["topic"])
        assert await gw.drop_websockets() == 1
        closing = await ws.receive()
        assert closing.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
            aiohttp.WSMsgType.CLOSING,
        )
    async with http.ws_connect(gw.ws_url, headers={"Cookie": "api=wrong"}) as ws:
        assert json.loads((await ws.receive()).data) == {"message": "waiting for session"}
