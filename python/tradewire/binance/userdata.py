"""User data events (order updates, balance changes) as typed, exchange-neutral values.

Binance sends ``executionReport``, ``balanceUpdate``, ``outboundAccountPosition`` and
``eventStreamTerminated`` on a user data subscription (user-data-stream.md). Amounts are
``decimal.Decimal`` built from the exact strings the exchange sent; nothing goes through a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from tradewire.errors import ParseError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AccountUpdate",
    "BalanceUpdate",
    "ExecutionReport",
    "StreamTerminated",
    "UnknownUserEvent",
    "UserEvent",
    "parse_user_event",
]


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """A change of one order: placed, traded, canceled, expired or rejected (``executionReport``).

    ``client_order_id`` is the id the order was placed with, also for a cancel (Binance then puts
    the cancel request's own id in ``c`` and the order's in ``C``).
    """

    symbol: str
    client_order_id: str
    order_id: int
    side: str
    order_type: str
    status: str
    execution_type: str
    price: Decimal
    quantity: Decimal
    last_filled_qty: Decimal
    last_filled_price: Decimal
    cumulative_filled_qty: Decimal
    cumulative_quote_qty: Decimal
    commission: Decimal
    commission_asset: str | None
    trade_id: int | None
    event_time: int
    transaction_time: int
    reject_reason: str = "NONE"
    is_maker: bool = False


@dataclass(frozen=True, slots=True)
class BalanceUpdate:
    """A deposit, withdrawal or transfer changed one asset's balance by ``delta``."""

    asset: str
    delta: Decimal
    event_time: int
    clear_time: int


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """The new balances of the assets that changed: asset -> (free, locked)."""

    balances: dict[str, tuple[Decimal, Decimal]]
    event_time: int
    last_update_time: int


@dataclass(frozen=True, slots=True)
class StreamTerminated:
    """The exchange ended the subscription (``eventStreamTerminated``): subscribe again."""

    event_time: int


@dataclass(frozen=True, slots=True)
class UnknownUserEvent:
    """An event type this version does not model (kept, so new exchange events do not break)."""

    event_type: str
    data: Mapping[str, object]


UserEvent = ExecutionReport | BalanceUpdate | AccountUpdate | StreamTerminated | UnknownUserEvent


def _field(data: Mapping[str, object], key: str, event: str) -> object:
    if key not in data:
        raise ParseError(f"{event} event has no field {key!r}", field=key)
    return data[key]


def _str(data: Mapping[str, object], key: str, event: str) -> str:
    value = _field(data, key, event)
    if not isinstance(value, str):
        raise ParseError(f"{event} field {key!r} is not a string", field=key)
    return value


def _int(data: Mapping[str, object], key: str, event: str) -> int:
    value = _field(data, key, event)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{event} field {key!r} is not an integer", field=key)
    return value


def _dec(data: Mapping[str, object], key: str, event: str) -> Decimal:
    value = _field(data, key, event)
    if not isinstance(value, str):
        raise ParseError(f"{event} field {key!r} is not a decimal string", field=key)
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ParseError(f"{event} field {key!r} is not a decimal: {value!r}", field=key) from None
    if not parsed.is_finite():
        raise ParseError(f"{event} field {key!r} is not a finite decimal", field=key)
    return parsed


def _execution_report(d: Mapping[str, object]) -> ExecutionReport:
    ev = "executionReport"
    original = d.get("C")
    client_id = original if isinstance(original, str) and original else _str(d, "c", ev)
    asset = d.get("N")
    trade_id = _int(d, "t", ev)
    return ExecutionReport(
        symbol=_str(d, "s", ev),
        client_order_id=client_id,
        order_id=_int(d, "i", ev),
        side=_str(d, "S", ev),
        order_type=_str(d, "o", ev),
        status=_str(d, "X", ev),
        execution_type=_str(d, "x", ev),
        price=_dec(d, "p", ev),
        quantity=_dec(d, "q", ev),
        last_filled_qty=_dec(d, "l", ev),
        last_filled_price=_dec(d, "L", ev),
        cumulative_filled_qty=_dec(d, "z", ev),
        cumulative_quote_qty=_dec(d, "Z", ev),
        commission=_dec(d, "n", ev),
        commission_asset=asset if isinstance(asset, str) else None,
        trade_id=None if trade_id < 0 else trade_id,
        event_time=_int(d, "E", ev),
        transaction_time=_int(d, "T", ev),
        reject_reason=str(d.get("r", "NONE")),
        is_maker=d.get("m") is True,
    )


def _account_update(d: Mapping[str, object]) -> AccountUpdate:
    ev = "outboundAccountPosition"
    rows = _field(d, "B", ev)
    if not isinstance(rows, list):
        raise ParseError(f"{ev} field 'B' is not a list", field="B")
    balances: dict[str, tuple[Decimal, Decimal]] = {}
    for row in rows:
        if not isinstance(row, dict):
            raise ParseError(f"{ev} balance row is not an object", field="B")
        balances[_str(row, "a", ev)] = (_dec(row, "f", ev), _dec(row, "l", ev))
    return AccountUpdate(balances, _int(d, "E", ev), _int(d, "u", ev))


def parse_user_event(data: Mapping[str, object]) -> UserEvent:
    """Turn one user data event (the decoded JSON object) into its typed value.

    Raises:
        ParseError: the event is not an object, has no type, or a field is missing or malformed.
    """
    if not isinstance(data, dict):
        raise ParseError("a user data event is a JSON object")
    kind = data.get("e")
    if not isinstance(kind, str):
        raise ParseError("user data event has no event type 'e'", field="e")
    if kind == "executionReport":
        return _execution_report(data)
    if kind == "balanceUpdate":
        return BalanceUpdate(
            _str(data, "a", kind),
            _dec(data, "d", kind),
            _int(data, "E", kind),
            _int(data, "T", kind),
        )
    if kind == "outboundAccountPosition":
        return _account_update(data)
    if kind == "eventStreamTerminated":
        return StreamTerminated(_int(data, "E", kind))
    return UnknownUserEvent(kind, dict(data))
