"""A live bot killed mid-run (os._exit) and started again: no duplicate, no lost order.

The exchange runs as ``python -m tradewire.exchange serve --db FILE`` in one subprocess, the
bot as ``tradewire live grid`` in another; allOrders on the exchange is the judge.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tradewire._core import Signer
from tradewire.binance import sign_params
from tradewire.keys import KeyStore
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

PASSWORD = "pw for tests"
# Until the lead wires `live_cli.register` into `tradewire.cli.main`, the commands run under a small
# parser of their own: the same arguments and exit statuses as `tradewire live ...`.
RUNNER = textwrap.dedent(
    """
    import argparse, os, sys
    crash_after = int(os.environ.get("TEST_CRASH_AFTER_ORDERS", "0"))
    if crash_after:
        # Die like a SIGKILL right after the exchange accepted the Nth order, before the
        # bot could journal the answer.
        from tradewire.venues.binance import BinanceVenue
        real = BinanceVenue.place_order
        placed = []
        async def place_then_die(self, request):
            order = await real(self, request)
            placed.append(order)
            if len(placed) >= crash_after:
                os._exit(9)
            return order
        BinanceVenue.place_order = place_then_die
    from tradewire.cli.live import register
    parser = argparse.ArgumentParser(prog="tradewire")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(sys.argv[1:])
    sys.exit(args.func(args))
    """
)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a command: TRADEWIRE_HOME in ``home``, the file key store."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")}
    return base | {
        "TRADEWIRE_HOME": str(home),
        "TRADEWIRE_PASSWORD": PASSWORD,
        "TRADEWIRE_KEY_BACKEND": "file",
        **extra,
    }


async def start_command(
    home: Path, *args: str, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """Start ``tradewire ARGS`` (``live`` / ``doctor``) in a subprocess."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env or env_for(home),
    )


async def run_command(
    home: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[int, str, str]:
    """Run ``tradewire ARGS`` to its end: status, stdout, stderr."""
    proc = await start_command(home, *args, env=env)
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def signed_get(
    rest_url: str, api_key: str, secret: str, path: str, params: dict[str, Any]
) -> Any:
    """A signed GET (e.g. ``/api/v3/allOrders``, which the client does not wrap)."""
    async with httpx.AsyncClient(timeout=10) as http:
        server = json.loads((await http.get(f"{rest_url}/api/v3/time")).content)["serverTime"]
        query = sign_params(
            Signer.from_secret(secret),
            {**params, "recvWindow": 10000, "timestamp": server},
        )
        response = await http.get(f"{rest_url}{path}?{query}", headers={"X-MBX-APIKEY": api_key})
    assert response.status_code == 200, response.text
    return json.loads(response.content)


async def serve_exchange(db: Path) -> tuple[asyncio.subprocess.Process, dict[str, str]]:
    """``tradewire exchange serve --db FILE``; its printed URLs and key."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradewire.exchange", "serve", "--db", str(db),
        "--symbols", "BTCUSDT",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    info: dict[str, str] = {}
    while "HMAC secret" not in info:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the exchange exited"
        label, _, value = line.partition(":")
        info[label.strip()] = value.strip()
    return proc, info


@pytest.mark.asyncio
async def test_a_killed_bot_restarts_without_duplicate_or_lost_orders(tmp_path: Path) -> None:
    exchange, info = await serve_exchange(tmp_path / "exchange.sqlite3")
    try:
        rest_url, api_key, secret = info["REST API"], info["API key"], info["HMAC secret"]
        home = tmp_path / "home"
        KeyStore(home, backend="file", password=lambda new: PASSWORD).add("bot1", api_key, secret)
        async with httpx.AsyncClient() as http:
            book = (await http.get(f"{rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5")).json()
        price = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
        step = Decimal(3)  # 300 ticks between lines: nothing fills during the test
        args = [
            "live", "grid", "--name", "grid1", "--key", "bot1", "--rest-url", rest_url,
            "--lower", str((price - 3 * step).quantize(Decimal("0.01"))),
            "--upper", str((price + 3 * step).quantize(Decimal("0.01"))),
            "--grids", "6", "--quantity", "0.001", "--recv-window", "1000",
            "--no-view", "--keep-orders",
        ]  # fmt: skip

        status, out, err = await run_command(
            home, *args, "--duration", "30", env=env_for(home, TEST_CRASH_AFTER_ORDERS="4")
        )
        assert status == 9, (out, err)
        with Journal.for_bot(home, "grid1") as journal:
            states = [o.state for o in journal.orders()]
        assert states == ["NEW", "NEW", "NEW", "INTENT"]  # the 4th: sent, answer never journaled
        before = await signed_get(
            rest_url, api_key, secret, "/api/v3/allOrders", {"symbol": "BTCUSDT"}
        )
        assert len(before) == 4

        status, out, err = await run_command(home, *args, "--duration", "2")
        assert status == 0, (out, err)
        assert "resumed from the journal" in out

        after = await signed_get(
            rest_url, api_key, secret, "/api/v3/allOrders", {"symbol": "BTCUSDT"}
        )
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
