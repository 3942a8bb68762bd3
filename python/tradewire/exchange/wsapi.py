"""The WebSocket API at /ws-api/v3: requests, sorted-parameter signing, rateLimits, user data."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tradewire.errors import ExchangeRejection, ExchangeThrottled
from tradewire.exchange.auth import check_key, check_signature, check_timestamp
from tradewire.exchange.handlers import KEY_ONLY, PERMISSION, ROUTES, Call, Endpoint
from tradewire.exchange.params import SIGNATURE_PARAM, Params
from tradewire.exchange.timeunit import MILLISECOND, event_in_unit, in_unit, read_time_unit
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.keys import ApiKey
    from tradewire.exchange.userdata import Subscriber, UserDataHub

__all__ = ["WsApi", "WsApiConfig"]

log = logging.getLogger(__name__)

# Close codes (RFC 6455): 1008 policy violation (a client that stops reading or answering
# pings), 1001 going away (the server shuts down).
CLOSE_TOO_SLOW = 1008
CLOSE_SHUTDOWN = 1001


@dataclass(frozen=True)
class WsApiConfig:
    """Limits of one WebSocket-API connection.

    At most ``max_queued`` replies and events wait for a client to read them (4,096 leaves room
    for the burst when one taker fills 200 orders of a symbol: two events per fill). While the
    queue is full the session reads no further requests; if it stays full for
    ``send_timeout_s``, or a user data event finds it full, the connection is closed with code
    1008 (policy violation).
    A frame that cannot be written within ``send_timeout_s`` ends the connection too. The
    server pings every ``ping_interval_s`` and drops a connection that sent no pong for
    ``pong_timeout_s`` (Binance: 20 s and one minute).
    """

    max_queued: int = 4096
    send_timeout_s: float = 10.0
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0


METHODS: dict[str, Endpoint] = {
    "ping": ROUTES[("GET", "/api/v3/ping")],
    "time": ROUTES[("GET", "/api/v3/time")],
    "exchangeInfo": ROUTES[("GET", "/api/v3/exchangeInfo")],
    "depth": ROUTES[("GET", "/api/v3/depth")],
    "trades.recent": ROUTES[("GET", "/api/v3/trades")],
    "trades.historical": ROUTES[("GET", "/api/v3/historicalTrades")],
    "trades.aggregate": ROUTES[("GET", "/api/v3/aggTrades")],
    "klines": ROUTES[("GET", "/api/v3/klines")],
    "uiKlines": ROUTES[("GET", "/api/v3/uiKlines")],
    "avgPrice": ROUTES[("GET", "/api/v3/avgPrice")],
    "ticker": ROUTES[("GET", "/api/v3/ticker")],
    "ticker.tradingDay": ROUTES[("GET", "/api/v3/ticker/tradingDay")],
    "ticker.book": ROUTES[("GET", "/api/v3/ticker/bookTicker")],
    "ticker.price": ROUTES[("GET", "/api/v3/ticker/price")],
    "ticker.24hr": ROUTES[("GET", "/api/v3/ticker/24hr")],
    "order.place": ROUTES[("POST", "/api/v3/order")],
    "order.test": ROUTES[("POST", "/api/v3/order/test")],
    "order.status": ROUTES[("GET", "/api/v3/order")],
    "order.cancel": ROUTES[("DELETE", "/api/v3/order")],
    "openOrders.status": ROUTES[("GET", "/api/v3/openOrders")],
    "openOrders.cancelAll": ROUTES[("DELETE", "/api/v3/openOrders")],
    "allOrders": ROUTES[("GET", "/api/v3/allOrders")],
    "account.status": ROUTES[("GET", "/api/v3/account")],
    "account.commission": ROUTES[("GET", "/api/v3/account/commission")],
    "account.rateLimits.orders": ROUTES[("GET", "/api/v3/rateLimit/order")],
    "myTrades": ROUTES[("GET", "/api/v3/myTrades")],
    "myPreventedMatches": ROUTES[("GET", "/api/v3/myPreventedMatches")],
}
VERSION_PREFIX = "v3/"
"""Method names may carry an explicit version (web-socket-api.md: ``v3/order.place``)."""
_SESSION_METHODS = (
    "session.logon",
    "session.status",
    "session.logout",
    "session.subscriptions",
    "userDataStream.subscribe",
    "userDataStream.subscribe.signature",
    "userDataStream.unsubscribe",
)
_SESSION_WEIGHT = 2


def _return_rate_limits(params: Params) -> bool:
    """The ``returnRateLimits`` parameter: whether the answer carries ``rateLimits``."""
    value = params.get("returnRateLimits")
    if value is None or value == "true":
        return True
    if value == "false":
        return False
    raise ExchangeRejection(-1130, "Data sent for parameter 'returnRateLimits' is not valid.")


def _invalid_json(name: str | None = None) -> ExchangeRejection:
    if name is None:
        return ExchangeRejection(-1135, "Invalid JSON Request")
    return ExchangeRejection(-1135, f"JSON sent for parameter '{name}' is not valid")


def _reject_constant(_name: str) -> object:
    raise ValueError("NaN and Infinity are not JSON")


def _is_text(value: str) -> bool:
    """Whether ``value`` is valid Unicode (a lone surrogate escape such as \\ud800 is not)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _scalar_text(value: object) -> str | None:
    """A scalar JSON value as the string that is signed and parsed; None if not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value if _is_text(value) else None
    if isinstance(value, (int, Decimal)):
        return str(value)
    return None


def _text(name: str, value: object) -> str:
    """A parameter value as the string that is signed and parsed (-1135 for nested JSON).

    Binance's parameters are flat: scalars, or a list of scalars (``symbols``). A null is an
    empty value.
    """
    if value is None:
        return ""
    if isinstance(value, list):
        items = []
        for item in value:
            text = _scalar_text(item)
            if text is None:
                raise _invalid_json(name)
            items.append(json.dumps(item) if isinstance(item, str) else text)
        return "[" + ",".join(items) + "]"
    text = _scalar_text(value)
    if text is None:
        raise _invalid_json(name)
    return text


def _request_id(raw: object) -> str | int | None:
    """The request's ``id`` if it is one Binance allows: an integer, a string or null."""
    if raw is None or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if isinstance(raw, str) and _is_text(raw):
        return raw
    raise _invalid_json("id")


