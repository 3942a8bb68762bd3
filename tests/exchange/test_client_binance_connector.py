"""binance-connector, unmodified, trades on the local exchange on its default URL layout.

binance-connector takes its URLs as constructor arguments, where a user gives the testnet's:
``Spot(base_url=...)`` for REST, ``SpotWebsocketStreamClient(stream_url=...)`` (it connects to
``<url>/ws`` and subscribes there) and ``SpotWebsocketAPIClient(stream_url=...)``. It is
synchronous: REST over requests, WebSockets on threads of its own (websocket-client), which
connect in their constructors; so every client call runs in a worker thread while the exchange
serves on the test's event loop.

binance-connector and python-binance install the same ``binance`` package: this file runs where
binance-connector's is installed (``binance.spot``) and skips otherwise.
"""

from __future__ import annotations

import asyncio
import json
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.exchange import LocalExchange
from tradewire.testing.local_exchange import client_key
from tradewire.testing.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tradewire.exchange.orders import OrderRecord

spot = pytest.importorskip("binance.spot", reason="binance-connector is not installed")
errors = pytest.importorskip("binance.error")
stream_clients = pytest.importorskip("binance.websocket.spot.websocket_stream")
api_clients = pytest.importorskip("binance.websocket.spot.websocket_api")

SYMBOL = "BTCUSDT"


@pytest.fixture
def rest(market: LocalExchange) -> Iterator[Callable[..., Any]]:
    """Make ``Spot`` REST clients on the exchange's URL (``rest(api_key, **auth)``); closes them."""
    made: list[Any] = []

    def make(api_key: str | None = None, **auth: str) -> Any:
        client = spot.Spot(api_key, base_url=market.rest_url, timeout=10, **auth)
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()


def _account(ex: LocalExchange, api_key: str) -> int:
    key = ex.core.keys.get(api_key)
    assert key is not None
    return key.account


def _held(ex: LocalExchange, api_key: str, order_id: int) -> OrderRecord:
    """The exchange's own record of an order (not what any client says)."""
    return ex.core.engine.order(_account(ex, api_key), SYMBOL, order_id=order_id)


def _top(ex: LocalExchange) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """The exchange's best bid and best ask, each (price, quantity)."""
    bid, ask = ex.core.engine.best_bid_ask(SYMBOL)
    assert bid is not None and ask is not None
    return bid, ask


class Inbox:
    """Messages a connector WebSocket client hands its ``on_message`` callback (on its thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Any] = []

    def __call__(self, _client: object, message: str) -> None:
        with self._lock:
            self._messages.append(json.loads(message))

    def messages(self) -> list[Any]:
        with self._lock:
            return list(self._messages)

    async def first(self, match: Callable[[Any], bool]) -> Any:
        """The first message ``match`` accepts, waiting for it."""

        def found() -> Any:
            return next((m for m in self.messages() if match(m)), None)

        return await eventually(found, timeout=10)


def _event(kind: str) -> Callable[[Any], bool]:
    """Matches a stream event of type ``kind``."""
    return lambda message: bool(message.get("e") == kind)


def _stop(client: Any) -> None:
    """Stop a connector WebSocket client (blocking: it joins the client's thread)."""
    client.stop()
    client.socket_manager.ws.shutdown()  # stop() sends the close frame but leaves the socket open


# --- REST ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rest_market_data_agrees_with_the_exchange(
    market: LocalExchange, rest: Callable[..., Any]
) -> None:
    market.pause()  # one book and one tape for every call below
    client = rest()

    def read() -> dict[str, Any]:
        return {
            "ping": client.ping(),
            "time": client.time()["serverTime"],
            "info": client.exchange_info(symbol=SYMBOL),
            "depth": client.depth(SYMBOL, limit=5),
            "trades": client.trades(SYMBOL, limit=3),
            "klines": client.klines(SYMBOL, "1m", limit=2),
            "ticker": client.ticker_24hr(SYMBOL),
            "price": client.ticker_price(SYMBOL),
            "book": client.book_ticker(SYMBOL),
            "avg": client.avg_price(SYMBOL),
        }

    before = market.server_time()
    got = await asyncio.to_thread(read)
    assert got["ping"] == {}
    assert before <= got["time"] <= market.server_time()
    assert [s["symbol"] for s in got["info"]["symbols"]] == [SYMBOL]
    (bid, bid_qty), (ask, ask_qty) = _top(market)
    depth, book = got["depth"], got["book"]
    assert (Decimal(depth["bids"][0][0]), Decimal(depth["asks"][0][0])) == (bid, ask)
    assert (Decimal(book["bidPrice"]), Decimal(book["bidQty"])) == (bid, bid_qty)
    assert (Decimal(book["askPrice"]), Decimal(book["askQty"])) == (ask, ask_qty)
    tape = market.core.engine.recent_trades(SYMBOL, 3)
    assert [t["id"] for t in got["trades"]] == [t.trade_id for t in tape]
    last = tape[-1].price
    assert Decimal(got["price"]["price"]) == Decimal(got["ticker"]["lastPrice"]) == last
    assert Decimal(got["klines"][-1][4]) == last
    assert got["avg"]["mins"] == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
