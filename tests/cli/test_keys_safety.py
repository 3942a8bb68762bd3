"""``tradewire keys``: destructive commands need ``--yes`` without a terminal, ``rotate`` audits
the new key first, ``audit`` tells an unreachable exchange from a refusal; each error printed once.

The commands run in subprocesses whose stdin is a pipe (not a terminal), against the local
exchange on 127.0.0.1; the unreachable exchange is a closed local port.
"""

from __future__ import annotations

import contextlib
import os
import pty
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
from aiohttp import web

from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tradewire.exchange import LocalExchange
    from tradewire.testing.local_exchange import LocalKey

WHITELIST = ("127.0.0.1",)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def stored(cli: TradewireCommand, name: str) -> str:
    """The API key stored under ``name``."""
    return cli.key_store().get(name).api_key


def names(cli: TradewireCommand) -> list[str]:
    """The names of the stored keys."""
    return [k.name for k in cli.key_store().list()]


async def add(cli: TradewireCommand, name: str, key: LocalKey) -> None:
    """Store ``key`` as ``name`` through the command."""
    result = await cli.run("keys", "add", name, stdin=f"{key.api_key}\n{key.secret}")
    assert result.status == 0, result.err


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_remove_without_a_terminal_needs_yes(tmp_path: Path, ex: LocalExchange) -> None:
    cli = TradewireCommand(tmp_path / "home")
    key = add_local_key(ex)
    await add(cli, "bot1", key)

    status, out, err = await cli.run("keys", "remove", "bot1", stdin="n\n")
    assert status == 2
    assert "not removing key bot1 without confirmation" in err and "--yes" in err
    assert "Nothing removed." in out
    assert stored(cli, "bot1") == key.api_key
    status, _, err = await cli.run("keys", "remove", "bot1", stdin="y\n")  # piped "y": no answer
    assert status == 2 and stored(cli, "bot1") == key.api_key

    status, out, err = await cli.run("keys", "remove", "bot1", "--yes")
    assert status == 0, err
    assert "Removed key bot1" in out and names(cli) == []


