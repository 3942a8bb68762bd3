"""The order journal: durable intents, monotonic updates, and reconciling after a crash."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import JournalError, OrderNotFound, UnknownOrder
from tradewire.testing.local_exchange import add_local_key
from tradewire.trading.journal import (
    Journal,
    JournalFill,
    OrderIntent,
    OrderSnapshot,
    new_client_order_id,
)

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.exchange import LocalExchange
    from tradewire.testing.local_exchange import LocalKey


def intent(cid: str, side: str = "BUY", qty: str = "0.00100000", price: str = "60000.10") -> Any:
    return OrderIntent(cid, "BTCUSDT", side, "LIMIT", qty, price, "GTC")


def test_intents_updates_and_fills_are_exact(tmp_path: Path) -> None:
    with Journal.for_bot(tmp_path, "grid1") as journal:
        assert journal.path == tmp_path / "journals" / "grid1.sqlite3"
        order = journal.record_intent(intent("a-1"))
        assert (order.state, order.quantity, order.price) == (
            "INTENT",
            Decimal("0.00100000"),
            Decimal("60000.10"),
        )
        assert str(order.quantity) == "0.00100000"  # the exact string, trailing zeros kept
        journal.record_update("a-1", "NEW", order_id=17)
        fill = JournalFill(5, "60000.10", "0.0004", "0.0000004", "BTC", 1000)
        assert journal.record_fill("a-1", fill) is True
        assert journal.record_fill("a-1", fill) is False  # the same trade is recorded once
        done = journal.record_update(
            "a-1", "PARTIALLY_FILLED", executed_qty="0.0004", cumulative_quote_qty="24.00004"
        )
        assert (done.state, done.order_id, done.executed_qty) == (
            "PARTIALLY_FILLED",
            "17",
            Decimal("0.0004"),
        )
        assert journal.fills("a-1") == [fill]
        assert [o.client_order_id for o in journal.open_orders()] == ["a-1"]
        assert journal.unresolved() == []


def test_an_update_never_moves_an_order_back(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(intent("b-1"))
        journal.record_update("b-1", "FILLED", executed_qty="0.001")
        late = journal.record_update("b-1", "NEW", executed_qty="0")  # a stale event arrives late
        assert (late.state, late.executed_qty) == ("FILLED", Decimal("0.001"))
        journal.record_update("b-1", "CANCELED")
        assert journal.get("b-1") is not None
        assert journal.get("b-1").state == "FILLED"  # type: ignore[union-attr]


def test_bad_records_are_refused(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(intent("c-1"))
        with pytest.raises(JournalError, match="already in the journal"):
            journal.record_intent(intent("c-1"))
        with pytest.raises(JournalError, match="float"):
            OrderIntent("c-2", "BTCUSDT", "BUY", "LIMIT", 0.1)  # type: ignore[arg-type]
        with pytest.raises(JournalError, match="36"):
            intent("x" * 37)
        with pytest.raises(JournalError, match="BUY or SELL"):
            intent("c-3", side="buy")
        with pytest.raises(UnknownOrder):
            journal.record_update("nope", "NEW")
        with pytest.raises(JournalError, match="unknown order status"):
            journal.record_update("c-1", "DONE")
    cid = new_client_order_id("grid1")
    assert cid.startswith("grid1-") and len(cid) <= 36
    assert new_client_order_id("grid1") != cid


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from tradewire.trading.journal import Journal, OrderIntent
    j = Journal(sys.argv[1])
    for cid in ("d-1", "d-2", "d-3"):
        j.record_intent(OrderIntent(cid, "BTCUSDT", "BUY", "LIMIT", "0.001", "50000"))
    j.record_update("d-1", "NEW", order_id=1)
    j.record_unknown("d-2", "HTTP 503 after send")
    print("recorded", flush=True)
    os._exit(9)  # killed: no close, no commit hooks, no atexit
    """
)


def run_and_crash(path: Path) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 9, done.stderr
    assert done.stdout.strip() == "recorded"