async def test_rest_orders_match_what_the_exchange_holds(
    market: LocalExchange, rest: Callable[..., Any], kind: str
) -> None:
    api_key, auth = client_key(market, kind, {"USDT": "1000", "BTC": "0.1"})
    client = rest(api_key, **auth)
    price = str((_top(market)[0][0] * Decimal("0.9")).quantize(Decimal("0.01")))

    def trade() -> tuple[Any, ...]:
        placed = client.new_order(
            SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.001", price=price
        )
        queried = client.get_order(SYMBOL, orderId=placed["orderId"])
        still_open = client.get_open_orders(SYMBOL)
        canceled = client.cancel_order(SYMBOL, orderId=placed["orderId"])
        taken = client.new_order(SYMBOL, "BUY", "MARKET", quantity="0.001")
        trades = client.my_trades(SYMBOL)
        account = client.account(omitZeroBalances="true")
        return placed, queried, still_open, canceled, taken, trades, account

    placed, queried, still_open, canceled, taken, trades, account = await asyncio.to_thread(trade)
    assert (placed["status"], queried["status"], canceled["status"]) == ("NEW", "NEW", "CANCELED")
    assert _held(market, api_key, placed["orderId"]).status == "CANCELED"
    assert Decimal(queried["price"]) == Decimal(price)
    assert [o["orderId"] for o in still_open] == [placed["orderId"]]
    filled = _held(market, api_key, taken["orderId"])
    assert (taken["status"], filled.status) == ("FILLED", "FILLED")
    assert Decimal(taken["executedQty"]) == filled.executed_qty == Decimal("0.001")
    assert {t["orderId"] for t in trades} == {taken["orderId"]}
    balances = {b["asset"]: Decimal(b["free"]) for b in account["balances"]}
    commission = sum(Decimal(t["commission"]) for t in trades)
    assert balances["BTC"] == Decimal("0.1") + Decimal("0.001") - commission


@pytest.mark.asyncio
async def test_refusals_raise_client_error_with_the_code(
    market: LocalExchange, rest: Callable[..., Any]
) -> None:
    api_key, auth = client_key(market, "hmac", {"USDT": "100"})
    client = rest(api_key, **auth)
    attempts: dict[int, Callable[[], Any]] = {
        -2010: lambda: client.new_order(
            SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="1", price="60000"
        ),
        -1013: lambda: client.new_order(
            SYMBOL, "BUY", "LIMIT", timeInForce="GTC", quantity="0.00000001", price="60000"
        ),
        -2013: lambda: client.get_order(SYMBOL, orderId=987_654),
        -2011: lambda: client.cancel_order(SYMBOL, orderId=987_654),
    }

    def attempt_all() -> dict[int, Any]:
        raised: dict[int, Any] = {}
        for code, call in attempts.items():
            with pytest.raises(errors.ClientError) as caught:
                call()
            raised[code] = caught.value
        return raised

    placed_before = market.metrics()["orders_placed"]
    raised = await asyncio.to_thread(attempt_all)
    assert {code: e.error_code for code, e in raised.items()} == {c: c for c in attempts}
    assert {e.status_code for e in raised.values()} == {400}
    assert market.metrics()["orders_placed"] == placed_before


