"""BinanceClient's wiring of streams, book sync and the WebSocket API.

Stand-ins come in through the constructor (``stream_client_class=``, ``ws_api_class=``,
``sender=``): subclasses that record how the client builds and uses them, opening no socket.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire._core import Signer, Trade
from tradewire.binance.client import BinanceClient
from tradewire.binance.streams import StreamClient
from tradewire.binance.transport import HttpAnswer
from tradewire.binance.userdata import ExecutionReport, parse_user_event
from tradewire.binance.wsapi import WsApiClient
from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Mapping
    from types import TracebackType

    from tradewire.binance.streams import Reconnected
    from tradewire.binance.userdata import AccountUpdate, BalanceUpdate


def trade_frame(stream: str, trade_id: int) -> bytes:
    """A combined-stream trade frame."""
    return (
        f'{{"stream":"{stream}","data":{{"e":"trade","E":1,"s":"BTCUSDT","t":{trade_id},'
        f'"p":"60000.00","q":"0.001","T":1,"m":true,"M":true}}}}'
    ).encode()


class RecordingStreams(StreamClient):
    """A StreamClient that records what it is asked for and plays one trade per stream name."""

    made: list[RecordingStreams] = []  # noqa: RUF012 - a test recorder

    def __init__(self, stream_url: str, **options: Any) -> None:
        super().__init__(stream_url, **options)
        self.asked: list[tuple[str, ...]] = []
        self.closed = False
        RecordingStreams.made.append(self)

    async def messages(self, *streams: str) -> AsyncGenerator[bytes | Reconnected, None]:
        """One trade frame per stream name; no socket."""
        self.asked.append(streams)
        for n, name in enumerate(streams):
            yield trade_frame(name, n + 1)

    async def aclose(self) -> None:
        """Record the close."""
        self.closed = True


EXECUTION_REPORT = {
    "e": "executionReport", "E": 5, "s": "BTCUSDT", "c": "cid-1", "S": "BUY", "o": "LIMIT",
    "q": "0.001", "p": "60000.00", "x": "NEW", "X": "NEW", "i": 7, "l": "0", "z": "0",
    "L": "0", "n": "0", "N": None, "T": 5, "t": -1, "m": False, "Z": "0",
}  # fmt: skip


class RecordingWsApi(WsApiClient):
    """A WsApiClient that records how it was made and yields one order update, unconnected."""

    made: list[RecordingWsApi] = []  # noqa: RUF012 - a test recorder

    def __init__(
        self,
        ws_api_url: str,
        api_key: str,
        signer: Signer,
        *,
        now_ms: Callable[[], int],
        recv_window: int = 5000,
        **options: Any,
    ) -> None:
        super().__init__(
            ws_api_url, api_key, signer, now_ms=now_ms, recv_window=recv_window, **options
        )
        self.now_ms_given = now_ms
        self.options = options
        self.entered = False
        RecordingWsApi.made.append(self)

    async def __aenter__(self) -> RecordingWsApi:
        self.entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.entered = False

    async def user_data(
        self, *, on_subscribed: Callable[[], object] | None = None
    ) -> AsyncGenerator[ExecutionReport | BalanceUpdate | AccountUpdate, None]:
        """One executionReport, only while entered (subscribed at once)."""
        assert self.entered
        if on_subscribed is not None:
            on_subscribed()
        event = parse_user_event(EXECUTION_REPORT)
        assert isinstance(event, ExecutionReport)
        yield event


class ScriptedSender:
    """An HttpSender that answers every request from a table and records the targets."""

    def __init__(self, bodies: Mapping[str, bytes]) -> None:
        self.bodies = bodies
        self.targets: list[str] = []
        self.closed = False

    async def send(self, method: str, target: str, headers: Mapping[str, str]) -> HttpAnswer:
        """The scripted body of ``target``'s path."""
        self.targets.append(f"{method} {target}")
        path = target.partition("?")[0]
        return HttpAnswer(200, "OK", {"X-MBX-USED-WEIGHT-1M": "7"}, self.bodies[path])

    async def aclose(self) -> None:
        """Record the close."""
        self.closed = True


@pytest.mark.asyncio
async def test_streams_books_and_ws_api_are_made_from_the_classes_given(
    key: Any, make_client: Callable[..., BinanceClient]
) -> None:
    RecordingStreams.made.clear()
    RecordingWsApi.made.clear()
    async with make_client(
        key,
        stream_options={"queue_size": 10},
        stream_client_class=RecordingStreams,
        ws_api_class=RecordingWsApi,
    ) as client:
        got = [e async for e in client.stream("btcusdt@trade", "btcusdt@aggTrade")]
        assert [(e.stream, e.trade_id) for e in got if isinstance(e, Trade)] == [
            ("btcusdt@trade", 1),
            ("btcusdt@aggTrade", 2),
        ]
        (streams,) = RecordingStreams.made
        assert streams.stream_url == client.stream_url and streams.queue_size == 10
        # The book sync asks the same stream client for the depth and bookTicker streams.
        books = [b async for b in client.watch_book("BTCUSDT", limit=5)]
        assert books == []  # trades only: the book never syncs
        assert RecordingStreams.made == [streams]
        assert streams.asked[-1] == ("btcusdt@depth@100ms", "btcusdt@bookTicker")

        ws = client.ws_api()
        assert isinstance(ws, RecordingWsApi) and not ws.entered
        assert (ws.url, ws.recv_window) == (client.ws_api_url, 5000)
        assert ws.options["on_error"] == client.error_log.ws_error
        assert ws.now_ms_given == client.clock.now_ms  # the client's server clock
        (update,) = [e async for e in client.user_data()]
        assert isinstance(update, ExecutionReport)
        assert (update.client_order_id, update.price) == ("cid-1", Decimal(60000))
        assert len(RecordingWsApi.made) == 2 and not RecordingWsApi.made[-1].entered
    assert streams.closed


@pytest.mark.asyncio
async def test_rest_goes_through_the_sender_given() -> None:
    sender = ScriptedSender(
        {
            "/api/v3/time": b'{"serverTime": 1800000000000}',
            "/api/v3/ticker/bookTicker": (
                b'{"symbol":"BTCUSDT","bidPrice":"1.10","bidQty":"2","askPrice":"1.20",'
                b'"askQty":"3"}'
            ),
        }
    )
    client = BinanceClient(sender=sender, load_exchange_info=False, clock_samples=1)
    async with client:
        ticker = await client.book_ticker("btcusdt")
    assert (ticker.bid_price, ticker.ask_qty) == (Decimal("1.10"), Decimal(3))
    assert sender.targets[-1] == "GET /api/v3/ticker/bookTicker?symbol=BTCUSDT"
    assert sender.closed
    with pytest.raises(ValueError, match="not both"):
        BinanceClient(sender=sender, http_backend="httpx")


@pytest.mark.asyncio
async def test_real_book_sync_and_ws_api_on_the_local_exchange() -> None:
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
