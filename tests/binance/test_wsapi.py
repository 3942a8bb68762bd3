"""WsApiClient against the local exchange: orders, errors, rateLimits and the user data stream."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio

from tradewire import Signer
from tradewire.binance.userdata import AccountUpdate, BalanceUpdate, ExecutionReport
from tradewire.binance.wsapi import WsApiClient
from tradewire.errors import APIError, InvalidSignature, NetworkError, OrderNotFound
from tradewire.exchange import LocalExchange
from tradewire.testing import eventually

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator


def now_ms() -> int:
    """The local clock in ms (the client's clock offset plugs in here)."""
    return int(time.time() * 1000)


@pytest_asyncio.fixture
async def ex() -> AsyncIterator[LocalExchange]:
    """An exchange whose books hold only the tests' orders."""
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as exchange:
        yield exchange


def new_key(ex: LocalExchange) -> tuple[str, str]:
    """A new funded HMAC key: (api_key, secret)."""
    secret = secrets.token_hex(32)
    return ex.add_key(secret), secret


def client_for(ex: LocalExchange, key: tuple[str, str], **kw: Any) -> WsApiClient:
    """A WsApiClient for ``key`` on ``ex``."""
    return WsApiClient(ex.ws_api_url, key[0], Signer.from_secret(key[1]), now_ms=now_ms, **kw)


async def next_event(
    events: AsyncGenerator[ExecutionReport | BalanceUpdate | AccountUpdate, None],
    kind: type[Any],
    timeout: float = 5.0,
) -> Any:
    """The next user data event of type ``kind`` (others are skipped)."""

    async def find() -> Any:
        async for event in events:
            if isinstance(event, kind):
                return event
        raise AssertionError("the user data stream ended")

    return await asyncio.wait_for(find(), timeout)


def subscribed(ex: LocalExchange) -> bool:
    """Whether a user data subscription is live on the exchange."""
    return any(s.subscriptions for s in ex.wsapi.sessions)


@pytest.mark.asyncio
async def test_place_query_and_cancel_an_order(ex: LocalExchange) -> None:
    async with client_for(ex, new_key(ex)) as api:
        placed = await api.place_order(
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity=Decimal("0.00100"),
            price="50000.00",
            newClientOrderId="tw-test-1",
        )
        assert placed.client_order_id == "tw-test-1" and placed.status == "NEW"
        assert Decimal(placed.orig_qty or "") == Decimal("0.001")

        status = await api.order_status(symbol="BTCUSDT", origClientOrderId="tw-test-1")
        assert status.order_id == placed.order_id and status.status == "NEW"
        assert [o.order_id for o in await api.open_orders("BTCUSDT")] == [placed.order_id]
        assert [o.order_id for o in await api.open_orders()] == [placed.order_id]

        account = await api.account_status()
        assert account.balance("USDT").locked == Decimal("50")  # 0.001 x 50000, locked exactly

        canceled = await api.cancel_order(symbol="BTCUSDT", orderId=placed.order_id)
        assert canceled.order_id == placed.order_id and canceled.status == "CANCELED"
        assert await api.open_orders("BTCUSDT") == []

        kinds = {(r["rateLimitType"], r["interval"]) for r in api.rate_limits}
        assert ("REQUEST_WEIGHT", "MINUTE") in kinds and ("ORDERS", "SECOND") in kinds


@pytest.mark.asyncio
async def test_a_client_order_id_is_generated_when_missing(ex: LocalExchange) -> None:
    async with client_for(ex, new_key(ex)) as api:
        first = await api.place_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
            price="40000",
        )  # fmt: skip
        second = await api.place_order(
            symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001",
            price="40000",
        )  # fmt: skip
    assert first.client_order_id != second.client_order_id
    assert all(len(o.client_order_id) <= 36 for o in (first, second))


@pytest.mark.asyncio
async def test_errors_are_typed_and_reported_without_the_signature(ex: LocalExchange) -> None:
    api_key, _ = new_key(ex)
    seen: list[tuple[APIError, dict[str, object]]] = []
    wrong = (api_key, secrets.token_hex(32))
    async with client_for(ex, wrong, on_error=lambda e, ctx: seen.append((e, ctx))) as api:
        with pytest.raises(InvalidSignature) as bad_sig:
            await api.account_status()
    assert bad_sig.value.code == -1022 and bad_sig.value.endpoint == "account.status"
    assert len(seen) == 1
    err, context = seen[0]
    assert err is bad_sig.value and context["endpoint"] == "account.status"
    params = context["params"]
    assert isinstance(params, dict) and "timestamp" in params
    assert "signature" not in params and "apiKey" not in params
    assert isinstance(context["latency_ms"], float)

    async with client_for(ex, new_key(ex)) as api:
        with pytest.raises(OrderNotFound) as missing:
            await api.order_status(symbol="BTCUSDT", orderId=123456)
        with pytest.raises(OrderNotFound):
            await api.cancel_order(symbol="BTCUSDT", origClientOrderId="never-placed")
    assert missing.value.code == -2013 and missing.value.status == 400


