"""python-binance, unmodified, trades on the local exchange on its default URL layout.

python-binance reads its base URLs from class constants (``API_URL``, ``WS_API_URL`` on the
clients, ``STREAM_URL`` on ``BinanceSocketManager``); a user points it at another deployment with
a subclass that sets them, as done here. Paths are the library's own: ``/api/v3/...`` for REST,
``/ws/<stream>`` and ``/stream?streams=`` for market streams, ``/ws-api/v3`` for the WebSocket API,
where its user socket subscribes with ``userDataStream.subscribe.signature``.

python-binance and binance-connector install the same ``binance`` package; this file needs
python-binance's (``binance.AsyncClient``) and skips otherwise.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.testing.local_exchange import client_key

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tradewire.exchange import LocalExchange
    from tradewire.exchange.orders import OrderRecord

binance = pytest.importorskip("binance")
if not hasattr(binance, "AsyncClient"):  # binance-connector's package of the same name
    pytest.skip("the installed 'binance' package is not python-binance", allow_module_level=True)
exceptions = pytest.importorskip("binance.exceptions")
reconnecting = pytest.importorskip("binance.ws.reconnecting_websocket")

SYMBOL = "BTCUSDT"


@pytest.fixture
def quick_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-binance's WebSocket read loop notices a close only at its next receive or after
    ``ReconnectingWebsocket.TIMEOUT`` (10 s); a connection idle at the end of a test (the
    WebSocket API's, or a stream of a paused market) would take the whole 10 s to close. 2 s
    changes nothing on the wire; it is also the WebSocket API's reply timeout, ample for a
    local server."""
    monkeypatch.setattr(reconnecting.ReconnectingWebsocket, "TIMEOUT", 2.0)


def _urls(ex: LocalExchange) -> dict[str, str]:
    """The class constants python-binance builds its URLs from, for ``ex``."""
    return {"API_URL": f"{ex.rest_url}/api", "WS_API_URL": ex.ws_api_url}


async def _client(ex: LocalExchange, api_key: str | None = None, **auth: str) -> Any:
    """``AsyncClient.create`` (it pings and reads the server time) on a subclass aimed at ``ex``."""
    local: Any = type("LocalAsyncClient", (binance.AsyncClient,), _urls(ex))
    return await local.create(api_key, **auth)


def _sockets(ex: LocalExchange, client: Any) -> Any:
    """A ``BinanceSocketManager`` on a subclass whose streams are on ``ex``."""
    attrs = {"STREAM_URL": f"{ex.stream_url}/"}
    return type("LocalSocketManager", (binance.BinanceSocketManager,), attrs)(client)


def _account(ex: LocalExchange, api_key: str) -> int:
    key = ex.core.keys.get(api_key)
    assert key is not None
    return key.account


def _held(ex: LocalExchange, api_key: str, order_id: int) -> OrderRecord:
    """The exchange's own record of an order (not what any client says)."""
    return ex.core.engine.order(_account(ex, api_key), SYMBOL, order_id=order_id)


def _free(ex: LocalExchange, api_key: str, asset: str) -> Decimal:
    return ex.core.engine.account_balances(_account(ex, api_key))[asset].free


def _top(ex: LocalExchange) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """The exchange's best bid and best ask, each (price, quantity)."""
    bid, ask = ex.core.engine.best_bid_ask(SYMBOL)
    assert bid is not None and ask is not None
    return bid, ask


