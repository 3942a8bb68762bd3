"""BinanceClient's REST side against the local exchange: endpoints, signing, errors."""

from __future__ import annotations

import socket
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.binance.answers import AssetBalance, OrderCommissionRates
from tradewire.binance.client import BinanceClient
from tradewire.binance.rest import encode_query
from tradewire.binance.wire import OrderResponse
from tradewire.errors import (
    AuthenticationError,
    InsufficientFunds,
    InvalidOrder,
    InvalidSignature,
    NetworkError,
    OrderNotFound,
    PermissionDenied,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_public_market_data(client: BinanceClient, ex: LocalExchange) -> None:
    server = await client.server_time()
    assert abs(server - client.clock.now_ms()) < 1000
    info = await client.exchange_info()
    assert set(info.symbols) == {"BTCUSDT", "ETHUSDT"}
    assert await client.exchange_info() is info  # cached
    snapshot = await client.depth("BTCUSDT", 5)
    assert snapshot.last_update_id >= 0
    raw = await client.depth_raw("BTCUSDT", 5)
    assert raw.startswith(b"{") and b"lastUpdateId" in raw
    assert await client.trades("BTCUSDT", 10) == []  # no market flow on this exchange
    assert await client.klines("BTCUSDT", "1m", limit=5) == []
    ticker = await client.book_ticker("BTCUSDT")
    assert ticker.symbol == "BTCUSDT" and ticker.bid_price == ticker.ask_price == 0
    assert sorted(t.symbol for t in await client.book_ticker()) == ["BTCUSDT", "ETHUSDT"]
    await client.ping()


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
async def test_every_key_type_signs_orders(
    new_key: Callable[..., Any], make_client: Callable[..., BinanceClient], kind: str
) -> None:
    async with make_client(new_key(kind)) as client:
        order = await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
        )
        assert order.status == "NEW" and order.client_order_id.startswith("tw")
        assert [o.order_id for o in await client.open_orders("BTCUSDT")] == [order.order_id]
        queried = await client.get_order("BTCUSDT", order_id=order.order_id)
        assert queried.client_order_id == order.client_order_id
        canceled = await client.cancel_order("BTCUSDT", client_order_id=order.client_order_id)
        assert canceled.status == "CANCELED" and canceled.order_id == order.order_id
        assert await client.open_orders("BTCUSDT") == []
        account = await client.account()
        assert account.balance("USDT") == AssetBalance("USDT", Decimal(10000), Decimal(0))
        assert account.can_trade and not account.can_withdraw and account.permissions == ("SPOT",)
        assert account.commission_rates is not None and account.commission_rates.maker > 0
        restrictions = await client.api_restrictions()
        assert restrictions.enable_spot_and_margin_trading and restrictions.enable_reading
        assert not restrictions.enable_withdrawals


@pytest.mark.asyncio
async def test_client_order_ids_round_trip_and_bad_ones_are_refused_before_sending(
    client: BinanceClient, ex: LocalExchange
) -> None:
    # Encoding of every reserved character is pinned on the wire in test_client_transport; here
    # the exchange checks the signature of an order carrying the widest legal id.
    with pytest.raises(InvalidOrder, match="legal range"):
        await client.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.001", price="70000", time_in_force="GTC",
            client_order_id="a/b:c.d",
        )  # fmt: skip
    assert await client.open_orders("BTCUSDT") == []  # nothing was sent
    cid = "A-z_09-" + "x" * 29
    order = await client.place_order(
        "BTCUSDT",
        "SELL",
        "LIMIT",
        quantity="0.001",
        price="70000",
        time_in_force="GTC",
        client_order_id=cid,
    )
    assert order.client_order_id == cid
    assert (await client.get_order("BTCUSDT", client_order_id=cid)).order_id == order.order_id


def test_unsigned_query_encoding() -> None:
    assert encode_query({"symbols": '["BTCUSDT","ETHUSDT"]', "limit": 5, "x": None}) == (
        "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D&limit=5"
    )


