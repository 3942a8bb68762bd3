"""Microseconds on request: X-MBX-TIME-UNIT (REST) and timeUnit= (WebSocket API, streams).

rest-api.md, "General API Information": "All time and timestamp related fields in the JSON
responses are in milliseconds by default. To receive the information in microseconds, please add
the header X-MBX-TIME-UNIT:MICROSECOND or X-MBX-TIME-UNIT:microsecond." and "Timestamp parameters
(e.g. startTime, endTime, timestamp) can be passed in milliseconds or microseconds."; "Timing
security": recvWindow "supports up to three decimal places of precision (e.g., 6000.346) so that
microseconds may be specified". CHANGELOG (2024-12-09): the WebSocket API and the streams take
``timeUnit`` in the connection URL, e.g. ``/stream?streams=btcusdt@trade&timeUnit=millisecond``.
errors.md: "-1194 INVALID_TIME_UNIT: Invalid value for time unit; expected either MICROSECOND or
MILLISECOND."
"""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tradewire import Signer

if TYPE_CHECKING:
    import httpx

    from tradewire.exchange import LocalExchange

pytestmark = pytest.mark.asyncio

US = {"X-MBX-TIME-UNIT": "MICROSECOND"}
LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
INVALID_UNIT = {
    "code": -1194,
    "msg": "Invalid value for time unit; expected either MICROSECOND or MILLISECOND.",
}


def in_us(value: int, ex: LocalExchange) -> bool:
    """Whether ``value`` is now, in microseconds (within a minute)."""
    return abs(value - ex.server_time() * 1000) < 60_000_000


async def test_rest_answers_in_microseconds_on_request(
    ex: LocalExchange, client: httpx.AsyncClient
) -> None:
    for unit in ("MICROSECOND", "microsecond", "Microsecond"):
        answer = await client.get("/api/v3/time", headers={"X-MBX-TIME-UNIT": unit})
        assert in_us(answer.json()["serverTime"], ex), unit
    for headers in ({"X-MBX-TIME-UNIT": "MILLISECOND"}, {"X-MBX-TIME-UNIT": "millisecond"}, {}):
        answer = await client.get("/api/v3/time", headers=headers)
        assert abs(answer.json()["serverTime"] - ex.server_time()) < 60_000
    # a unit Binance does not know, and a look-alike that upper-cases to one
    for unit in ("NANOSECOND", "", "m\u0131crosecond", "MICROSECONDS"):  # \u0131: dotless i
        refused = await client.get("/api/v3/time", headers={b"X-MBX-TIME-UNIT": unit.encode()})
        assert (refused.status_code, refused.json()) == (400, INVALID_UNIT), unit


