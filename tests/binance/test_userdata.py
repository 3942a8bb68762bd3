"""parse_user_event: Binance's user data payloads (user-data-stream.md) as typed values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tradewire.binance.userdata import (
    AccountUpdate,
    BalanceUpdate,
    ExecutionReport,
    StreamTerminated,
    UnknownUserEvent,
    parse_user_event,
)
from tradewire.errors import ParseError

# The executionReport example of user-data-stream.md (a NEW limit order).
EXECUTION_REPORT: dict[str, Any] = {
    "e": "executionReport",
    "E": 1499405658658,
    "s": "ETHBTC",
    "c": "mUvoqJxFIILMdfAW5iGSOW",
    "S": "BUY",
    "o": "LIMIT",
    "f": "GTC",
    "q": "1.00000000",
    "p": "0.10264410",
    "P": "0.00000000",
    "F": "0.00000000",
    "g": -1,
    "C": "",
    "x": "NEW",
    "X": "NEW",
    "r": "NONE",
    "i": 4293153,
    "l": "0.00000000",
    "z": "0.00000000",
    "L": "0.00000000",
    "n": "0",
    "N": None,
    "T": 1499405658657,
    "t": -1,
    "I": 8641984,
    "w": True,
    "m": False,
    "M": False,
    "O": 1499405658657,
    "Z": "0.00000000",
    "Y": "0.00000000",
    "Q": "0.00000000",
    "W": 1499405658657,
    "V": "NONE",
}


def test_a_new_order() -> None:
    update = parse_user_event(EXECUTION_REPORT)
    assert isinstance(update, ExecutionReport)
    assert (update.symbol, update.client_order_id, update.order_id) == (
        "ETHBTC",
        "mUvoqJxFIILMdfAW5iGSOW",
        4293153,
    )
    assert (update.side, update.order_type, update.status, update.execution_type) == (
        "BUY",
        "LIMIT",
        "NEW",
        "NEW",
    )
    assert update.price == Decimal("0.10264410") and str(update.price) == "0.10264410"
    assert update.quantity == Decimal("1") and update.commission_asset is None
    assert update.trade_id is None  # -1 means no trade
    assert (update.event_time, update.transaction_time) == (1499405658658, 1499405658657)


def test_a_fill_keeps_exact_amounts() -> None:
    fill = {
        **EXECUTION_REPORT,
        "x": "TRADE",
        "X": "PARTIALLY_FILLED",
        "l": "0.30000000",
        "L": "0.10264410",
        "z": "0.30000000",
        "Z": "0.03079323",
        "n": "0.00030000",
        "N": "ETH",
        "t": 12,
        "m": True,
    }
    update = parse_user_event(fill)
    assert isinstance(update, ExecutionReport)
    assert update.last_filled_qty == Decimal("0.3") and update.cumulative_filled_qty == Decimal(
        "0.3"
    )
    assert update.cumulative_quote_qty == Decimal("0.03079323")
    assert update.commission == Decimal("0.0003") and update.commission_asset == "ETH"
    assert update.trade_id == 12 and update.is_maker


def test_a_cancel_reports_the_original_client_order_id() -> None:
    cancel = {**EXECUTION_REPORT, "c": "cancelRequest1", "C": "mUvoqJxFIILMdfAW5iGSOW"}
    cancel |= {"x": "CANCELED", "X": "CANCELED"}
    update = parse_user_event(cancel)
    assert isinstance(update, ExecutionReport)
    assert update.client_order_id == "mUvoqJxFIILMdfAW5iGSOW" and update.status == "CANCELED"


def test_balance_and_account_updates() -> None:
    balance = parse_user_event(
        {
            "e": "balanceUpdate",
            "E": 1573200697110,
            "a": "BTC",
            "d": "100.00000000",
            "T": 1573200697068,
        }
    )
    assert balance == BalanceUpdate("BTC", Decimal("100"), 1573200697110, 1573200697068)
    account = parse_user_event(
        {
            "e": "outboundAccountPosition",
            "E": 1564034571105,
            "u": 1564034571073,
            "B": [{"a": "ETH", "f": "10000.000000", "l": "0.000000"}],
        }
    )
    assert isinstance(account, AccountUpdate)
    assert account.balances == {"ETH": (Decimal("10000"), Decimal("0"))}
    assert account.last_update_time == 1564034571073


def test_termination_and_unknown_events() -> None:
    assert parse_user_event({"e": "eventStreamTerminated", "E": 1728973001334}) == (
        StreamTerminated(1728973001334)
    )
    unknown = parse_user_event({"e": "externalLockUpdate", "E": 1, "a": "BTC"})
    assert isinstance(unknown, UnknownUserEvent) and unknown.event_type == "externalLockUpdate"


def test_values_are_frozen() -> None:
    update = parse_user_event({"e": "eventStreamTerminated", "E": 1})
    assert isinstance(update, StreamTerminated)
    with pytest.raises(AttributeError):
        update.event_time = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({k: v for k, v in EXECUTION_REPORT.items() if k != "i"}, "i"),
        ({**EXECUTION_REPORT, "p": "abc"}, "p"),
        ({**EXECUTION_REPORT, "q": 1.5}, "q"),
        ({**EXECUTION_REPORT, "p": "NaN"}, "p"),
        ({**EXECUTION_REPORT, "E": "1499405658658"}, "E"),
        ({"e": "balanceUpdate", "E": 1, "a": "BTC", "T": 1}, "d"),
        ({"e": "outboundAccountPosition", "E": 1, "u": 1, "B": {"a": "ETH"}}, "B"),
        ({"E": 1}, "e"),
    ],
)
def test_malformed_events_raise_parse_error_naming_the_field(
    data: dict[str, Any], field: str
) -> None:
    with pytest.raises(ParseError) as info:
        parse_user_event(data)
    assert info.value.field == field and field in str(info.value)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(ParseError, match="JSON object"):
        parse_user_event([1, 2])  # type: ignore[arg-type]
