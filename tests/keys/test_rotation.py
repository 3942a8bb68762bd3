"""A key rotated while ``tradewire live`` runs: the bot switches keys without stopping.

After ``KeyStore.rotate`` the bot signs with the new key; the old key is then deleted on the
exchange, and the bot's later orders and cancels are still accepted.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradewire._core import Signer
from tradewire.binance import sign_params
from tradewire.binance.client import BinanceClient
from tradewire.exchange import LocalExchange
from tradewire.keys import KeyStore

if TYPE_CHECKING:
    from pathlib import Path

PASSWORD = "pw for tests"
RUNNER = textwrap.dedent(
    """
    import argparse, sys
    from tradewire.cli.live import register
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(sys.argv[1:])
    sys.exit(args.func(args))
    """
)


async def signed_get(ex: LocalExchange, api_key: str, secret: str, path: str) -> Any:
    """A signed GET of BTCUSDT's ``path`` (openOrders, allOrders)."""
    params: dict[str, str | int] = {"symbol": "BTCUSDT", "timestamp": ex.core.now()}
    query = sign_params(Signer.from_secret(secret), params)
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{ex.rest_url}{path}?{query}", headers={"X-MBX-APIKEY": api_key})
    assert response.status_code == 200, response.text
    return json.loads(response.content)


async def eventually(check: Any, timeout: float = 20.0) -> Any:
    """Poll the async ``check`` until it returns something truthy."""
    for _ in range(int(timeout / 0.1)):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.asyncio
async def test_rotating_the_key_of_a_running_bot(tmp_path: Path) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market="none") as ex:
        mm_secret, taker_secret, old_secret, new_secret = (secrets.token_hex(32) for _ in range(4))
        mm = ex.add_key(mm_secret)
        taker = ex.add_key(taker_secret)
        old_key = ex.add_key(old_secret)
        async with (
            BinanceClient(mm, mm_secret, rest_url=ex.rest_url) as mm_client,
            BinanceClient(taker, taker_secret, rest_url=ex.rest_url) as taker_client,
        ):
            for side, price in (("BUY", "29999"), ("SELL", "30001")):
                await mm_client.place_order(
                    "BTCUSDT", side, "LIMIT", quantity="0.01", price=price, time_in_force="GTC"
                )
            store = KeyStore(tmp_path, backend="file", password=lambda new: PASSWORD)
            store.add("bot1", old_key, old_secret)
            env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")} | {
                "TRADEWIRE_HOME": str(tmp_path),
                "TRADEWIRE_PASSWORD": PASSWORD,
                "TRADEWIRE_KEY_BACKEND": "file",
            }
            bot = await asyncio.create_subprocess_exec(
                sys.executable, "-c", RUNNER, "live", "grid", "--key", "bot1",
                "--rest-url", ex.rest_url, "--lower", "29990", "--upper", "30010",
                "--grids", "4", "--quantity", "0.001", "--key-check-interval", "0.2",
                "--duration", "60", "--no-view",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            )  # fmt: skip
            assert bot.stdout is not None and bot.stderr is not None
            lines: list[str] = []
            try:

                async def grid_up() -> bool:
                    rows = await signed_get(ex, old_key, old_secret, "/api/v3/openOrders")
                    if len(rows) < 4:  # a book change, so the bot's depth stream has news
                        await mm_client.place_order(
                            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="20000",
                            time_in_force="GTC",
                        )  # fmt: skip
                    return len(rows) == 4

                await eventually(grid_up)
                # A second key of the same account, then the rotation in the key store.
                new_key = ex.add_key(new_secret, account_of=old_key)
                store.rotate("bot1", new_key, new_secret)
                while not any("key bot1 rotated" in line for line in lines):
                    line = await asyncio.wait_for(bot.stdout.readline(), 20)
                    assert line, (lines, await bot.stderr.read())
                    lines.append(line.decode())
                rotated_ms = ex.core.now()
                ex.remove_key(old_key)  # the old key is deleted on the exchange

                # Fill the grid's top buy: the bot places the sell above it, with the new key.
                await taker_client.place_order("BTCUSDT", "SELL", "MARKET", quantity="0.011")

                async def sell_placed() -> list[Any]:
                    rows = await signed_get(ex, new_key, new_secret, "/api/v3/openOrders")
                    return [
                        r for r in rows if r["side"] == "SELL" and r["price"].startswith("30000.")
                    ]

                (sell,) = await eventually(sell_placed)
                assert sell["time"] >= rotated_ms
            finally:
                if bot.returncode is None:
                    bot.send_signal(signal.SIGTERM)
                out, err = await asyncio.wait_for(bot.communicate(), 30)
            text = "".join(lines) + out.decode()
            assert bot.returncode == 0, (text, err.decode())
            assert "version 2" in text and "canceled 4 open orders" in text
            orders = await signed_get(ex, new_key, new_secret, "/api/v3/allOrders")
            mine = list(orders)
            filled = [o for o in mine if o["status"] == "FILLED"]
            assert [(o["side"], Decimal(o["price"])) for o in filled] == [("BUY", Decimal("29995"))]
            assert sorted(o["status"] for o in mine) == ["CANCELED"] * 4 + ["FILLED"]
            assert old_secret not in text + err.decode() and new_secret not in text
