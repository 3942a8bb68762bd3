"""Binance's WebSocket API (``/ws-api/v3``): signed requests matched by id, and user data.

One connection carries every request; each gets a unique id and its answer is matched back by
that id. Signed requests follow web-socket-api.md: every parameter but ``signature`` (``apiKey``
and ``timestamp`` included), sorted by name and joined raw, is signed, and the signature travels
as a plain JSON string. Errors become the typed exceptions of :mod:`tradewire.errors`. The
connection is re-opened after a drop; a request in flight when it drops fails (an order with
:class:`~tradewire.errors.OrderStatusUnknown`: reconcile it, never resend it blind).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import time
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import websockets
from websockets.asyncio.client import connect
from websockets.protocol import State

from tradewire._core import ExactDecimal
from tradewire.binance.answers import AccountInfo
from tradewire.binance.signing import sign_ws_params
from tradewire.binance.userdata import (
    AccountUpdate,
    BalanceUpdate,
    ExecutionReport,
    StreamTerminated,
    parse_user_event,
)
from tradewire.binance.wire import OrderResponse, parse_order_response
from tradewire.errors import (
    APIError,
    IPBanned,
    NetworkError,
    OrderStatusUnknown,
    ParseError,
    error_from_response,
)
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable
    from types import TracebackType

    from websockets.asyncio.client import ClientConnection

    from tradewire._core import ParamValue, Signer

__all__ = ["WsApiClient"]

log = logging.getLogger(__name__)

_ORDER_METHODS = frozenset({"order.place", "order.cancel", "openOrders.cancelAll"})
_RECONNECTED = object()  # put in the user data queue when a new connection replaced the old one
_SECRET_PARAMS = frozenset({"signature", "apiKey"})


def _wire_value(value: object) -> ParamValue:
    """A parameter as it is both sent and signed: exact decimals as their plain strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, ExactDecimal):
        return str(value)
    if isinstance(value, float):
        raise TypeError("floats are refused as request parameters: pass a decimal string")
    if isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"unsupported parameter type {type(value).__name__}")


