"""The HTTP layer under the REST client: one small interface, an aiohttp and an httpx backend.

:class:`~tradewire.binance.rest.RestTransport` builds and signs the request line itself and hands
an :class:`HttpSender` the exact ``path?query`` text to put on the wire; the sender must send
those bytes unchanged (no re-encoding, no redirects) and answer with an :class:`HttpAnswer`, or
raise :class:`HttpFailure` when no HTTP answer came back. Two backends implement it:

* ``"aiohttp"`` (the default): C-accelerated HTTP parsing; a signed order round trip on loopback
  takes a quarter to a half of httpx's time (``benches/test_bench_client.py``).
* ``"httpx"``: for callers who pass their own ``httpx.AsyncClient`` (proxies, mounts, mocks).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["HttpAnswer", "HttpBackend", "HttpSender", "make_sender"]

HttpBackend = Literal["aiohttp", "httpx"]

_BACKEND_MODULES = {
    "aiohttp": "tradewire.binance.transport_aiohttp",
    "httpx": "tradewire.binance.transport_httpx",
}


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


def _backend_of(http: object) -> HttpBackend:
    """Which backend a client object belongs to (an httpx or aiohttp client, or a subclass)."""
    for cls in type(http).__mro__:
        root = cls.__module__.partition(".")[0]
        if root == "httpx":
            return "httpx"
        if root == "aiohttp":
            return "aiohttp"
    raise ValueError(
        f"http must be an httpx.AsyncClient or aiohttp.ClientSession, not {type(http)}"
    )


def make_sender(
    base_url: str,
    *,
    backend: HttpBackend | None = None,
    timeout: float = 10.0,
    http: object | None = None,
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
    if backend is None:
        backend = "aiohttp"
    if backend not in _BACKEND_MODULES:
        raise ValueError(f"unknown HTTP backend {backend!r}; use 'aiohttp' or 'httpx'")
    module = importlib.import_module(_BACKEND_MODULES[backend])
    sender: HttpSender = module.Sender(base_url, timeout=timeout, http=http)
    return sender