# --- REST ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rest_market_data_agrees_with_the_exchange(market: LocalExchange) -> None:
    market.pause()  # one book and one tape for every call below
    before = market.server_time()
    client = await _client(market)
    try:
        assert await client.ping() == {}
        server_time = (await client.get_server_time())["serverTime"]
        info = await client.get_symbol_info(SYMBOL)
        depth = await client.get_order_book(symbol=SYMBOL, limit=5)
        trades = await client.get_recent_trades(symbol=SYMBOL, limit=3)
        klines = await client.get_klines(symbol=SYMBOL, interval="1m", limit=2)
        ticker = await client.get_ticker(symbol=SYMBOL)
        price = await client.get_symbol_ticker(symbol=SYMBOL)
        book = await client.get_orderbook_ticker(symbol=SYMBOL)
        average = await client.get_avg_price(symbol=SYMBOL)
    finally:
        await client.close_connection()
    assert before <= server_time <= market.server_time()
    assert (info["symbol"], info["status"], info["baseAsset"], info["quoteAsset"]) == (
        SYMBOL,
        "TRADING",
        "BTC",
        "USDT",
    )
    lot = next(f for f in info["filters"] if f["filterType"] == "LOT_SIZE")
    assert Decimal(lot["stepSize"]) == market.core.engine.spec(SYMBOL).step_size
    (bid, bid_qty), (ask, ask_qty) = _top(market)
    assert (Decimal(depth["bids"][0][0]), Decimal(depth["asks"][0][0])) == (bid, ask)
    assert (Decimal(book["bidPrice"]), Decimal(book["bidQty"])) == (bid, bid_qty)
    assert (Decimal(book["askPrice"]), Decimal(book["askQty"])) == (ask, ask_qty)
    tape = market.core.engine.recent_trades(SYMBOL, 3)
    assert [t["id"] for t in trades] == [t.trade_id for t in tape]
    last = tape[-1].price
    assert Decimal(price["price"]) == Decimal(ticker["lastPrice"]) == last
    assert klines[-1][6] - klines[-1][0] == 59_999 and Decimal(klines[-1][4]) == last
    assert average["mins"] == 5 and Decimal(average["price"]) > 0


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
async def test_rest_orders_match_what_the_exchange_holds(market: LocalExchange, kind: str) -> None:
    api_key, auth = client_key(market, kind, {"USDT": "1000", "BTC": "0.1"})
    price = (_top(market)[0][0] * Decimal("0.9")).quantize(Decimal("0.01"))
    client = await _client(market, api_key, **auth)
    try:
        placed = await client.order_limit_buy(
            symbol=SYMBOL, quantity="0.001", price=str(price), newClientOrderId="grid-1"
        )
        queried = await client.get_order(symbol=SYMBOL, origClientOrderId="grid-1")
        still_open = await client.get_open_orders(symbol=SYMBOL)
        usdt = await client.get_asset_balance(asset="USDT")
        held = _held(market, api_key, placed["orderId"])
        canceled = await client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
        left_open = await client.get_open_orders(symbol=SYMBOL)
        taken = await client.order_market_buy(symbol=SYMBOL, quantity="0.001")
        trades = await client.get_my_trades(symbol=SYMBOL)
        orders = await client.get_all_orders(symbol=SYMBOL)
    finally:
        await client.close_connection()
    assert (placed["status"], queried["status"], held.status) == ("NEW", "NEW", "NEW")
    assert Decimal(placed["price"]) == Decimal(queried["price"]) == held.price == price
    assert queried["clientOrderId"] == held.client_order_id == "grid-1"
    assert [o["orderId"] for o in still_open] == [placed["orderId"]]
    assert (Decimal(usdt["free"]), Decimal(usdt["locked"])) == (
        Decimal(1000) - held.locked,
        held.locked,
    )
    assert canceled["status"] == _held(market, api_key, placed["orderId"]).status == "CANCELED"
    assert left_open == []
    filled = _held(market, api_key, taken["orderId"])
    assert (taken["status"], filled.status) == ("FILLED", "FILLED")
    assert Decimal(taken["executedQty"]) == filled.executed_qty == Decimal("0.001")
    assert Decimal(taken["cummulativeQuoteQty"]) == filled.cum_quote
    assert {t["orderId"] for t in trades} == {taken["orderId"]}
    commission = sum(Decimal(t["commission"]) for t in trades)
    assert _free(market, api_key, "BTC") == Decimal("0.1") + Decimal("0.001") - commission
    assert [(o["orderId"], o["status"]) for o in orders] == [
        (placed["orderId"], "CANCELED"),
        (taken["orderId"], "FILLED"),
    ]


