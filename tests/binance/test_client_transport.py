"""The REST client's HTTP backends (aiohttp, httpx): the same bytes on the wire, the same errors.

A small HTTP server on loopback records each request exactly as it arrived and answers from a
script, so what is signed can be compared with what was sent byte for byte; the local exchange
checks the rest end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import pytest
import pytest_asyncio

from tradewire._core import Signer
from tradewire.binance.clock import ServerClock
from tradewire.binance.errorlog import ErrorLog
from tradewire.binance.ratelimit import RateLimiter
from tradewire.binance.rest import RestTransport, make_sender
from tradewire.binance.signing import sign_params
from tradewire.errors import (
    APIError,
    ConfigError,
    InvalidOrder,
    NetworkError,
    OrderStatusUnknown,
    RateLimitExceeded,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from tradewire.binance.client import BinanceClient
    from tradewire.binance.transport import HttpBackend
    from tradewire.exchange import LocalExchange

BACKENDS: list[HttpBackend] = ["aiohttp", "httpx"]
SECRET = "a" * 64


@dataclass
class Recorded:
    """One request as it arrived: request line and headers (lower-case names)."""

    method: str
    target: bytes
    headers: dict[str, str]


@dataclass
class WireServer:
    """An HTTP/1.1 server that records requests and answers each with the next scripted reply."""

    replies: list[bytes] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    url: str = ""

    def reply(self, status: str, body: bytes = b"{}", headers: tuple[str, ...] = ()) -> None:
        """Queue the answer to one request (``status`` like ``"200 OK"``)."""
        head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
        self.replies.append(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    def drop(self) -> None:
        """Queue a connection closed without an answer."""
        self.replies.append(b"")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *lines = head.decode("ascii").split("\r\n")
                method, target, _ = line.split(" ")
                headers = {}
                for h in lines:
                    if h:
                        name, _, value = h.partition(":")
                        headers[name.strip().lower()] = value.strip()
                self.requests.append(Recorded(method, target.encode("ascii"), headers))
                answer = self.replies.pop(0) if self.replies else b""
                if not answer:
                    break
                writer.write(answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest_asyncio.fixture
async def wire() -> AsyncIterator[WireServer]:
    """A :class:`WireServer` on 127.0.0.1 (ephemeral port)."""
    state = WireServer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield state
    finally:
        server.close()
        for writer in state.writers:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        await server.wait_closed()


async def _server_time() -> int:
    return 0


@contextlib.asynccontextmanager
async def rest_for(
    url: str, backend: HttpBackend, *, timeout: float = 5.0, log: ErrorLog | None = None
) -> AsyncIterator[RestTransport]:
    """A RestTransport on ``url`` with an HMAC key, closed on exit."""
    clock = ServerClock(_server_time, samples=1)
    rest = RestTransport(
        url,
        api_key="test-key",
        signer=Signer.from_secret(SECRET),
        clock=clock,
        limiter=RateLimiter(clock.now_ms),
        error_log=log or ErrorLog(),
        timeout=timeout,
        http_backend=backend,
    )
    try:
        yield rest
    finally:
        await rest.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_bytes_signed_are_the_bytes_sent(wire: WireServer, backend: HttpBackend) -> None:
    wire.reply("200 OK", b'{"ok":true}')
    params: dict[str, Any] = {
        "symbol": "BTCUSDT",
        "newClientOrderId": "grid/1:a b+c%d&e=f~ü€",  # every character that needs encoding
        "price": "60000.10",
    }
    signer = Signer.from_secret(SECRET)
    async with rest_for(wire.url, backend) as rest:
        body = await rest.request("POST", "/api/v3/order/test", params, signed=True)
    assert body == b'{"ok":true}'
    [sent] = wire.requests
    assert sent.method == "POST" and sent.headers["x-mbx-apikey"] == "test-key"
    path, _, query = sent.target.partition(b"?")
    assert path == b"/api/v3/order/test"
    # The query on the wire is exactly what sign_params makes of the same parameters...
    timestamp = int(dict(p.split("=") for p in query.decode().split("&"))["timestamp"])
    expected = sign_params(signer, {**params, "recvWindow": 5000, "timestamp": timestamp})
    assert query == expected.encode("ascii")
    # ... and its signature signs the bytes before it.
    payload, _, signature = query.rpartition(b"&signature=")
    assert signer.verify(payload, signature.decode())
    assert b"grid%2F1%3Aa%20b%2Bc%25d%26e%3Df~%C3%BC%E2%82%AC" in query


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_unsigned_query_unchanged_and_no_key(wire: WireServer, backend: HttpBackend) -> None:
    wire.reply("200 OK", b"[]")
    async with rest_for(wire.url + "/", backend) as rest:
        await rest.request("GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"})
    [sent] = wire.requests
    assert sent.target == b"/api/v3/klines?symbol=BTCUSDT&interval=1m"
    assert "x-mbx-apikey" not in sent.headers


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_connection_is_reused(wire: WireServer, backend: HttpBackend) -> None:
    for _ in range(3):
        wire.reply("200 OK")
    async with rest_for(wire.url, backend) as rest:
        for _ in range(3):
            await rest.request("GET", "/api/v3/ping")
    assert len(wire.requests) == 3 and len(wire.writers) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_headers_are_read_case_insensitively(wire: WireServer, backend: HttpBackend) -> None:
    wire.reply(
        "429 Too Many Requests",
        b'{"code":-1003,"msg":"Too many requests."}',
        ("retry-after: 7", "x-mbx-used-weight-1m: 6001"),
    )
    async with rest_for(wire.url, backend) as rest:
        with pytest.raises(RateLimitExceeded) as err:
            await rest.request("GET", "/api/v3/ping")
    assert err.value.retry_after == 7 and err.value.code == -1003


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_redirects_are_not_followed(wire: WireServer, backend: HttpBackend) -> None:
    wire.reply("302 Found", b"", (f"Location: {wire.url}/elsewhere",))
    async with rest_for(wire.url, backend) as rest:
        with pytest.raises(APIError, match="HTTP 302 Found"):
            await rest.request("GET", "/api/v3/ping")
    assert len(wire.requests) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_dropped_connection(wire: WireServer, backend: HttpBackend) -> None:
    wire.drop()
    async with rest_for(wire.url, backend) as rest:
        with pytest.raises(OrderStatusUnknown, match="RemoteProtocolError"):
            await rest.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True, is_order=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_refused_connection_is_a_network_error_even_for_an_order(
    backend: HttpBackend, tmp_path: Any
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = ErrorLog(tmp_path / "errors.jsonl")
    async with rest_for(f"http://127.0.0.1:{port}", backend, log=log) as rest:
        with pytest.raises(NetworkError, match="ConnectError") as err:
            await rest.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True, is_order=True)
    assert not isinstance(err.value, OrderStatusUnknown)  # never sent: safe to send again
    line = (tmp_path / "errors.jsonl").read_text()
    assert '"error":"NetworkError"' in line and "signature" not in line


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_read_timeout(ex: LocalExchange, backend: HttpBackend) -> None:
    async with rest_for(ex.rest_url, backend, timeout=0.2) as rest:
        ex.set_faults(delay_ms=500)
        with pytest.raises(NetworkError, match="ReadTimeout") as err:
            await rest.request("GET", "/api/v3/ping")
        assert not isinstance(err.value, OrderStatusUnknown)
        with pytest.raises(OrderStatusUnknown, match="ReadTimeout"):
            await rest.request("POST", "/api/v3/order", {"symbol": "X"}, signed=True, is_order=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
async def test_orders_on_the_exchange(
    new_key: Callable[..., Any],
    make_client: Callable[..., BinanceClient],
    backend: HttpBackend,
    kind: str,
) -> None:
    async with make_client(new_key(kind), http_backend=backend) as client:
        order = await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
        )
        assert [o.order_id for o in await client.open_orders("BTCUSDT")] == [order.order_id]
        canceled = await client.cancel_order("BTCUSDT", client_order_id=order.client_order_id)
        assert canceled.status == "CANCELED"
        with pytest.raises(InvalidOrder):
            await client.test_order("BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="-1")
        assert client.limiter.limits  # exchangeInfo's limits were read through this backend


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_callers_client_is_used_and_left_open(ex: LocalExchange, backend: str) -> None:
    http: httpx.AsyncClient | aiohttp.ClientSession = (
        httpx.AsyncClient() if backend == "httpx" else aiohttp.ClientSession()
    )
    try:
        clock = ServerClock(_server_time, samples=1)
        rest = RestTransport(
            ex.rest_url,
            api_key=None,
            signer=None,
            clock=clock,
            limiter=RateLimiter(clock.now_ms),
            error_log=ErrorLog(),
            http=http,
        )
        assert rest._http.__class__.__module__.endswith(backend)
        assert await rest.request("GET", "/api/v3/ping") == b"{}"
        await rest.aclose()
        assert not (http.is_closed if isinstance(http, httpx.AsyncClient) else http.closed)
    finally:
        if isinstance(http, httpx.AsyncClient):
            await http.aclose()
        else:
            await http.close()


@pytest.mark.asyncio
async def test_backend_choice_is_checked() -> None:
    assert make_sender("http://127.0.0.1:1").__class__.__module__.endswith("aiohttp")
    with pytest.raises(ValueError, match="unknown HTTP backend"):
        make_sender("http://127.0.0.1:1", backend="urllib")  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="does not match"):
            make_sender("http://127.0.0.1:1", backend="aiohttp", http=http)
    with pytest.raises(ValueError, match="must be an httpx"):
        make_sender("http://127.0.0.1:1", http=object())  # type: ignore[arg-type]


def test_httpx_backend_without_httpx_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # what an install without the extra sees
    with pytest.raises(ConfigError, match=r"pip install 'tradewire\[httpx\]'"):
        make_sender("http://127.0.0.1:1", backend="httpx")
    assert make_sender("http://127.0.0.1:1").__class__.__module__.endswith("aiohttp")


@pytest.mark.asyncio
@pytest.mark.parametrize("backend", BACKENDS)
async def test_closed_sender_refuses(wire: WireServer, backend: HttpBackend) -> None:
    wire.reply("200 OK")
    sender = make_sender(wire.url, backend=backend)
    await sender.send("GET", "/api/v3/ping", {})
    await sender.aclose()
    with pytest.raises(RuntimeError):
        await sender.send("GET", "/api/v3/ping", {})
