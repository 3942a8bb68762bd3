"""Time units: milliseconds by default, microseconds on request, as Binance serves them.

rest-api.md, "General API Information": "All time and timestamp related fields in the JSON
responses are in milliseconds by default. To receive the information in microseconds, please add
the header X-MBX-TIME-UNIT:MICROSECOND or X-MBX-TIME-UNIT:microsecond." The WebSocket API and the
streams take ``timeUnit=`` in the connection URL (CHANGELOG 2024-12-09; user-data-stream.md:
"/ws/<listenKey>?timeUnit=MICROSECOND"). "Timestamp parameters (e.g. startTime, endTime,
timestamp) can be passed in milliseconds or microseconds", whatever the unit of the answers.

The exchange keeps time in milliseconds; an answer in microseconds carries each time times 1000.
"""

from __future__ import annotations

from typing import TypeVar, cast

from tradewire.errors import ExchangeRejection

__all__ = [
    "MICROSECOND",
    "MILLISECOND",
    "event_in_unit",
    "in_unit",
    "is_microseconds",
    "read_time_unit",
]

MILLISECOND = 1
MICROSECOND = 1000
MICROSECONDS_FROM = 10**15
"""A timestamp parameter this large is in microseconds (2001-09-09 in µs, year 33658 in ms)."""

Body = TypeVar("Body")

_UNITS = {"MILLISECOND": MILLISECOND, "MICROSECOND": MICROSECOND}

# Time fields of REST and WebSocket-API answers (rest-api.md, web-socket-api.md); ``T`` is the
# time of an aggTrades row.
_ANSWER_TIMES = frozenset(
    {
        "serverTime",
        "time",
        "updateTime",
        "transactTime",
        "workingTime",
        "openTime",
        "closeTime",
        "createTime",
        "T",
        "authorizedSince",
        "connectedSince",
        "retryAfter",
        "tradingAuthorityExpirationTime",
    }
)
# Time fields of stream and user data events besides ``E``, by event type
# (web-socket-streams.md, user-data-stream.md).
_EVENT_TIMES: dict[str, frozenset[str]] = {
    "trade": frozenset({"T"}),
    "aggTrade": frozenset({"T"}),
    "24hrTicker": frozenset({"O", "C"}),
    "24hrMiniTicker": frozenset({"O", "C"}),
    "1hTicker": frozenset({"O", "C"}),
    "4hTicker": frozenset({"O", "C"}),
    "1dTicker": frozenset({"O", "C"}),
    "executionReport": frozenset({"T", "O", "W", "D"}),
    "outboundAccountPosition": frozenset({"u"}),
    "balanceUpdate": frozenset({"T"}),
    "listStatus": frozenset({"T"}),
    "externalLockUpdate": frozenset({"T"}),
}
_KLINE_TIMES = frozenset({"t", "T"})
_KLINE_ROW = 12  # a klines row: open time at 0, close time at 6


def read_time_unit(value: str | None) -> int:
    """The scale of a requested unit: 1 for milliseconds (also when absent), 1000 for µs.

    Binance lists ``MILLISECOND``, ``millisecond``, ``MICROSECOND`` and ``microsecond``; any ASCII
    spelling of the two is taken. Anything else is errors.md's -1194 INVALID_TIME_UNIT.
    """
    if value is None:
        return MILLISECOND
    # ASCII only: a dotless i ("\u0131") would upper-case to an I
    scale = _UNITS.get(value.upper()) if value.isascii() else None
    if scale is None:
        raise ExchangeRejection(
            -1194, "Invalid value for time unit; expected either MICROSECOND or MILLISECOND."
        )
    return scale


def is_microseconds(timestamp: int) -> bool:
    """Whether a timestamp parameter is in microseconds rather than milliseconds."""
    return timestamp >= MICROSECONDS_FROM


def _time(value: object, scale: int) -> object:
    """A time field in the answer's unit (-1 and other negatives mean "none" and stay)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value * scale
    return value


def in_unit(body: Body, scale: int) -> Body:
    """A REST or WebSocket-API answer with its time fields in the unit of ``scale``."""
    return body if scale == MILLISECOND else cast("Body", _answer_in_unit(body, scale))


def _answer_in_unit(body: object, scale: int) -> object:
    if isinstance(body, dict):
        return {
            k: _time(v, scale) if k in _ANSWER_TIMES else _answer_in_unit(v, scale)
            for k, v in body.items()
        }
    if isinstance(body, list):
        if len(body) == _KLINE_ROW and isinstance(body[0], int) and isinstance(body[6], int):
            row = list(body)
            row[0], row[6] = _time(body[0], scale), _time(body[6], scale)
            return row
        return [_answer_in_unit(item, scale) for item in body]
    return body


def event_in_unit(event: Body, scale: int) -> Body:
    """A stream or user data event (or a list of them) with its times in the unit of ``scale``."""
    return event if scale == MILLISECOND else cast("Body", _event_in_unit(event, scale))


def _event_in_unit(event: object, scale: int) -> object:
    if isinstance(event, list):
        return [_event_in_unit(item, scale) for item in event]
    if not isinstance(event, dict):
        return event
    kind = event.get("e")
    times = _EVENT_TIMES.get(kind, frozenset()) if isinstance(kind, str) else frozenset()
    out = {k: _time(v, scale) if k == "E" or k in times else v for k, v in event.items()}
    kline = out.get("k")
    if kind == "kline" and isinstance(kline, dict):
        out["k"] = {k: _time(v, scale) if k in _KLINE_TIMES else v for k, v in kline.items()}
    return out
