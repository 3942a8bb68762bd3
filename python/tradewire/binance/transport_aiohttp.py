"""The aiohttp backend of :class:`~tradewire.binance.transport.HttpSender` (the default).

The request target is already percent-encoded and signed, so the URL is made with
``yarl.URL(..., encoded=True)``: yarl then keeps every byte as given. Redirects are not followed,
and the session is opened on the first request (aiohttp wants a running event loop for that).
Failures are named like httpx's (``ConnectError``, ``ReadTimeout``, ...) so that errors and logs
read the same whichever backend sent the request.
"""

from __future__ import annotations

import asyncio
import urllib.request
from typing import TYPE_CHECKING

import aiohttp
import yarl

from tradewire.binance.transport import HttpAnswer
from tradewire.errors import HttpFailure

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["AiohttpSender"]

# aiohttp >= 3.10 tells a connect timeout from a read timeout by class; older ones do not.
_CONNECT_TIMEOUT: type[Exception] | None = getattr(aiohttp, "ConnectionTimeoutError", None)


def _env_proxy(url: yarl.URL) -> str | None:
    """The proxy that ``HTTP(S)_PROXY`` / ``NO_PROXY`` give for ``url``, read once, as httpx does.

    aiohttp's own ``trust_env`` looks the proxy up on every request, in a worker thread: two
    thread hops per request, which made a loopback request three times slower.
    """
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)


def _failure(exc: Exception) -> HttpFailure:
    """The httpx-style name of an aiohttp failure, and whether the request may have left."""
    if isinstance(exc, aiohttp.ServerTimeoutError):
        if _CONNECT_TIMEOUT is not None and isinstance(exc, _CONNECT_TIMEOUT):
            return HttpFailure("ConnectTimeout", sent=False)
        return HttpFailure("ReadTimeout", sent=True)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return HttpFailure("ConnectError", sent=False)
    if isinstance(exc, asyncio.TimeoutError):
        return HttpFailure("ReadTimeout", sent=True)
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientResponseError):
        return HttpFailure("RemoteProtocolError", sent=True)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientOSError):
        return HttpFailure("ReadError", sent=True)
    return HttpFailure(type(exc).__name__, sent=True)


class AiohttpSender:
    """Sends requests through an ``aiohttp.ClientSession`` (its own, or the caller's)."""

    def __init__(
        self, base_url: str, *, timeout: float = 10.0, http: aiohttp.ClientSession | None = None
    ) -> None:
        self._base_text = base_url.rstrip("/")
        base = yarl.URL(self._base_text)  # a malformed base URL fails here, not on a request
        self._proxy = _env_proxy(base) if http is None else None
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=timeout, sock_connect=timeout, sock_read=timeout
        )
        self._owns_http = http is None
        self._session = http
        self._closed = False

    def __repr__(self) -> str:
        return f"AiohttpSender({self._base_text!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections (if this sender opened them)."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_http:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the HTTP sender is closed")
        session = aiohttp.ClientSession(timeout=self._timeout)
        self._session = session
        return session

    async def send(self, method: str, target: str, headers: Mapping[str, str]) -> HttpAnswer:
        """Send ``method`` ``target`` and read the whole answer."""
        session = self._session or self._open()
        url = yarl.URL(self._base_text + target, encoded=True)
        try:
            async with session.request(
                method, url, headers=headers, allow_redirects=False, proxy=self._proxy
            ) as response:
                body = await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise _failure(exc) from exc
        return HttpAnswer(response.status, response.reason or "", response.headers, body)