async def test_orders_and_their_times_in_microseconds(
    ex: LocalExchange, alice: Any, bob: Any
) -> None:
    maker = await alice.order(**LIMIT, side="SELL", quantity="0.01", price="60000")
    market = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    taken = await bob.client.post(
        f"/api/v3/order?{bob.sign_query(market)}", headers={**US, "X-MBX-APIKEY": bob.api_key}
    )
    body = taken.json()
    assert in_us(body["transactTime"], ex) and body["workingTime"] == body["transactTime"]
    query = alice.sign_query({"symbol": "BTCUSDT", "orderId": maker["orderId"]})
    status = (
        await alice.client.get(
            f"/api/v3/order?{query}", headers={**US, "X-MBX-APIKEY": alice.api_key}
        )
    ).json()
    assert status["time"] == maker["transactTime"] * 1000
    assert in_us(status["updateTime"], ex) and in_us(status["workingTime"], ex)
    klines = await bob.client.get(
        "/api/v3/klines", params={"symbol": "BTCUSDT", "interval": "1m"}, headers=US
    )
    (row,) = klines.json()
    assert row[0] % 60_000_000 == 0 and row[6] == row[0] + 60_000_000 - 1_000
    assert row[1] == "60000.00000000"  # prices are not times
    trades = await bob.client.get("/api/v3/trades", params={"symbol": "BTCUSDT"}, headers=US)
    (trade,) = trades.json()
    assert (in_us(trade["time"], ex), trade["id"]) == (True, 1)
    # startTime in microseconds selects the same trades as in milliseconds
    start_us = trade["time"]
    for start in (start_us, start_us // 1000):
        agg = await bob.client.get(
            "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "startTime": start}, headers=US
        )
        assert [(row["a"], row["T"]) for row in agg.json()] == [(1, start_us)]
    later = await bob.client.get(
        "/api/v3/aggTrades", params={"symbol": "BTCUSDT", "startTime": start_us + 1}
    )
    assert later.json() == []


async def test_timestamps_in_microseconds_with_a_fractional_recv_window(
    ex: LocalExchange, alice: Any
) -> None:
    now_us = ex.server_time() * 1000
    order = {**LIMIT, "side": "BUY", "quantity": "0.001", "price": "50000"}
    for timestamp in (now_us, now_us // 1000):  # either unit, without the header
        query = alice.sign_query({**order, "recvWindow": "5000.125"}, timestamp=timestamp)
        placed = await alice.client.post(
            f"/api/v3/order?{query}", headers={"X-MBX-APIKEY": alice.api_key}
        )
        assert placed.status_code == 200, placed.text
    stale = alice.sign_query({**order, "recvWindow": "1500.5"}, timestamp=now_us - 2_000_000)
    late = await alice.client.post(
        f"/api/v3/order?{stale}", headers={"X-MBX-APIKEY": alice.api_key}
    )
    assert late.json() == {
        "code": -1021,
        "msg": "Timestamp for this request is outside of the recvWindow.",
    }
    ahead = alice.sign_query(order, timestamp=now_us + 1_500_000)
    early = await alice.client.post(
        f"/api/v3/order?{ahead}", headers={"X-MBX-APIKEY": alice.api_key}
    )
    assert early.json()["code"] == -1021
    too_fine = alice.sign_query({**order, "recvWindow": "5000.0001"}, timestamp=now_us)
    refused = await alice.client.post(
        f"/api/v3/order?{too_fine}", headers={"X-MBX-APIKEY": alice.api_key}
    )
    assert refused.json()["code"] == -1102


def _written_in(zero: int, number: str = "1700000000000") -> str:
    return "".join(chr(zero + int(d)) for d in number)


SUPERSCRIPTS = dict(
    zip("0123456789", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079", strict=True)
)


@pytest.mark.parametrize(
    "digits",
    [
        _written_in(0x0660),  # Arabic-Indic
        _written_in(0x06F0),  # extended Arabic-Indic (Persian)
        _written_in(0xFF10),  # full-width
        "".join(SUPERSCRIPTS[d] for d in "1700000000000"),
        "1700000000000\u00b2",
    ],
    ids=["arabic-indic", "persian", "full-width", "superscripts", "trailing-square"],
)
async def test_times_and_integers_in_other_digits_are_refused(alice: Any, digits: str) -> None:
    for name in ("timestamp", "startTime", "endTime", "orderId", "limit"):
        params: dict[str, Any] = {"symbol": "BTCUSDT", name: digits}
        if name == "timestamp":
            query = alice.sign_query(params, timestamp=digits)
        else:
            query = alice.sign_query(params)
        refused = await alice.client.get(
            f"/api/v3/allOrders?{query}", headers={"X-MBX-APIKEY": alice.api_key}
        )
        assert refused.status_code == 400
        assert refused.json() == {
            "code": -1100,
            "msg": f"Illegal characters found in parameter '{name}'; legal range is "
            "'^[0-9]{1,20}$'.",
        }, name


async def test_the_websocket_api_in_microseconds(ex: LocalExchange) -> None:
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret)
    signer = Signer.from_secret(secret)

    def signed(params: dict[str, Any]) -> dict[str, Any]:
        params = {**params, "apiKey": api_key, "timestamp": ex.server_time() * 1000}
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        return {**params, "signature": signer.sign(payload)}

    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(ex.ws_api_url + "?timeUnit=SECOND"):
            pass
    assert refused.value.response.status_code == 400
    assert json.loads(refused.value.response.body or b"{}") == INVALID_UNIT
    async with websockets.connect(ex.ws_api_url + "?timeUnit=microsecond") as ws:

        async def ask(request_id: int, method: str, params: Any = None) -> Any:
            await ws.send(json.dumps({"id": request_id, "method": method, "params": params or {}}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("id") == request_id:
                    return reply
                events.append(reply["event"])

        events: list[Any] = []
        assert in_us((await ask(1, "time"))["result"]["serverTime"], ex)
        await ask(2, "userDataStream.subscribe.signature", signed({}))
        placed = await ask(3, "order.place", signed({**LIMIT, "side": "BUY", "quantity": "0.001",
                                                     "price": "50000"}))  # fmt: skip
        assert in_us(placed["result"]["transactTime"], ex)
        while len(events) < 2:  # NEW and the balance change, if not yet read
            events.append(json.loads(await ws.recv())["event"])
    report = next(e for e in events if e["e"] == "executionReport")
    assert report["T"] == report["O"] == report["W"] == placed["result"]["transactTime"]
    assert in_us(report["E"], ex)
    position = next(e for e in events if e["e"] == "outboundAccountPosition")
    assert in_us(position["E"], ex) and in_us(position["u"], ex)


async def test_streams_in_microseconds(ex: LocalExchange, alice: Any, bob: Any) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(ex.stream_url + "/ws/btcusdt@trade?timeUnit=NANO"):
            pass
    assert refused.value.response.status_code == 400
    async with (
        websockets.connect(ex.stream_url + "/ws/btcusdt@trade?timeUnit=MICROSECOND") as raw,
        websockets.connect(
            ex.stream_url + "/stream?streams=btcusdt@trade&timeUnit=microsecond"
        ) as combined,
        websockets.connect(ex.stream_url + "/ws/btcusdt@trade") as plain,
    ):
        await ex.wait_for_stream_connections(3)
        await alice.order(**LIMIT, side="SELL", quantity="0.01", price="60000")
        await bob.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
        in_raw = json.loads(await raw.recv())
        in_combined = json.loads(await combined.recv())["data"]
        in_ms = json.loads(await plain.recv())
    assert in_raw == in_combined
    assert (in_raw["T"], in_raw["E"]) == (in_ms["T"] * 1000, in_ms["E"] * 1000)
    assert (in_raw["t"], in_raw["p"]) == (in_ms["t"], in_ms["p"])  # ids and prices unchanged
