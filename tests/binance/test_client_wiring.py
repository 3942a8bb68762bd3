"""BinanceClient's wiring of streams, book sync and the WebSocket API (with stand-in modules)."""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any, cast

import pytest

from tradewire.binance.client import BinanceClient
from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable


class FakeStreamClient:
    """Records how the client builds and uses a StreamClient."""

    instances: list[FakeStreamClient] = []  # noqa: RUF012 - a test recorder

    def __init__(self, url: str, **options: Any) -> None:
        self.url, self.options, self.closed = url, options, False
        FakeStreamClient.instances.append(self)

    async def events(self, *streams: str) -> AsyncIterator[str]:
        for name in streams:
            yield f"event of {name}"

    async def aclose(self) -> None:
        self.closed = True


async def fake_watch_book(
    streams: FakeStreamClient,
    symbol: str,
    fetch_snapshot: Callable[[str, int], Awaitable[bytes]],
    *,
    limit: int = 1000,
) -> AsyncIterator[tuple[FakeStreamClient, bytes]]:
    yield streams, await fetch_snapshot(symbol, limit)


class FakeWsApi:
    """Records the WsApiClient's arguments; yields one user-data event."""

    def __init__(self, url: str, api_key: str, signer: Any, **kw: Any) -> None:
        self.args = (url, api_key, signer)
        self.kw = kw
        self.entered = False

    async def __aenter__(self) -> FakeWsApi:
        self.entered = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.entered = False

    async def user_data(self) -> AsyncIterator[str]:
        yield f"update (entered={self.entered})"


@pytest.fixture
def fake_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stand-ins for tradewire.binance.streams / booksync / wsapi."""
    FakeStreamClient.instances.clear()
    stand_ins: dict[str, dict[str, object]] = {
        "streams": {"StreamClient": FakeStreamClient},
        "booksync": {"watch_book": fake_watch_book},
        "wsapi": {"WsApiClient": FakeWsApi},
    }
    for name, attrs in stand_ins.items():
        module = types.ModuleType(f"tradewire.binance.{name}")
        for attr, value in attrs.items():
            setattr(module, attr, value)
        monkeypatch.setitem(sys.modules, module.__name__, module)


@pytest.mark.asyncio
@pytest.mark.usefixtures("fake_modules")
async def test_streams_books_and_ws_api_are_wired(
    key: Any, make_client: Callable[..., BinanceClient]
) -> None:
    async with make_client(key, stream_options={"queue_size": 10}) as client:
        got: list[object] = [e async for e in client.stream("btcusdt@trade", "btcusdt@depth")]
        assert got == ["event of btcusdt@trade", "event of btcusdt@depth"]
        (streams,) = FakeStreamClient.instances
        assert streams.url == client.stream_url and streams.options == {"queue_size": 10}
        (book,) = [b async for b in client.watch_book("BTCUSDT", limit=5)]
        shared, snapshot = cast("tuple[FakeStreamClient, bytes]", book)
        assert shared is streams  # one stream connection manager per client
        assert b"lastUpdateId" in snapshot
        ws = client.ws_api()
        assert isinstance(ws, FakeWsApi)
        assert ws.args[0] == client.ws_api_url and ws.args[1] == key.api_key
        assert ws.kw["now_ms"] == client.clock.now_ms
        assert ws.kw["on_error"] == client.error_log.ws_error
        assert ws.kw["recv_window"] == 5000
        assert [e async for e in client.user_data()] == ["update (entered=True)"]
    assert streams.closed


@pytest.mark.asyncio
async def test_real_book_sync_and_ws_api_on_the_local_exchange() -> None:
    pytest.importorskip("tradewire.binance.booksync")
    pytest.importorskip("tradewire.binance.wsapi")
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        secret = "ab" * 32
        api_key = ex.add_key(secret)
        async with BinanceClient(
            api_key,
            secret,
            rest_url=ex.rest_url,
            stream_url=ex.stream_url,
            ws_api_url=ex.ws_api_url,
            clock_samples=2,
        ) as client:
            seen = 0
            async for book in client.watch_book("BTCUSDT", limit=100):
                assert book.is_synced and book.symbol == "BTCUSDT"
                seen += 1
                if seen == 5:
                    break
            async with client.ws_api() as ws:
                order = await ws.place_order(
                    symbol="BTCUSDT",
                    side="BUY",
                    type="LIMIT",
                    timeInForce="GTC",
                    quantity="0.001",
                    price="10000",
                    newClientOrderId="wired-1",
                )
            assert order.client_order_id == "wired-1"
            rest_view = await client.get_order("BTCUSDT", client_order_id="wired-1")
            assert rest_view.order_id == order.order_id
