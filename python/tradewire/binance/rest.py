"""The REST transport: signed requests sent exactly as signed, answers turned into typed errors.

A signed request's query string is built and signed once (``sign_params``, in Rust) and those
bytes go on the wire unchanged: the HTTP backend (:mod:`tradewire.binance.transport`, aiohttp by
default, or httpx; :func:`make_sender` picks it) is handed the encoded ``path?query`` text and
never re-encodes it. The API key
travels in ``X-MBX-APIKEY``. Every request passes the rate limiter first and corrects it with the
response headers; a -1021 resyncs the clock and is retried once; every error is mapped through
:func:`tradewire.errors.error_from_response` and written to the error log.
"""

from __future__ import annotations

import decimal
import logging
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

from tradewire.binance.ratelimit import counts_order, request_weight
from tradewire.binance.signing import sign_params
from tradewire.binance.wire import parse_error_body
from tradewire.errors import (
    APIError,
    AuthenticationError,
    ConfigError,
    HttpFailure,
    InvalidTimestamp,
    IPBanned,
    NetworkError,
    OrderStatusUnknown,
    ParseError,
    RateLimitExceeded,
    error_from_response,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    import aiohttp
    import httpx

    from tradewire._core import ParamValue, Signer
    from tradewire.binance.clock import ServerClock
    from tradewire.binance.errorlog import ErrorLog
    from tradewire.binance.ratelimit import RateLimiter
    from tradewire.binance.transport import HttpAnswer, HttpBackend, HttpSender

__all__ = ["RestTransport", "encode_query", "make_sender", "parse_api_error"]

log = logging.getLogger("tradewire.binance")

_BANNED_UNTIL = re.compile(r"banned until (\d{10,})")
# Text that percent-encoding leaves as it is (RFC 3986 unreserved characters).
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*")
_NO_HEADERS: Mapping[str, str] = {}


class RestTransport:
    """Sends Binance REST requests: rate-limited, timestamped, signed as sent, errors typed."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        signer: Signer | None,
        clock: ServerClock,
        limiter: RateLimiter,
        error_log: ErrorLog,
        recv_window: int = 5000,
        timeout: float = 10.0,
        http: httpx.AsyncClient | aiohttp.ClientSession | None = None,
        http_backend: HttpBackend | None = None,
        sender: HttpSender | None = None,
    ) -> None:
        if sender is not None and (http is not None or http_backend is not None):
            raise ValueError("give sender, or http / http_backend, not both")
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._signer = signer
        self._clock = clock
        self._limiter = limiter
        self._error_log = error_log
        self._recv_window = recv_window
        self._key_headers: Mapping[str, str] = {"X-MBX-APIKEY": api_key} if api_key else _NO_HEADERS
        self._http: HttpSender = sender or make_sender(
            self._base_url, backend=http_backend, timeout=timeout, http=http
        )

    def __repr__(self) -> str:
        return f"RestTransport({self._base_url!r}, signed={self._signer is not None})"

    async def aclose(self) -> None:
        """Close the HTTP connections (if this transport opened them)."""
        await self._http.aclose()

    @property
    def can_sign(self) -> bool:
        """Whether an API key and secret are configured."""
        return self._api_key is not None and self._signer is not None

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue] | None = None,
        *,
        signed: bool = False,
        keyed: bool = False,
        is_order: bool = False,
    ) -> bytes:
        """Send one request and return the body of a 2xx answer.

        ``signed`` adds timestamp, recvWindow and signature (USER_DATA and TRADE endpoints);
        ``keyed`` only sends the API key. ``is_order`` marks a new order: a 5xx, -1007 or a
        timeout after it was sent is then :class:`OrderStatusUnknown`.

        Raises:
            APIError: the typed error of the answer (or NetworkError / OrderStatusUnknown).
        """
        method = method.upper()
        if (signed or keyed) and not self.can_sign:
            raise AuthenticationError(
                "this endpoint needs an API key and secret; the client has none",
                endpoint=f"{method} {path}",
                hint="Create BinanceClient(api_key, secret, ...) to use account and order calls.",
            )
        try:
            return await self._send(method, path, params or {}, signed, keyed, is_order)
        except InvalidTimestamp:
            if not signed:
                raise
            # The clock drifted (or the server's did): measure again and retry once.
            await self._clock.resync()
            return await self._send(method, path, params or {}, signed, keyed, is_order)

    def _query(
        self, params: Mapping[str, ParamValue], signed: bool
    ) -> tuple[str, dict[str, ParamValue]]:
        """The exact query string to send, and the params it holds (without the signature)."""
        items: dict[str, ParamValue] = {k: v for k, v in params.items() if v is not None}
        if signed:
            assert self._signer is not None
            items.setdefault("recvWindow", self._recv_window)
            items["timestamp"] = self._clock.now_ms()
            return sign_params(self._signer, items), items
        return encode_query(items), items

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue],
        signed: bool,
        keyed: bool,
        is_order: bool,
    ) -> bytes:
        reservation = await self._limiter.acquire(
            request_weight(method, path, params), 1 if counts_order(method, path) else 0
        )
        query, items = self._query(params, signed)
        target = f"{path}?{query}" if query else path
        headers = self._key_headers if signed or keyed else _NO_HEADERS
        started = time.perf_counter()
        try:
            answer = await self._http.send(method, target, headers)
        except HttpFailure as exc:
            error = _failure_error(exc, f"{method} {path}", is_order)
            self._log(error, method, path, _with_deadline(error, items), started)
            raise error from None
        latency_ms = (time.perf_counter() - started) * 1000
        self._limiter.update_from_headers(reservation, answer.headers)
        if answer.is_success:
            return answer.body
        error = self._answer_error(answer, f"{method} {path}", is_order)
        self._log(error, method, path, _with_deadline(error, items), started, latency_ms)
        raise error

    def _log(
        self,
        error: APIError,
        method: str,
        path: str,
        items: Mapping[str, ParamValue],
        started: float,
        latency_ms: float | None = None,
    ) -> None:
        """Write ``error`` to the error log with the parameters as sent (no signature)."""
        if latency_ms is None:
            latency_ms = (time.perf_counter() - started) * 1000
        self._error_log.record(
            error,
            method=method,
            endpoint=path,
            params={k: _param_text(v) for k, v in items.items()},
            latency_ms=latency_ms,
        )

    def _answer_error(self, answer: HttpAnswer, endpoint: str, is_order: bool) -> APIError:
        """The typed error of a non-2xx answer; 429 pauses the limiter, 418 bans it."""
        code, msg = parse_api_error(answer.body)
        if msg is None:
            msg = f"HTTP {answer.status} {answer.reason}".strip()
        retry_after = _retry_after(answer.headers.get("Retry-After"))
        banned_until: int | None = None
        if answer.status == 418:
            match = _BANNED_UNTIL.search(msg)
            if match is not None:
                banned_until = int(match[1])
            elif retry_after is not None:
                banned_until = self._clock.now_ms() + int(retry_after * 1000)
        error = error_from_response(
            answer.status,
            code,
            msg,
            endpoint=endpoint,
            retry_after=retry_after,
            is_order=is_order,
            banned_until=banned_until,
        )
        if isinstance(error, IPBanned):
            if error.banned_until is not None:
                self._limiter.ban(error.banned_until)
        elif isinstance(error, RateLimitExceeded):
            kind = "ORDERS" if code == -1015 else "REQUEST_WEIGHT"
            self._limiter.pause(retry_after if retry_after is not None else 1.0, kind=kind)
        return error


def make_sender(
    base_url: str,
    *,
    backend: HttpBackend | None = None,
    timeout: float = 10.0,
    http: httpx.AsyncClient | aiohttp.ClientSession | None = None,
) -> HttpSender:
    """The sender for ``backend``, or for the client object ``http`` given (httpx or aiohttp).

    Without ``backend`` and ``http`` the aiohttp backend is used. A given ``http`` client stays
    the caller's: closing the sender does not close it.

    Raises:
        ValueError: an unknown backend, or an ``http`` client of another backend.
    """
    if http is not None:
        inferred = _backend_of(http)
        if backend is not None and backend != inferred:
            raise ValueError(f"http_backend={backend!r} does not match the {inferred} client given")
        backend = inferred
    if backend is None or backend == "aiohttp":
        return _aiohttp_sender(base_url, timeout, http)
    if backend == "httpx":
        return _httpx_sender(base_url, timeout, http)
    raise ValueError(f"unknown HTTP backend {backend!r}; use 'aiohttp' or 'httpx'")


# Each backend is imported when a sender of it is made: importing aiohttp takes ~120 ms and
# httpx ~50 ms, which every start of the command would pay (``tradewire keys list`` too).


def _backend_of(http: object) -> HttpBackend:
    """Which backend a client object belongs to (an httpx or aiohttp client, or a subclass)."""
    for cls in type(http).__mro__:
        root = cls.__module__.partition(".")[0]
        if root in ("aiohttp", "httpx"):
            return "aiohttp" if root == "aiohttp" else "httpx"
    raise _not_a_client(http)


def _not_a_client(http: object) -> ValueError:
    return ValueError(
        f"http must be an httpx.AsyncClient or aiohttp.ClientSession, not {type(http)}"
    )


def _aiohttp_sender(base_url: str, timeout: float, http: object) -> HttpSender:
    import aiohttp

    from tradewire.binance.transport_aiohttp import AiohttpSender

    if http is not None and not isinstance(http, aiohttp.ClientSession):
        raise _not_a_client(http)
    return AiohttpSender(base_url, timeout=timeout, http=http)


def _httpx_sender(base_url: str, timeout: float, http: object) -> HttpSender:
    try:
        import httpx
    except ImportError as e:  # an extra since the package stopped requiring it
        raise ConfigError(
            "http_backend='httpx' needs httpx, which is not installed: "
            "pip install 'tradewire[httpx]' (or leave http_backend out to use aiohttp)"
        ) from e

    from tradewire.binance.transport_httpx import HttpxSender

    if http is not None and not isinstance(http, httpx.AsyncClient):
        raise _not_a_client(http)
    return HttpxSender(base_url, timeout=timeout, http=http)


def _failure_error(failure: HttpFailure, endpoint: str, is_order: bool) -> APIError:
    """NetworkError, or OrderStatusUnknown when an order may have reached the exchange."""
    if is_order and failure.sent:
        return OrderStatusUnknown(
            f"no answer to the order ({failure.kind}); it may or may not have been placed",
            endpoint=endpoint,
        )
    return NetworkError(f"request failed: {failure.kind}", endpoint=endpoint)


def _quote(text: str) -> str:
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def encode_query(params: Mapping[str, ParamValue]) -> str:
    """The percent-encoded query string of unsigned ``params`` (RFC 3986, UTF-8, in order)."""
    return "&".join(
        f"{_quote(k)}={_quote(_param_text(v))}" for k, v in params.items() if v is not None
    )


def parse_api_error(body: bytes) -> tuple[int | None, str | None]:
    """(code, msg) of a Binance error body, or (None, None) if it is not one."""
    try:
        parsed = parse_error_body(body)
    except (ParseError, ValueError):
        return None, None
    return parsed.code, parsed.msg


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _with_deadline(error: APIError, items: Mapping[str, ParamValue]) -> Mapping[str, ParamValue]:
    """Stamp an unknown-fate error with the last exchange time its request could be accepted."""
    timestamp, window = items.get("timestamp"), items.get("recvWindow")
    if isinstance(error, OrderStatusUnknown) and isinstance(timestamp, int):
        error.accept_until_ms = timestamp + (window if isinstance(window, int) else 5000)
    return items
