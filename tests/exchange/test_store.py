"""Persistence: keys, balances, orders and fills survive a restart on the same SQLite file."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest

from tradewire import Signer
from tradewire.exchange import LocalExchange
from tradewire.exchange.engine import NewOrder

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "persisted-secret-0123456789"


async def signed(
    ex: LocalExchange, api_key: str, method: str, path: str, query: str
) -> httpx.Response:
    query = f"{query}&timestamp={ex.server_time()}" if query else f"timestamp={ex.server_time()}"
    signature = Signer.from_secret(SECRET).sign(query)
    async with httpx.AsyncClient(base_url=ex.rest_url) as client:
        return await client.request(
            method, f"{path}?{query}&signature={signature}", headers={"X-MBX-APIKEY": api_key}
        )


def account_of(ex: LocalExchange, api_key: str) -> int:
    key = ex.core.keys.get(api_key)
    assert key is not None
    return key.account


@pytest.mark.asyncio
async def test_restart_keeps_state(tmp_path: Path) -> None:
    db = tmp_path / "exchange.sqlite"
    async with LocalExchange(symbols=("BTCUSDT",), market="none", db=db) as ex:
        api_key = ex.add_key(SECRET)
        other = ex.add_key("other-secret")
        maker = "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=0.01&price=60000"
        resting = await signed(
            ex, api_key, "POST", "/api/v3/order", maker + "&newClientOrderId=keep-me"
        )
        assert resting.status_code == 200
        buy = NewOrder(symbol="BTCUSDT", side="BUY", type="MARKET", quantity=Decimal("0.004"))
        ex.core.engine.place(account_of(ex, other), buy)
        before = (await signed(ex, api_key, "GET", "/api/v3/account", "")).json()["balances"]
        trades_before = (
            await signed(ex, api_key, "GET", "/api/v3/myTrades", "symbol=BTCUSDT")
        ).json()
    async with LocalExchange(symbols=("BTCUSDT",), market="none", db=db) as again:
        after = (await signed(again, api_key, "GET", "/api/v3/account", "")).json()["balances"]
        order = (
            await signed(
                again, api_key, "GET", "/api/v3/order", "symbol=BTCUSDT&origClientOrderId=keep-me"
            )
        ).json()
        trades_after = (
            await signed(again, api_key, "GET", "/api/v3/myTrades", "symbol=BTCUSDT")
        ).json()
        async with httpx.AsyncClient(base_url=again.rest_url) as client:
            depth = (await client.get("/api/v3/depth?symbol=BTCUSDT")).json()
        new = await signed(again, api_key, "POST", "/api/v3/order", maker)
        third = again.add_key("third-secret")
    assert after == before
    assert trades_after == trades_before
    assert (order["status"], order["executedQty"]) == ("PARTIALLY_FILLED", "0.00400000")
    assert depth["asks"] == [["60000.00000000", "0.00600000"]]
    assert new.json()["orderId"] > order["orderId"]
    assert account_of(again, third) not in (
        account_of(again, api_key),
        account_of(again, other),
    )
