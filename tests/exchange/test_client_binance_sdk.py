"""binance-sdk-spot, unmodified, trades on the local exchange on its default URL layout.

The SDK reads its base URLs from its three configuration objects, where a user points it at
Binance's testnet: ``ConfigurationRestAPI(base_path=...)``, ``ConfigurationWebSocketAPI(
stream_url=...)`` and ``ConfigurationWebSocketStreams(stream_url=...)`` (it appends ``/stream`` and
subscribes there). Here they hold the local exchange's URLs; nothing else changes. The REST client
is synchronous (requests), so REST calls run in a worker thread while the exchange serves on the
test's event loop. The SDK logs, rather than raises, when an answer does not fit its models:
every test checks that it never had to.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.testing.local_exchange import client_key
from tradewire.testing.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tradewire.exchange import LocalExchange
    from tradewire.exchange.orders import OrderRecord

spot = pytest.importorskip("binance_sdk_spot.spot")
rest_models = pytest.importorskip("binance_sdk_spot.rest_api.models")
ws_models = pytest.importorskip("binance_sdk_spot.websocket_api.models")
sdk_errors = pytest.importorskip("binance_common.errors")

# The SDK's WebSocket-API client passes aiohttp a float timeout, which aiohttp 3.14 deprecates.
pytestmark = pytest.mark.filterwarnings(
    "ignore:parameter 'timeout' of type 'float' is deprecated:DeprecationWarning"
)

SYMBOL = "BTCUSDT"
# What the SDK logs when an answer does not fit its models (it then relaxes or returns raw JSON).
MISFITS = ("did not match the declared types", "Failed to parse", "Error in callback")


@pytest.fixture(autouse=True)
def _answers_fit_the_sdk(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test whose answers the SDK could not parse into its models."""
    yield
    misfits = [r.getMessage() for r in caplog.records if any(m in r.getMessage() for m in MISFITS)]
    assert not misfits, misfits


def _client(ex: LocalExchange, api_key: str | None = None, **auth: str) -> Any:
    """The SDK's ``Spot`` on the exchange's URLs, as a user points it at another deployment."""
    return spot.Spot(
        config_rest_api=spot.ConfigurationRestAPI(
            api_key=api_key, base_path=ex.rest_url, timeout=10_000, **auth
        ),
        config_ws_api=spot.ConfigurationWebSocketAPI(
            api_key=api_key, stream_url=ex.ws_api_url, **auth
        ),
        config_ws_streams=spot.ConfigurationWebSocketStreams(stream_url=ex.stream_url),
    )


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


def _result(response: Any) -> Any:
    """The ``result`` of a WebSocket-API answer; fails on an error answer."""
    data: Any = response.data()
    assert not isinstance(data, dict), data  # a dict is the SDK's shape for an error answer
    return data.result