@pytest.mark.asyncio
async def test_float_parameters_are_refused(ex: LocalExchange) -> None:
    async with client_for(ex, new_key(ex)) as api:
        with pytest.raises(TypeError, match="floats"):
            await api.place_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=0.001)


@pytest.mark.asyncio
async def test_connecting_to_nothing_is_a_network_error() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        url = ex.ws_api_url
    api = WsApiClient(url, "k" * 64, Signer.from_secret("s" * 64), now_ms=now_ms)
    with pytest.raises(NetworkError):
        async with api:
            pass


@pytest.mark.asyncio
async def test_user_data_fill_cancel_and_deposit(ex: LocalExchange) -> None:
    maker_key, taker_key = new_key(ex), new_key(ex)
    async with client_for(ex, maker_key) as maker, client_for(ex, taker_key) as taker:
        events = maker.user_data()
        try:
            first = asyncio.ensure_future(anext(events))  # subscribes, then waits
            await eventually(lambda: subscribed(ex), message="the user data subscription")
            ex.deposit(maker_key[0], "BNB", "2.5")
            deposit = await asyncio.wait_for(first, 5)
            assert isinstance(deposit, BalanceUpdate)
            assert (deposit.asset, deposit.delta) == ("BNB", Decimal("2.5"))

            await maker.place_order(
                symbol="BTCUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                quantity="0.01", price="60000", newClientOrderId="maker-sell",
            )  # fmt: skip
            new = await next_event(events, ExecutionReport)
            assert (new.client_order_id, new.execution_type, new.status) == (
                "maker-sell",
                "NEW",
                "NEW",
            )
            await taker.place_order(
                symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                quantity="0.004", price="60000",
            )  # fmt: skip
            fill = await next_event(events, ExecutionReport)
            assert fill.execution_type == "TRADE" and fill.status == "PARTIALLY_FILLED"
            assert fill.last_filled_qty == Decimal("0.004")
            assert fill.last_filled_price == Decimal("60000")
            assert fill.cumulative_quote_qty == Decimal("240")
            assert fill.commission == Decimal("0.24") and fill.commission_asset == "USDT"
            assert fill.trade_id is not None and fill.is_maker
            balances = await next_event(events, AccountUpdate)
            free, locked = balances.balances["BTC"]
            assert locked == Decimal("0.006") and free == Decimal("0.99")

            await maker.cancel_order(symbol="BTCUSDT", origClientOrderId="maker-sell")
            cancel = await next_event(events, ExecutionReport)
            assert cancel.status == "CANCELED" and cancel.client_order_id == "maker-sell"
            assert cancel.cumulative_filled_qty == Decimal("0.004")
        finally:
            await events.aclose()


def terminate_user_data(ex: LocalExchange) -> int:
    """End every user data subscription server-side with ``eventStreamTerminated``."""
    return ex.end_user_data_streams()


def deposit_seen(events: list[Any], delta: str) -> bool:
    """Whether a BalanceUpdate of ``delta`` is in ``events``."""
    return any(isinstance(e, BalanceUpdate) and e.delta == Decimal(delta) for e in events)


@pytest.mark.asyncio
async def test_user_data_resubscribes_after_termination_and_reconnect(
    ex: LocalExchange,
) -> None:
    key = new_key(ex)
    seen: list[Any] = []
    subscriptions: list[int] = []  # seen events when each subscription went live

    async def collect(api: WsApiClient) -> None:
        async for event in api.user_data(on_subscribed=lambda: subscriptions.append(len(seen))):
            seen.append(event)

    async with client_for(ex, key, reconnect_delay=0.01) as api:
        collector = asyncio.create_task(collect(api))
        try:
            ex.deposit(key[0], "BNB", "0.5")  # before the subscription: not seen
            await eventually(lambda: subscribed(ex), message="the user data subscription")
            assert terminate_user_data(ex) == 1
            await eventually(lambda: subscribed(ex), message="the client to subscribe again")
            ex.deposit(key[0], "BNB", "1")
            await eventually(lambda: deposit_seen(seen, "1"), message="the deposit of 1")

            await ex.wsapi.close_all()  # the exchange closes the connection
            await eventually(
                lambda: bool(api.reconnects) and subscribed(ex), message="a new subscription"
            )
            ex.deposit(key[0], "BNB", "3")
            await eventually(lambda: deposit_seen(seen, "3"), message="the deposit of 3")
            assert api.reconnects == 1
            deltas = [e.delta for e in seen if isinstance(e, BalanceUpdate)]
            assert deltas == [Decimal("1"), Decimal("3")]
            # Told of each live subscription (the first, after the termination, after the
            # reconnect), each before the events it brought.
            assert len(subscriptions) == 3 and subscriptions[0] == 0
            # The connection is usable again for requests, too.
            assert (await api.account_status()).balance("BNB").free == Decimal("4.5")
        finally:
            collector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await collector
