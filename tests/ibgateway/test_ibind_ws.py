"""Fidelity: ibind's IbkrWsClient, unmodified, subscribes to smd, sor, str and spl on
LocalIBGateway and receives their events."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from tradewire.ibgateway import LocalIBGateway

ibind = pytest.importorskip("ibind")

AAPL = 265598


@pytest.mark.asyncio
async def test_websocket_subscriptions_deliver_events(gw: LocalIBGateway) -> None:
    events = ibind.events
    subs = ibind.subscriptions
    client = ibind.IbkrClient(
        url=f"{gw.url}/",
        cacert=str(gw.cert_path),
        account_id=gw.account_id,
        auto_register_shutdown=False,
        max_retries=0,
    )
    sink = ibind.QueueSink()
    ws = ibind.IbkrWsClient(
        url=gw.ws_url,
        ibkr_client=client,
        cacert=str(gw.cert_path),
        account_id=gw.account_id,
        sink=sink,
    )
    gw.set_faults(heartbeat_s=0.2)

    def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        assert ws.start()
        try:
            md = ws.subscribe(
                subs.MarketDataSubscription(conid=str(AAPL), fields=["31", "84", "86", "88"])
            )
            orders = ws.subscribe(subs.OrdersSubscription())
            trades = ws.subscribe(subs.TradesSubscription())
            pnl = ws.subscribe(subs.PnlSubscription())
            out["confirmed"] = [md.wait(10), trades.wait(10), pnl.wait(10)]
            out["orders_done"] = orders.wait(10)
            out["market"] = sink.get(events.MarketData, block=True, timeout=10)
            ask = gw.market.quotes[AAPL].ask
            qt = ibind.QuestionType
            placed = client.place_order(
                ibind.OrderRequest(
                    conid=AAPL,
                    side="BUY",
                    quantity=1,
                    order_type="LMT",
                    acct_id=gw.account_id,
                    price=float(ask + Decimal(1)),
                    coid="ws-1",
                ),
                {qt.TRIGGER_AND_FILL: True, qt.PRICE_PERCENTAGE_CONSTRAINT: True},
            ).data
            out["placed"] = placed
            got_orders: list[Any] = []
            while not any(
                row.get("status") == "Filled" for e in got_orders for row in e.data["args"]
            ):
                got_orders.append(sink.get(events.Orders, block=True, timeout=10))
            out["orders"] = got_orders
            got_trades: list[Any] = []
            while not any(
                row.get("order_ref") == "ws-1" for e in got_trades for row in e.data["args"]
            ):
                got_trades.append(sink.get(events.Trades, block=True, timeout=10))
            out["pnl"] = sink.get(events.Pnl, block=True, timeout=10)
            out["unsub"] = ws.unsubscribe(subs.MarketDataSubscription(conid=str(AAPL), fields=[]))
            out["authenticated"] = ws.is_authenticated()
        finally:
            ws.shutdown()
            client.close()
        return out

    out = await asyncio.to_thread(run)
    assert out["confirmed"] == [True, True, True]
    assert out["orders_done"] is True
    market = out["market"]
    assert market.conid == str(AAPL) and {"bid_price", "ask_price"} <= set(market.data)
    filled = [row for e in out["orders"] for row in e.data["args"] if row.get("status") == "Filled"]
    assert filled[0]["orderId"] == int(out["placed"]["order_id"])
    assert f"{gw.account_id}.Core" in out["pnl"].data["args"]
    assert out["authenticated"] is True
