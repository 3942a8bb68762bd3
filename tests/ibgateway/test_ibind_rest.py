"""Fidelity: ibind's REST client, unmodified, against LocalIBGateway; every answer has the key set
and value types of the recorded IB bodies in tests/data/ib."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.ibgateway import LocalIBGateway

ibind = pytest.importorskip("ibind")

AAPL = 265598


def client_for(gw: LocalIBGateway) -> Any:
    """ibind's IbkrClient configured only through its constructor: URL, CA file, account (one
    connection per request, so no socket outlives the test)."""
    return ibind.IbkrClient(
        url=f"{gw.url}/",
        use_session=False,
        cacert=str(gw.cert_path),
        account_id=gw.account_id,
        auto_register_shutdown=False,
        timeout=10,
        max_retries=0,
    )


@pytest.mark.asyncio
async def test_session_accounts_and_portfolio(
    gw: LocalIBGateway, same_shape: Callable[..., None]
) -> None:
    client = client_for(gw)

    def run() -> dict[str, Any]:
        return {
            "tickle": client.tickle().data,
            "auth": client.authentication_status().data,
            "init": client.initialize_brokerage_session().data,
            "healthy": client.check_auth_status(),
            "accounts": client.portfolio_accounts().data,
            "brokerage": client.receive_brokerage_accounts().data,
            "ledger": client.get_ledger().data,
            "summary": client.portfolio_summary().data,
        }

    out = await asyncio.to_thread(run)
    same_shape(out["tickle"], "webapi-tickle.json")
    same_shape(out["auth"], "webapi-auth-status.json")
    same_shape(out["accounts"], "webapi-portfolio-accounts.json")
    same_shape(out["ledger"], "webapi-ledger.json")
    assert out["init"]["authenticated"] is True
    assert out["healthy"] is True
    assert out["brokerage"]["accounts"] == [gw.account_id]
    assert out["ledger"]["USD"]["cashbalance"] == 1_000_000.0
    assert out["summary"]["availablefunds"]["amount"] == 1_000_000.0


@pytest.mark.asyncio
async def test_contracts_and_market_data(
    gw: LocalIBGateway, same_shape: Callable[..., None]
) -> None:
    client = client_for(gw)

    def run() -> dict[str, Any]:
        return {
            "conids": client.stock_conid_by_symbol(["AAPL", "MSFT"]).data,
            "stocks": client.security_stocks_by_symbol("AAPL").data,
            "search": client.search_contract_by_symbol("AAPL").data,
            "info": client.contract_information_by_conid(str(AAPL)).data,
            "rules": client.search_contract_rules(str(AAPL), exchange="NASDAQ", is_buy=True).data,
            "first": client.live_marketdata_snapshot(
                str(AAPL), ["31", "84", "86", "88", "85"]
            ).data,
            "second": client.live_marketdata_snapshot(
                str(AAPL), ["31", "84", "86", "88", "85"]
            ).data,
            "history": client.marketdata_history_by_conid(str(AAPL), bar="1d", period="1m").data,
        }

    out = await asyncio.to_thread(run)
    assert out["conids"] == {"AAPL": AAPL, "MSFT": 272093}
    same_shape(out["stocks"]["AAPL"], "webapi-trsrv-stocks.json", "AAPL")
    assert out["search"][0]["conid"] == str(AAPL)  # a string here, an int elsewhere, as on IB
    assert out["info"]["con_id"] == AAPL
    assert out["rules"]["incrementRules"][1] == {"lowerEdge": 1.0, "increment": 0.01}
    assert out["first"] == [{"conid": AAPL, "conidEx": str(AAPL)}]
    assert {"31", "84", "86", "88", "85"} <= set(out["second"][0])
    assert Decimal(out["second"][0]["84"].replace(",", "")) > 0
    same_shape(out["history"], "webapi-marketdata-history-aapl.json")
    assert len(out["history"]["data"]) == 31


@pytest.mark.asyncio
async def test_orders_through_a_two_question_chain(
    gw: LocalIBGateway, same_shape: Callable[..., None]
) -> None:
    client = client_for(gw)
    qt = ibind.QuestionType
    last = gw.market.quotes[AAPL].last
    far = (last * Decimal("0.9")).quantize(Decimal("0.01"))

    def request(price: Decimal, coid: str) -> Any:
        return ibind.OrderRequest(
            conid=AAPL,
            side="BUY",
            quantity=2,
            order_type="LMT",
            acct_id=gw.account_id,
            price=float(price),
            tif="DAY",
            coid=coid,
        )

    answers = {qt.MISSING_MARKET_DATA: True, qt.PRICE_PERCENTAGE_CONSTRAINT: True}

    def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        client.receive_brokerage_accounts()
        with pytest.raises(ValueError, match="No answer found"):
            client.place_order(request(far, "q-missing"), {qt.MISSING_MARKET_DATA: True})
        placed = client.place_order(request(far, "q-1"), answers).data
        out["placed"] = placed
        order_id = placed[0]["order_id"] if isinstance(placed, list) else placed["order_id"]
        out["live"] = client.live_orders(force=True).data
        out["status"] = client.order_status(order_id).data
        modified = ibind.OrderRequest(
            conid=AAPL,
            side="BUY",
            quantity=2,
            order_type="LMT",
            acct_id=gw.account_id,
            price=float(far + 1),
            tif="DAY",
            coid="q-1",
        )
        out["modify"] = client.modify_order(order_id, modified, answers).data
        out["suppress"] = client.suppress_messages(["o163"]).data
        out["cancel"] = client.cancel_order(order_id).data
        gw.set_faults(reject_orders=1)
        with pytest.raises(ibind.ExternalBrokerError, match="cannot accept"):
            client.place_order(request(far, "q-rejected"), answers)
        out["order_id"] = order_id
        return out

    out = await asyncio.to_thread(run)
    order_id = int(out["order_id"])
    rows = out["live"]["orders"]
    assert out["live"]["snapshot"] is True
    assert [r["order_ref"] for r in rows] == ["q-1"]
    same_shape(rows, "webapi-live-orders.json")
    same_shape(out["status"], "webapi-order-status.json")
    assert out["status"]["order_status"] in ("PreSubmitted", "Submitted")
    assert out["suppress"] == {"status": "submitted"}
    assert out["cancel"]["msg"] == "Request was submitted"
    await gw.wait_for(lambda: gw.blotter.orders[order_id].status == "Cancelled")
    assert gw.blotter.orders[order_id].price == far + 1


@pytest.mark.asyncio
async def test_positions_after_a_fill(gw: LocalIBGateway, same_shape: Callable[..., None]) -> None:
    client = client_for(gw)
    qt = ibind.QuestionType
    ask = gw.market.quotes[AAPL].ask
    answers = {
        qt.MISSING_MARKET_DATA: True,
        qt.TRIGGER_AND_FILL: True,
        qt.PRICE_PERCENTAGE_CONSTRAINT: True,
    }
    order = ibind.OrderRequest(
        conid=AAPL,
        side="BUY",
        quantity=100,
        order_type="LMT",
        acct_id=gw.account_id,
        price=float(ask + 1),
        tif="DAY",
        coid="buy-100",
    )
    placed = await asyncio.to_thread(client.place_order, order, answers)
    data = placed.data[0] if isinstance(placed.data, list) else placed.data
    order_id = int(data["order_id"])
    await gw.wait_for(lambda: gw.blotter.orders[order_id].status == "Filled")
    positions = (await asyncio.to_thread(client.positions)).data
    trades = (await asyncio.to_thread(client.trades)).data
    same_shape(positions, "webapi-positions.json")
    assert positions[0]["position"] == 100.0 and positions[0]["ticker"] == "AAPL"
    assert trades[0]["order_ref"] == "buy-100" and trades[0]["side"] == "B"
