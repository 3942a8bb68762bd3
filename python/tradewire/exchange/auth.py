"""Signed-request checks as Binance makes them: key, IP, permission, signature, timestamp."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange.amounts import parse_amount
from tradewire.exchange.params import parse_integer
from tradewire.exchange.rejections import mandatory
from tradewire.exchange.timeunit import is_microseconds

if TYPE_CHECKING:
    from tradewire.exchange.keys import ApiKey, KeyRegistry

__all__ = ["check_key", "check_signature", "check_timestamp"]

_API_KEY = re.compile(r"^[A-Za-z0-9]{64}$")
MAX_RECV_WINDOW = Decimal(60000)
DEFAULT_RECV_WINDOW = Decimal(5000)


def _rejected_key() -> ExchangeRejection:
    return ExchangeRejection(-2015, "Invalid API-key, IP, or permissions for action.", 401)


def check_key(
    registry: KeyRegistry, api_key: str | None, ip: str, permission: str | None
) -> ApiKey:
    """The key record, or -2014 (malformed or missing) or -2015 (unknown, IP or permission)."""
    if not api_key or not _API_KEY.match(api_key):
        raise ExchangeRejection(-2014, "API-key format invalid.", 401)
    key = registry.get(api_key)
    if key is None:
        raise _rejected_key()
    if key.ip_whitelist is not None and ip not in key.ip_whitelist:
        raise _rejected_key()
    if permission is not None and permission not in key.permissions:
        raise _rejected_key()
    return key


def check_signature(key: ApiKey, payload: bytes, signature: str | None) -> None:
    """-1022 unless ``signature`` signs exactly ``payload`` with ``key``."""
    if not signature:
        raise mandatory("signature")
    try:
        valid = key.verifier.verify(payload, signature)
    except ValueError:
        valid = False
    if not valid:
        raise ExchangeRejection(-1022, "Signature for this request is not valid.")


def check_timestamp(timestamp: str | None, recv_window: str | None, server_ms: int) -> None:
    """-1021 for a request from 1000 ms ahead of the server or older than recvWindow.

    rest-api.md, "Timing security": ``timestamp`` is "the current timestamp either in
    milliseconds or microseconds"; ``recvWindow`` "may only be specified in milliseconds" and
    "supports up to three decimal places of precision (e.g., 6000.346) so that microseconds may
    be specified". The comparison is made in microseconds.
    """
    if not timestamp:
        raise mandatory("timestamp")
    sent = parse_integer("timestamp", timestamp)  # ASCII digits only: never int("²") or 5000 digits
    sent_us = sent if is_microseconds(sent) else sent * 1000
    window = DEFAULT_RECV_WINDOW
    if recv_window is not None:
        parsed = parse_amount(recv_window)
        if parsed is None or parsed <= 0 or parsed.as_tuple().exponent < -3:  # type: ignore[operator]
            raise mandatory("recvWindow")
        window = parsed
        if window > MAX_RECV_WINDOW:
            raise ExchangeRejection(-1131, "recvWindow must be less than 60000")
    server_us = server_ms * 1000
    if sent_us >= server_us + 1_000_000:
        raise ExchangeRejection(
            -1021, "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if server_us - sent_us > window * 1000:
        raise ExchangeRejection(-1021, "Timestamp for this request is outside of the recvWindow.")
