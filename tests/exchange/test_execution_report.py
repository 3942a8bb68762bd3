"""executionReport field by field against user-data-stream.md's "Order Update" payload.

The documented payload (fields in this order; ``d``, ``D``, ``j``, ``J`` and the STP fields are
conditional): e E s c S o f q p P F g C x X r i l z L n N T t I w m M O Z Y Q W V. Binance's own
events carry a real, increasing ``I`` (a capture of a MARKET order's NEW event:
``"I":1025300685,"w":true,...,"O":1734347791772,...,"W":1734347791772,"V":"EXPIRE_MAKER"``).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradewire import Signer
from tradewire.exchange import LocalExchange

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.asyncio

DOCUMENTED = list("eEscSofqpPFgCxXrilzLnNTtIwmMOZYQWV")  # one letter each
LIMIT = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}


def collect(ex: LocalExchange, api_key: str) -> list[dict[str, Any]]:
    """The executionReports of ``api_key``'s account from now on."""
    events: list[dict[str, Any]] = []
    key = ex.core.keys.get(api_key)
    assert key is not None
    ex.userdata.subscribe(
        key.account, lambda e: events.append(e) if e["e"] == "executionReport" else None
    )
    return events


async def test_a_market_orders_new_event_is_working_as_on_binance(
    ex: LocalExchange, alice: Any, bob: Any
) -> None:
    await bob.order(**LIMIT, side="SELL", quantity="0.01", price="60000")
    reports = collect(ex, alice.api_key)
    await alice.order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.01")
    new, trade = reports
    assert list(new) == DOCUMENTED
    assert (new["x"], new["o"], new["w"], new["V"]) == ("NEW", "MARKET", True, "EXPIRE_MAKER")
    assert new["W"] == new["O"] == new["T"]  # working from placement, not -1
    assert list(trade) == DOCUMENTED
    assert (trade["x"], trade["X"], trade["w"], trade["W"]) == ("TRADE", "FILLED", False, new["W"])


async def place_and_cancel(ex: LocalExchange, api_key: str, secret: str, price: str) -> None:
    """A LIMIT buy over REST, then its cancel."""
    signer = Signer.from_secret(secret)
    headers = {"X-MBX-APIKEY": api_key}
    async with httpx.AsyncClient(base_url=ex.rest_url) as client:
        query = (
            f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price={price}"
            f"&timestamp={ex.server_time()}"
        )
        placed = await client.post(
            f"/api/v3/order?{query}&signature={signer.sign(query)}", headers=headers
        )
        query = f"symbol=BTCUSDT&orderId={placed.json()['orderId']}&timestamp={ex.server_time()}"
        cancelled = await client.delete(
            f"/api/v3/order?{query}&signature={signer.sign(query)}", headers=headers
        )
        assert cancelled.status_code == 200, cancelled.text


async def test_execution_ids_increase_and_carry_on_after_a_restart(tmp_path: Path) -> None:
    db, secret, api_key = tmp_path / "exchange.db", secrets.token_hex(32), "K" * 64
    ids: list[int] = []
    for run in range(2):
        async with LocalExchange(symbols=("BTCUSDT",), market="none", db=db) as ex:
            if run == 0:
                ex.add_key(secret, api_key=api_key)
            reports = collect(ex, api_key)
            for price in ("50000", "50001"):
                await place_and_cancel(ex, api_key, secret, price)
            ids += [r["I"] for r in reports]
    assert len(ids) == 8  # NEW and CANCELED of two orders, in each run
    assert ids == sorted(set(ids)) and ids[0] > 0  # strictly increasing, never the old 0


async def test_a_waiting_stop_order_has_no_working_time(ex: LocalExchange, alice: Any) -> None:
    reports = collect(ex, alice.api_key)
    await alice.order(
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        timeInForce="GTC",
        quantity="0.01",
        price="58000",
        stopPrice="59000",
    )
    (new,) = reports
    # "W: Appears when the order is working on the book" (user-data-stream.md)
    assert "W" not in new
    assert (new["x"], new["w"], list(new)) == ("NEW", False, [k for k in DOCUMENTED if k != "W"])
