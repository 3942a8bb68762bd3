"""The HTTP layer under the REST client: one small interface, with an aiohttp and an httpx backend.

:class:`~tradewire.binance.rest.RestTransport` builds and signs the request line itself and hands
an :class:`HttpSender` the exact ``path?query`` text to put on the wire; the sender must send
those bytes unchanged (no re-encoding, no redirects) and answer with an :class:`HttpAnswer`, or
raise :class:`HttpFailure` when no HTTP answer came back. Two backends implement it
(:func:`tradewire.binance.rest.make_sender` picks one):

* :class:`~tradewire.binance.transport_aiohttp.AiohttpSender` (the default): C-accelerated HTTP
  parsing; a signed order round trip on loopback takes a quarter to a half of httpx's time
  (``benches/test_bench_client.py``).
* :class:`~tradewire.binance.transport_httpx.HttpxSender`: for callers who pass their own
  ``httpx.AsyncClient`` (proxies, mounts, mocks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["HttpAnswer", "HttpBackend", "HttpSender"]

HttpBackend = Literal["aiohttp", "httpx"]


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """One HTTP answer: status, reason, headers (case-insensitive lookup) and the whole body."""

    status: int
    reason: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def is_success(self) -> bool:
        """Whether the status is 2xx."""
        return 200 <= self.status < 300


class HttpSender(Protocol):
    """Sends one request whose path and query are already encoded, and reads the whole answer."""

    async def send(self, method: str, target: str, headers: Mapping[str, str]) -> HttpAnswer:
        """Send ``method`` ``target`` (``/path?query``, ASCII, sent byte for byte)."""
        ...

    async def aclose(self) -> None:
        """Close the connections this sender opened."""
        ...
