"""The Binance Spot adapter: request signing and encoding, and the wire formats.

``sign_params`` builds the exact query string that is signed and sent; ``parse_message`` and
friends turn Binance's bytes into typed, frozen events (parsed in Rust).
"""

from __future__ import annotations

from tradewire.binance.signing import sign_params, sign_ws_params, ws_api_payload
from tradewire.binance.wire import (
    AggTrade,
    ApiErrorBody,
    BookTicker,
    DepthUpdate,
    Fill,
    Kline,
    OrderResponse,
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

__all__ = [
    "AggTrade",
    "ApiErrorBody",
    "BookTicker",
    "DepthUpdate",
    "Fill",
    "Kline",
    "OrderResponse",
    "PartialDepth",
    "ServerShutdown",
    "StreamResponse",
    "Trade",
    "UnknownEvent",
    "parse_depth_snapshot",
    "parse_error_body",
    "parse_message",
    "parse_order_response",
    "sign_params",
    "sign_ws_params",
    "ws_api_payload",
]
