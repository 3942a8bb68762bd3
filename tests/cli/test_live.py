"""``tradewire live``: refused keys say why and nothing starts; a short run ends clean.

Rotation while running is in test_rotation.py, a kill and restart in test_restart.py.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from tradewire.binance.urls import BINANCE, TESTNET, endpoints
from tradewire.exchange import LocalExchange
from tradewire.keys import KeyStore
from tradewire.trading.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.trading.journal import JournaledOrder

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


async def run(home: Path, *args: str) -> tuple[int, str, str]:
    """``tradewire ARGS`` in a subprocess with TRADEWIRE_HOME = ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")} | {
        "TRADEWIRE_HOME": str(home),
        "TRADEWIRE_PASSWORD": PASSWORD,
        "TRADEWIRE_KEY_BACKEND": "file",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUNNER, *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_urls_follow_the_rest_url() -> None:
    local = endpoints("http://127.0.0.1:8080")
    assert (local.stream_url, local.ws_api_url) == (
        "ws://127.0.0.1:8080",
        "ws://127.0.0.1:8080/ws-api/v3",
    )
    assert endpoints("https://api.binance.com/") == BINANCE
    assert BINANCE.stream_url == "wss://stream.binance.com:9443"
    assert BINANCE.ws_api_url == "wss://ws-api.binance.com:443/ws-api/v3"
    assert endpoints("https://testnet.binance.vision") == TESTNET
    given = endpoints("https://api.binance.com", "wss://elsewhere:9443/")
    assert (given.stream_url, given.ws_api_url) == ("wss://elsewhere:9443", BINANCE.ws_api_url)


@pytest.mark.asyncio
async def test_refused_keys_say_why_and_nothing_is_sent(tmp_path: Path) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        store = KeyStore(tmp_path, backend="file", password=lambda new: PASSWORD)
        cases = {
            "withdraw": (("reading", "spot", "withdrawals"), "can WITHDRAW funds"),
            "reader": (("reading",), "This key cannot trade"),
        }
        for name, (permissions, why) in cases.items():
            secret = secrets.token_hex(32)
            store.add(name, ex.add_key(secret, permissions=permissions), secret)
            status, out, err = await run(
                tmp_path, "live", "grid", "--key", name, "--rest-url", ex.rest_url,
                "--investment", "100", "--no-view",
            )  # fmt: skip
            assert status == 2, err
            assert why in out
            assert f"Not starting: key {name} is refused for live trading" in out
        store.add("unknown", "U" * 64, secrets.token_hex(32))
        status, out, _ = await run(
            tmp_path, "live", "grid", "--key", "unknown", "--rest-url", ex.rest_url, "--no-view"
        )
        assert status == 2 and "the exchange refused the key" in out
        status, _, err = await run(tmp_path, "live", "dca", "--rest-url", ex.rest_url)
        assert status == 1 and "no key for bot live-dca: pass --key NAME" in err
        assert ex.metrics()["orders_placed"] == 0
        assert not (tmp_path / "journals").exists()


@pytest.mark.asyncio
async def test_a_short_live_grid_run_journals_and_cancels_its_orders(tmp_path: Path) -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=20) as ex:
        secret = secrets.token_hex(32)
        api_key = ex.add_key(secret)
        KeyStore(tmp_path, backend="file", password=lambda new: PASSWORD).add(
            "bot1", api_key, secret
        )
        (tmp_path / "config.toml").write_text(
            f'[bots.g1]\nkey = "bot1"\nsymbol = "BTCUSDT"\nrest_url = "{ex.rest_url}"\n'
        )
        status, out, err = await run(
            tmp_path, "live", "grid", "--name", "g1", "--lower", "64990", "--upper", "65010",
            "--grids", "4", "--quantity", "0.0001", "--duration", "1.5", "--no-view",
            "--out", str(tmp_path / "report"),
        )  # fmt: skip
        assert status == 0, err
        assert "WARNING  This key has no IP whitelist" in out
        assert "Starting grid bot g1 on BTCUSDT" in out
        assert (tmp_path / "report" / "report.json").exists()
        with Journal.for_bot(tmp_path, "g1") as journal:
            orders = journal.orders()
        assert len(orders) >= 4 and not journal_open(orders)
        assert secret not in out + err


def journal_open(orders: list[JournaledOrder]) -> list[JournaledOrder]:
    """The journaled orders still open."""
    return [o for o in orders if o.is_open]
