"""The IB Web API's HTTP layer: TLS to the gateway, OAuth headers, the limiter, typed errors.

Every request passes :class:`~tradewire.ib.ratelimit.IBLimiter` first. Answers are parsed with
``parse_float=Decimal``, so every number IB sends arrives as the exact Decimal of its text. IB's
error forms (research/ib.md A.10) become typed errors from :mod:`tradewire.errors`, each written
to the JSON error log: ``{"error": ...}`` even under HTTP 200, 400 ``Init session first``, 401,
429 (the penalty box: the limiter locks and nothing is retried), 503 (the nightly reset).
"""

from __future__ import annotations

import asyncio
import json
import ssl as ssl_module
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiohttp
import yarl

from tradewire.errors import (
    APIError,
    AuthenticationError,
    ExchangeUnavailable,
    IBCompetingSession,
    IBLoginRequired,
    IBNoBrokerageSession,
    IBOrderRejected,
    IBPenaltyBox,
    IBUnavailable,
    NetworkError,
    OrderStatusUnknown,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.apilog import ErrorLog
    from tradewire.ib.oauth import OAuth1aAuthorizer
    from tradewire.ib.ratelimit import IBLimiter

__all__ = ["IBTransport", "make_ssl", "parse_json"]

PENALTY_BOX_S = 900.0
"""How long the client stays silent after a 429 (IB: 10-15 minutes)."""
COMPETING_TEXT = "different IP address"


def parse_json(body: bytes) -> Any:
    """JSON with every non-integer number as the exact ``Decimal`` of its text."""
    return json.loads(body, parse_float=Decimal)


def make_ssl(
    ssl: ssl_module.SSLContext | None = None, *, cafile: str | None = None, verify: bool = True
) -> ssl_module.SSLContext | bool:
    """The TLS setting for aiohttp: a given context, one trusting ``cafile``, or no checks.

    ``verify=False`` must be asked for explicitly (the gateway's self-signed certificate);
    ``cafile`` (the gateway's certificate) keeps verification on and is the better choice.
    """
    if ssl is not None:
        return ssl
    if cafile is not None:
        return ssl_module.create_default_context(cafile=cafile)
    return bool(verify)


def _as_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


class IBTransport:
    """Sends Web API requests under ``base_url`` (``https://localhost:5000/v1/api``).

    Args:
        base_url: The API base, ending in ``/v1/api``.
        limiter: The request limiter (shared by everything that talks to this gateway).
        ssl: An ``ssl.SSLContext``, or True (system CAs) / False (no verification).
        authorizer: Signs every request with OAuth 1.0a (set after the live session token).
        error_log: Where API errors are recorded.
        timeout: Seconds to connect and to wait for an answer.
        user_agent: The ``User-Agent`` header (IB's OAuth requires one).
    """

    def __init__(
        self,
        base_url: str,
        *,
        limiter: IBLimiter,
        ssl: ssl_module.SSLContext | bool = True,
        authorizer: OAuth1aAuthorizer | None = None,
        error_log: ErrorLog | None = None,
        timeout: float = 10.0,
        user_agent: str = "tradewire",
    ) -> None:
        url = yarl.URL(base_url.rstrip("/"))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.base_url = str(url)
        self.limiter = limiter
        self.authorizer = authorizer
        self._ssl = ssl
        self._log = error_log
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._headers = {"User-Agent": user_agent, "Accept": "*/*"}
        self._http: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"IBTransport({self.base_url!r})"

    @property
    def http(self) -> aiohttp.ClientSession:
        """The aiohttp session (opened on first use, inside the event loop)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl), timeout=self._timeout
            )
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _fail(
        self,
        error: APIError,
        method: str,
        path: str,
        params: Mapping[str, object] | None,
        t0: float,
    ) -> APIError:
        if self._log is not None:
            self._log.record(
                error,
                method=method,
                endpoint=path,
                params=params,
                latency_ms=(time.perf_counter() - t0) * 1000,
            )
        return error

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        is_order: bool = False,
    ) -> Any:
        """Send one request and return its parsed JSON, or raise the typed error.

        ``is_order``: the request places, modifies or confirms an order, so a lost answer is
        :class:`~tradewire.errors.OrderStatusUnknown` (reconcile, never resend).
        """
        t0 = time.perf_counter()
        try:
            done = await self.limiter.acquire(path)
        except APIError as exc:
            raise self._fail(exc, method, path, params, t0) from None
        try:
            return await self._send(method, path, params, body, is_order, t0)
        finally:
            done()

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: object,
        is_order: bool,
        t0: float,
    ) -> Any:
        url = self.base_url + path
        headers = dict(self._headers)
        if self.authorizer is not None:
            headers["Authorization"] = self.authorizer.authorization(method, url)
        if body is None and method in ("POST", "PUT"):
            body = {}
        try:
            async with self.http.request(
                method,
                url,
                params=params,
                json=body,
                headers=headers,
                allow_redirects=False,
            ) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            kind = type(exc).__name__
            sent = not isinstance(exc, aiohttp.ClientConnectorError)
            if is_order and sent:
                error: APIError = OrderStatusUnknown(
                    f"no answer to the order request ({kind}): it may or may not have been placed",
                    endpoint=path,
                )
            elif isinstance(exc, aiohttp.ClientConnectorCertificateError):
                error = NetworkError(
                    "the IB gateway's TLS certificate is not trusted",
                    endpoint=path,
                    hint="The Client Portal gateway's certificate is self-signed: pass its "
                    "certificate as cafile= (or an ssl= context), or verify=False explicitly.",
                )
            else:
                error = NetworkError(f"no answer from the IB gateway ({kind})", endpoint=path)
            raise self._fail(error, method, path, params, t0) from exc
        try:
            data = parse_json(raw) if raw.strip() else None
        except ValueError:
            data = {"error": raw[:200].decode("utf-8", "replace")}
        refused = self._error_for(status, data, path, is_order)
        if refused is not None:
            raise self._fail(refused, method, path, params, t0)
        return data

    def _error_for(self, status: int, data: Any, path: str, is_order: bool) -> APIError | None:
        raw_error = data.get("error") if isinstance(data, dict) else None
        text = None if raw_error is None else _as_text(raw_error)
        if status == 429:
            self.limiter.lock(PENALTY_BOX_S)
            return IBPenaltyBox(
                f"IB answered 429 ({text or 'Too Many Requests'}): the IP is in the penalty box; "
                f"the client sends nothing for {PENALTY_BOX_S:.0f} s",
                retry_after=PENALTY_BOX_S,
                status=429,
                endpoint=path,
            )
        if status == 401:
            if self.authorizer is not None:
                return AuthenticationError(
                    f"IB refused the OAuth signature or token (401: {text or 'no body'})",
                    status=401,
                    endpoint=path,
                    hint="The live session token may have expired or the consumer key is not "
                    "active yet: request a new live session token.",
                )
            return IBLoginRequired(
                "the IB gateway has no logged-in session (401)", status=401, endpoint=path
            )
        if text is not None and COMPETING_TEXT in text:
            return IBCompetingSession(text, status=status, endpoint=path)
        if status == 400 and text == "Init session first":
            return IBNoBrokerageSession(text, status=400, endpoint=path)
        if status >= 500:
            message = text or f"HTTP {status}"
            if is_order:
                return OrderStatusUnknown(
                    f"IB answered {status} ({message}) to an order request",
                    status=status,
                    endpoint=path,
                )
            if status == 503:
                return IBUnavailable(message, status=503, endpoint=path)
            return ExchangeUnavailable(message, status=status, endpoint=path)
        if text is not None and is_order and status == 200:
            return IBOrderRejected(text, status=200, endpoint=path)
        if text is not None:
            return APIError(text, status=status, endpoint=path)
        if status >= 400:
            return APIError(f"HTTP {status}", status=status, endpoint=path)
        return None
