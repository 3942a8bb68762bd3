"""A webhook body into a signal: JSON with exact numbers, each field checked and named.

The shape follows TradingView alerts (docs/signals.md)::

    {"bot": "tv1", "token": "...", "action": "buy", "symbol": "{{ticker}}",
     "quantity": "0.001", "timestamp": "{{timenow}}", "nonce": "{{timenow}}-buy"}

Amounts may be JSON strings or numbers (``{{close}}`` unquoted): either way the Decimal is read
from the text as sent, never through a float. A timestamp is ISO 8601 with its offset
(``{{timenow}}``: ``2026-11-30T23:10:00Z``) or a Unix time in seconds or milliseconds. Fields
the bot does not use (``exchange``, ``interval``...) are ignored, as other signal bots do.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from tradewire.bots.signal import ACTIONS, Action, Signal
from tradewire.errors import SignalRefused

__all__ = ["MAX_NONCE_LENGTH", "bot_name", "parse_timestamp", "read_fields", "signal_from"]

MAX_NONCE_LENGTH = 128
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_NONCE = re.compile(rf"[\x21-\x7e]{{1,{MAX_NONCE_LENGTH}}}")
_SYMBOL = re.compile(r"[A-Za-z0-9]{2,30}")
_SECONDS_UNTIL = 100_000_000_000  # a Unix time below this is in seconds (until year 5138)


def _bad(reason: str, message: str) -> SignalRefused:
    return SignalRefused(400, reason, message)


def _no_constant(name: str) -> Any:
    raise _bad("bad_json", f"{name} is not a number")


def read_fields(body: bytes) -> dict[str, Any]:
    """The body's JSON object (numbers as exact Decimals), or 400 saying what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("bad_encoding", "the body is not UTF-8") from None
    if not text.strip():
        raise _bad("empty", "the body is empty: send the signal as a JSON object")
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise _bad(
            "bad_json", f"the body is not JSON: {e.msg} at line {e.lineno} column {e.colno}"
        ) from None
    except RecursionError:
        raise _bad("bad_json", "the body nests too deep") from None
    if not isinstance(data, dict):
        raise _bad("not_an_object", "the body must be a JSON object ({...})")
    return data


def _text(fields: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _bad(f"bad_{name}", f"{name} must be a string matching {pattern.pattern}")
    return value


def _amount(fields: dict[str, Any], name: str) -> Decimal | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _bad(f"bad_{name}", f"{name} must be a decimal number, as a string or a number")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise _bad(f"bad_{name}", f"{name} is not a decimal number") from None
    if not amount.is_finite() or amount <= 0:
        raise _bad(f"bad_{name}", f"{name} must be a positive decimal number")
    if amount.adjusted() > 15 or amount.as_tuple().exponent < -18:  # type: ignore[operator]
        raise _bad(
            f"bad_{name}", f"{name} has too many digits (at most 16 before the point, 18 after)"
        )
    return amount


def parse_timestamp(value: object) -> int:
    """A signal's timestamp in ms: ISO 8601 with an offset, or Unix seconds or milliseconds.

    >>> parse_timestamp("2026-11-30T23:10:00Z")
    1796080200000
    >>> parse_timestamp(1796080200)
    1796080200000

    Raises:
        SignalRefused: 400 ``bad_timestamp``.
    """
    if isinstance(value, str) and re.fullmatch(r"\d{1,16}", value.strip()):
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise _bad("bad_timestamp", "timestamp must be positive")
        return value * 1000 if value < _SECONDS_UNTIL else value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            return round(when.timestamp() * 1000)
        if when is not None:
            raise _bad("bad_timestamp", "timestamp needs its UTC offset (e.g. a final Z)")
    raise _bad(
        "bad_timestamp",
        "timestamp must be ISO 8601 with an offset ({{timenow}}) or Unix seconds or milliseconds",
    )


def signal_from(fields: dict[str, Any], bot: str) -> Signal:
    """The signal the fields describe, for ``bot``, or 400 naming the field that is wrong."""
    action = fields.get("action")
    if isinstance(action, str):
        action = action.strip().lower()
    if action not in ACTIONS:
        raise _bad("bad_action", f"action must be one of {', '.join(ACTIONS)}")
    checked: Action = action
    if "timestamp" not in fields:
        raise _bad("no_timestamp", "timestamp is missing (replay protection needs it)")
    timestamp_ms = parse_timestamp(fields["timestamp"])
    nonce = _text(fields, "nonce", _NONCE)
    if nonce is None:
        raise _bad("no_nonce", "nonce is missing (a string used once, e.g. {{timenow}}-buy)")
    symbol = _text(fields, "symbol", _SYMBOL)
    quantity = _amount(fields, "quantity")
    quote_amount = _amount(fields, "quote_amount")
    price = _amount(fields, "price")
    if checked in ("buy", "sell"):
        if (quantity is None) == (quote_amount is None):
            raise _bad("bad_amount", f"a {checked} needs one of quantity and quote_amount")
    elif quantity is not None or quote_amount is not None or price is not None:
        raise _bad("bad_amount", f"a {checked} takes no quantity, quote_amount or price")
    return Signal(
        bot=bot,
        action=checked,
        nonce=nonce,
        timestamp_ms=timestamp_ms,
        symbol=None if symbol is None else symbol.upper(),
        quantity=quantity,
        quote_amount=quote_amount,
        price=price,
    )


def bot_name(fields: dict[str, Any], from_path: str | None) -> str:
    """The bot a call is for: the URL's ``/signals/{bot}`` or the body's ``bot`` (both: equal)."""
    named = fields.get("bot")
    if named is not None and (not isinstance(named, str) or not _NAME.fullmatch(named)):
        raise _bad("bad_bot", f"bot must be a name matching {_NAME.pattern}")
    if from_path is not None and named is not None and named != from_path:
        raise _bad("bot_mismatch", "the body names another bot than the URL")
    bot = from_path if from_path is not None else named
    if bot is None:
        raise _bad("no_bot", "bot is missing: name the bot in the body or post to /signals/{bot}")
    return bot