@pytest.mark.asyncio
async def test_trades_between_two_accounts(
    new_key: Callable[..., Any], client: BinanceClient, make_client: Callable[..., BinanceClient]
) -> None:
    maker = new_key()
    async with make_client(maker) as other:
        resting = await other.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.002", price="60000", time_in_force="GTC"
        )
    taken = await client.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.002")
    assert taken.status == "FILLED" and taken.executed_qty == "0.00200000"
    assert [f.price for f in taken.fills] == ["60000.00000000"]
    (mine,) = await client.my_trades("BTCUSDT", order_id=taken.order_id)
    assert (mine.order_id, mine.qty, mine.price) == (
        taken.order_id,
        Decimal("0.002"),
        Decimal(60000),
    )
    assert mine.quote_qty == Decimal(120) and mine.is_buyer and not mine.is_maker
    last = (await client.trades("BTCUSDT"))[-1]
    assert (last.id, last.price, last.qty) == (mine.id, Decimal(60000), Decimal("0.002"))
    (candle,) = await client.klines("BTCUSDT", "1m")
    assert candle.open == candle.close == Decimal(60000) and candle.number_of_trades >= 1
    assert candle.volume == Decimal("0.002") and candle.quote_asset_volume == Decimal(120)
    assert resting.status == "NEW"


@pytest.mark.asyncio
async def test_cancel_open_orders_and_test_order(client: BinanceClient) -> None:
    for price in ("50000", "51000"):
        await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price=price, time_in_force="GTC"
        )
    tested = await client.test_order(
        "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="52000", time_in_force="GTC"
    )
    assert tested is None
    rates = await client.test_order(
        "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="52000", time_in_force="GTC",
        computeCommissionRates=True,
    )  # fmt: skip
    assert isinstance(rates, OrderCommissionRates)
    assert rates.standard_commission_for_order.maker > 0 and rates.discount == 0
    canceled = await client.cancel_open_orders("BTCUSDT")
    assert sorted(str(c.price) for c in canceled if isinstance(c, OrderResponse)) == [
        "50000.00000000",
        "51000.00000000",
    ]
    assert all(c.status == "CANCELED" for c in canceled if isinstance(c, OrderResponse))
    assert await client.open_orders() == []


@pytest.mark.asyncio
async def test_errors_are_typed_with_code_endpoint_and_hint(
    new_key: Callable[..., Any],
    key: Any,
    client: BinanceClient,
    make_client: Callable[..., BinanceClient],
) -> None:
    with pytest.raises(OrderNotFound) as not_found:
        await client.get_order("BTCUSDT", client_order_id="nope")
    err = not_found.value
    assert err.code == -2013 and err.status == 400
    assert err.endpoint == "GET /api/v3/order" and "query" not in err.hint.lower()
    assert "-2013" in str(err) and err.hint in str(err)

    with pytest.raises(InsufficientFunds) as funds:
        await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="1", price="60000", time_in_force="GTC"
        )
    assert funds.value.code == -2010

    with pytest.raises(InvalidOrder) as missing_tif:  # the exchange's own check (-1102)
        await client.place_order("BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000")
    assert missing_tif.value.code == -1102

    read_only = new_key(permissions=("reading",))
    async with make_client(read_only) as reader:
        assert not (await reader.account()).can_trade
        with pytest.raises(PermissionDenied) as denied:
            await reader.cancel_open_orders("BTCUSDT")
        assert denied.value.code == -2015 and denied.value.status == 401

    forged_client = BinanceClient(key.api_key, "0" * 64, rest_url=client.rest_url)
    async with forged_client as forged:
        with pytest.raises(InvalidSignature) as bad_sig:
            await forged.account()
        assert bad_sig.value.code == -1022


@pytest.mark.asyncio
async def test_without_keys_only_public_endpoints(
    make_client: Callable[..., BinanceClient],
) -> None:
    async with make_client() as public:
        assert await public.server_time() > 0
        with pytest.raises(AuthenticationError, match="needs an API key"):
            await public.account()
        with pytest.raises(AuthenticationError, match="needs an API key"):
            public.ws_api()
    with pytest.raises(ValueError, match="both"):
        BinanceClient("key-only")


@pytest.mark.asyncio
async def test_unreachable_exchange_is_a_network_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = BinanceClient(rest_url=f"http://127.0.0.1:{port}", clock_samples=1)
    with pytest.raises(NetworkError) as err:
        await client.__aenter__()
    assert err.value.endpoint == "GET /api/v3/time" and "ConnectError" in str(err.value)


@pytest.mark.asyncio
async def test_timeout_on_a_query_is_a_network_error(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient]
) -> None:
    async with make_client(key, timeout=0.2) as client:
        ex.set_faults(delay_ms=500)
        with pytest.raises(NetworkError, match="ReadTimeout"):
            await client.account()
