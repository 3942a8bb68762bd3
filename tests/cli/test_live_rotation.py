"""A key rotated while ``tradewire live`` runs: the bot switches keys without stopping.

After ``KeyStore.rotate`` the bot signs with the new key; the old key is then deleted on the
exchange, and the bot's later orders and cancels are still accepted.
"""

from __future__ import annotations

import asyncio
import signal
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.testing import eventually
from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.exchange import LocalExchange


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.asyncio
async def test_rotating_the_key_of_a_running_bot(tmp_path: Path, ex: LocalExchange) -> None:
    cli = TradewireCommand(tmp_path)
    mm, taker, old = (add_local_key(ex) for _ in range(3))
    async with mm.client() as mm_client, taker.client() as taker_client:
        for side, price in (("BUY", "29999"), ("SELL", "30001")):
            await mm_client.place_order(
                "BTCUSDT", side, "LIMIT", quantity="0.01", price=price, time_in_force="GTC"
            )
        store = cli.key_store()
        store.add("bot1", old.api_key, old.secret)
        bot = await cli.start(
            "live", "grid", "--key", "bot1",
            "--rest-url", ex.rest_url, "--lower", "29990", "--upper", "30010",
            "--grids", "4", "--quantity", "0.001", "--key-check-interval", "0.2",
            "--duration", "60", "--no-view", "--force",  # 5 USDT steps: under the fees
        )  # fmt: skip
        assert bot.stdout is not None and bot.stderr is not None
        lines: list[str] = []
        try:

            async def grid_up() -> bool:
                rows = await old.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
                if len(rows) < 4:  # a book change, so the bot's depth stream has news
                    await mm_client.place_order(
                        "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="20000",
                        time_in_force="GTC",
                    )  # fmt: skip
                return len(rows) == 4

            await eventually(grid_up, timeout=20, interval=0.1)
            # A second key of the same account, then the rotation in the key store.
            new = add_local_key(ex, account_of=old)
            store.rotate("bot1", new.api_key, new.secret)
            while not any("key bot1 rotated" in line for line in lines):
                line = await asyncio.wait_for(bot.stdout.readline(), 20)
                assert line, (lines, await bot.stderr.read())
                lines.append(line.decode())
            rotated_ms = ex.core.now()
            ex.remove_key(old.api_key)  # the old key is deleted on the exchange

            # Fill the grid's top buy: the bot places the sell above it, with the new key.
            await taker_client.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.011")

            async def sell_placed() -> list[Any]:
                rows = await new.signed_get("/api/v3/openOrders", {"symbol": "BTCUSDT"})
                return [r for r in rows if r["side"] == "SELL" and r["price"].startswith("30000.")]

            (sell,) = await eventually(sell_placed, timeout=20, interval=0.1)
            assert sell["time"] >= rotated_ms
        finally:
            if bot.returncode is None:
                bot.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(bot.communicate(), 30)
        text = "".join(lines) + out.decode()
        assert bot.returncode == 0, (text, err.decode())
        assert "version 2" in text and "canceled 4 open orders" in text
        mine = await new.signed_get("/api/v3/allOrders", {"symbol": "BTCUSDT"})
        filled = [o for o in mine if o["status"] == "FILLED"]
        assert [(o["side"], Decimal(o["price"])) for o in filled] == [("BUY", Decimal("29995"))]
        assert sorted(o["status"] for o in mine) == ["CANCELED"] * 4 + ["FILLED"]
        assert old.secret not in text + err.decode() and new.secret not in text