# --- REST ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rest_market_data_agrees_with_the_exchange(market: LocalExchange) -> None:
    market.pause()  # one book and one tape for every call below
    api = _client(market).rest_api
    interval = rest_models.KlinesIntervalEnum["INTERVAL_1m"]
    trading = rest_models.DepthSymbolStatusEnum.TRADING  # only books of tradable symbols

    def read() -> dict[str, Any]:
        return {
            "ping": api.ping().data(),
            "time": api.time().data().server_time,
            "info": api.exchange_info(symbol=SYMBOL).data(),
            "depth": api.depth(SYMBOL, limit=5, symbol_status=trading).data(),
            "trades": api.get_trades(SYMBOL, limit=3).data(),
            "klines": api.klines(SYMBOL, interval, limit=2).data(),
            "ticker": api.ticker24hr(symbol=SYMBOL).data().actual_instance,
            "price": api.ticker_price(symbol=SYMBOL).data().actual_instance,
            "book": api.ticker_book_ticker(symbol=SYMBOL).data().actual_instance,
            "avg": api.avg_price(SYMBOL).data(),
        }

    before = market.server_time()
    got = await asyncio.to_thread(read)
    assert got["ping"] == {}
    assert before <= got["time"] <= market.server_time()
    (info,) = got["info"].symbols
    filters = {f.actual_instance.filter_type: f.actual_instance for f in info.filters}
    assert (info.symbol, info.status, info.base_asset, info.quote_asset) == (
        SYMBOL,
        "TRADING",
        "BTC",
        "USDT",
    )
    assert Decimal(filters["PRICE_FILTER"].tick_size) == Decimal("0.01")
    (bid, bid_qty), (ask, ask_qty) = _top(market)
    depth = got["depth"]
    assert (Decimal(depth.bids[0][0]), Decimal(depth.asks[0][0])) == (bid, ask)
    book = got["book"]
    assert (Decimal(book.bid_price), Decimal(book.bid_qty)) == (bid, bid_qty)
    assert (Decimal(book.ask_price), Decimal(book.ask_qty)) == (ask, ask_qty)
    tape = market.core.engine.recent_trades(SYMBOL, 3)
    assert [t.id for t in got["trades"]] == [t.trade_id for t in tape]
    assert [Decimal(t.price) for t in got["trades"]] == [t.price for t in tape]
    last = tape[-1].price
    assert Decimal(got["price"].price) == Decimal(got["ticker"].last_price) == last
    assert got["ticker"].symbol == got["price"].symbol == SYMBOL
    candle = got["klines"][-1]
    assert candle[6] - candle[0] == 59_999 and Decimal(candle[4]) == last  # open/close time, close
    assert got["avg"].mins == 5 and Decimal(got["avg"].price) > 0


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519"])
async def test_rest_orders_match_what_the_exchange_holds(market: LocalExchange, kind: str) -> None:
    api_key, auth = client_key(market, kind, {"USDT": "1000", "BTC": "0.1"})
    api = _client(market, api_key, **auth).rest_api
    side, kinds, tif = (
        rest_models.NewOrderSideEnum,
        rest_models.NewOrderTypeEnum,
        rest_models.NewOrderTimeInForceEnum,
    )
    price = (_top(market)[0][0] * Decimal("0.9")).quantize(Decimal("0.01"))

    def rest_and_cancel() -> tuple[Any, ...]:
        placed = api.new_order(
            SYMBOL,
            side.BUY,
            kinds.LIMIT,
            time_in_force=tif.GTC,
            quantity=Decimal("0.001"),
            price=price,
            new_client_order_id="grid-1",
        ).data()
        queried = api.get_order(SYMBOL, orig_client_order_id="grid-1").data()
        still_open = api.get_open_orders(symbol=SYMBOL).data()
        account = api.get_account(omit_zero_balances=True).data()
        return placed, queried, still_open, account

    placed, queried, still_open, account = await asyncio.to_thread(rest_and_cancel)
    held = _held(market, api_key, placed.order_id)
    assert (placed.status, queried.status, held.status) == ("NEW", "NEW", "NEW")
    assert Decimal(placed.price) == Decimal(queried.price) == held.price == price
    assert Decimal(placed.orig_qty) == held.orig_qty == Decimal("0.001")
    assert queried.client_order_id == held.client_order_id == "grid-1"
    assert [o.order_id for o in still_open] == [placed.order_id]
    balances = {b.asset: (Decimal(b.free), Decimal(b.locked)) for b in account.balances}
    assert balances["USDT"] == (Decimal(1000) - held.locked, held.locked)

    def cancel_then_take() -> tuple[Any, ...]:
        canceled = api.delete_order(SYMBOL, order_id=placed.order_id).data()
        left_open = api.get_open_orders(symbol=SYMBOL).data()
        taken = api.new_order(SYMBOL, side.BUY, kinds.MARKET, quantity=Decimal("0.001")).data()
        trades = api.my_trades(SYMBOL).data()
        return canceled, left_open, taken, trades

    canceled, left_open, taken, trades = await asyncio.to_thread(cancel_then_take)
    assert canceled.status == _held(market, api_key, placed.order_id).status == "CANCELED"
    assert left_open == []
    held = _held(market, api_key, taken.order_id)
    assert (taken.status, held.status) == ("FILLED", "FILLED")
    assert Decimal(taken.executed_qty) == held.executed_qty == Decimal("0.001")
    assert Decimal(taken.cummulative_quote_qty) == held.cum_quote
    assert {t.order_id for t in trades} == {taken.order_id}
    assert sum(Decimal(t.qty) for t in trades) == Decimal("0.001")
    commission = sum(Decimal(t.commission) for t in trades)
    assert _free(market, api_key, "BTC") == Decimal("0.1") + Decimal("0.001") - commission


