"""The REST transport: signed requests sent exactly as signed, answers turned into typed errors.

A signed request's query string is built and signed once (``sign_params``, in Rust) and those
bytes go on the wire unchanged: the URL is given to httpx as a raw path, never as ``params=``, so
nothing is re-encoded. The API key travels in ``X-MBX-APIKEY``. Every request passes the rate
limiter first and corrects it with the response headers; a -1021 resyncs the clock and is retried
once; every error is mapped through :func:`tradewire.errors.error_from_response` and written to
the error log.
"""

from __future__ import annotations

import decimal
import logging
import re
import time
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from tradewire.binance.ratelimit import counts_order, request_weight
from tradewire.binance.signing import sign_params
from tradewire.binance.wire import parse_error_body
from tradewire.errors import (
    APIError,
    AuthenticationError,
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

    from tradewire._core import ParamValue, Signer
    from tradewire.binance.clock import ServerClock
    from tradewire.binance.errorlog import ErrorLog
    from tradewire.binance.ratelimit import RateLimiter

__all__ = ["RestTransport", "encode_query", "parse_api_error"]

log = logging.getLogger("tradewire.binance")

_BANNED_UNTIL = re.compile(r"banned until (\d{10,})")


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
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._base = httpx.URL(base_url.rstrip("/"))
        self._base_path = self._base.raw_path.rstrip(b"/")
        self._api_key = api_key
        self._signer = signer
        self._clock = clock
        self._limiter = limiter
        self._error_log = error_log
        self._recv_window = recv_window
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"RestTransport({str(self._base)!r}, signed={self._signer is not None})"

    async def aclose(self) -> None:
        """Close the HTTP connections (if this transport opened them)."""
        if self._owns_http:
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

    def _query(self, params: Mapping[str, ParamValue], signed: bool) -> tuple[str, dict[str, str]]:
        """The exact query string to send, and the params as logged (no signature)."""
        items: dict[str, ParamValue] = {k: v for k, v in params.items() if v is not None}
        if signed:
            assert self._signer is not None
            items.setdefault("recvWindow", self._recv_window)
            items["timestamp"] = self._clock.now_ms()
            query = sign_params(self._signer, items)
        else:
            query = encode_query(items)
        return query, {k: str(v) for k, v in items.items()}

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, ParamValue],
        signed: bool,
        keyed: bool,
        is_order: bool,
    ) -> bytes:
        endpoint = f"{method} {path}"
        reservation = await self._limiter.acquire(
            request_weight(method, path, params), 1 if counts_order(method, path) else 0
        )
        query, logged = self._query(params, signed)
        raw_path = self._base_path + path.encode("ascii")
        if query:
            raw_path += b"?" + query.encode("ascii")
        url = self._base.copy_with(raw_path=raw_path)
        headers = {"X-MBX-APIKEY": self._api_key} if (signed or keyed) and self._api_key else {}
        started = time.perf_counter()
        try:
            response = await self._http.request(method, url, headers=headers)
        except httpx.TransportError as exc:
            error = self._transport_error(exc, endpoint, is_order)
            self._error_log.record(
                error,
                method=method,
                endpoint=path,
                params=logged,
                latency_ms=(time.perf_counter() - started) * 1000,
            )
            raise error from None
        latency_ms = (time.perf_counter() - started) * 1000
        self._limiter.update_from_headers(reservation, response.headers)
        if response.is_success:
            return response.content
        error = self._answer_error(response, endpoint, is_order)
        self._error_log.record(
            error, method=method, endpoint=path, params=logged, latency_ms=latency_ms
        )
        raise error

    @staticmethod
    def _transport_error(exc: httpx.TransportError, endpoint: str, is_order: bool) -> APIError:
        """NetworkError, or OrderStatusUnknown when an order may have reached the exchange."""
        never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
        kind = type(exc).__name__
        if is_order and not never_sent:
            return OrderStatusUnknown(
                f"no answer to the order ({kind}); it may or may not have been placed",
                endpoint=endpoint,
            )
        return NetworkError(f"request failed: {kind}", endpoint=endpoint)

    def _answer_error(self, response: httpx.Response, endpoint: str, is_order: bool) -> APIError:
        """The typed error of a non-2xx answer; 429 pauses the limiter, 418 bans it."""
        code, msg = parse_api_error(response.content)
        if msg is None:
            msg = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        retry_after = _retry_after(response.headers.get("Retry-After"))
        banned_until: int | None = None
        if response.status_code == 418:
            match = _BANNED_UNTIL.search(msg)
            if match is not None:
                banned_until = int(match[1])
            elif retry_after is not None:
                banned_until = self._clock.now_ms() + int(retry_after * 1000)
        error = error_from_response(
            response.status_code,
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


def _param_text(value: ParamValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def encode_query(params: Mapping[str, ParamValue]) -> str:
    """The percent-encoded query string of unsigned ``params`` (RFC 3986, UTF-8, in order)."""
    return "&".join(
        f"{quote(k, safe='')}={quote(_param_text(v), safe='')}"
        for k, v in params.items()
        if v is not None
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