@pytest.mark.asyncio
async def test_the_blocking_client_trades_too(market: LocalExchange) -> None:
    api_key, auth = client_key(market, "ed25519", {"USDT": "1000"})
    local: Any = type("LocalClient", (binance.Client,), _urls(market))

    def trade() -> tuple[Any, Any]:
        client = local(api_key, **auth)  # the constructor pings the exchange
        try:
            placed = client.order_limit_buy(symbol=SYMBOL, quantity="0.001", price="50000")
            return placed, client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
        finally:
            client.close_connection()
            client.loop.close()  # the event loop it made for this worker thread

    placed, canceled = await asyncio.to_thread(trade)
    assert (placed["status"], canceled["status"]) == ("NEW", "CANCELED")
    assert _held(market, api_key, placed["orderId"]).status == "CANCELED"


@pytest.mark.asyncio
async def test_refusals_raise_binance_api_exception_with_the_code(
    market: LocalExchange, quick_close: None
) -> None:
    api_key, auth = client_key(market, "hmac", {"USDT": "100"})
    client = await _client(market, api_key, **auth)
    attempts: dict[int, Callable[[], Any]] = {
        # 60,000 USDT on an account holding 100
        -2010: lambda: client.order_limit_buy(symbol=SYMBOL, quantity="1", price="60000"),
        # below LOT_SIZE's step
        -1013: lambda: client.order_limit_buy(symbol=SYMBOL, quantity="0.00000001", price="1"),
        -2013: lambda: client.get_order(symbol=SYMBOL, orderId=987_654),
        -2011: lambda: client.cancel_order(symbol=SYMBOL, orderId=987_654),
    }
    raised: dict[int, Any] = {}
    placed_before = market.metrics()["orders_placed"]
    try:
        for code, call in attempts.items():
            with pytest.raises(exceptions.BinanceAPIException) as caught:
                await call()
            raised[code] = caught.value
        with pytest.raises(exceptions.BinanceAPIException) as over_ws:
            await client.ws_create_order(
                symbol=SYMBOL,
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="1",
                price="60000",
            )
    finally:
        await client.close_connection()
    assert {code: e.code for code, e in raised.items()} == {c: c for c in attempts}
    assert {e.status_code for e in raised.values()} == {400}
    assert raised[-1013].message == "Filter failure: LOT_SIZE"
    assert (over_ws.value.code, over_ws.value.status_code) == (-2010, 400)
    assert market.metrics()["orders_placed"] == placed_before
    assert _free(market, api_key, "USDT") == Decimal(100)


# --- streams ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_market_streams_through_the_socket_manager(market: LocalExchange) -> None:
    client = await _client(market)
    manager = _sockets(market, client)
    sockets = {
        "trade": manager.trade_socket(SYMBOL),
        "depthUpdate": manager.depth_socket(SYMBOL),
        "kline": manager.kline_socket(SYMBOL, interval="1s"),
        "24hrTicker": manager.symbol_ticker_socket(SYMBOL),
    }
    first: dict[str, Any] = {}
    try:
        for name, socket in sockets.items():
            async with socket as stream:
                first[name] = await asyncio.wait_for(stream.recv(), 10)
        async with manager.multiplex_socket(["btcusdt@bookTicker", "ethusdt@trade"]) as stream:
            combined: list[Any] = []

            async def both_streams() -> None:
                while len({m["stream"] for m in combined}) < 2:
                    combined.append(await stream.recv())

            await asyncio.wait_for(both_streams(), 10)
    finally:
        await client.close_connection()
    for name, event in first.items():
        assert (event["e"], event["s"]) == (name, SYMBOL)
    assert first["depthUpdate"]["u"] >= first["depthUpdate"]["U"]
    candle = first["kline"]["k"]
    assert (candle["i"], candle["T"] - candle["t"]) == ("1s", 999)
    assert {m["stream"] for m in combined} == {"btcusdt@bookTicker", "ethusdt@trade"}
    for message in combined:
        expected = "BTCUSDT" if message["stream"] == "btcusdt@bookTicker" else "ETHUSDT"
        assert message["data"]["s"] == expected


