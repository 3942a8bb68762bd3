"""Orders against the local gateway: questions, rejects, serialised placement, modify, cancel,
order state from sor deltas, reconciliation by cOID."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import (
    IBOrderRejected,
    IBQuestionRefused,
    InvalidOrder,
    OrderNotFound,
    OrderStatusUnknown,
)
from tradewire.ib import IBOrderRequest
from tradewire.ib.orders import OrderTable

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradewire.ib import IBClient, IBOrder
    from tradewire.ibgateway import LocalIBGateway

AAPL = 265598
ALL_QUESTIONS = ("o354", "o163", "o403", "o10151", "o10331")


def below_market(gw: LocalIBGateway, conid: int, fraction: str = "0.99") -> Decimal:
    """A BUY limit under the bid (rests without filling), on the cent tick."""
    return (gw.market.quotes[conid].bid * Decimal(fraction)).quantize(Decimal("0.01"))


def limit(gw: LocalIBGateway, coid: str, fraction: str = "0.99", qty: int = 10) -> IBOrderRequest:
    """A BUY limit of AAPL under the market."""
    price = below_market(gw, AAPL, fraction)
    return IBOrderRequest(AAPL, "BUY", Decimal(qty), "LMT", coid, price=price)


async def next_update(
    ib: IBClient, predicate: Callable[[IBOrder], bool], timeout: float = 5.0
) -> IBOrder:
    """The first sor update that satisfies ``predicate``."""

    async def wait() -> IBOrder:
        async for order in ib.order_updates():
            if predicate(order):
                return order
        raise AssertionError("the order stream ended")

    return await asyncio.wait_for(wait(), timeout)


@pytest.mark.asyncio
async def test_a_two_question_chain_is_confirmed(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354", "o163")) as ib:
        gw.session.suppressed.clear()  # so that IB asks them instead of suppressing them
        request = limit(gw, "chain-1", fraction="0.9")  # 10% under the market: o163
        before = ib.transport.limiter.sent
        ack = await ib.place_order(request)
        order = gw.blotter.orders[ack.order_id]
        assert (order.coid, order.status, order.price) == ("chain-1", ack.status, request.price)
        assert ib.transport.limiter.sent - before == 3  # the placement, o354 and o163 confirmed
        assert ack.client_order_id == "chain-1"


@pytest.mark.asyncio
async def test_an_unconfigured_question_refuses_the_order(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354",)) as ib:
        with pytest.raises(IBQuestionRefused, match="o163") as info:
            await ib.place_order(limit(gw, "far-1", fraction="0.9"))
        assert info.value.message_ids == ("o163",)
        assert "Percentage constraint of 3%" in info.value.questions[0]
        assert gw.blotter.by_coid("far-1") is None
        assert not gw.session.replies  # declined, not left pending


@pytest.mark.asyncio
async def test_a_reject_under_http_200_is_typed_and_logged(
    gw: LocalIBGateway, connect: Callable[..., Any], tmp_path: Path
) -> None:
    gw.set_faults(reject_orders=1)
    async with connect(confirm_questions=ALL_QUESTIONS) as ib:
        with pytest.raises(IBOrderRejected, match="limit price you selected") as info:
            await ib.place_order(limit(gw, "rej-1"))
        assert info.value.status == 200
        entry = json.loads((tmp_path / "ib-errors.jsonl").read_text().splitlines()[-1])
        assert (entry["error"], entry["status"]) == ("IBOrderRejected", 200)
        assert entry["endpoint"] == f"/iserver/account/{gw.account_id}/orders"
        ack = await ib.place_order(limit(gw, "rej-2"))
        with pytest.raises(IBOrderRejected, match="already registered"):
            await ib.place_order(limit(gw, "rej-2"))
        assert gw.blotter.by_coid("rej-2") is gw.blotter.orders[ack.order_id]


@pytest.mark.asyncio
async def test_bad_orders_never_leave_the_client() -> None:
    with pytest.raises(InvalidOrder, match="whole shares"):
        IBOrderRequest(AAPL, "BUY", Decimal("1.5"), "LMT", "x", price=Decimal(1))
    with pytest.raises(InvalidOrder, match="needs a price"):
        IBOrderRequest(AAPL, "BUY", Decimal(1), "LMT", "x")
    with pytest.raises(InvalidOrder, match="more digits"):
        IBOrderRequest(AAPL, "BUY", Decimal(1), "LMT", "x", price=Decimal("0.12345678901234567"))
    body = IBOrderRequest(AAPL, "SELL", Decimal(3), "LMT", "x", price=Decimal("187.35")).body("A")
    assert json.dumps(body["price"]) == "187.35"


@pytest.mark.asyncio
async def test_placements_are_serialised_so_reply_ids_never_go_stale(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354", "o163")) as ib:
        gw.session.suppressed.clear()  # every placement asks questions
        acks = await asyncio.gather(
            *(ib.place_order(limit(gw, f"par-{i}", fraction="0.9")) for i in range(4))
        )
        assert sorted(a.client_order_id for a in acks) == [f"par-{i}" for i in range(4)]
        assert len({a.order_id for a in acks}) == 4


@pytest.mark.asyncio
async def test_a_stale_reply_id_is_reconciled_not_resent(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354", "o163")) as ib:
        gw.session.suppressed.clear()
        gw.set_faults(stale_replies=True)
        with pytest.raises(OrderStatusUnknown, match="no order with this cOID"):
            await ib.place_order(limit(gw, "stale-1", fraction="0.9"))
        assert gw.blotter.by_coid("stale-1") is None
        assert len(gw.blotter.orders) == 0  # looked up, never sent a second time


@pytest.mark.asyncio
async def test_a_dropped_answer_is_reconciled_by_coid(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=ALL_QUESTIONS) as ib:
        gw.set_faults(drop_order_replies=1)
        ack = await ib.place_order(limit(gw, "drop-1"))
        assert gw.faults.drop_order_replies == 0  # the answer really was lost
        assert gw.blotter.orders[ack.order_id].coid == "drop-1"
        assert len(gw.blotter.orders) == 1


@pytest.mark.asyncio
async def test_modify_and_cancel_with_state_from_sor(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=ALL_QUESTIONS) as ib:
        request = limit(gw, "mod-1", fraction="0.98")
        ack = await ib.place_order(request)
        await next_update(ib, lambda o: o.order_id == ack.order_id)
        new_price = below_market(gw, AAPL, "0.97")
        changed = IBOrderRequest(AAPL, "BUY", Decimal(12), "LMT", "mod-1", price=new_price)
        again = await ib.modify_order(ack.order_id, changed)
        assert again.order_id == ack.order_id
        assert gw.blotter.orders[ack.order_id].price == new_price
        modified = await next_update(ib, lambda o: o.order_id == ack.order_id and o.quantity == 12)
        assert modified.price == new_price and modified.client_order_id == "mod-1"
        await ib.cancel_order(ack.order_id)
        cancelled = await next_update(
            ib, lambda o: o.order_id == ack.order_id and o.status == "Cancelled"
        )
        # the Cancelled delta carries only the changed fields; the merge keeps the rest
        assert (cancelled.symbol, cancelled.price, cancelled.quantity) == (
            "AAPL",
            new_price,
            Decimal(12),
        )
        with pytest.raises(OrderNotFound, match="doesn't exist"):
            await ib.cancel_order(ack.order_id)


@pytest.mark.asyncio
async def test_a_marketable_order_fills_and_reports_executions(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=ALL_QUESTIONS) as ib:
        executions = ib.executions()
        first = asyncio.ensure_future(anext(executions))
        # str sends only what happens after the subscription (realtimeUpdatesOnly): wait for it.
        await gw.wait_for(lambda: any(c.trades for c in gw.ws.clients))
        ack = await ib.place_order(IBOrderRequest(AAPL, "BUY", Decimal(5), "MKT", "mkt-1"))
        filled = await next_update(
            ib, lambda o: o.order_id == ack.order_id and o.status == "Filled"
        )
        assert filled.filled == 5 and filled.avg_price is not None
        execution = await asyncio.wait_for(first, 5)
        assert (execution.client_order_id, execution.order_id) == ("mkt-1", ack.order_id)
        assert execution.size == 5 and execution.price == filled.avg_price
        assert execution.commission == Decimal("1.00")  # IB's minimum, as the gateway charges
        assert await ib.trades() == [execution]
        await executions.aclose()
        status = await ib.order_status(ack.order_id)
        assert status["order_status"] == "Filled"
        found = await ib.find_order("mkt-1")
        assert found is not None and found.order_id == ack.order_id and not found.is_open


def test_the_order_table_merges_deltas_by_order_id() -> None:
    table = OrderTable()
    full = {"orderId": 7, "order_ref": "a", "conid": AAPL, "ticker": "AAPL", "side": "BUY",
            "orderType": "Limit", "status": "PreSubmitted", "totalSize": "10",
            "filledQuantity": "0", "remainingQuantity": "10", "price": "1,187.35",
            "timeInForce": "DAY"}  # fmt: skip
    (first,) = table.merge([full])
    assert (first.order_type, first.price, first.status) == (
        "LMT",
        Decimal("1187.35"),
        "PreSubmitted",
    )
    (second,) = table.merge([{"orderId": 7, "status": "Submitted"}])
    assert second.status == "Submitted" and second.price == Decimal("1187.35")
    assert table.merge([{"orderId": 7, "status": "Submitted"}]) == []  # nothing changed
    assert table.by_client_id("a") == second and table.get(8) is None
