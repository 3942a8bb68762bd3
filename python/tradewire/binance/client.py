"""``BinanceClient``: one async context manager for Binance Spot (REST, streams, WebSocket API).

Here against the local exchange; on binance.com, leave out ``rest_url`` and give your key:

>>> import asyncio
>>> from tradewire.exchange import LocalExchange
>>> async def main() -> str | None:
...     async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
...         secret = "0123456789abcdef" * 4  # an HMAC secret the exchange knows
...         api_key = ex.add_key(secret)
...         async with BinanceClient(api_key, secret, rest_url=ex.rest_url) as client:
...             order = await client.place_order(
...                 "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
...             )
...             canceled = await client.cancel_order(
...                 "BTCUSDT", client_order_id=order.client_order_id
...             )
...     return canceled.status
>>> asyncio.run(main())
'CANCELED'

The URLs are settings, so the same code runs against binance.com, Binance's testnet and the
local exchange (``tradewire.exchange.LocalExchange``); the defaults are Binance's own
(:data:`tradewire.binance.urls.BINANCE`). ``stream_url`` and ``ws_api_url`` follow ``rest_url``
when left out (:func:`tradewire.binance.urls.endpoints`): Binance's for Binance's hosts, else the
same host and port, where the local exchange serves them. REST goes over aiohttp by default;
``http_backend="httpx"``, or an ``httpx.AsyncClient`` given as ``http=``, selects httpx, and
``sender=`` takes any :class:`~tradewire.binance.transport.HttpSender`. The stream and WebSocket
API clients are made from the classes given as ``stream_client_class=`` / ``ws_api_class=``
(subclasses of :class:`StreamClient` / :class:`WsApiClient`), so a test can put its own in.
Every answer is typed: orders are :class:`OrderResponse`, the rest the values of
:mod:`tradewire.binance.answers`.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any, overload

from tradewire._core import Signer
from tradewire.binance.answers import (
    AccountInfo,
    AccountTrade,
    ApiRestrictions,
    Candlestick,
    OrderBookTicker,
    OrderCommissionRates,
    RecentTrade,
    parse_cancel_open_orders,
)
from tradewire.binance.booksync import watch_book
from tradewire.binance.clock import ServerClock
from tradewire.binance.errorlog import ErrorLog
from tradewire.binance.filters import ExchangeInfo
from tradewire.binance.ratelimit import RateLimiter
from tradewire.binance.rest import RestTransport
from tradewire.binance.streams import Reconnected, StreamClient
from tradewire.binance.urls import BINANCE, endpoints
from tradewire.binance.wire import parse_depth_snapshot, parse_order_response
from tradewire.binance.wsapi import WsApiClient
from tradewire.errors import (
    AuthenticationError,
    ExchangeUnavailable,
    InvalidOrder,
    IPBanned,
    NetworkError,
    OrderNotFound,
    OrderStatusUnknown,
    ParseError,
    RateLimitExceeded,
)
from tradewire.rules import (
    CLIENT_ORDER_ID_PATTERN,
    is_valid_client_order_id,
    new_client_order_id,
)

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping
    from pathlib import Path
    from types import TracebackType

    import aiohttp
    import httpx

    from tradewire._core import Event, OrderBook, ParamValue
    from tradewire.binance.answers import OrderListCancel
    from tradewire.binance.filters import DecimalInput, SymbolFilters
    from tradewire.binance.ratelimit import RateLimit
    from tradewire.binance.transport import HttpBackend, HttpSender
    from tradewire.binance.userdata import AccountUpdate, BalanceUpdate, ExecutionReport
    from tradewire.binance.wire import OrderResponse, PartialDepth

__all__ = ["BinanceClient", "new_client_order_id"]

_ORDER = "/api/v3/order"
# Errors after which querying the order again may give an answer.
_TRANSIENT = (NetworkError, ExchangeUnavailable, OrderStatusUnknown, RateLimitExceeded)
_ACCEPT_MARGIN_MS = 1000
"""Added to an unknown order's ``timestamp + recvWindow`` before a miss proves it never placed."""


def _still_unknown(
    client_order_id: str, cause: OrderStatusUnknown, lookups: int
) -> OrderStatusUnknown:
    """The error for giving up the lookups: the fate stays unknown, never "not placed"."""
    error = OrderStatusUnknown(
        f"order {client_order_id}: status still unknown after {lookups} lookups ({cause.msg})",
        endpoint=f"POST {_ORDER}",
    )
    error.accept_until_ms = cause.accept_until_ms
    return error


def _json(raw: bytes) -> Any:
    return json.loads(raw)


