"""add_local_key / LocalKey: funded keys on a local exchange, signed reads with typed errors."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from tradewire.errors import AuthenticationError, OrderNotFound
from tradewire.testing.local_exchange import LocalKey, add_local_key

if TYPE_CHECKING:
    from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_a_funded_key_and_a_second_key_of_its_account(ex: LocalExchange) -> None:
    key = add_local_key(ex, balances={"USDT": "250.5"})
    assert key.rest_url == ex.rest_url and key.ws_api_url == ex.ws_api_url
    assert key.secret not in repr(key)
    second = add_local_key(ex, account_of=key, permissions=("reading",))
    for k in (key, second):
        account = await k.signed_get("/api/v3/account", {"omitZeroBalances": "true"})
        assert [(b["asset"], Decimal(b["free"])) for b in account["balances"]] == [
            ("USDT", Decimal("250.5"))
        ]
    async with second.client() as client:
        assert (await client.api_restrictions()).enable_spot_and_margin_trading is False


@pytest.mark.asyncio
async def test_refusals_are_typed_errors(ex: LocalExchange) -> None:
    key = add_local_key(ex)
    with pytest.raises(OrderNotFound):
        await key.signed_get("/api/v3/order", {"symbol": "BTCUSDT", "origClientOrderId": "none"})
    stranger = LocalKey("A" * 64, key.secret, ex.rest_url)
    with pytest.raises(AuthenticationError):
        await stranger.signed_get("/api/v3/openOrders")