def signing_payload(values: dict[str, str]) -> bytes:
    """Binance's WebSocket-API payload: every parameter but signature, sorted, joined raw."""
    pairs = sorted((k, v) for k, v in values.items() if k != SIGNATURE_PARAM)
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


@dataclass(frozen=True)
class _Subscription:
    account: int
    api_key: str  # the key that subscribed: its removal ends the subscription
    send: Subscriber


@dataclass(eq=False)
class _Session:
    ws: web.WebSocketResponse
    ip: str
    connected: int
    config: WsApiConfig
    transport: asyncio.Transport | None
    logged_on: ApiKey | None = None
    logged_on_at: int = 0
    subscriptions: dict[int, _Subscription] = field(default_factory=dict)
    next_subscription: int = 0
    outbox: asyncio.Queue[str] = field(init=False)
    last_pong: float = field(default_factory=time.monotonic)
    closing: asyncio.Task[None] | None = None
    time_scale: int = MILLISECOND  # the connection URL's timeUnit

    def __post_init__(self) -> None:
        self.outbox = asyncio.Queue(self.config.max_queued)

    def send(self, body: dict[str, object]) -> None:
        """Queue an event; a client that lets ``max_queued`` messages pile up is disconnected."""
        if self.closing is not None:
            return
        if self.time_scale != MILLISECOND and "event" in body:
            body = {**body, "event": event_in_unit(body["event"], self.time_scale)}
        try:
            self.outbox.put_nowait(json.dumps(body, separators=(",", ":")))
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW, "Too many unread messages.")

    async def reply(self, body: dict[str, object]) -> bool:
        """Queue a reply, waiting while the queue is full (the session reads no more requests
        meanwhile); False, and the connection closing, if it stays full ``send_timeout_s``.
        """
        if self.closing is not None:
            return False
        text = json.dumps(body, separators=(",", ":"))
        try:
            await within(self.outbox.put(text), self.config.send_timeout_s)
        except TimeoutError:
            self.close(CLOSE_TOO_SLOW, "Too many unread messages.")
            return False
        return True

    def close(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` (at most ``send_timeout_s``, then cut it)."""
        if self.closing is None:
            self.closing = asyncio.ensure_future(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        try:
            await within(
                self.ws.close(code=code, message=reason.encode()), self.config.send_timeout_s
            )
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        finally:
            self._abort()

    def _abort(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()

    async def write(self) -> None:
        """Send the session's replies and events in order, each within ``send_timeout_s``."""
        while not self.ws.closed:
            text = await self.outbox.get()
            try:
                await within(self.ws.send_str(text), self.config.send_timeout_s)
            except TimeoutError:
                self.close(CLOSE_TOO_SLOW, "Send timed out.")
                return
            except (ConnectionError, RuntimeError):
                return

    async def ping(self) -> None:
        """Ping every ``ping_interval_s``; drop the connection after ``pong_timeout_s`` silent."""
        cfg = self.config
        last_ping = time.monotonic()
        while not self.ws.closed:
            await asyncio.sleep(min(cfg.ping_interval_s, cfg.pong_timeout_s) / 4)
            now = time.monotonic()
            if now - self.last_pong > cfg.pong_timeout_s:
                self.close(CLOSE_TOO_SLOW, "Pong timeout.")
                return
            if now - last_ping < cfg.ping_interval_s:
                continue
            last_ping = now
            try:
                await within(self.ws.ping(b""), cfg.send_timeout_s)
            except TimeoutError:
                self.close(CLOSE_TOO_SLOW, "Send timed out.")
                return
            except (ConnectionError, RuntimeError):
                return


class WsApi:
    """Serves /ws-api/v3 for ``core``, with user data from ``userdata``.

    ``on_change`` (if given) is called when a session opens or closes; ``extra`` adds methods
    (the legacy listenKey ones, when they are served).
    """

    def __init__(
        self,
        core: ExchangeCore,
        userdata: UserDataHub,
        on_change: Callable[[], None] | None = None,
        config: WsApiConfig | None = None,
        extra: Mapping[str, Endpoint] | None = None,
    ) -> None:
        self.core = core
        self._methods = {**METHODS, **(extra or {})}
        self.userdata = userdata
        self.config = config or WsApiConfig()
        self._sessions: set[_Session] = set()
        self._on_change = on_change or (lambda: None)

    @property
    def sessions(self) -> frozenset[_Session]:
        """The open WebSocket API sessions (a snapshot)."""
        return frozenset(self._sessions)

    def end_user_data_streams(self) -> int:
        """End every user data subscription with ``eventStreamTerminated``; returns how many.

        Binance sends that event when it ends a subscription (e.g. a logged-on session's, on
        logout elsewhere); a client is expected to subscribe again.
        """
        ended = 0
        for session in list(self._sessions):
            for sub_id in list(session.subscriptions):
                self._terminate(session, sub_id)
                ended += 1
        return ended

    def end_key(self, api_key: str) -> int:
        """End what a removed key holds: its logons and its user data subscriptions.

        Sessions logged on with the key are logged out; each subscription it opened ends with
        ``eventStreamTerminated``. Returns how many subscriptions ended.
        """
        ended = 0
        for session in list(self._sessions):
            if session.logged_on is not None and session.logged_on.api_key == api_key:
                session.logged_on = None
            for sub_id, sub in list(session.subscriptions.items()):
                if sub.api_key == api_key:
                    self._terminate(session, sub_id)
                    ended += 1
        return ended

    def _terminate(self, session: _Session, sub_id: int) -> None:
        sub = session.subscriptions.pop(sub_id)
        self.userdata.unsubscribe(sub.account, sub.send)
        event = {"e": "eventStreamTerminated", "E": self.core.now()}
        session.send({"subscriptionId": sub_id, "event": event})

    def add_routes(self, app: web.Application) -> None:
        """Serve the WebSocket API on ``app``."""
        app.router.add_get("/ws-api/v3", self._serve)

    async def close_all(self) -> None:
        """Close every session (code 1001; a client that does not answer is cut off)."""
        sessions = list(self._sessions)
        for session in sessions:
            session.close(CLOSE_SHUTDOWN, "Server shutting down.")
        await asyncio.gather(
            *(s.closing for s in sessions if s.closing is not None), return_exceptions=True
        )

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        try:
            time_scale = read_time_unit(request.query.get("timeUnit"))
        except ExchangeRejection as exc:
            return web.json_response(exc.body(), status=exc.status)
        ws = web.WebSocketResponse(autoping=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        transport = request.transport
        session = _Session(
            ws,
            request.remote or "",
            self.core.now(),
            self.config,
            transport if isinstance(transport, asyncio.Transport) else None,
            time_scale=time_scale,
        )
        self._sessions.add(session)
        self._on_change()
        tasks = (asyncio.create_task(session.write()), asyncio.create_task(session.ping()))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.PING:
                    await within(ws.pong(msg.data), self.config.send_timeout_s)
                elif msg.type == WSMsgType.PONG:
                    session.last_pong = time.monotonic()
                elif msg.type == WSMsgType.TEXT and not await session.reply(
                    in_unit(await self._answer(session, msg.data), session.time_scale)
                ):
                    break
                if session.closing is not None:
                    break
        except (TimeoutError, ConnectionError, RuntimeError):
            session.close(CLOSE_TOO_SLOW, "Send timed out.")
        finally:
            self._sessions.discard(session)
            for sub in session.subscriptions.values():
                self.userdata.unsubscribe(sub.account, sub.send)
            session.subscriptions.clear()
            self._on_change()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if session.closing is not None:
                await session.closing
        return ws

    def _rate_limits(self, ip: str, account: int | None, now: int) -> list[dict[str, object]]:
        limits = self.core.limits
        out: list[dict[str, object]] = [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": limits.request_weight_per_minute,
                "count": self.core.limiter.used_weight(ip, now),
            }
        ]
        if account is not None:
            ten_s, day = self.core.limiter.order_counts(account, now)
            out.append(
                {
                    "rateLimitType": "ORDERS",
                    "interval": "SECOND",
                    "intervalNum": 10,
                    "limit": limits.orders_per_10s,
                    "count": ten_s,
                }
            )
            out.append(
                {
                    "rateLimitType": "ORDERS",
                    "interval": "DAY",
                    "intervalNum": 1,
                    "limit": limits.orders_per_day,
                    "count": day,
                }
            )
        return out

    async def _answer(self, session: _Session, text: str) -> dict[str, object]:
        self.core.metrics.ws_api_requests += 1
        if self.core.faults.delay_ms:
            await asyncio.sleep(self.core.faults.delay_ms / 1000)
        now = self.core.now()
        req_id: str | int | None = None
        order_account: int | None = None
        with_limits = True
        reply: dict[str, object]
        try:
            try:
                request = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
            except (ValueError, RecursionError):  # RecursionError: nested past the stack
                raise _invalid_json() from None
            if not isinstance(request, dict):
                raise _invalid_json()
            req_id = _request_id(request.get("id"))
            method = request.get("method")
            if isinstance(method, str) and method.startswith(VERSION_PREFIX):
                method = method[len(VERSION_PREFIX) :]
            raw_params = request.get("params", {})
            if not isinstance(raw_params, dict):
                raise _invalid_json("params")
            params = Params({k: _text(k, v) for k, v in raw_params.items() if _is_text(k)})
            if len(params.values) != len(raw_params):
                raise _invalid_json("params")
            with_limits = _return_rate_limits(params)
            if method in _SESSION_METHODS:
                self.core.limiter.weigh(session.ip, _SESSION_WEIGHT, now)
                result = self._session_method(session, str(method), params, now)
            else:
                endpoint = self._methods.get(method) if isinstance(method, str) else None
                if endpoint is None:
                    raise ExchangeRejection(
                        -1102,
                        "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
                    )
                self.core.limiter.weigh(session.ip, endpoint.weight(params), now)
                key = None
                if endpoint.security == KEY_ONLY:
                    key = check_key(self.core.keys, params.get("apiKey"), session.ip, None)
                elif endpoint.security != "NONE":
                    key = self._authenticate(session, params, PERMISSION[endpoint.security], now)
                if endpoint.counts_order and key is not None:
                    order_account = key.account
                result = endpoint.handler(Call(self.core, params, now, key))
            params.finish()  # -1104 on every method, as on every REST endpoint
            reply = {"id": req_id, "status": 200, "result": result}
        except ExchangeThrottled as exc:
            if exc.status == 429:
                self.core.metrics.responses_429 += 1
            else:
                self.core.metrics.responses_418 += 1
            error: dict[str, object] = exc.body()
            error["data"] = {"serverTime": now, "retryAfter": now + exc.retry_after_s * 1000}
            reply = {"id": req_id, "status": exc.status, "error": error}
        except ExchangeRejection as exc:
            reply = {"id": req_id, "status": exc.status, "error": exc.body()}
        except Exception:
            log.exception("unexpected error answering a WebSocket API request")
            return {
                "id": req_id,
                "status": 500,
                "error": {
                    "code": -1000,
                    "msg": "An unknown error occurred while processing the request.",
                },
            }
        if with_limits:
            reply["rateLimits"] = self._rate_limits(session.ip, order_account, now)
        return reply

    def _authenticate(
        self, session: _Session, params: Params, permission: str | None, now: int
    ) -> ApiKey:
        if (
            "signature" not in params.values
            and session.logged_on is not None
            and "apiKey" not in params.values
        ):
            key = check_key(self.core.keys, session.logged_on.api_key, session.ip, permission)
            check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
            return key
        key = check_key(self.core.keys, params.get("apiKey"), session.ip, permission)
        check_signature(key, signing_payload(params.values), params.values.get(SIGNATURE_PARAM))
        check_timestamp(params.get("timestamp"), params.get("recvWindow"), now)
        return key

    def _session_method(self, session: _Session, method: str, params: Params, now: int) -> object:
        if method == "session.logon":
            key = self._authenticate(session, params, None, now)
            if key.key_type != "ed25519":
                raise ExchangeRejection(-4056, "HMAC_SHA256 API key is not supported.")
            session.logged_on, session.logged_on_at = key, now
            return self._session_status(session, now)
        if method == "session.status":
            return self._session_status(session, now)
        if method == "session.logout":
            session.logged_on = None
            return self._session_status(session, now)
        if method == "session.subscriptions":
            params.finish()
            return [{"subscriptionId": sub_id} for sub_id in sorted(session.subscriptions)]
        if method == "userDataStream.subscribe.signature":
            key = self._authenticate(session, params, "reading", now)
            params.finish()
            return {"subscriptionId": self._subscribe(session, key)}
        if method == "userDataStream.subscribe":
            if session.logged_on is None:
                raise ExchangeRejection(
                    -2015, "Invalid API-key, IP, or permissions for action.", 401
                )
            # the logged-on key, checked again now: it may have been removed, or lack reading
            key = check_key(self.core.keys, session.logged_on.api_key, session.ip, "reading")
            params.finish()
            return {"subscriptionId": self._subscribe(session, key)}
        sub_id = params.integer("subscriptionId", 0)
        params.finish()
        targets = list(session.subscriptions) if sub_id is None else [sub_id]
        for target in targets:
            found = session.subscriptions.pop(target, None)
            if found is None:
                raise ExchangeRejection(-2035, "User Data Stream subscription not active.")
            self.userdata.unsubscribe(found.account, found.send)
        return {}

    def _session_status(self, session: _Session, now: int) -> dict[str, object]:
        if session.logged_on is not None and self.core.keys.get(session.logged_on.api_key) is None:
            session.logged_on = None  # the key was removed
        key = session.logged_on
        return {
            "apiKey": key.api_key if key else None,
            "authorizedSince": session.logged_on_at if key else None,
            "connectedSince": session.connected,
            "returnRateLimits": True,
            "serverTime": now,
            "userDataStream": bool(session.subscriptions),
        }

    def _subscribe(self, session: _Session, key: ApiKey) -> int:
        sub_id = session.next_subscription
        session.next_subscription += 1

        def send(event: dict[str, object]) -> None:
            session.send({"subscriptionId": sub_id, "event": event})

        session.subscriptions[sub_id] = _Subscription(key.account, key.api_key, send)
        self.userdata.subscribe(key.account, send)
        return sub_id