@pytest.mark.asyncio
async def test_rest_refusals_raise_the_sdk_errors_with_binance_codes(market: LocalExchange) -> None:
    api_key, auth = client_key(market, "hmac", {"USDT": "100"})
    api = _client(market, api_key, **auth).rest_api
    side, kinds, tif = (
        rest_models.NewOrderSideEnum,
        rest_models.NewOrderTypeEnum,
        rest_models.NewOrderTimeInForceEnum,
    )

    def limit_buy(quantity: str, price: str) -> Callable[[], Any]:
        return lambda: api.new_order(
            SYMBOL,
            side.BUY,
            kinds.LIMIT,
            time_in_force=tif.GTC,
            quantity=Decimal(quantity),
            price=Decimal(price),
        )

    attempts: dict[int, Callable[[], Any]] = {
        -2010: limit_buy("1", "60000"),  # 60,000 USDT on an account holding 100
        -1013: limit_buy("0.00000001", "60000"),  # below LOT_SIZE's step
        -2013: lambda: api.get_order(SYMBOL, order_id=987_654),
        -2011: lambda: api.delete_order(SYMBOL, order_id=987_654),
    }

    def attempt_all() -> dict[int, Any]:
        raised: dict[int, Any] = {}
        for code, call in attempts.items():
            with pytest.raises(sdk_errors.BadRequestError) as caught:
                call()
            raised[code] = caught.value
        return raised

    placed_before = market.metrics()["orders_placed"]
    raised = await asyncio.to_thread(attempt_all)
    assert {code: e.status_code for code, e in raised.items()} == {c: c for c in attempts}
    assert "insufficient balance" in raised[-2010].error_message
    assert raised[-1013].error_message == "Filter failure: LOT_SIZE"
    assert market.metrics()["orders_placed"] == placed_before
    assert _free(market, api_key, "USDT") == Decimal(100)


# --- market streams -----------------------------------------------------------------------------

# Each: the SDK's subscription call, and (event type, symbol) read from its first event.
STREAMS: dict[str, Callable[[Any], Any]] = {
    "trade": lambda s: s.trade(symbol="btcusdt"),
    "depth": lambda s: s.diff_book_depth(symbol="btcusdt", update_speed="100ms"),
    "kline": lambda s: s.kline(symbol="btcusdt", interval="1s"),
    "ticker": lambda s: s.ticker(symbol="btcusdt"),
    "aggTrade": lambda s: s.agg_trade(symbol="btcusdt"),
    "bookTicker": lambda s: s.book_ticker(symbol="btcusdt"),
    "miniTicker": lambda s: s.mini_ticker(symbol="btcusdt"),
    "avgPrice": lambda s: s.avg_price(symbol="btcusdt"),
}
EVENT_TYPES = {
    "trade": "trade",
    "depth": "depthUpdate",
    "kline": "kline",
    "ticker": "24hrTicker",
    "aggTrade": "aggTrade",
    "bookTicker": None,  # bookTicker events carry no event type
    "miniTicker": "24hrMiniTicker",
    "avgPrice": "avgPrice",
}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "names",
    [("trade", "depth", "kline", "ticker"), ("aggTrade", "bookTicker", "miniTicker", "avgPrice")],
    ids=["trade-depth-kline-ticker", "agg-book-mini-avg"],
)
async def test_streams_arrive_through_the_sdk_stream_client(
    market: LocalExchange, names: tuple[str, ...]
) -> None:
    streams = _client(market).websocket_streams
    first: dict[str, Any] = {}
    await streams.create_connection()
    try:
        # The SDK waits 0.5 s before each SUBSCRIBE; four at once stay under Binance's five
        # incoming messages per second on one connection.
        handles = await asyncio.gather(*(STREAMS[n](streams) for n in names))
        for name, handle in zip(names, handles, strict=True):
            handle.on("message", lambda event, name=name: first.setdefault(name, event))
        await eventually(lambda: len(first) == len(names), timeout=10)
    finally:
        await streams.close_connection()
    for name in names:
        event = first[name]
        assert event.s == SYMBOL, name
        assert getattr(event, "e", None) == EVENT_TYPES[name], name
    if "depth" in first:
        depth = first["depth"]
        assert depth.u >= depth.U and (depth.b or depth.a)
    if "kline" in first:
        candle = first["kline"].k
        assert (candle.i, candle.s, candle.T - candle.t) == ("1s", SYMBOL, 999)
    if "bookTicker" in first:
        assert Decimal(first["bookTicker"].b) < Decimal(first["bookTicker"].a)


