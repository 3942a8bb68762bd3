"""Binance wire formats, parsed in Rust into frozen, typed objects.

Money fields keep the exact decimal string the exchange sent (``trade.price == "65000.01000000"``)
and give a float on request (``trade.price_float``), for analytics only.
"""

from __future__ import annotations

from tradewire._core import (
    AggTrade,
    ApiErrorBody,
    BookTicker,
    DepthUpdate,
    Kline,
    OrderFill,
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
    "Kline",
    "OrderFill",
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
]