def _ids(order_id: int | None, client_order_id: str | None) -> dict[str, ParamValue]:
    if order_id is None and client_order_id is None:
        raise ValueError("give order_id or client_order_id")
    return {"orderId": order_id, "origClientOrderId": client_order_id}


class BinanceClient:
    """Binance Spot over REST, market streams and the WebSocket API, as one async context."""

    def __init__(
        self,
        api_key: str | None = None,
        secret: str | None = None,
        *,
        rest_url: str = BINANCE.rest_url,
        stream_url: str | None = None,
        ws_api_url: str | None = None,
        error_log: str | Path | ErrorLog | None = None,
        recv_window: int = 5000,
        timeout: float = 10.0,
        load_exchange_info: bool = True,
        clock_samples: int = 5,
        clock_refresh_s: float = 300.0,
        rate_limit_guard_ms: float = 250.0,
        order_query_attempts: int = 8,
        order_query_backoff_s: float = 0.05,
        stream_options: Mapping[str, Any] | None = None,
        http: httpx.AsyncClient | aiohttp.ClientSession | None = None,
        http_backend: HttpBackend | None = None,
        sender: HttpSender | None = None,
        stream_client_class: type[StreamClient] = StreamClient,
        ws_api_class: type[WsApiClient] = WsApiClient,
    ) -> None:
        if (api_key is None) != (secret is None):
            raise ValueError("give both api_key and secret, or neither")
        # The secret becomes a Signer here and is not kept anywhere else.
        self._signer = Signer.from_secret(secret) if secret is not None else None
        self._api_key = api_key
        urls = endpoints(rest_url, stream_url, ws_api_url)
        self.rest_url = urls.rest_url
        self.stream_url = urls.stream_url
        self.ws_api_url = urls.ws_api_url
        self._recv_window = recv_window
        self._load_exchange_info = load_exchange_info
        self._query_attempts = max(1, order_query_attempts)
        self._query_backoff_s = order_query_backoff_s
        self._stream_options = dict(stream_options or {})
        self.error_log = error_log if isinstance(error_log, ErrorLog) else ErrorLog(error_log)
        self.clock = ServerClock(
            self.server_time, samples=clock_samples, refresh_interval_s=clock_refresh_s
        )
        self.limiter = RateLimiter(self.clock.now_ms, guard_ms=rate_limit_guard_ms)
        self._rest = RestTransport(
            rest_url,
            api_key=api_key,
            signer=self._signer,
            clock=self.clock,
            limiter=self.limiter,
            error_log=self.error_log,
            recv_window=recv_window,
            timeout=timeout,
            http=http,
            http_backend=http_backend,
            sender=sender,
        )
        self._stream_client_class = stream_client_class
        self._ws_api_class = ws_api_class
        self._exchange_info: ExchangeInfo | None = None
        self._info_lock = asyncio.Lock()
        self._streams: StreamClient | None = None

    def __repr__(self) -> str:
        key_type = self._signer.key_type if self._signer is not None else None
        return f"BinanceClient(rest_url={self.rest_url!r}, key_type={key_type!r})"

    # --- lifecycle ------------------------------------------------------------------------------

    async def __aenter__(self) -> BinanceClient:
        """Measure the clock offset and (by default) load exchangeInfo: filters and limits."""
        try:
            await self.clock.ensure_synced()
            self.clock.start()
            if self._load_exchange_info:
                await self.exchange_info()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close streams, the clock refresh and the HTTP connections."""
        streams, self._streams = self._streams, None
        if streams is not None:
            await streams.aclose()
        await self.clock.aclose()
        await self._rest.aclose()

    # --- market data ----------------------------------------------------------------------------

    async def ping(self) -> None:
        """Check that the exchange answers (``GET /api/v3/ping``).

        Raises:
            NetworkError: no answer (refused, timed out); or the typed error of the answer.
        """
        await self._rest.request("GET", "/api/v3/ping")

    async def server_time(self) -> int:
        """The exchange's time in ms (``GET /api/v3/time``)."""
        body = _json(await self._rest.request("GET", "/api/v3/time"))
        return int(body["serverTime"])

    async def exchange_info(self, *, refresh: bool = False) -> ExchangeInfo:
        """exchangeInfo (cached): symbol filters; its rateLimits also set the limiter."""
        async with self._info_lock:
            if self._exchange_info is None or refresh:
                info = ExchangeInfo(_json(await self._rest.request("GET", "/api/v3/exchangeInfo")))
                if info.rate_limits:
                    self.limiter.set_limits_from_exchange_info(info.rate_limits)
                self._exchange_info = info
            return self._exchange_info

    async def rate_limits(self, *, symbol: str = "BTCUSDT") -> tuple[RateLimit, ...]:
        """The exchange's rate limits, now also the limiter's (a one-symbol exchangeInfo).

        ``symbol`` only keeps the answer small: the limits are the same for every symbol.
        """
        body = _json(
            await self._rest.request("GET", "/api/v3/exchangeInfo", {"symbol": symbol.upper()})
        )
        info = ExchangeInfo(body)
        if info.rate_limits:
            self.limiter.set_limits_from_exchange_info(info.rate_limits)
        return self.limiter.limits

    async def filters(self, symbol: str) -> SymbolFilters:
        """The trading filters of ``symbol`` (exchangeInfo reloaded once for a new symbol)."""
        info = await self.exchange_info()
        if symbol.upper() not in info.symbols:
            info = await self.exchange_info(refresh=True)
        return info.filters(symbol)

    async def depth_raw(self, symbol: str, limit: int = 1000) -> bytes:
        """The raw body of ``GET /api/v3/depth`` (for ``OrderBook.apply_snapshot``)."""
        return await self._rest.request(
            "GET", "/api/v3/depth", {"symbol": symbol.upper(), "limit": limit}
        )

    async def depth(self, symbol: str, limit: int = 100) -> PartialDepth:
        """An order book snapshot: ``last_update_id``, ``bids`` and ``asks`` as exact strings."""
        return parse_depth_snapshot(await self.depth_raw(symbol, limit))

    async def trades(self, symbol: str, limit: int = 500) -> list[RecentTrade]:
        """Recent trades (``GET /api/v3/trades``), oldest first."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper(), "limit": limit}
        return RecentTrade.parse_list(await self._rest.request("GET", "/api/v3/trades", params))

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        limit: int = 500,
        start_time: int | None = None,
        end_time: int | None = None,
    ) -> list[Candlestick]:
        """Candles (``GET /api/v3/klines``), oldest first, prices exact."""
        params: dict[str, ParamValue] = {
            "symbol": symbol.upper(),
            "interval": interval,
            "startTime": start_time,
            "endTime": end_time,
            "limit": limit,
        }
        return Candlestick.parse_list(await self._rest.request("GET", "/api/v3/klines", params))

    @overload
    async def book_ticker(self, symbol: str) -> OrderBookTicker: ...
    @overload
    async def book_ticker(self, symbol: None = None) -> list[OrderBookTicker]: ...
    async def book_ticker(
        self, symbol: str | None = None
    ) -> OrderBookTicker | list[OrderBookTicker]:
        """Best bid/ask of ``symbol``, or of every symbol (a list) without one."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper() if symbol else None}
        body = _json(await self._rest.request("GET", "/api/v3/ticker/bookTicker", params))
        if symbol:
            return OrderBookTicker.from_json(body)
        if not isinstance(body, list):
            raise ParseError("bookTicker answer for every symbol is not a JSON list")
        return [OrderBookTicker.from_json(row) for row in body]

    async def avg_price(self, symbol: str) -> str:
        """The current average price (the reference of PERCENT_PRICE filters), exact."""
        body = _json(await self._rest.request("GET", "/api/v3/avgPrice", {"symbol": symbol}))
        return str(body["price"])

    # --- orders ---------------------------------------------------------------------------------

    async def _order_params(
        self,
        symbol: str,
        side: str,
        order_type: str,
        quantity: DecimalInput | None,
        quote_order_qty: DecimalInput | None,
        price: DecimalInput | None,
        time_in_force: str | None,
        stop_price: DecimalInput | None,
        client_order_id: str | None,
        extra: Mapping[str, ParamValue],
    ) -> dict[str, ParamValue]:
        if quantity is None and quote_order_qty is None:
            raise InvalidOrder(
                f"{symbol}: give quantity or quote_order_qty", endpoint="local filter check"
            )
        if client_order_id is not None and not is_valid_client_order_id(client_order_id):
            raise InvalidOrder(
                f"{symbol}: client order id {client_order_id!r} is outside Binance's legal range "
                f"{CLIENT_ORDER_ID_PATTERN.pattern} (1 to 36 letters, digits, '-' and '_')",
                endpoint="local filter check",
            )
        filters = await self.filters(symbol)
        prepared = filters.prepare(
            side,
            order_type,
            quantity=quantity,
            quote_order_qty=quote_order_qty,
            price=price,
            stop_price=stop_price,
        )
        params: dict[str, ParamValue] = {
            "symbol": filters.symbol,
            "side": side.upper(),
            "type": order_type.upper(),
            "timeInForce": time_in_force,
        }
        params.update(prepared.params())
        params["newClientOrderId"] = client_order_id or new_client_order_id()
        params.update(extra)
        return params

    async def place_order(
        self,
        symbol: str,
        side: str,
        type: str,
        *,
        quantity: DecimalInput | None = None,
        quote_order_qty: DecimalInput | None = None,
        price: DecimalInput | None = None,
        time_in_force: str | None = None,
        stop_price: DecimalInput | None = None,
        client_order_id: str | None = None,
        response_type: str | None = None,
        **extra: ParamValue,
    ) -> OrderResponse:
        """Place an order, validated and rounded against the symbol's filters first.

        Returns only when the order's fate is known: if the answer is lost (5xx, -1007, a
        timeout), the order is looked up by its ``newClientOrderId`` (with backoff) and never
        sent again.

        Raises:
            InvalidOrder: the order breaks a filter (nothing was sent), or the exchange refused it.
            OrderNotFound: the answer was lost and the order is not on the exchange, looked up
                after the exchange could no longer accept the request (its timestamp plus
                recvWindow, plus a margin): not placed.
            OrderStatusUnknown: the answer was lost and the lookups kept failing: the fate is
                still unknown (reconcile later; never resend blindly).
        """
        params = await self._order_params(
            symbol,
            side,
            type,
            quantity,
            quote_order_qty,
            price,
            time_in_force,
            stop_price,
            client_order_id,
            extra,
        )
        params["newOrderRespType"] = response_type
        try:
            raw = await self._rest.request("POST", _ORDER, params, signed=True, is_order=True)
        except OrderStatusUnknown as unknown:
            cid = params["newClientOrderId"]
            assert isinstance(cid, str)
            return await self._reconcile(str(params["symbol"]), cid, unknown)
        return parse_order_response(raw)

    async def _reconcile(
        self, symbol: str, client_order_id: str, cause: OrderStatusUnknown
    ) -> OrderResponse:
        """Find out what became of an order whose answer was lost, by its client order id.

        The order is looked up (with backoff) for as long as the exchange could still accept the
        request: until its ``timestamp + recvWindow`` in exchange time, plus the clock's
        uncertainty (half the best round trip) and a margin. Only a lookup made after that and
        answered "no such order" proves it was never placed; until then the order is never
        reported as not placed, so it is never sent twice. Without a known deadline, two "no
        such order" answers are taken as proof, as before.
        """
        deadline = cause.accept_until_ms
        if deadline is not None:
            deadline += round((self.clock.rtt_ms or 0) / 2) + _ACCEPT_MARGIN_MS
        delay = self._query_backoff_s
        not_found = failures = 0
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            asked_at = self.clock.now_ms()
            try:
                return await self.get_order(symbol, client_order_id=client_order_id)
            except OrderNotFound:
                not_found += 1
                if (deadline is None and not_found >= 2) or (
                    deadline is not None and asked_at > deadline
                ):
                    break
                if deadline is not None:  # sleep no longer than until the deadline
                    delay = max(self._query_backoff_s, min(delay, (deadline - asked_at) / 1000))
            except IPBanned:
                raise _still_unknown(client_order_id, cause, not_found + failures) from cause
            except _TRANSIENT:
                failures += 1
                if failures >= self._query_attempts:
                    raise _still_unknown(client_order_id, cause, not_found + failures) from cause
        raise OrderNotFound(
            f"order {client_order_id} was not placed: its answer was lost "
            f"({cause.msg}) and {not_found} lookups found no such order, the last one after "
            "the exchange could no longer accept it",
            endpoint=f"POST {_ORDER}",
            hint="It is safe to send the order again, with the same client order id.",
        ) from cause

    async def test_order(
        self,
        symbol: str,
        side: str,
        type: str,
        *,
        quantity: DecimalInput | None = None,
        quote_order_qty: DecimalInput | None = None,
        price: DecimalInput | None = None,
        time_in_force: str | None = None,
        stop_price: DecimalInput | None = None,
        client_order_id: str | None = None,
        **extra: ParamValue,
    ) -> OrderCommissionRates | None:
        """Validate an order locally and on the exchange (``POST /api/v3/order/test``).

        Returns None when the order passed, or the commission rates it would pay if
        ``computeCommissionRates=True`` was given.
        """
        params = await self._order_params(
            symbol,
            side,
            type,
            quantity,
            quote_order_qty,
            price,
            time_in_force,
            stop_price,
            client_order_id,
            extra,
        )
        body = _json(await self._rest.request("POST", "/api/v3/order/test", params, signed=True))
        if isinstance(body, dict) and not body:
            return None
        return OrderCommissionRates.from_json(body)

    async def cancel_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderResponse:
        """Cancel an open order by exchange id or client order id."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper()}
        params.update(_ids(order_id, client_order_id))
        return parse_order_response(await self._rest.request("DELETE", _ORDER, params, signed=True))

    async def get_order(
        self, symbol: str, *, order_id: int | None = None, client_order_id: str | None = None
    ) -> OrderResponse:
        """Query one order by exchange id or client order id."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper()}
        params.update(_ids(order_id, client_order_id))
        return parse_order_response(await self._rest.request("GET", _ORDER, params, signed=True))

    async def open_orders(self, symbol: str | None = None) -> list[OrderResponse]:
        """Open orders of ``symbol`` (or of every symbol: much heavier)."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper() if symbol else None}
        rows = _json(await self._rest.request("GET", "/api/v3/openOrders", params, signed=True))
        return [parse_order_response(json.dumps(row).encode()) for row in rows]

    async def cancel_open_orders(self, symbol: str) -> list[OrderResponse | OrderListCancel]:
        """Cancel every open order of ``symbol``: one answer per canceled order or order list."""
        params: dict[str, ParamValue] = {"symbol": symbol.upper()}
        return parse_cancel_open_orders(
            await self._rest.request("DELETE", "/api/v3/openOrders", params, signed=True)
        )

    async def account(self, *, omit_zero_balances: bool = False) -> AccountInfo:
        """Balances, permissions and commission rates (``GET /api/v3/account``)."""
        params: dict[str, ParamValue] = {"omitZeroBalances": True if omit_zero_balances else None}
        return AccountInfo.parse(
            await self._rest.request("GET", "/api/v3/account", params, signed=True)
        )

    async def my_trades(
        self,
        symbol: str,
        *,
        order_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        from_id: int | None = None,
        limit: int | None = None,
    ) -> list[AccountTrade]:
        """The account's trades in ``symbol`` (``GET /api/v3/myTrades``), oldest first."""
        params: dict[str, ParamValue] = {
            "symbol": symbol.upper(),
            "orderId": order_id,
            "startTime": start_time,
            "endTime": end_time,
            "fromId": from_id,
            "limit": limit,
        }
        return AccountTrade.parse_list(
            await self._rest.request("GET", "/api/v3/myTrades", params, signed=True)
        )

    async def api_restrictions(self) -> ApiRestrictions:
        """What the API key may do (``GET /sapi/v1/account/apiRestrictions``; not on testnet)."""
        return ApiRestrictions.parse(
            await self._rest.request("GET", "/sapi/v1/account/apiRestrictions", signed=True)
        )

    # --- streams and the WebSocket API ----------------------------------------------------------

    def _stream_client(self) -> StreamClient:
        if self._streams is None:
            self._streams = self._stream_client_class(self.stream_url, **self._stream_options)
        return self._streams

    async def stream(self, *names: str) -> AsyncGenerator[Event | Reconnected, None]:
        """Parsed events of the market streams ``names`` (e.g. ``"btcusdt@trade"``).

        A :class:`Reconnected` marker comes after each reconnect (events may have been missed).
        """
        async for event in self._stream_client().events(*names):
            yield event

    async def watch_book(self, symbol: str, *, limit: int = 1000) -> AsyncIterator[OrderBook]:
        """The synced local order book of ``symbol``, after every applied update."""
        async for book in watch_book(self._stream_client(), symbol, self.depth_raw, limit=limit):
            yield book

    def ws_api(self) -> WsApiClient:
        """A WebSocket API client sharing this client's key, clock and error log (to enter)."""
        if self._api_key is None or self._signer is None:
            raise AuthenticationError(
                "the WebSocket API needs an API key and secret; the client has none",
                endpoint=self.ws_api_url,
                hint="Create BinanceClient(api_key, secret, ...) to use the WebSocket API.",
            )
        return self._ws_api_class(
            self.ws_api_url,
            self._api_key,
            self._signer,
            now_ms=self.clock.now_ms,
            recv_window=self._recv_window,
            on_error=self.error_log.ws_error,
        )

    async def user_data(self) -> AsyncIterator[ExecutionReport | BalanceUpdate | AccountUpdate]:
        """The account's order and balance updates (over the WebSocket API)."""
        async with self.ws_api() as ws:
            async for event in ws.user_data():
                yield event