@pytest.mark.asyncio
async def test_depth_cache_matches_the_exchange_book(
    market: LocalExchange, quick_close: None
) -> None:
    client = await _client(market)
    manager = _sockets(market, client)
    cache = binance.DepthCacheManager(client, SYMBOL, bm=manager, conv_type=Decimal)
    try:
        async with cache as updates:
            book = await asyncio.wait_for(updates.recv(), 10)
            market.pause()  # the book stops; the cache must end where the exchange's book is
            depth = market.core.engine.depth(SYMBOL, 5)

            def top5(cache: Any) -> tuple[list[tuple[Decimal, Decimal]], ...]:
                return tuple(
                    [tuple(level) for level in side[:5]]
                    for side in (cache.get_bids(), cache.get_asks())
                )

            async def caught_up() -> Any:
                latest = book
                while top5(latest) != (list(depth.bids), list(depth.asks)):
                    latest = await updates.recv()
                return latest

            synced = await asyncio.wait_for(caught_up(), 10)
    finally:
        await client.close_connection()
    assert top5(synced) == (list(depth.bids), list(depth.asks))
    assert depth.bids[0][0] < depth.asks[0][0]


# --- WebSocket API ------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
async def test_user_socket_receives_the_order_events(
    market: LocalExchange, kind: str, quick_close: None
) -> None:
    api_key, auth = client_key(market, kind, {"USDT": "1000"})
    client = await _client(market, api_key, **auth)
    manager = _sockets(market, client)
    try:
        async with manager.user_socket() as stream:
            assert market.user_data_subscriptions(api_key) == 1
            placed = await client.ws_create_order(
                symbol=SYMBOL,
                side="BUY",
                type="LIMIT",
                timeInForce="GTC",
                quantity="0.001",
                price="50000",
            )
            queried = await client.ws_get_order(symbol=SYMBOL, orderId=placed["orderId"])
            canceled = await client.ws_cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
            account = await client.ws_get_account(omitZeroBalances="true")
            events = [await asyncio.wait_for(stream.recv(), 5) for _ in range(4)]
    finally:
        await client.close_connection()
    assert (placed["status"], queried["status"], canceled["status"]) == ("NEW", "NEW", "CANCELED")
    assert _held(market, api_key, placed["orderId"]).status == "CANCELED"
    assert [b["asset"] for b in account["balances"]] == ["USDT"]
    reports = [e for e in events if e["e"] == "executionReport"]
    assert [(r["i"], r["x"]) for r in reports] == [
        (placed["orderId"], "NEW"),
        (placed["orderId"], "CANCELED"),
    ]
    assert {e["e"] for e in events} == {"executionReport", "outboundAccountPosition"}


# --- reads a bot makes besides orders, and time units ------------------------------------------


async def _historical_ids(client: Any, ex: LocalExchange) -> tuple[list[int], list[int]]:
    trades = await client.get_historical_trades(symbol=SYMBOL, limit=3)
    return [t["id"] for t in trades], [t.trade_id for t in ex.core.engine.recent_trades(SYMBOL, 3)]


async def _ui_klines(client: Any, ex: LocalExchange) -> tuple[Any, Any]:
    ui = await client.get_ui_klines(symbol=SYMBOL, interval="1m")
    return ui, await client.get_klines(symbol=SYMBOL, interval="1m")


async def _order_count(client: Any, ex: LocalExchange) -> tuple[Any, Any]:
    limits = await client.get_current_order_count()
    return [(r["interval"], r["limit"]) for r in limits], [("SECOND", 50), ("DAY", 160_000)]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "read",
    [
        pytest.param(_historical_ids, id="historicalTrades"),
        pytest.param(_ui_klines, id="uiKlines"),
        pytest.param(_order_count, id="rateLimit/order"),
    ],
)
async def test_rest_reads_a_bot_makes(
    market: LocalExchange, read: Callable[[Any, LocalExchange], Awaitable[tuple[Any, Any]]]
) -> None:
    market.pause()
    api_key, auth = client_key(market, "hmac", {"USDT": "1000"})
    client = await _client(market, api_key, **auth)
    try:
        got, want = await read(client, market)
    finally:
        await client.close_connection()
    assert got == want


@pytest.mark.asyncio
async def test_times_in_microseconds_when_asked(market: LocalExchange) -> None:
    local: Any = type("LocalAsyncClient", (binance.AsyncClient,), _urls(market))
    before_ms = market.server_time()
    client = await local.create(time_unit="MICROSECOND")
    try:
        server_time = (await client.get_server_time())["serverTime"]
    finally:
        await client.close_connection()
    assert before_ms * 1000 <= server_time < (market.server_time() + 1) * 1000
