"""Client benchmarks: signed-order round trips and stream throughput, beside ccxt, in one run.

* ``roundtrip/order-test``: one signed ``order/test`` request and its answer from the local
  exchange (which runs in its own thread and event loop, over real loopback sockets): tradewire
  over REST (``tradewire``: the default aiohttp backend; ``tradewire-httpx``: the httpx one),
  tradewire over the WebSocket API (``tradewire-ws-api``), and ccxt's
  ``create_order(..., {"test": True})`` over REST (``ccxt``).
  Each round sends ``REQUESTS`` requests one after another; ``extra_info`` has the mean latency.
* ``stream/depth-into-book``: a local WebSocket server sends ``FRAMES`` combined-stream depth
  frames as fast as it can; the consumer parses each into a book and reads its top. tradewire
  (``StreamClient.messages`` + ``OrderBook.apply_depth_update``) against the ccxt equivalent
  (``websockets`` + ``json.loads`` + ccxt pro's own ``handle_order_book_message``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from typing import TYPE_CHECKING, Any

import pytest
import websockets

from tradewire import OrderBook
from tradewire.binance import BinanceClient, StreamClient
from tradewire.exchange import LocalExchange
from tradewire.testing.synthetic import SyntheticDepthStream

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Iterator

REQUESTS = 20
FRAMES = 5_000


class ExchangeThread:
    """The local exchange on its own thread and loop, so clients measure a separate server."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.secret = secrets.token_hex(32)
        self.api_key = ""
        self.rest_url = self.ws_api_url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())
        self.loop.close()

    async def _serve(self) -> None:
        self.stop = asyncio.Event()
        async with LocalExchange(
            symbols=("BTCUSDT",), seed=3, request_weight_per_minute=1_000_000, market="none"
        ) as ex:
            self.api_key = ex.add_key(self.secret, permissions=("reading", "spot"))
            self.rest_url, self.ws_api_url = ex.rest_url, ex.ws_api_url
            self.ready.set()
            await self.stop.wait()

    def __enter__(self) -> ExchangeThread:
        self.thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("the local exchange did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)


@pytest.fixture(scope="module")
def exchange() -> Iterator[ExchangeThread]:
    with ExchangeThread() as ex:
        yield ex


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


ORDER = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001",
         "price": "60000", "timeInForce": "GTC"}  # fmt: skip


async def _tradewire_rest(ex: ExchangeThread) -> tuple[Callable[[], Any], Callable[[], Any]]:
    client = BinanceClient(ex.api_key, ex.secret, rest_url=ex.rest_url, ws_api_url=ex.ws_api_url)
    await client.__aenter__()

    async def one() -> Any:
        return await client.test_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
        )

    return one, lambda: client.__aexit__(None, None, None)


async def _tradewire_rest_httpx(ex: ExchangeThread) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """tradewire over REST with the httpx backend (the default is aiohttp)."""
    client = BinanceClient(
        ex.api_key, ex.secret, rest_url=ex.rest_url, ws_api_url=ex.ws_api_url, http_backend="httpx"
    )
    await client.__aenter__()

    async def one() -> Any:
        return await client.test_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
        )

    return one, lambda: client.__aexit__(None, None, None)


async def _tradewire_ws(ex: ExchangeThread) -> tuple[Callable[[], Any], Callable[[], Any]]:
    client = BinanceClient(ex.api_key, ex.secret, rest_url=ex.rest_url, ws_api_url=ex.ws_api_url)
    await client.__aenter__()
    ws_cm = client.ws_api()
    ws = await ws_cm.__aenter__()

    async def one() -> Any:
        return await ws.request("order.test", dict(ORDER), signed=True)

    async def close() -> None:
        await ws_cm.__aexit__(None, None, None)
        await client.__aexit__(None, None, None)

    return one, close


async def _ccxt_rest(ex: ExchangeThread) -> tuple[Callable[[], Any], Callable[[], Any]]:
    ccxt = pytest.importorskip("ccxt.async_support")
    client = ccxt.binance(
        {
            "apiKey": ex.api_key,
            "secret": ex.secret,
            # ccxt's own throttle would space requests out: off, as tradewire's limiter only
            # waits when a limit is near (the local exchange's are far).
            "enableRateLimit": False,
            "options": {"fetchCurrencies": False, "fetchMarkets": ["spot"], "fetchMargins": False},
        }
    )
    for name, url in list(client.urls["api"].items()):
        if isinstance(url, str) and url.startswith("https://api.binance.com"):
            client.urls["api"][name] = url.replace("https://api.binance.com", ex.rest_url)
    await client.load_markets()

    async def one() -> Any:
        return await client.create_order(
            "BTC/USDT", "limit", "buy", 0.001, 60000, {"test": True, "timeInForce": "GTC"}
        )

    return one, client.close


CLIENTS = {"tradewire": _tradewire_rest, "tradewire-httpx": _tradewire_rest_httpx,
           "tradewire-ws-api": _tradewire_ws, "ccxt": _ccxt_rest}  # fmt: skip


