"""The WebSocket API at /ws-api/v3: requests, sorted-parameter signing, rateLimits, user data."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from tradewire.errors import ExchangeRejection, ExchangeThrottled
from tradewire.exchange.auth import check_key, check_signature, check_timestamp
from tradewire.exchange.handlers import PERMISSION, ROUTES, Call, Endpoint
from tradewire.exchange.params import SIGNATURE_PARAM, Params

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange.core import ExchangeCore
    from tradewire.exchange.keys import ApiKey
    from tradewire.exchange.userdata import Subscriber, UserDataHub

__all__ = ["WsApi"]

log = logging.getLogger(__name__)

METHODS: dict[str, Endpoint] = {
    "ping": ROUTES[("GET", "/api/v3/ping")],
    "time": ROUTES[("GET", "/api/v3/time")],
    "exchangeInfo": ROUTES[("GET", "/api/v3/exchangeInfo")],
    "depth": ROUTES[("GET", "/api/v3/depth")],
    "trades.recent": ROUTES[("GET", "/api/v3/trades")],
    "trades.aggregate": ROUTES[("GET", "/api/v3/aggTrades")],
    "klines": ROUTES[("GET", "/api/v3/klines")],
    "avgPrice": ROUTES[("GET", "/api/v3/avgPrice")],
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
    "myTrades": ROUTES[("GET", "/api/v3/myTrades")],
}
_SESSION_METHODS = (
    "session.logon",
    "session.status",
    "session.logout",
    "userDataStream.subscribe",
    "userDataStream.subscribe.signature",
    "userDataStream.unsubscribe",
)
_SESSION_WEIGHT = 2


def _text(value: object) -> str:
    """A JSON parameter value as the string that is signed and parsed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def signing_payload(values: dict[str, str]) -> bytes:
    """Binance's WebSocket-API payload: every parameter but signature, sorted, joined raw."""
    pairs = sorted((k, v) for k, v in values.items() if k != SIGNATURE_PARAM)
    return "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8")


@dataclass(eq=False)
class _Session:
    ws: web.WebSocketResponse
    ip: str
    connected: int
    logged_on: ApiKey | None = None
    logged_on_at: int = 0
    subscriptions: dict[int, tuple[int, Subscriber]] = field(default_factory=dict)
    next_subscription: int = 0
    outbox: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    async def write(self) -> None:
        """Send the session's replies and events in order."""
        while True:
            text = await self.outbox.get()
            if text is None or self.ws.closed:
                return
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return


