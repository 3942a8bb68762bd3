"""The httpx backend of :class:`~tradewire.binance.transport.HttpSender`.

The request target is already percent-encoded and signed: the URL is built so that its raw path
is exactly those bytes (checked on every request; ``copy_with(raw_path=...)`` is the fallback
that never re-encodes), and redirects are not followed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from tradewire.binance.transport import HttpAnswer
from tradewire.errors import HttpFailure

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["HttpxSender"]

# Failures that happen before any byte of the request is written.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class HttpxSender:
    """Sends requests through an ``httpx.AsyncClient`` (its own, or the caller's)."""

    def __init__(
        self, base_url: str, *, timeout: float = 10.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self._base = httpx.URL(base_url.rstrip("/"))
        self._base_text = str(self._base).rstrip("/")
        self._base_path = self._base.raw_path.rstrip(b"/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"HttpxSender({self._base_text!r})"

    async def aclose(self) -> None:
        """Close the HTTP connections (if this sender opened them)."""
        if self._owns_http:
            await self._http.aclose()

    def _url(self, target: str) -> httpx.URL:
        raw_path = self._base_path + target.encode("ascii")
        # Parsing the whole text is about twice as fast as copy_with; it is used only when it
        # leaves every byte as it was (it does for a fully percent-encoded target).
        url = httpx.URL(self._base_text + target)
        if url.raw_path != raw_path:
            url = self._base.copy_with(raw_path=raw_path)
        return url

    async def send(self, method: str, target: str, headers: Mapping[str, str]) -> HttpAnswer:
        """Send ``method`` ``target`` and read the whole answer."""
        try:
            response = await self._http.request(method, self._url(target), headers=headers)
        except httpx.TransportError as exc:
            raise HttpFailure(type(exc).__name__, sent=not isinstance(exc, _NEVER_SENT)) from exc
        return HttpAnswer(
            response.status_code, response.reason_phrase, response.headers, response.content
        )
