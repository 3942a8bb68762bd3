"""Binance wire formats: real recorded traffic and the docs' examples parse into typed events."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tradewire import ParseError
from tradewire.binance import (
    AggTrade,
    BookTicker,
    DepthUpdate,
    Kline,
    PartialDepth,
    ServerShutdown,
    StreamResponse,
    Trade,
    UnknownEvent,
    parse_depth_snapshot,
    parse_error_body,
    parse_message,
    parse_order_response,
)

if TYPE_CHECKING:
    from conftest import Capture


def test_every_recorded_message_parses_and_keeps_exact_strings(capture: Capture) -> None:
    kinds: dict[type, int] = {}
    for raw in capture.messages:
        event = parse_message(raw)
        wrapped = json.loads(raw)
        data = wrapped["data"]
        assert event.stream == wrapped["stream"]
        kinds[type(event)] = kinds.get(type(event), 0) + 1
        if isinstance(event, DepthUpdate):
            assert (event.symbol, event.first_update_id, event.final_update_id) == (
                data["s"],
                data["U"],
                data["u"],
            )
            assert event.bids == [tuple(level) for level in data["b"]]
            assert event.asks == [tuple(level) for level in data["a"]]
            assert event.bids_float == [(float(p), float(q)) for p, q in data["b"]]
        elif isinstance(event, BookTicker):
            assert (event.bid_price, event.bid_qty, event.ask_price, event.ask_qty) == (
                data["b"],
                data["B"],
                data["a"],
                data["A"],
            )
            assert event.update_id == data["u"] and event.bid_price_float == float(data["b"])
        elif isinstance(event, AggTrade):
            assert (event.price, event.quantity, event.agg_trade_id) == (
                data["p"],
                data["q"],
                data["a"],
            )
            assert event.is_buyer_maker is data["m"]
        elif isinstance(event, Kline):
            k = data["k"]
            assert (event.interval, event.open, event.close, event.trade_count) == (
                k["i"],
                k["o"],
                k["c"],
                k["n"],
            )
            assert event.is_closed is k["x"] and event.high_float == float(k["h"])
        else:
            pytest.fail(f"unexpected {event!r}")
    assert set(kinds) >= {DepthUpdate, BookTicker, AggTrade, Kline}


def test_snapshots_parse(capture: Capture) -> None:
    for snapshot in capture.snapshots.values():
        depth = parse_depth_snapshot(snapshot)
        body = json.loads(snapshot)
        assert depth.last_update_id == body["lastUpdateId"]
        assert depth.bids == [tuple(level[:2]) for level in body["bids"]]
        assert isinstance(depth, PartialDepth)


# Examples from Binance's web-socket-streams.md.
TRADE = (
    b'{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100",'
    b'"T":1672515782136,"m":true,"M":true}'
)
PARTIAL = b'{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}'
RAW_BOOK_TICKER = (
    b'{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000",'
    b'"a":"25.36520000","A":"40.66000000"}'
)


def test_docs_examples() -> None:
    trade = parse_message(TRADE)
    assert isinstance(trade, Trade) and trade.stream is None
    assert (trade.price, trade.quantity, trade.trade_id, trade.is_buyer_maker) == (
        "0.001",
        "100",
        12345,
        True,
    )
    assert trade.price_float == 0.001
    assert "BNBBTC" in repr(trade)
    assert parse_message(TRADE) == trade
    depth5 = parse_message(b'{"stream":"bnbbtc@depth5","data":' + PARTIAL + b"}")
    assert isinstance(depth5, PartialDepth) and depth5.stream == "bnbbtc@depth5"
    assert depth5.asks == [("0.0026", "100")]
    ticker = parse_message(RAW_BOOK_TICKER)
    assert isinstance(ticker, BookTicker) and ticker.ask_qty == "40.66000000"


def test_control_messages() -> None:
    ok = parse_message(b'{"result":null,"id":312}')
    assert isinstance(ok, StreamResponse) and (ok.id, ok.result, ok.error_code) == (
        "312",
        "null",
        None,
    )
    listed = parse_message(b'{"result":["btcusdt@depth"],"id":"a"}')
    assert isinstance(listed, StreamResponse) and json.loads(listed.result or "") == [
        "btcusdt@depth"
    ]
    err = parse_message(b'{"error":{"code":2,"msg":"Invalid request"},"id":1}')
    assert isinstance(err, StreamResponse) and (err.error_code, err.error_msg) == (
        2,
        "Invalid request",
    )
    shutdown = parse_message(b'{"e":"serverShutdown","E":1700000000000}')
    assert isinstance(shutdown, ServerShutdown) and shutdown.event_time == 1700000000000
    future = parse_message(b'{"e":"someNewEvent","E":1,"x":[1,2,{"y":null}]}')
    assert isinstance(future, UnknownEvent) and future.event_type == "someNewEvent"
    assert future.raw.startswith(b'{"e":"someNewEvent"')


def test_error_bodies() -> None:
    body = parse_error_body(b'{"code":-1121,"msg":"Invalid symbol."}')
    assert (body.code, body.msg) == (-1121, "Invalid symbol.")
    escaped = parse_error_body(b'{"msg":"Filter failure: \\"LOT_SIZE\\"","code":-1013}')
    assert escaped.msg == 'Filter failure: "LOT_SIZE"'
    with pytest.raises(ParseError, match="code"):
        parse_error_body(b'{"msg":"x"}')


# The FULL response example from Binance's rest-api.md (POST /api/v3/order).
FULL = b"""{
  "symbol": "BTCUSDT",
  "orderId": 28,
  "orderListId": -1,
  "clientOrderId": "6gCrw2kRUAF9CvJDGP16IP",
  "transactTime": 1507725176595,
  "price": "0.00000000",
  "origQty": "10.00000000",
  "executedQty": "10.00000000",
  "origQuoteOrderQty": "0.000000",
  "cummulativeQuoteQty": "10.00000000",
  "status": "FILLED",
  "timeInForce": "GTC",
  "type": "MARKET",
  "side": "SELL",
  "workingTime": 1507725176595,
  "selfTradePreventionMode": "NONE",
  "fills": [
    {"price": "4000.00000000", "qty": "1.00000000", "commission": "4.00000000",
     "commissionAsset": "USDT", "tradeId": 56},
    {"price": "3999.00000000", "qty": "5.00000000", "commission": "19.99500000",
     "commissionAsset": "USDT", "tradeId": 57}
  ]
}"""

ACK = (
    b'{"symbol":"BTCUSDT","orderId":28,"orderListId":-1,'
    b'"clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595}'
)


def test_order_responses() -> None:
    full = parse_order_response(FULL)
    assert (full.symbol, full.order_id, full.status, full.side, full.order_type) == (
        "BTCUSDT",
        28,
        "FILLED",
        "SELL",
        "MARKET",
    )
    assert full.executed_qty == "10.00000000" and full.executed_qty_float == 10.0
    assert [(f.price, f.qty, f.commission, f.trade_id) for f in full.fills] == [
        ("4000.00000000", "1.00000000", "4.00000000", 56),
        ("3999.00000000", "5.00000000", "19.99500000", 57),
    ]
    assert full.orig_client_order_id is None
    canceled = parse_order_response(
        ACK[:-1] + b',"origClientOrderId":"myOrder1","status":"CANCELED"}'
    )
    assert canceled.orig_client_order_id == "myOrder1" and canceled.status == "CANCELED"
    ack = parse_order_response(ACK)
    assert ack.status is None and ack.fills == [] and ack.transact_time == 1507725176595
    with pytest.raises(ParseError, match="error body"):
        parse_order_response(b'{"code":-2010,"msg":"Account has insufficient balance."}')


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (TRADE.replace(b'"p":"0.001"', b'"p":0.001'), "p"),
        (TRADE.replace(b'"t":12345', b'"t":"12345"'), "t"),
        (TRADE.replace(b'"m":true', b'"m":1'), "m"),
        (TRADE.replace(b',"q":"100"', b""), "q"),
        (TRADE[:40], "s"),  # truncated inside the symbol string
        (b'{"stream":"x","data":' + TRADE.replace(b'"p":"0.001"', b'"p":"1e3"') + b"}", "p"),
        (b"[1,2]", ""),
        (b'{"x":1}', "e"),
    ],
)
def test_errors_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_message(raw)
    assert info.value.field == field
    assert isinstance(info.value.offset, int)
    assert isinstance(info.value, ValueError)