# --- WebSocket API ------------------------------------------------------------------------------


async def _reports(events: list[Any], order_id: int, until: str) -> list[Any]:
    """The executionReports received for ``order_id``, once one with status ``until`` is in."""

    def reports() -> list[Any]:
        found = [
            e.actual_instance
            for e in events
            if type(e.actual_instance).__name__ == "ExecutionReport"
            and e.actual_instance.i == order_id
        ]
        return found if until in {r.X for r in found} else []

    return await eventually(reports, timeout=5)


@pytest.mark.asyncio
async def test_ws_api_session_trades_and_streams_its_orders(market: LocalExchange) -> None:
    api_key, auth = client_key(market, "ed25519", {"USDT": "1000"})
    ws = _client(market, api_key, **auth).websocket_api
    side, kinds, tif = (
        ws_models.OrderPlaceSideEnum,
        ws_models.OrderPlaceTypeEnum,
        ws_models.OrderPlaceTimeInForceEnum,
    )
    events: list[Any] = []
    await ws.create_connection()
    try:
        logon = _result(await ws.session_logon())
        assert logon.api_key == api_key
        account = _result(await ws.account_status(omit_zero_balances=True))
        assert [(b.asset, b.free) for b in account.balances] == [("USDT", "1000.00000000")]
        subscription = await ws.user_data_stream_subscribe()
        subscription.stream.on("message", events.append)
        assert _result(await ws.session_status()).user_data_stream is True

        placed = _result(
            await ws.order_place(
                SYMBOL,
                side.BUY,
                kinds.LIMIT,
                time_in_force=tif.GTC,
                quantity=Decimal("0.001"),
                price=Decimal("50000"),
            )
        )
        (new,) = await _reports(events, placed.order_id, "NEW")
        status = _result(await ws.order_status(SYMBOL, order_id=placed.order_id))
        canceled = _result(await ws.order_cancel(SYMBOL, order_id=placed.order_id))
        _, gone = await _reports(events, placed.order_id, "CANCELED")
        refused = (
            await ws.order_place(
                SYMBOL,
                side.BUY,
                kinds.LIMIT,
                time_in_force=tif.GTC,
                quantity=Decimal("1"),
                price=Decimal("50000"),
            )
        ).data()
    finally:
        await ws.close_connection()
    assert (placed.status, status.status, canceled.status) == ("NEW", "NEW", "CANCELED")
    assert _held(market, api_key, placed.order_id).status == "CANCELED"
    assert (new.s, new.x, new.X, new.c) == (SYMBOL, "NEW", "NEW", placed.client_order_id)
    assert Decimal(new.p) == Decimal("50000") and Decimal(new.q) == Decimal("0.001")
    assert (gone.x, gone.X) == ("CANCELED", "CANCELED")
    assert refused["error"]["code"] == -2010
    positions = [
        e.actual_instance
        for e in events
        if type(e.actual_instance).__name__ == "OutboundAccountPosition"
    ]
    assert positions and positions[0].B[0].a == "USDT"


@pytest.mark.asyncio
async def test_ws_api_signed_requests_with_an_hmac_key(market: LocalExchange) -> None:
    api_key, auth = client_key(market, "hmac", {"USDT": "1000"})
    ws = _client(market, api_key, **auth).websocket_api
    events: list[Any] = []
    await ws.create_connection()
    try:
        subscription = await ws.user_data_stream_subscribe_signature()
        subscription.stream.on("message", events.append)
        taken = _result(
            await ws.order_place(
                SYMBOL,
                ws_models.OrderPlaceSideEnum.BUY,
                ws_models.OrderPlaceTypeEnum.MARKET,
                quantity=Decimal("0.001"),
            )
        )
        reports = await _reports(events, taken.order_id, "FILLED")
        trades = _result(await ws.my_trades(SYMBOL))
    finally:
        await ws.close_connection()
    held = _held(market, api_key, taken.order_id)
    assert (taken.status, held.status) == ("FILLED", "FILLED")
    assert [r.x for r in reports] == ["NEW"] + ["TRADE"] * len(taken.fills)
    assert sum(Decimal(r.l) for r in reports) == Decimal(reports[-1].z) == held.executed_qty
    assert Decimal(taken.executed_qty) == held.executed_qty == Decimal("0.001")
    assert [t.order_id for t in trades] == [taken.order_id]