@pytest.mark.asyncio
async def test_after_a_crash_reconcile_resolves_every_intent(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    run_and_crash(path)
    with Journal(path) as journal:
        assert [o.client_order_id for o in journal.unresolved()] == ["d-2", "d-3"]
        assert [o.client_order_id for o in journal.open_orders()] == ["d-1"]
        asked: list[str] = []
        fill = JournalFill(77, "50000", "0.001", "0.000001", "BTC", 5)

        async def lookup(cid: str, symbol: str) -> OrderSnapshot | None:
            asked.append(cid)
            assert symbol == "BTCUSDT"
            if cid == "d-1":
                return OrderSnapshot(cid, "FILLED", 1, "0.001", "50", (fill,))
            if cid == "d-2":
                return OrderSnapshot(cid, "NEW", 2)  # the lost answer: it was placed
            return None  # d-3 never reached the exchange

        report = await journal.reconcile(lookup)
        assert sorted(asked) == ["d-1", "d-2", "d-3"]
        assert report.checked == 3
        assert report.not_placed == ("d-3",)
        assert {o.client_order_id: o.state for o in report.updated} == {
            "d-1": "FILLED",
            "d-2": "NEW",
        }
        assert journal.unresolved() == []
        assert journal.fills("d-1") == [fill]
        assert journal.get("d-3").state == "NOT_PLACED"  # type: ignore[union-attr]
        # Reconciling again asks only about what is still open and changes nothing.
        asked.clear()
        again = await journal.reconcile(lookup)
        assert asked == ["d-2"]
        assert again.not_placed == ()


@pytest.mark.asyncio
async def test_a_filled_order_whose_fills_never_arrived_gets_them_on_reconcile(
    tmp_path: Path,
) -> None:
    # The venue answered FILLED, and the run stopped before the order's trade was recorded:
    # without its fills the next run would count no position.
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(intent("m-1"))
        journal.record_update("m-1", "FILLED", order_id=9)
        journal.record_intent(intent("m-2"))
        done = JournalFill(5, "60000.10", "0.001", "0.000001", "BTC", 6)
        journal.record_fill("m-2", done)
        journal.record_update("m-2", "FILLED", order_id=10)
        assert [o.client_order_id for o in journal.missing_fills()] == ["m-1"]
        fill = JournalFill(4, "60000.10", "0.001", "0.000001", "BTC", 5)

        async def lookup(cid: str, symbol: str) -> OrderSnapshot | None:
            assert cid == "m-1"  # the complete one is not asked about
            return OrderSnapshot(cid, "FILLED", 9, "0.001", "60.0001", (fill,))

        report = await journal.reconcile(lookup)
        assert report.checked == 1
        assert journal.fills("m-1") == [fill]
        assert journal.missing_fills() == []


@pytest.mark.asyncio
async def test_young_intents_and_failed_lookups_stay_unresolved(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite3") as journal:
        journal.record_intent(intent("e-1"))
        journal.record_intent(intent("e-2"))

        async def lookup(cid: str, symbol: str) -> OrderSnapshot | None:
            if cid == "e-2":
                raise ConnectionError("exchange unreachable")
            return None

        report = await journal.reconcile(lookup, grace_ms=60_000)
        assert report.unresolved == ("e-1", "e-2")
        assert "ConnectionError" in report.errors["e-2"]
        assert [o.client_order_id for o in journal.unresolved()] == ["e-1", "e-2"]
        later = await journal.reconcile(
            lookup, grace_ms=60_000, now_ms=int(time.time() * 1000) + 61_000
        )
        assert later.not_placed == ("e-1",)


CRASH_WITH_EXCHANGE = textwrap.dedent(
    """
    import os, sys, time, httpx
    from tradewire import Signer
    from tradewire.binance import sign_params
    from tradewire.trading.journal import Journal, OrderIntent
    path, url, api_key, secret = sys.argv[1:5]
    signer = Signer.from_secret(secret)
    j = Journal(path)
    orders = [("f-fill", "61000"), ("f-rest", "40000"), ("f-never", "41000")]
    for cid, price in orders:
        j.record_intent(OrderIntent(cid, "BTCUSDT", "BUY", "LIMIT", "0.01", price, "GTC"))
    with httpx.Client(base_url=url) as http:
        for cid, price in orders[:2]:
            query = sign_params(signer, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                "timeInForce": "GTC", "quantity": "0.01", "price": price,
                "newClientOrderId": cid, "timestamp": int(time.time() * 1000)})
            r = http.post("/api/v3/order?" + query, headers={"X-MBX-APIKEY": api_key})
            assert r.status_code == 200, r.text
    os._exit(9)  # killed after sending, before recording any answer
    """
)


class RestLookup:
    """Looks orders up on the exchange by client order id, with their trades (signed GETs)."""

    def __init__(self, key: LocalKey) -> None:
        self.key = key

    async def __call__(self, cid: str, symbol: str) -> OrderSnapshot | None:
        try:
            order = await self.key.signed_get(
                "/api/v3/order", {"symbol": symbol, "origClientOrderId": cid}
            )
        except OrderNotFound:
            return None
        trades = await self.key.signed_get(
            "/api/v3/myTrades", {"symbol": symbol, "orderId": order["orderId"]}
        )
        fills = tuple(
            JournalFill(
                t["id"], t["price"], t["qty"], t["commission"], t["commissionAsset"], t["time"]
            )
            for t in trades
        )
        return OrderSnapshot(
            cid,
            order["status"],
            order["orderId"],
            order["executedQty"],
            order["cummulativeQuoteQty"],
            fills,
            order["updateTime"],
        )


@pytest.mark.asyncio
async def test_a_bot_killed_mid_run_reconciles_with_the_local_exchange(
    tmp_path: Path, ex: LocalExchange
) -> None:
    bot = add_local_key(ex)
    # Someone sells 0.01 BTC at 61000: the bot's 61000 buy will fill against it.
    async with add_local_key(ex).client() as maker:
        await maker.place_order(
            "BTCUSDT", "SELL", "LIMIT", quantity="0.01", price="61000", time_in_force="GTC"
        )

    path = tmp_path / "bot.sqlite3"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASH_WITH_EXCHANGE,
        str(path),
        ex.rest_url,
        bot.api_key,
        bot.secret,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 9, err.decode()

    lookup = RestLookup(bot)
    with Journal(path) as journal:
        assert [o.client_order_id for o in journal.unresolved()] == [
            "f-fill",
            "f-rest",
            "f-never",
        ]
        report = await journal.reconcile(lookup)
        states = {o.client_order_id: o.state for o in journal.orders()}
        assert states == {"f-fill": "FILLED", "f-rest": "NEW", "f-never": "NOT_PLACED"}
        assert report.not_placed == ("f-never",)
        filled = journal.get("f-fill")
        assert filled is not None
        assert filled.executed_qty == Decimal("0.01")
        assert filled.cumulative_quote_qty == Decimal("610")
        assert [(f.price, f.quantity) for f in journal.fills("f-fill")] == [
            (Decimal("61000"), Decimal("0.01"))
        ]
        assert journal.unresolved() == []
        # Carry on: the exchange holds exactly the two orders that were sent, once each.
        sent = await bot.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
        assert sorted(o["clientOrderId"] for o in sent) == ["f-fill", "f-rest"]
        again = await journal.reconcile(lookup)
        assert again.checked == 1 and again.not_placed == ()
