"""The public API under the type checker: each main entry point returns the type it promises.

CI runs ``mypy --strict`` over this file, so a stub or an annotation that drifts from what the
code returns fails there; pytest runs the same code, so the calls are real, not only declared.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

import tradewire
from tradewire import ExactDecimal, OrderBook, ParseError, Signer, Verifier
from tradewire.binance import (
    AccountInfo,
    ApiErrorBody,
    BinanceClient,
    DepthUpdate,
    OrderResponse,
    PartialDepth,
    Trade,
    parse_depth_snapshot,
    parse_error_body,
    parse_message,
    parse_order_response,
    sign_params,
)
from tradewire.exchange import LocalExchange
from tradewire.model import (
    Balance,
    BookUpdate,
    Fill,
    MarketTrade,
    Order,
    OrderRequest,
    OrderUpdate,
    SymbolRules,
)
from tradewire.testing import eventually
from tradewire.testing.local_exchange import LocalKey, add_local_key
from tradewire.trading.strategy import Strategy, StrategyContext
from tradewire.venues.paper import PaperBroker
from tradewire.venues.protocols import Venue

if sys.version_info >= (3, 11):
    from typing import assert_type
else:
    from typing_extensions import assert_type

if TYPE_CHECKING:
    from tradewire._core import Event  # noqa: F401 - named in assert_type strings

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
RULES = SymbolRules(
    "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal("5")
)


def test_exact_decimal() -> None:
    price = assert_type(ExactDecimal("65000.01"), ExactDecimal)
    assert assert_type(price + 1, ExactDecimal) == ExactDecimal("65001.01")
    assert assert_type(price * Decimal("0.5"), ExactDecimal) == ExactDecimal("32500.005")
    assert assert_type(price.floor_to("0.1"), ExactDecimal) == ExactDecimal("65000.0")
    assert assert_type(price.round_to_tick("0.05", "SELL"), ExactDecimal) == ExactDecimal(
        "65000.05"
    )
    assert assert_type(price.to_decimal(), Decimal) == Decimal("65000.01")
    assert assert_type(price.to_string_fixed(3), str) == "65000.010"
    assert assert_type(price > 1, bool)
    assert assert_type(float(price), float) == 65000.01
    assert assert_type(price.decimals, int) == 2


def test_order_book() -> None:
    book = assert_type(OrderBook("BTCUSDT"), OrderBook)
    snapshot = b'{"lastUpdateId":1,"bids":[["10","1"]],"asks":[["11","2"]]}'
    assert assert_type(book.apply_snapshot(snapshot), None) is None
    assert assert_type(book.is_synced, bool)
    update = b'{"e":"depthUpdate","E":5,"s":"BTCUSDT","U":2,"u":2,"b":[["10.5","1"]],"a":[]}'
    assert assert_type(book.apply_depth_update(update), bool)
    assert assert_type(book.best_bid(), "tuple[float, float] | None") == (10.5, 1.0)
    assert assert_type(book.spread(), "float | None") == 0.5
    assert assert_type(book.last_update_id, "int | None") == 2
    assert assert_type(book.bids(2, exact=True), list[tuple[Any, Any]]) == [
        ("10.5", "1"),
        ("10", "1"),
    ]
    bids, asks = book.depth()
    assert bids.shape == (2, 2) and asks.shape == (1, 2)


def test_signer_and_sign_params() -> None:
    signer = assert_type(Signer.from_secret(SECRET), Signer)
    signature = assert_type(signer.sign(b"symbol=LTCBTC"), str)
    assert assert_type(signer.key_type, str) == "hmac-sha256"
    verifier = assert_type(Verifier.from_key(SECRET), Verifier)
    assert assert_type(verifier.verify(b"symbol=LTCBTC", signature), bool)
    query = assert_type(sign_params(signer, {"symbol": "LTCBTC", "timestamp": 1}), str)
    assert sign_params(signer, [("symbol", "LTCBTC"), ("timestamp", 1)]) == query
    assert query.startswith("symbol=LTCBTC&timestamp=1&signature=")


def test_parsers() -> None:
    event = assert_type(
        parse_message(b'{"e":"trade","E":1,"s":"X","t":2,"p":"1.50","q":"3","T":1,"m":true}'),
        "Event",
    )
    assert isinstance(event, Trade)
    assert assert_type(event.price, str) == "1.50"
    assert assert_type(event.price_float, float) == 1.5
    depth = parse_message(b'{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"b":[],"a":[]}')
    assert isinstance(depth, DepthUpdate)
    assert assert_type(depth.bids, "list[tuple[str, str]]") == []
    snapshot = assert_type(
        parse_depth_snapshot(b'{"lastUpdateId":3,"bids":[],"asks":[]}'), PartialDepth
    )
    assert assert_type(snapshot.last_update_id, int) == 3
    body = assert_type(parse_error_body(b'{"code":-1121,"msg":"Invalid symbol."}'), ApiErrorBody)
    assert body.code == -1121
    order = assert_type(
        parse_order_response(
            b'{"symbol":"BTCUSDT","orderId":1,"clientOrderId":"c","transactTime":2}'
        ),
        OrderResponse,
    )
    assert assert_type(order.status, "str | None") is None
    with pytest.raises(ParseError) as caught:
        parse_message(b'{"e":"trade"')
    assert assert_type(caught.value.field, "str | None") is not None
    assert isinstance(assert_type(caught.value.offset, "int | None"), int)


def test_model_types() -> None:
    assert assert_type(RULES.round_price(Decimal("65000.019"), "BUY"), Decimal) == Decimal(
        "65000.01"
    )
    request = OrderRequest("BTCUSDT", "BUY", "LIMIT", Decimal("0.001"), "c1", Decimal("65000"))
    assert assert_type(request.time_in_force, "str | None") == "GTC"
    order = Order("BTCUSDT", "BUY", "LIMIT", Decimal("1"), "c1", "NEW", Decimal("10"))
    assert assert_type(order.remaining, Decimal) == 1 and assert_type(order.is_open, bool)
    fill = Fill(
        "c1", "t1", "BTCUSDT", "BUY", Decimal("10"), Decimal("0.5"), Decimal(0), "BTC", 1, True
    )
    assert assert_type(fill.quote_quantity, Decimal) == 5
    assert assert_type(OrderUpdate(order, fill).fill, "Fill | None") is fill
    assert assert_type(Balance("USDT", Decimal(1), Decimal(2)).total, Decimal) == 3
    book = BookUpdate("BTCUSDT", ((Decimal("1.01"), Decimal(1)),), ((Decimal("1.02"), Decimal(1)),))
    assert assert_type(book.mid, "Decimal | None") == Decimal("1.015")
    assert assert_type(MarketTrade("BTCUSDT", "t", Decimal(1), Decimal(2)).price, Decimal) == 1


class Buyer(Strategy):
    """Buys once, on the first book."""

    name = "buyer"

    def __init__(self) -> None:
        self.orders: list[Order] = []

    async def on_book(self, ctx: StrategyContext, book: BookUpdate) -> None:
        if not self.orders:
            self.orders.append(assert_type(await ctx.buy(Decimal("0.1")), Order))


@pytest.mark.asyncio
async def test_strategy_and_context() -> None:
    broker = PaperBroker(RULES, {"USDT": "1000"})
    assert isinstance(broker, Venue)
    book = BookUpdate("BTCUSDT", ((Decimal("100"), Decimal(1)),), ((Decimal("101"), Decimal(1)),))
    broker.on_market(book)
    ctx = StrategyContext(broker, RULES, mode="paper")
    ctx.book = book
    assert assert_type(ctx.mark_price, "Decimal | None") == Decimal("100.5")
    strategy = Buyer()
    await strategy.on_book(ctx, book)
    (order,) = strategy.orders
    assert order.status == "FILLED"
    assert assert_type(ctx.order(order.client_order_id), "Order | None") == order
    assert isinstance(assert_type(ctx.position, Decimal), Decimal)
    assert assert_type(ctx.open_orders(), "list[Order]") == []


@pytest.mark.asyncio
async def test_local_exchange_and_client_constructors() -> None:
    public = assert_type(BinanceClient(), BinanceClient)  # market data only, no key
    assert public.rest_url == "https://api.binance.com"
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        assert isinstance(assert_type(ex, LocalExchange), LocalExchange)
        assert assert_type(ex.rest_url, str).startswith("http://127.0.0.1:")
        api_key = assert_type(ex.add_key(SECRET), str)
        key = assert_type(add_local_key(ex, balances={"USDT": "100"}), LocalKey)
        client = BinanceClient(api_key, SECRET, rest_url=ex.rest_url, http_backend="httpx")
        async with client as opened, key.client() as funded:
            assert assert_type(opened, BinanceClient) is client
            assert isinstance(assert_type(funded, BinanceClient), BinanceClient)
            assert assert_type(await opened.server_time(), int) > 0
            account = assert_type(await funded.account(omit_zero_balances=True), AccountInfo)
            assert account.balances[0].asset == "USDT"
            assert assert_type(await eventually(opened.server_time), int) > 0
    assert assert_type(tradewire.__version__, str)