class WsApiClient:
    """A Binance WebSocket API session: orders, queries and the user data stream.

    Use as ``async with WsApiClient(url, api_key, signer, now_ms=clock) as api:``.

    Args:
        ws_api_url: e.g. ``wss://ws-api.binance.com:443/ws-api/v3``.
        api_key: The API key (sent as ``apiKey``; it is not the secret).
        signer: Signs requests (HMAC, Ed25519 or RSA).
        now_ms: The exchange's time in ms (local clock plus the measured offset).
        recv_window: ``recvWindow`` sent with signed requests.
        on_error: Called with each API error and its context (method, params without signature
            or key, latency), e.g. to append it to an error log.
        request_timeout: Seconds to wait for an answer.
    """

    def __init__(
        self,
        ws_api_url: str,
        api_key: str,
        signer: Signer,
        *,
        now_ms: Callable[[], int],
        recv_window: int = 5000,
        on_error: Callable[[APIError, dict[str, object]], None] | None = None,
        request_timeout: float = 10.0,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 30.0,
    ) -> None:
        self.url = ws_api_url
        self._api_key = api_key
        self._signer = signer
        self._now_ms = now_ms
        self.recv_window = recv_window
        self._on_error = on_error
        self.request_timeout = request_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self._rate_limits: dict[tuple[object, object, object], dict[str, Any]] = {}
        self.reconnects = 0
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[asyncio.Future[dict[str, Any]], str]] = {}
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._user_events: asyncio.Queue[object] | None = None
        self._subscriptions: set[int] = set()
        self._generation = 0  # connections opened so far

    def __repr__(self) -> str:
        return f"WsApiClient({self.url!r}, connected={self._connected.is_set()})"

    @property
    def rate_limits(self) -> list[dict[str, Any]]:
        """The latest ``rateLimits`` entry of each kind the exchange reported (usage and limit)."""
        return list(self._rate_limits.values())

    # --- lifecycle -----------------------------------------------------------------------------

    async def __aenter__(self) -> WsApiClient:
        self._closing = False
        first = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._run(first), name=f"tradewire-wsapi {self.url}")
        try:
            await first
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
        """Close the connection; pending requests fail with NetworkError."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._fail_pending("the WebSocket API client was closed")
        if self._user_events is not None:
            self._user_events.put_nowait(None)

    async def _run(self, first: asyncio.Future[None]) -> None:
        failures = 0
        while not self._closing:
            try:
                async with connect(self.url, close_timeout=1.0, max_size=1 << 22) as ws:
                    self._ws = ws
                    self._generation += 1
                    self._connected.set()
                    if first.done():
                        self.reconnects += 1
                        if self._user_events is not None:
                            self._user_events.put_nowait(_RECONNECTED)
                    else:
                        first.set_result(None)
                    failures = 0
                    async for text in ws:
                        self._dispatch(text)
            except asyncio.CancelledError:
                raise
            except (OSError, websockets.WebSocketException, asyncio.TimeoutError) as exc:
                if not first.done():
                    first.set_exception(
                        NetworkError(
                            f"cannot connect to the WebSocket API: {exc}", endpoint=self.url
                        )
                    )
                    return
                log.warning("WebSocket API connection lost: %s", exc)
            finally:
                if self._ws is not None and self._ws.state is not State.CLOSED:
                    self._ws.transport.abort()  # cancelled mid-close: never leave it open
                self._ws = None
                self._connected.clear()
                self._fail_pending("the WebSocket API connection closed before the answer")
            failures += 1
            ceiling = min(self.max_reconnect_delay, self.reconnect_delay * 2 ** (failures - 1))
            await asyncio.sleep(random.uniform(ceiling / 2, ceiling))

    def _fail_pending(self, why: str) -> None:
        pending, self._pending = self._pending, {}
        for future, method in pending.values():
            if future.done():
                continue
            cls = OrderStatusUnknown if method in _ORDER_METHODS else NetworkError
            future.set_exception(cls(why, endpoint=method))

    def _dispatch(self, text: str | bytes) -> None:
        try:
            message = json.loads(text, parse_float=Decimal)
        except ValueError:
            log.warning("WebSocket API: skipping a message that is not JSON")
            return
        if not isinstance(message, dict):
            return
        if "event" in message and "subscriptionId" in message:
            if self._user_events is not None:
                self._user_events.put_nowait(message)
            return
        req_id = message.get("id")
        entry = self._pending.pop(req_id, None) if isinstance(req_id, int) else None
        if entry is None:
            log.debug("WebSocket API: answer to an unknown request id %r", req_id)
            return
        limits = message.get("rateLimits")
        if isinstance(limits, list):
            for limit in limits:
                if isinstance(limit, dict):
                    kind = (
                        limit.get("rateLimitType"),
                        limit.get("interval"),
                        limit.get("intervalNum"),
                    )
                    self._rate_limits[kind] = limit
        if not entry[0].done():
            entry[0].set_result(message)

    # --- requests ------------------------------------------------------------------------------

    def _signed(self, params: dict[str, ParamValue]) -> dict[str, ParamValue]:
        full: dict[str, ParamValue] = {k: v for k, v in params.items() if v is not None}
        full["apiKey"] = self._api_key
        full.setdefault("recvWindow", self.recv_window)
        full["timestamp"] = self._now_ms()
        return sign_ws_params(self._signer, full)

    async def request(
        self, method: str, params: dict[str, object] | None = None, *, signed: bool = False
    ) -> Any:
        """Send one request and return its ``result``; raise the typed error of a failure."""
        wire = {k: _wire_value(v) for k, v in (params or {}).items() if v is not None}
        sent = self._signed(wire) if signed else wire
        started = time.monotonic()
        try:
            return await self._call(method, sent)
        except APIError as exc:
            if self._on_error is not None:
                context: dict[str, object] = {
                    "endpoint": method,
                    "method": "WS",
                    "params": {k: v for k, v in sent.items() if k not in _SECRET_PARAMS},
                    "latency_ms": round((time.monotonic() - started) * 1000, 3),
                }
                self._on_error(exc, context)
            raise

    async def _call(self, method: str, params: dict[str, ParamValue]) -> Any:
        try:
            await within(self._connected.wait(), self.request_timeout)
        except asyncio.TimeoutError:
            raise NetworkError("the WebSocket API is not connected", endpoint=method) from None
        ws = self._ws
        if ws is None:
            raise NetworkError("the WebSocket API is not connected", endpoint=method)
        req_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = (future, method)
        message: dict[str, object] = {"id": req_id, "method": method}
        if params:
            message["params"] = params
        try:
            await ws.send(json.dumps(message, separators=(",", ":")))
            reply = await within(future, self.request_timeout)
        except asyncio.TimeoutError:
            cls = OrderStatusUnknown if method in _ORDER_METHODS else NetworkError
            raise cls(f"no answer within {self.request_timeout} s", endpoint=method) from None
        except websockets.ConnectionClosed:
            cls = OrderStatusUnknown if method in _ORDER_METHODS else NetworkError
            raise cls("the connection closed while sending", endpoint=method) from None
        finally:
            self._pending.pop(req_id, None)
        return self._result(method, reply)

    def _result(self, method: str, reply: dict[str, Any]) -> Any:
        status = reply.get("status")
        if status == 200 and "result" in reply:
            return reply["result"]
        error = reply.get("error")
        code = msg = None
        data: dict[str, Any] = {}
        if isinstance(error, dict):
            code, msg = error.get("code"), error.get("msg")
            if isinstance(error.get("data"), dict):
                data = error["data"]
        retry_after = None
        server_time, until = data.get("serverTime"), data.get("retryAfter")
        if isinstance(server_time, int) and isinstance(until, int):
            retry_after = max(0.0, (until - server_time) / 1000)
        exc = error_from_response(
            status if isinstance(status, int) else 500,
            code if isinstance(code, int) else None,
            str(msg) if msg is not None else "malformed WebSocket API answer",
            endpoint=method,
            retry_after=retry_after,
            is_order=method in _ORDER_METHODS,
        )
        if isinstance(exc, IPBanned) and isinstance(until, int):
            exc.banned_until = until
        raise exc

    # --- methods -------------------------------------------------------------------------------

    async def place_order(self, **params: object) -> OrderResponse:
        """``order.place``; Binance's parameter names (``newClientOrderId`` is added if missing)."""
        params.setdefault("newClientOrderId", "tw" + uuid.uuid4().hex[:30])
        result = await self.request("order.place", params, signed=True)
        return parse_order_response(json.dumps(result, default=str))

    async def cancel_order(self, **params: object) -> OrderResponse:
        """``order.cancel`` by ``orderId`` or ``origClientOrderId``."""
        result = await self.request("order.cancel", params, signed=True)
        return parse_order_response(json.dumps(result, default=str))

    async def order_status(self, **params: object) -> OrderResponse:
        """``order.status`` by ``orderId`` or ``origClientOrderId``."""
        result = await self.request("order.status", params, signed=True)
        return parse_order_response(json.dumps(result, default=str))

    async def open_orders(self, symbol: str | None = None) -> list[OrderResponse]:
        """``openOrders.status``: the open orders of ``symbol`` (or of every symbol)."""
        result = await self.request("openOrders.status", {"symbol": symbol}, signed=True)
        return [parse_order_response(json.dumps(row, default=str)) for row in result]

    async def account_status(self) -> AccountInfo:
        """``account.status``: balances, permissions and commission rates."""
        return AccountInfo.from_json(await self.request("account.status", signed=True))

    async def _subscribe_user_data(self) -> int:
        """Subscribe on the current connection (waiting out reconnects); its generation."""
        delay = self.reconnect_delay
        while True:
            try:
                result = await self.request("userDataStream.subscribe.signature", signed=True)
            except NetworkError:
                if self._closing:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_reconnect_delay)
                continue
            # An answer only comes on the live connection (a lost one fails its requests).
            self._subscriptions.clear()
            self._subscriptions.add(result["subscriptionId"])
            return self._generation

    async def user_data(
        self, *, on_subscribed: Callable[[], object] | None = None
    ) -> AsyncGenerator[ExecutionReport | BalanceUpdate | AccountUpdate, None]:
        """Subscribe to this key's user data and yield its events, resubscribing as needed.

        It subscribes with ``userDataStream.subscribe.signature`` and again after an
        ``eventStreamTerminated`` or a reconnect. Events of types not modelled are skipped.
        ``on_subscribed`` is called each time a subscription is live (the first one and each
        one after a gap): what happened before it, or in the gap, never comes as an event, so
        that is the moment to look at the orders over REST.
        """
        if self._user_events is not None:
            raise RuntimeError("user_data() is already being read on this connection")
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._user_events = queue
        try:
            while True:
                generation = await self._subscribe_user_data()
                if on_subscribed is not None:
                    on_subscribed()
                while True:
                    item = await queue.get()
                    if item is None:
                        return
                    if item is _RECONNECTED:
                        if generation == self._generation:
                            continue  # already subscribed on the new connection
                        self._subscriptions.clear()
                        break
                    assert isinstance(item, dict)
                    if item.get("subscriptionId") not in self._subscriptions:
                        continue
                    try:
                        event = parse_user_event(item["event"])
                    except ParseError as exc:
                        log.warning("skipping a malformed user data event: %s", exc)
                        continue
                    if isinstance(event, StreamTerminated):
                        self._subscriptions.discard(item["subscriptionId"])
                        break
                    if isinstance(event, (ExecutionReport, BalanceUpdate, AccountUpdate)):
                        yield event
        finally:
            self._user_events = None
            self._subscriptions.clear()
