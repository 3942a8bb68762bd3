"""A live bot killed mid-run (os._exit) and started again: no duplicate, no lost order.

The exchange runs as ``tradewire exchange serve --db FILE`` in one subprocess, the
bot as ``tradewire live grid`` in another; allOrders on the exchange is the judge.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

import httpx
import pytest

from tradewire.testing.command import TradewireCommand, crash_after_orders
from tradewire.testing.local_exchange import LocalKey
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path


async def serve_exchange(
    cli: TradewireCommand, db: Path
) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """``tradewire exchange serve --db FILE``; its printed URLs and key."""
    proc = await cli.start("exchange", "serve", "--db", str(db), "--symbols", "BTCUSDT")
    assert proc.stdout is not None
    info: dict[str, str] = {}
    while "HMAC secret" not in info:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the exchange exited"
        label, _, value = line.partition(":")
        info[label.strip()] = value.strip()
    return proc, info


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_a_killed_bot_restarts_without_duplicate_or_lost_orders(tmp_path: Path) -> None:
    home = tmp_path / "home"
    cli = TradewireCommand(home)
    exchange, info = await serve_exchange(cli, tmp_path / "exchange.sqlite3")
    try:
        rest_url = info["REST API"]
        key = LocalKey(info["API key"], info["HMAC secret"], rest_url)
        cli.key_store().add("bot1", key.api_key, key.secret)
        async with httpx.AsyncClient() as http:
            book = (await http.get(f"{rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5")).json()
        price = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
        step = Decimal(3)  # 300 ticks between lines: nothing fills during the test
        args = [
            "live", "grid", "--name", "grid1", "--key", "bot1", "--rest-url", rest_url,
            "--lower", str((price - 3 * step).quantize(Decimal("0.01"))),
            "--upper", str((price + 3 * step).quantize(Decimal("0.01"))),
            "--grids", "6", "--quantity", "0.001", "--recv-window", "1000",
            "--no-view", "--keep-orders", "--force",  # steps far under the round-trip fee
        ]  # fmt: skip

        status, out, err = await cli.run(
            *args, "--duration", "30",
            prelude=crash_after_orders(4),
        )  # fmt: skip
        assert status == 9, (out, err)
        with Journal.for_bot(home, "grid1") as journal:
            states = [o.state for o in journal.orders()]
        assert states == ["NEW", "NEW", "NEW", "INTENT"]  # the 4th: sent, answer never journaled
        before = await key.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
        assert len(before) == 4

        status, out, err = await cli.run(*args, "--duration", "2")
        assert status == 0, (out, err)
        assert "resumed from the journal" in out

        after = await key.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
        with Journal.for_bot(home, "grid1") as journal:
            journaled = {o.client_order_id: o for o in journal.orders()}
        on_exchange = {o["clientOrderId"]: o for o in after}
        # Nothing lost, nothing twice: the journal and the exchange hold the same six orders.
        assert len(after) == 6 and set(on_exchange) == set(journaled)
        assert all(o["status"] == "NEW" for o in after)
        assert {o.state for o in journaled.values()} == {"NEW"}
        lines = sorted((o["side"], Decimal(o["price"])) for o in after)
        assert len(set(lines)) == 6  # one order per grid line
        # The four orders from before the crash were kept, not placed again.
        assert {o["clientOrderId"] for o in before} <= set(on_exchange)
        assert "0 fills, 2 orders placed" in out  # only the two lines still missing
    finally:
        exchange.terminate()
        await exchange.communicate()