# --- WebSockets ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_market_streams_through_the_stream_client(market: LocalExchange) -> None:
    inbox = Inbox()
    client = await asyncio.to_thread(
        stream_clients.SpotWebsocketStreamClient, stream_url=market.stream_url, on_message=inbox
    )
    try:
        await asyncio.to_thread(client.trade, symbol="btcusdt")
        await asyncio.to_thread(client.diff_book_depth, symbol="btcusdt", speed=100)
        await asyncio.to_thread(client.kline, symbol="btcusdt", interval="1s")
        await asyncio.to_thread(client.ticker, symbol="btcusdt")
        first: dict[str, Any] = {}
        for kind in ("trade", "depthUpdate", "kline", "24hrTicker"):
            first[kind] = await inbox.first(_event(kind))
    finally:
        await asyncio.to_thread(_stop, client)
    assert {kind: event["s"] for kind, event in first.items()} == dict.fromkeys(first, SYMBOL)
    acks = [m for m in inbox.messages() if "result" in m]
    assert len(acks) == 4 and all(a["result"] is None for a in acks)


@pytest.mark.asyncio
async def test_ws_api_places_and_cancels(market: LocalExchange) -> None:
    api_key, auth = client_key(market, "hmac", {"USDT": "1000"})
    inbox = Inbox()
    client = await asyncio.to_thread(
        api_clients.SpotWebsocketAPIClient,
        stream_url=market.ws_api_url,
        api_key=api_key,
        on_message=inbox,
        **auth,
    )
    try:
        await asyncio.to_thread(
            client.new_order,
            id="place",
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.001",
            price="50000",
        )
        placed = (await inbox.first(lambda m: m.get("id") == "place"))["result"]
        await asyncio.to_thread(client.account, id="account")
        account = (await inbox.first(lambda m: m.get("id") == "account"))["result"]
        await asyncio.to_thread(
            client.cancel_order, id="cancel", symbol=SYMBOL, orderId=placed["orderId"]
        )
        canceled = (await inbox.first(lambda m: m.get("id") == "cancel"))["result"]
        await asyncio.to_thread(
            client.new_order,
            id="refused",
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="1",
            price="50000",
        )
        refused = await inbox.first(lambda m: m.get("id") == "refused")
    finally:
        await asyncio.to_thread(_stop, client)
    assert (placed["status"], canceled["status"]) == ("NEW", "CANCELED")
    assert _held(market, api_key, placed["orderId"]).status == "CANCELED"
    usdt = next(b for b in account["balances"] if b["asset"] == "USDT")
    assert Decimal(usdt["locked"]) == Decimal("50")
    assert (refused["status"], refused["error"]["code"]) == (400, -2010)


@pytest.mark.asyncio
async def test_user_data_over_a_listen_key() -> None:
    """binance-connector's only user-data path: a REST listenKey, then ``/ws/<listenKey>``.

    Binance retired listenKeys; the local exchange offers them only when asked.
    """
    async with LocalExchange(symbols=(SYMBOL,), market="none", legacy_listen_key=True) as ex:
        api_key, auth = client_key(ex, "hmac", {"USDT": "1000"})
        client = spot.Spot(api_key, base_url=ex.rest_url, timeout=10, **auth)
        inbox = Inbox()
        try:
            listen_key = (await asyncio.to_thread(client.new_listen_key))["listenKey"]
            stream = await asyncio.to_thread(
                stream_clients.SpotWebsocketStreamClient, stream_url=ex.stream_url, on_message=inbox
            )
            try:
                await asyncio.to_thread(stream.user_data, listen_key=listen_key, id=1)
                ack = await inbox.first(lambda m: m.get("id") == 1)
                assert ack.get("result", ack) is None, ack
                placed = await asyncio.to_thread(
                    client.new_order,
                    SYMBOL,
                    "BUY",
                    "LIMIT",
                    timeInForce="GTC",
                    quantity="0.001",
                    price="50000",
                )
                report = await inbox.first(_event("executionReport"))
            finally:
                await asyncio.to_thread(_stop, stream)
        finally:
            client.session.close()
    assert (report["s"], report["i"], report["x"]) == (SYMBOL, placed["orderId"], "NEW")