# --- reads a bot makes besides orders, and time units ------------------------------------------

# Each: what the SDK returns, and what it must equal (read from the exchange itself).
REST_READS = [
    pytest.param(
        lambda api: api.account_commission(SYMBOL).data().standard_commission.taker,
        lambda ex: "0.00100000",
        id="account_commission",
    ),
    pytest.param(
        lambda api: [(r.interval, r.limit) for r in api.rate_limit_order().data()],
        lambda ex: [("SECOND", 50), ("DAY", 160_000)],
        id="rate_limit_order",
    ),
    pytest.param(
        lambda api: [t.id for t in api.historical_trades(SYMBOL, limit=3).data()],
        lambda ex: [t.trade_id for t in ex.core.engine.recent_trades(SYMBOL, 3)],
        id="historical_trades",
    ),
    pytest.param(
        lambda api: api.ui_klines(SYMBOL, rest_models.UiKlinesIntervalEnum["INTERVAL_1m"]).data(),
        lambda ex: (
            _client(ex)
            .rest_api.klines(SYMBOL, rest_models.KlinesIntervalEnum["INTERVAL_1m"])
            .data()
        ),
        id="ui_klines",
    ),
    pytest.param(
        lambda api: Decimal(api.ticker(symbol=SYMBOL).data().actual_instance.last_price),
        lambda ex: ex.core.engine.last_price(SYMBOL),
        id="rolling_ticker",
    ),
    pytest.param(
        lambda api: Decimal(
            api.ticker_trading_day(symbol=SYMBOL).data().actual_instance.last_price
        ),
        lambda ex: ex.core.engine.last_price(SYMBOL),
        id="trading_day_ticker",
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize(("call", "expected"), REST_READS)
async def test_rest_reads_a_bot_makes(
    market: LocalExchange, call: Callable[[Any], Any], expected: Callable[[LocalExchange], Any]
) -> None:
    market.pause()
    api_key, auth = client_key(market, "hmac", {"USDT": "1000"})
    api = _client(market, api_key, **auth).rest_api
    got, want = await asyncio.to_thread(lambda: (call(api), expected(market)))
    assert got == want


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("call", "holds"),
    [
        pytest.param(
            lambda ws: ws.account_commission(SYMBOL),
            lambda r: r.standard_commission.taker == "0.00100000",
            id="account.commission",
        ),
        pytest.param(
            lambda ws: ws.trades_historical(SYMBOL, limit=2),
            lambda r: len(r) == 2 and r[0].id < r[1].id,
            id="trades.historical",
        ),
        pytest.param(
            lambda ws: ws.session_subscriptions(),
            lambda r: r == [],  # logged on, nothing subscribed yet
            id="session.subscriptions",
        ),
    ],
)
async def test_ws_api_reads_a_bot_makes(
    market: LocalExchange, call: Callable[[Any], Any], holds: Callable[[Any], bool]
) -> None:
    api_key, auth = client_key(market, "ed25519", {"USDT": "1000"})
    ws = _client(market, api_key, **auth).websocket_api
    await ws.create_connection()
    try:
        _result(await ws.session_logon())
        assert holds(_result(await call(ws)))
    finally:
        await ws.close_connection()


@pytest.mark.asyncio
async def test_rest_times_in_microseconds_when_asked(market: LocalExchange) -> None:
    config = spot.ConfigurationRestAPI(base_path=market.rest_url, time_unit="MICROSECOND")
    api = spot.Spot(config_rest_api=config).rest_api
    before_ms = market.server_time()
    server_time = await asyncio.to_thread(lambda: api.time().data().server_time)
    assert before_ms * 1000 <= server_time < (market.server_time() + 1) * 1000
