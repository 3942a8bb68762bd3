"""Typed REST answers: exact decimals from Binance's strings, and a ParseError naming the field."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tradewire.binance.answers import (
    AccountInfo,
    AccountTrade,
    ApiRestrictions,
    Candlestick,
    OrderListCancel,
    parse_cancel_open_orders,
)
from tradewire.binance.wire import OrderResponse
from tradewire.errors import ParseError

ACCOUNT = {
    "makerCommission": 15, "takerCommission": 15, "buyerCommission": 0, "sellerCommission": 0,
    "commissionRates": {
        "maker": "0.00150000", "taker": "0.00150000", "buyer": "0.00000000", "seller": "0.00000000"
    },
    "canTrade": True, "canWithdraw": True, "canDeposit": True, "brokered": False,
    "requireSelfTradePrevention": False, "preventSor": False, "updateTime": 123456789,
    "accountType": "SPOT",
    "balances": [
        {"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
        {"asset": "LTC", "free": "4763368.68006011", "locked": "0.10000000"},
    ],
    "permissions": ["SPOT"], "uid": 354937868,
}  # fmt: skip


def body(value: object) -> bytes:
    """``value`` as an answer body."""
    return json.dumps(value).encode()


def test_account_keeps_every_digit() -> None:
    account = AccountInfo.parse(body(ACCOUNT))
    assert account.balance("BTC").free == Decimal("4723846.89208129")
    assert account.balance("LTC").locked == Decimal("0.1")
    assert account.balance("DOGE").free == 0  # an asset the account never held
    assert account.commission_rates is not None
    assert account.commission_rates.maker == Decimal("0.0015")
    assert (account.can_trade, account.uid, account.permissions) == (True, 354937868, ("SPOT",))
    older = AccountInfo.from_json({k: v for k, v in ACCOUNT.items() if k != "commissionRates"})
    assert older.commission_rates is None and older.maker_commission == 15


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"canTrade": "true"}, "canTrade"),
        ({"balances": [{"asset": "BTC", "free": 1.5, "locked": "0"}]}, "free"),
        ({"balances": [{"asset": "BTC", "free": "NaN", "locked": "0"}]}, "free"),
        ({"updateTime": None}, "updateTime"),
    ],
)
def test_a_malformed_account_is_a_parse_error_naming_the_field(
    change: dict[str, object], field: str
) -> None:
    with pytest.raises(ParseError, match=field) as caught:
        AccountInfo.from_json(ACCOUNT | change)
    assert caught.value.field == field
    with pytest.raises(ParseError, match="not JSON"):
        AccountInfo.parse(b"<html>")


def test_my_trades_and_klines() -> None:
    (trade,) = AccountTrade.parse_list(
        body(
            [
                {
                    "symbol": "BNBBTC", "id": 28457, "orderId": 100234, "orderListId": -1,
                    "price": "4.00000100", "qty": "12.00000000", "quoteQty": "48.000012",
                    "commission": "10.10000000", "commissionAsset": "BNB",
                    "time": 1499865549590, "isBuyer": True, "isMaker": False, "isBestMatch": True,
                }
            ]
        )
    )  # fmt: skip
    assert (trade.id, trade.order_id, trade.quote_qty) == (28457, 100234, Decimal("48.000012"))
    assert trade.price * trade.qty == trade.quote_qty
    row = [
        1499040000000, "0.01634790", "0.80000000", "0.01575800", "0.01577100",
        "148976.11427815", 1499644799999, "2434.19055334", 308, "1756.87402397",
        "28.46694368", "0",
    ]  # fmt: skip
    (candle,) = Candlestick.parse_list(body([row]))
    assert (candle.open, candle.close) == (Decimal("0.01634790"), Decimal("0.01577100"))
    assert (candle.number_of_trades, candle.close_time) == (308, 1499644799999)
    assert candle.taker_buy_quote_asset_volume == Decimal("28.46694368")
    with pytest.raises(ParseError, match="11 columns"):
        Candlestick.parse_list(body([row[:5]]))
    with pytest.raises(ParseError, match="column 1"):
        Candlestick.parse_list(body([[row[0], 0.5, *row[2:]]]))


def test_cancel_open_orders_keeps_orders_and_order_lists_apart() -> None:
    order = {
        "symbol": "BTCUSDT", "origClientOrderId": "a", "orderId": 11, "orderListId": -1,
        "clientOrderId": "c1", "transactTime": 5, "price": "1.00", "origQty": "2",
        "executedQty": "0", "cummulativeQuoteQty": "0", "status": "CANCELED",
        "timeInForce": "GTC", "type": "LIMIT", "side": "BUY",
    }  # fmt: skip
    order_list = {
        "orderListId": 1929, "contingencyType": "OCO", "listStatusType": "ALL_DONE",
        "listOrderStatus": "ALL_DONE", "listClientOrderId": "2inzWQdDvZLHbbAmAozX2N",
        "transactionTime": 1585230948299, "symbol": "BTCUSDT",
        "orders": [{"symbol": "BTCUSDT", "orderId": 20, "clientOrderId": "CwOOIPHSmYywx6jZX77TdL"}],
        "orderReports": [order | {"orderId": 20, "orderListId": 1929}],
    }  # fmt: skip
    single, listed = parse_cancel_open_orders(body([order, order_list]))
    assert isinstance(single, OrderResponse) and single.order_id == 11
    assert isinstance(listed, OrderListCancel) and listed.contingency_type == "OCO"
    assert [r.order_id for r in listed.order_reports] == [20]
    with pytest.raises(ParseError, match="not a JSON list"):
        parse_cancel_open_orders(body({"code": 0}))


def test_api_restrictions_need_the_audit_flags() -> None:
    flags = {
        "ipRestrict": False, "createTime": 1698645219000, "enableReading": True,
        "enableWithdrawals": False, "enableSpotAndMarginTrading": True,
        "tradingAuthorityExpirationTime": 1628985600000,
    }  # fmt: skip
    restrictions = ApiRestrictions.parse(body(flags))
    assert restrictions.enable_reading and not restrictions.enable_futures  # absent: False
    assert restrictions.trading_authority_expiration_time == 1628985600000
    for missing in ("ipRestrict", "enableWithdrawals", "enableReading"):
        with pytest.raises(ParseError, match=missing):
            ApiRestrictions.from_json({k: v for k, v in flags.items() if k != missing})
    with pytest.raises(ParseError, match="enableFutures"):
        ApiRestrictions.from_json(flags | {"enableFutures": "false"})
    with pytest.raises(ParseError, match="not a JSON object"):
        ApiRestrictions.from_json([flags])
