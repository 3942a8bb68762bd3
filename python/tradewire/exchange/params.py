"""Request parameters: parsed from the raw query and body, read with Binance's validation errors."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import parse_amount
from tradewire.exchange.rejections import illegal_chars, mandatory
from tradewire.exchange.timeunit import is_microseconds

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = ["INTEGER_RANGE", "Params", "parse_form", "parse_integer"]

SIGNATURE_PARAM = "signature"
INTEGER_RANGE = "^[0-9]{1,20}$"
_INTEGER = re.compile(r"[0-9]{1,20}")  # matched against the whole value, ASCII digits only
_LONG_MAX = 2**63 - 1
# rest-api.md: "Timestamp parameters (e.g. startTime, endTime, timestamp) can be passed in
# milliseconds or microseconds"; the handlers compare them with millisecond times.
_TIME_RANGE_PARAMS = frozenset({"startTime", "endTime"})


def parse_integer(name: str, value: str) -> int:
    """An integer parameter: ASCII digits only (-1100), at most a signed 64-bit long (-1108)."""
    if _INTEGER.fullmatch(value) is None:
        raise illegal_chars(name, INTEGER_RANGE)
    number = int(value)
    if number > _LONG_MAX:
        raise ExchangeRejection(-1108, f"Parameter '{name}' overflowed.")
    return number


def parse_form(raw: str) -> dict[str, str]:
    """Parse ``a=1&b=2`` (percent-decoded, ``+`` as space); a repeated name is -1101."""
    out: dict[str, str] = {}
    if not raw:
        return out
    for part in raw.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name in out:
            raise ExchangeRejection(-1101, "Duplicate values for a parameter detected.")
        out[name] = unquote_plus(value)
    return out


class Params:
    """The parameters of one request; remembers which were read, to report unread ones (-1104)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.read: set[str] = set()

    def get(self, name: str) -> str | None:
        """The raw value, or None if absent or empty."""
        self.read.add(name)
        value = self.values.get(name)
        return value if value else None

    def require(self, name: str) -> str:
        """The raw value, or -1102 if it is missing or empty."""
        value = self.get(name)
        if value is None:
            raise mandatory(name)
        return value

    def symbol(self, name: str = "symbol") -> str:
        """A symbol name (upper-cased, as Binance accepts either case)."""
        return self.require(name).upper()

    def decimal(self, name: str) -> Decimal | None:
        """A decimal parameter, or -1100 when it has characters outside Binance's legal range."""
        value = self.get(name)
        if value is None:
            return None
        parsed = parse_amount(value)
        if parsed is None:
            raise illegal_chars(name)
        return parsed

    def integer(self, name: str, low: int | None = None, high: int | None = None) -> int | None:
        """An integer parameter: -1100 if not ASCII digits, -1130 outside [low, high]."""
        value = self.get(name)
        if value is None:
            return None
        number = parse_integer(name, value)
        if name in _TIME_RANGE_PARAMS and is_microseconds(number):
            # to ms, keeping the range's edge inside it: a start rounds up, an end down
            number = -(-number // 1000) if name == "startTime" else number // 1000
        if (low is not None and number < low) or (high is not None and number > high):
            raise ExchangeRejection(-1130, f"Data sent for parameter '{name}' is not valid.")
        return number

    def finish(self, extra: tuple[str, ...] = ()) -> None:
        """-1104 if parameters were sent that this endpoint never read.

        Every endpoint ends with this (the REST and WebSocket-API front ends call it after each
        handler, and handlers that change state call it before they do): a parameter nobody read
        would otherwise let the same signed bytes be re-split into a request that means something
        else.
        """
        self.read.update(extra)
        unread = set(self.values) - self.read - {SIGNATURE_PARAM}
        if unread:
            sent = len(self.values) - (SIGNATURE_PARAM in self.values)
            raise ExchangeRejection(
                -1104,
                f"Not all sent parameters were read; read '{sent - len(unread)}' parameter(s) "
                f"but was sent '{sent}'.",
            )
