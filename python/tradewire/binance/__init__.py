"""The Binance Spot adapter: the client, request signing, the wire formats, book sync.

``BinanceClient`` is what a bot uses (REST, streams, local books, the WebSocket API, user data);
its REST answers are the typed values of :mod:`tradewire.binance.answers`, and Binance's URLs are
defined once in :mod:`tradewire.binance.urls`.
``sign_params`` builds the exact query string that is signed and sent; ``parse_message`` and
friends turn Binance's bytes into typed, frozen events (parsed in Rust).
"""

from __future__ import annotations

from tradewire.binance.answers import (
    AccountInfo,
    AccountTrade,
    ApiRestrictions,
    AssetBalance,
    Candlestick,
    CommissionRates,
    MakerTakerRates,
    OrderBookTicker,
    OrderCommissionRates,
    OrderListCancel,
    RecentTrade,
)
from tradewire.binance.booksync import BookSyncStats, watch_book
from tradewire.binance.client import BinanceClient, new_client_order_id
from tradewire.binance.clock import ServerClock
from tradewire.binance.errorlog import ErrorLog
from tradewire.binance.filters import ExchangeInfo, PreparedOrder, SymbolFilters
from tradewire.binance.ratelimit import RateLimit, RateLimiter, request_weight
from tradewire.binance.signing import sign_params, sign_ws_params, ws_api_payload
from tradewire.binance.streams import Reconnected, StreamClient, StreamOverflow, StreamStats
from tradewire.binance.transport import HttpAnswer, HttpSender
from tradewire.binance.urls import BINANCE, TESTNET, Endpoints, endpoints
from tradewire.binance.userdata import (
    AccountUpdate,
    BalanceUpdate,
    ExecutionReport,
    StreamTerminated,
    UnknownUserEvent,
    UserEvent,
    parse_user_event,
)
from tradewire.binance.wire import (
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
from tradewire.binance.wsapi import WsApiClient

__all__ = [
    "BINANCE",
    "TESTNET",
    "AccountInfo",
    "AccountTrade",
    "AccountUpdate",
    "AggTrade",
    "ApiErrorBody",
    "ApiRestrictions",
    "AssetBalance",
    "BalanceUpdate",
    "BinanceClient",
    "BookSyncStats",
    "BookTicker",
    "Candlestick",
    "CommissionRates",
    "DepthUpdate",
    "Endpoints",
    "ErrorLog",
    "ExchangeInfo",
    "ExecutionReport",
    "HttpAnswer",
    "HttpSender",
    "Kline",
    "MakerTakerRates",
    "OrderBookTicker",
    "OrderCommissionRates",
    "OrderFill",
    "OrderListCancel",
    "OrderResponse",
    "PartialDepth",
    "PreparedOrder",
    "RateLimit",
    "RateLimiter",
    "RecentTrade",
    "Reconnected",
    "ServerClock",
    "ServerShutdown",
    "StreamClient",
    "StreamOverflow",
    "StreamResponse",
    "StreamStats",
    "StreamTerminated",
    "SymbolFilters",
    "Trade",
    "UnknownEvent",
    "UnknownUserEvent",
    "UserEvent",
    "WsApiClient",
    "endpoints",
    "new_client_order_id",
    "parse_depth_snapshot",
    "parse_error_body",
    "parse_message",
    "parse_order_response",
    "parse_user_event",
    "request_weight",
    "sign_params",
    "sign_ws_params",
    "watch_book",
    "ws_api_payload",
]