def test_remove_on_a_terminal_asks(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path / "home")
    cli.key_store().add("bot1", "A" * 64, "0123456789abcdef" * 4)

    def answer(text: bytes) -> subprocess.CompletedProcess[str]:
        main, terminal = pty.openpty()
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tradewire.cli.main", "keys", "remove", "bot1"],
                stdin=terminal,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=cli.env(),
                text=True,
            )
            os.write(main, text)
            out, err = proc.communicate(timeout=60)
        finally:
            os.close(terminal)
            os.close(main)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    no = answer(b"n\n")
    assert no.returncode == 2, no.stderr
    assert "Remove key bot1 and delete its secret? [y/N]" in no.stdout
    assert "Nothing removed." in no.stdout and names(cli) == ["bot1"]
    yes = answer(b"y\n")
    assert yes.returncode == 0, yes.stderr
    assert "Removed key bot1" in yes.stdout and names(cli) == []


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_rotate_audits_the_new_key_and_keeps_the_old_one_when_it_fails(
    tmp_path: Path, ex: LocalExchange
) -> None:
    cli = TradewireCommand(tmp_path / "home")
    old = add_local_key(ex, permissions=("reading", "spot"), ip_whitelist=WHITELIST)
    await add(cli, "bot1", old)

    async def rotate(new: LocalKey | str, *extra: str) -> tuple[int, str, str]:
        text = new if isinstance(new, str) else f"{new.api_key}\n{new.secret}"
        status, out, err = await cli.run("keys", "rotate", "bot1", *extra, stdin=text)
        return status, out, err

    good = add_local_key(ex, permissions=("reading", "spot"), ip_whitelist=WHITELIST)
    status, out, err = await rotate(good)  # no terminal, no --yes
    assert status == 2 and "not replacing key bot1 without confirmation" in err
    assert stored(cli, "bot1") == old.api_key

    here = ("--yes", "--rest-url", ex.rest_url)
    cases = {
        "withdrawals": (
            add_local_key(
                ex, permissions=("reading", "spot", "withdrawals"), ip_whitelist=WHITELIST
            ),
            "WITHDRAW",
        ),
        "no trading": (
            add_local_key(ex, permissions=("reading",), ip_whitelist=WHITELIST),
            "cannot trade",
        ),
        "no whitelist": (
            add_local_key(ex, permissions=("reading", "spot")),
            "lacks an IP whitelist, which the old key has",
        ),
    }
    for case, (new, why) in cases.items():
        status, out, err = await rotate(new, *here)
        assert status == 2, (case, out, err)
        assert why in out + err, case
        assert "Key bot1 was not rotated: the old key stays in place." in err, case
        assert stored(cli, "bot1") == old.api_key, case

    # A key the exchange does not know: refused (-2015), not stored.
    status, out, err = await rotate(f"{'Z' * 64}\n{good.secret}", *here)
    assert status == 2 and "REFUSED" in err and "-2015" in err
    assert stored(cli, "bot1") == old.api_key

    # An exchange that cannot be reached: no verdict, nothing replaced.
    closed = f"http://127.0.0.1:{closed_port()}"
    status, out, err = await rotate(good, "--yes", "--rest-url", closed)
    assert status == 3 and f"UNREACHABLE  Could not reach the exchange at {closed}" in err
    assert stored(cli, "bot1") == old.api_key

    # A key with the old one's permissions replaces it.
    status, out, err = await rotate(good, *here)
    assert status == 0, err
    assert "Rotated key bot1 to version 2" in out and stored(cli, "bot1") == good.api_key
    for key in (old, good, *(new for new, _ in cases.values())):
        assert not cli.leaked(key.secret)
    assert all("Traceback" not in text for text in cli.outputs)


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_audit_tells_unreachable_from_refused_and_says_it_once(
    tmp_path: Path, ex: LocalExchange
) -> None:
    cli = TradewireCommand(tmp_path / "home")
    await add(cli, "bot1", add_local_key(ex, ip_whitelist=WHITELIST))
    await add(cli, "elsewhere", add_local_key(ex, ip_whitelist=("10.20.30.40",)))

    closed = f"http://127.0.0.1:{closed_port()}"
    status, out, err = await cli.run("keys", "audit", "bot1", "--rest-url", closed)
    assert status == 3
    (line,) = err.splitlines()  # one message: the client does not print it as well
    assert line.startswith(f"UNREACHABLE  Could not reach the exchange at {closed}:")
    assert "REFUSED" not in out + err

    status, out, err = await cli.run("keys", "audit", "elsewhere", "--rest-url", ex.rest_url)
    assert status == 2
    (line,) = err.splitlines()
    assert line.startswith("REFUSED  The exchange refused the key:") and "-2015" in line

    status, out, err = await cli.run("keys", "audit", "bot1", "--rest-url", ex.rest_url)
    assert status == 0 and err == "" and "passes the audit" in out


@contextlib.asynccontextmanager
async def exchange_without_sapi(can_trade: bool) -> AsyncIterator[str]:
    """A server on 127.0.0.1 answering like Binance's testnet: /api/v3, and 404 for /sapi."""

    async def server_time(request: web.Request) -> web.Response:
        return web.json_response({"serverTime": time.time_ns() // 1_000_000})

    async def account(request: web.Request) -> web.Response:
        assert request.headers.get("X-MBX-APIKEY") and "signature=" in request.query_string
        return web.json_response(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "canTrade": can_trade,
                "canWithdraw": False,
                "canDeposit": False,
                "updateTime": 0,
                "accountType": "SPOT",
                "balances": [],
                "permissions": ["SPOT"],
            }
        )

    app = web.Application()
    app.router.add_get("/api/v3/time", server_time)
    app.router.add_get("/api/v3/account", account)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_an_exchange_that_does_not_report_restrictions_is_audited_from_the_account(
    tmp_path: Path,
) -> None:
    cli = TradewireCommand(tmp_path / "home")
    cli.key_store().add("bot1", "A" * 64, "0123456789abcdef" * 4)
    async with exchange_without_sapi(can_trade=True) as url:
        status, out, err = await cli.run("keys", "audit", "bot1", "--rest-url", url)
        assert status == 1, out + err
        assert "WARNING  The key works (the exchange answered for it) and the account can" in out
        assert "its IP whitelist and withdrawal permission are unchecked" in out
    async with exchange_without_sapi(can_trade=False) as url:
        status, out, err = await cli.run("keys", "audit", "bot1", "--rest-url", url)
        assert status == 2 and "The account cannot trade with this key" in out
        status, out, err = await cli.run(
            "keys", "audit", "bot1", "--rest-url", url, "--purpose", "paper"
        )
        assert status == 1, out + err