@pytest.mark.parametrize("impl", list(CLIENTS))
def test_signed_order_round_trip(
    benchmark: Any,  # pytest-benchmark's fixture is untyped
    exchange: ExchangeThread,
    loop: asyncio.AbstractEventLoop,
    impl: str,
) -> None:
    one, close = loop.run_until_complete(CLIENTS[impl](exchange))

    async def batch() -> None:
        for _ in range(REQUESTS):
            await one()

    try:
        loop.run_until_complete(one())  # warm: connections open, caches filled
        benchmark.group = "roundtrip/order-test"
        benchmark.extra_info.update(impl=impl, requests_per_round=REQUESTS)
        benchmark.pedantic(lambda: loop.run_until_complete(batch()), rounds=8, iterations=1)
        if benchmark.stats is not None:
            benchmark.extra_info["mean_ms_per_request"] = round(
                benchmark.stats.stats.mean / REQUESTS * 1000, 3
            )
    finally:
        loop.run_until_complete(close())


@pytest.fixture(scope="module")
def frames() -> tuple[bytes, list[bytes]]:
    stream = SyntheticDepthStream(seed=9)
    snapshot = stream.snapshot()
    wrapped = [
        b'{"stream":"btcusdt@depth@100ms","data":' + event + b"}" for event in stream.events(FRAMES)
    ]
    return snapshot, wrapped


async def _blast_server(frames: list[bytes]) -> tuple[Any, str]:
    async def handler(ws: Any) -> None:
        for frame in frames:
            await ws.send(frame.decode())
        await ws.wait_closed()

    server = await websockets.serve(handler, "127.0.0.1", 0, max_size=None)
    port = next(iter(server.sockets)).getsockname()[1]
    return server, f"ws://127.0.0.1:{port}"


async def _consume_tradewire(url: str, snapshot: bytes) -> tuple[int, Any]:
    book = OrderBook("BTCUSDT")
    book.apply_snapshot(snapshot)
    count = 0
    async with StreamClient(url) as client:
        async for raw in client.messages("btcusdt@depth@100ms"):
            if isinstance(raw, bytes | str):
                book.apply_depth_update(raw)
                book.best_bid()
                book.best_ask()
                count += 1
                if count == FRAMES:
                    break
    return count, book.bids(5, exact=True)


async def _consume_ccxt(url: str, snapshot: bytes) -> tuple[int, Any]:
    ccxtpro = pytest.importorskip("ccxt.pro")
    exchange = ccxtpro.binance()
    try:
        body = json.loads(snapshot)
        book = exchange.order_book(
            {
                "bids": [[float(p), float(q)] for p, q in body["bids"]],
                "asks": [[float(p), float(q)] for p, q in body["asks"]],
                "nonce": body["lastUpdateId"],
            }
        )
        count = 0
        async with websockets.connect(url + "/stream?streams=btcusdt@depth@100ms") as ws:
            async for frame in ws:
                message = json.loads(frame)
                exchange.handle_order_book_message(None, message["data"], book)
                _ = book["bids"][0], book["asks"][0]
                count += 1
                if count == FRAMES:
                    break
        return count, [(p, q) for p, q in book["bids"][:5]]
    finally:
        await exchange.close()


CONSUMERS: dict[str, Callable[[str, bytes], Coroutine[Any, Any, tuple[int, Any]]]] = {
    "tradewire": _consume_tradewire,
    "ccxt": _consume_ccxt,
}


@pytest.mark.parametrize("impl", list(CONSUMERS))
def test_stream_depth_into_book(
    benchmark: Any,  # pytest-benchmark's fixture is untyped
    frames: tuple[bytes, list[bytes]],
    loop: asyncio.AbstractEventLoop,
    impl: str,
) -> None:
    snapshot, wrapped = frames
    server, url = loop.run_until_complete(_blast_server(wrapped))
    results: list[tuple[int, Any]] = []

    def round_() -> None:
        results.append(loop.run_until_complete(CONSUMERS[impl](url, snapshot)))

    try:
        benchmark.group = "stream/depth-into-book"
        benchmark.extra_info.update(impl=impl, frames_per_round=FRAMES)
        benchmark.pedantic(round_, rounds=5, iterations=1)
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
    count, top = results[-1]
    assert count == FRAMES
    # Both consumers end on the same book: compare the best bid prices.
    reference = OrderBook("BTCUSDT")
    reference.apply_snapshot(snapshot)
    for frame in wrapped:
        reference.apply_depth_update(frame)
    expected = [float(p) for p, _ in reference.bids(5, exact=True)]
    assert [float(p) for p, _ in top] == expected
    benchmark.extra_info["matches_reference"] = True
    if benchmark.stats is not None:
        benchmark.extra_info["events_per_s"] = round(FRAMES / benchmark.stats.stats.mean)
