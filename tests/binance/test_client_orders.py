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