class WsApi:
    """Serves /ws-api/v3 for ``core``, with user data from ``userdata``.

    ``on_change`` (if given) is called when a session opens or closes.
    """

    def __init__(
        self,
        core: ExchangeCore,
        userdata: UserDataHub,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.core = core
        self.userdata = userdata
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
            for sub_id, (account, subscriber) in list(session.subscriptions.items()):
                del session.subscriptions[sub_id]
                self.userdata.unsubscribe(account, subscriber)
                event = {"e": "eventStreamTerminated", "E": self.core.now()}
                body = {"subscriptionId": sub_id, "event": event}
                session.outbox.put_nowait(json.dumps(body, separators=(",", ":")))
                ended += 1
        return ended

    def add_routes(self, app: web.Application) -> None:
        """Serve the WebSocket API on ``app``."""
        app.router.add_get("/ws-api/v3", self._serve)

    async def close_all(self) -> None:
        """Close every session."""
        for session in list(self._sessions):
            await session.ws.close()

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        session = _Session(ws, request.remote or "", self.core.now())
        self._sessions.add(session)
        self._on_change()
        writer = asyncio.create_task(session.write())
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                reply = await self._answer(session, msg.data)
                session.outbox.put_nowait(json.dumps(reply, separators=(",", ":")))
        finally:
            self._sessions.discard(session)
            for account, subscriber in session.subscriptions.values():
                self.userdata.unsubscribe(account, subscriber)
            self._on_change()
            session.outbox.put_nowait(None)
            await writer
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
        req_id: object = None
        order_account: int | None = None
        try:
            try:
                request = json.loads(text, parse_float=Decimal)
            except ValueError:
                raise ExchangeRejection(-1135, "Invalid JSON Request") from None
            if not isinstance(request, dict):
                raise ExchangeRejection(-1135, "Invalid JSON Request")
            req_id = request.get("id")
            method = request.get("method")
            raw_params = request.get("params", {})
            if not isinstance(raw_params, dict):
                raise ExchangeRejection(-1135, "JSON sent for parameter 'params' is not valid")
            params = Params({str(k): _text(v) for k, v in raw_params.items()})
            if method in _SESSION_METHODS:
                self.core.limiter.weigh(session.ip, _SESSION_WEIGHT, now)
                result = self._session_method(session, str(method), params, now)
            else:
                endpoint = METHODS.get(str(method)) if isinstance(method, str) else None
                if endpoint is None:
                    raise ExchangeRejection(
                        -1102,
                        "Mandatory parameter 'method' was not sent, was empty/null, or malformed.",
                    )
                self.core.limiter.weigh(session.ip, endpoint.weight(params), now)
                key = None
                if endpoint.security != "NONE":
                    key = self._authenticate(session, params, PERMISSION[endpoint.security], now)
                if endpoint.counts_order and key is not None:
                    order_account = key.account
                params.read.add("apiKey")
                result = endpoint.handler(Call(self.core, params, now, key))
            return {
                "id": req_id,
                "status": 200,
                "result": result,
                "rateLimits": self._rate_limits(session.ip, order_account, now),
            }
        except ExchangeThrottled as exc:
            if exc.status == 429:
                self.core.metrics.responses_429 += 1
            else:
                self.core.metrics.responses_418 += 1
            error: dict[str, object] = exc.body()
            error["data"] = {"serverTime": now, "retryAfter": now + exc.retry_after_s * 1000}
            return {
                "id": req_id,
                "status": exc.status,
                "error": error,
                "rateLimits": self._rate_limits(session.ip, order_account, now),
            }
        except ExchangeRejection as exc:
            return {
                "id": req_id,
                "status": exc.status,
                "error": exc.body(),
                "rateLimits": self._rate_limits(session.ip, order_account, now),
            }
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
        key = check_key(self.core.keys, params.values.get("apiKey"), session.ip, permission)
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
        if method == "userDataStream.subscribe.signature":
            key = self._authenticate(session, params, "reading", now)
            return {"subscriptionId": self._subscribe(session, key.account)}
        if method == "userDataStream.subscribe":
            if session.logged_on is None:
                raise ExchangeRejection(
                    -2015, "Invalid API-key, IP, or permissions for action.", 401
                )
            return {"subscriptionId": self._subscribe(session, session.logged_on.account)}
        sub_id = params.integer("subscriptionId", 0)
        targets = list(session.subscriptions) if sub_id is None else [sub_id]
        for target in targets:
            found = session.subscriptions.pop(target, None)
            if found is None:
                raise ExchangeRejection(-2035, "User Data Stream subscription not active.")
            self.userdata.unsubscribe(found[0], found[1])
        return {}

    def _session_status(self, session: _Session, now: int) -> dict[str, object]:
        key = session.logged_on
        return {
            "apiKey": key.api_key if key else None,
            "authorizedSince": session.logged_on_at if key else None,
            "connectedSince": session.connected,
            "returnRateLimits": True,
            "serverTime": now,
            "userDataStream": bool(session.subscriptions),
        }

    def _subscribe(self, session: _Session, account: int) -> int:
        sub_id = session.next_subscription
        session.next_subscription += 1

        def send(event: dict[str, object]) -> None:
            body = {"subscriptionId": sub_id, "event": event}
            session.outbox.put_nowait(json.dumps(body, separators=(",", ":")))

        session.subscriptions[sub_id] = (account, send)
        self.userdata.subscribe(account, send)
        return sub_id
