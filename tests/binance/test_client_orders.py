"""Orders whose answer is lost are reconciled by client order id, never placed twice."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import OrderNotFound, OrderStatusUnknown

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradewire.binance.client import BinanceClient
    from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_503_after_accept_is_reconciled_without_resending(
    ex: LocalExchange, client: BinanceClient
) -> None:
    ex.set_faults(error_after_accept=1.0)  # every accepted order is answered 503 / -1007
    placed_before = ex.metrics()["orders_placed"]
    orders = [
        await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price=str(50000 + i), time_in_force="GTC"
        )
        for i in range(5)
    ]
    ex.set_faults()
    assert ex.metrics()["orders_placed"] - placed_before == 5  # each sent exactly once
    assert all(o.status == "NEW" for o in orders)
    open_ids = sorted(o.client_order_id for o in await client.open_orders("BTCUSDT"))
    assert open_ids == sorted(o.client_order_id for o in orders)


@pytest.mark.asyncio
async def test_timeout_on_an_order_is_reconciled(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient], tmp_path: Path
) -> None:
    log = tmp_path / "errors.jsonl"
    async with make_client(key, timeout=0.3, error_log=log) as client:
        # The order is accepted after the client gave up waiting; the slowness then passes.
        ex.set_faults(delay_ms=400)
        asyncio.get_running_loop().call_later(0.45, ex.set_faults)
        order = await client.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.001", price="70000", time_in_force="GTC"
        )
        assert order.status == "NEW"
        assert ex.metrics()["orders_placed"] == 1
        assert [o.order_id for o in await client.open_orders("BTCUSDT")] == [order.order_id]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["endpoint"] == "/api/v3/order" and lines[0]["method"] == "POST"
    assert lines[0]["error"] == "OrderStatusUnknown"
    assert lines[0]["params"]["newClientOrderId"] == order.client_order_id


@pytest.mark.slow
@pytest.mark.asyncio
async def test_an_order_that_never_arrived_is_reported_not_placed(
    ex: LocalExchange, client: BinanceClient
) -> None:
    unknown = OrderStatusUnknown("lost", endpoint="POST /api/v3/order")
    with pytest.raises(OrderNotFound, match="was not placed") as err:
        await client._reconcile("BTCUSDT", "tw-never-sent", unknown)
    assert "safe to send the order again" in err.value.hint
    assert ex.metrics()["orders_placed"] == 0


@pytest.mark.asyncio
async def test_reconciliation_gives_up_only_after_every_lookup_failed(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient]
) -> None:
    async with make_client(key, timeout=0.2, order_query_attempts=2) as client:
        ex.set_faults(delay_ms=300)  # every lookup times out
        unknown = OrderStatusUnknown("lost", endpoint="POST /api/v3/order")
        with pytest.raises(OrderStatusUnknown, match="still unknown after 2 lookups"):
            await client._reconcile("BTCUSDT", "tw-x", unknown)
        ex.set_faults()


async def _place_while_held(
    ex: LocalExchange, client: BinanceClient, held_ms: int, **order: Any
) -> asyncio.Task[Any]:
    """Start a MARKET buy whose request the exchange holds ``held_ms`` before handling it.

    Once the request is in, the fault is cleared, so the client's lookups are answered at
    once while the order itself is still in transit: a lost answer followed by a late order.
    """
    before = ex.metrics()["requests"]
    ex.set_faults(delay_ms=held_ms)
    task = asyncio.create_task(
        client.place_order("BTCUSDT", "BUY", "MARKET", quantity="0.001", **order)
    )
    await ex.wait_for(lambda: ex.metrics()["requests"] > before)
    ex.set_faults()
    return task


@pytest.mark.asyncio
async def test_a_late_order_is_found_and_never_reported_as_not_placed(
    ex: LocalExchange,
    key: Any,
    new_key: Callable[..., Any],
    make_client: Callable[..., BinanceClient],
) -> None:
    # The attack: the request is held in transit longer than the client looks for it. Giving
    # up early and calling the order "not placed" invites a resend: a MARKET order twice.
    async with make_client(new_key()) as maker:  # liquidity for the market order
        await maker.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="60000", time_in_force="GTC"
        )
    async with make_client(key, timeout=0.4, recv_window=10_000, order_query_attempts=3) as client:
        placed_before = ex.metrics()["orders_placed"]
        task = await _place_while_held(ex, client, 2500, client_order_id="late-market-1")
        order = await asyncio.wait_for(task, timeout=20)
    assert order.client_order_id == "late-market-1" and order.status == "FILLED"
    assert order.executed_qty == "0.00100000"
    assert ex.metrics()["orders_placed"] - placed_before == 1


@pytest.mark.asyncio
async def test_not_placed_is_said_only_once_the_exchange_can_no_longer_accept_it(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient]
) -> None:
    # Held longer than recvWindow: the exchange refuses it (-1021) when it finally reads it.
    # The client may call it "not placed" only after timestamp + recvWindow (+ margin).
    async with make_client(key, timeout=0.4, recv_window=1500, order_query_attempts=3) as client:
        placed_before = ex.metrics()["orders_placed"]
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        task = await _place_while_held(ex, client, 2000, client_order_id="never-placed-1")
        with pytest.raises(OrderNotFound, match="no longer accept") as caught:
            await asyncio.wait_for(task, timeout=20)
        said_at_ms = ex.core.now()  # the exchange's clock when "not placed" was said
        waited_s = loop.time() - sent_at
    cause = caught.value.__cause__
    assert isinstance(cause, OrderStatusUnknown)
    assert cause.accept_until_ms is not None  # the request's timestamp + recvWindow
    # Said only after the exchange could no longer accept it, by the exchange's own clock, and
    # after most of the client's 1 s margin (its estimate of that clock may differ by a few ms,
    # and is measured again meanwhile).
    assert said_at_ms > cause.accept_until_ms + 900
    assert waited_s > 1.5 + 0.9
    await ex.wait_for(lambda: ex.metrics()["requests"] > 0)
    assert ex.metrics()["orders_placed"] - placed_before == 0
