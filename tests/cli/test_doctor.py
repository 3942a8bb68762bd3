"""``tradewire doctor`` against the local exchange and its faults: each failure explained."""

from __future__ import annotations

import asyncio
import secrets
import socket
from typing import TYPE_CHECKING

import pytest

from tradewire.cli.doctor import Check, diagnose, exit_status
from tradewire.keys import ApiCredentials, Secret
from tradewire.testing import eventually
from tradewire.testing.command import TradewireCommand
from tradewire.testing.local_exchange import add_local_key

if TYPE_CHECKING:
    from pathlib import Path

    from tradewire.exchange import LocalExchange


def creds(api_key: str, secret: str) -> ApiCredentials:
    """Credentials as the key store gives them."""
    return ApiCredentials("bot1", api_key, Secret(secret), "hmac", 1)


def by_name(checks: list[Check]) -> dict[str, list[Check]]:
    """The checks grouped by name."""
    out: dict[str, list[Check]] = {}
    for c in checks:
        out.setdefault(c.name, []).append(c)
    return out


@pytest.mark.asyncio
async def test_a_good_key_passes_with_the_whitelist_warning(ex: LocalExchange) -> None:
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret)
    checks = await diagnose(ex.rest_url, creds(api_key, secret), key_name="bot1")
    got = by_name(checks)
    assert got["connectivity"][0].status == "OK"
    assert got["clock"][0].status == "OK"
    assert got["key"][0].status == "OK" and "signs correctly" in got["key"][0].message
    assert [c.status for c in got["permissions"]] == ["WARN"]
    assert "no IP whitelist" in got["permissions"][0].message
    headroom = got["rate limits"][0]
    assert headroom.status == "OK" and "of 6000 request weight used" in headroom.message
    assert exit_status(checks) == 1
    assert all(secret not in c.line() for c in checks)


@pytest.mark.asyncio
async def test_clock_skew_and_a_wrong_secret_are_explained(ex: LocalExchange) -> None:
    secret = secrets.token_hex(32)
    api_key = ex.add_key(secret)
    ex.set_faults(clock_skew_ms=-2300)  # the exchange 2.3 s behind: this clock is ahead
    checks = await diagnose(ex.rest_url, creds(api_key, secrets.token_hex(32)))
    got = by_name(checks)
    assert got["clock"][0].status == "WARN"
    assert "the clock is 2.3 s ahead of the exchange's" in got["clock"][0].message
    (key,) = got["key"]
    assert key.status == "FAIL"
    assert key.message.startswith("invalid signature: the secret stored for key")
    assert "or the clock is 2.3 s ahead of the exchange's" in key.message
    assert exit_status(checks) == 2

    ex.set_faults(clock_skew_ms=4000)  # this clock behind: no signature hint about it
    checks = await diagnose(ex.rest_url, creds(api_key, secret))
    got = by_name(checks)
    assert "the clock is 4.0 s behind the exchange's" in got["clock"][0].message
    assert got["key"][0].status == "OK"


@pytest.mark.asyncio
async def test_refused_connections_unknown_keys_and_keys_that_cannot_trade(
    ex: LocalExchange,
) -> None:
    secret = secrets.token_hex(32)
    reader = ex.add_key(secret, permissions=("reading",))
    checks = await diagnose(ex.rest_url, creds(reader, secret))
    fails = [c for c in checks if c.status == "FAIL"]
    assert [c.name for c in fails] == ["permissions"]
    assert "cannot trade" in fails[0].message and "Enable Spot & Margin" in fails[0].message
    paper = await diagnose(ex.rest_url, creds(reader, secret), purpose="paper")
    assert exit_status(paper) == 1

    checks = await diagnose(ex.rest_url, creds("A" * 64, secret))
    (key,) = by_name(checks)["key"]
    assert key.status == "FAIL" and "the API key is unknown" in key.message

    ex.set_faults(refuse_connections=True)
    await eventually(lambda: connection_refused(ex.host, ex.port))
    checks = await diagnose(ex.rest_url, creds(reader, secret), timeout=2)
    # No REST check after a refused connection; the sockets (same port here) are refused too.
    assert [(c.name, c.status) for c in checks] == [
        ("connectivity", "FAIL"),
        ("streams", "FAIL"),
        ("websocket api", "FAIL"),
    ]
    assert all("the connection was refused" in c.message for c in checks)


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_the_command_prints_one_line_per_check(tmp_path: Path, ex: LocalExchange) -> None:
    cli = TradewireCommand(tmp_path)
    key = add_local_key(ex, permissions=("reading", "spot", "withdrawals"))
    cli.key_store().add("bot1", key.api_key, key.secret)
    status, out, err = await cli.run("doctor", "--key", "bot1", "--rest-url", ex.rest_url)
    assert status == 2, err
    assert "OK    connectivity:" in out and "OK    key:" in out
    assert "FAIL  permissions: This key can WITHDRAW funds" in out
    assert out.rstrip().endswith("Fix the failures above.")
    assert not cli.leaked(key.secret)


async def connection_refused(host: str, port: int) -> bool:
    """Whether a TCP connection to ``host:port`` is refused (the port no longer listens)."""
    try:
        _, writer = await asyncio.open_connection(host, port)
    except ConnectionRefusedError:
        return True
    writer.close()
    await writer.wait_closed()
    return False


@pytest.mark.asyncio
async def test_streams_and_websocket_api_are_connected_to_and_timed(ex: LocalExchange) -> None:
    checks = by_name(await diagnose(ex.rest_url))  # their URLs follow the REST URL
    (streams,) = checks["streams"]
    assert streams.status == "OK"
    assert streams.message.startswith(f"{ex.stream_url}/ws connects in ")
    assert "answers a ping in " in streams.message
    assert "a subscription to btcusdt@bookTicker in " in streams.message
    (ws_api,) = checks["websocket api"]
    assert ws_api.status == "OK"
    assert ws_api.message.startswith(f"{ex.ws_api_url} connects in ")
    assert "answers a ping in " in ws_api.message


@pytest.mark.asyncio
async def test_broken_stream_and_websocket_api_endpoints_fail_with_the_cause(
    ex: LocalExchange,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"ws://127.0.0.1:{s.getsockname()[1]}/ws-api/v3"
    checks = await diagnose(
        ex.rest_url, stream_url=f"{ex.stream_url}/not-here", ws_api_url=closed, timeout=2
    )
    got = by_name(checks)
    assert got["connectivity"][0].status == "OK"
    (streams,) = got["streams"]
    assert streams.status == "FAIL" and "answered HTTP 404, not a WebSocket" in streams.message
    (ws_api,) = got["websocket api"]
    assert ws_api.status == "FAIL" and f"{closed}: the connection was refused" in ws_api.message
    assert exit_status(checks) == 2


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_exchange_local_checks_a_local_exchange_started_for_it(tmp_path: Path) -> None:
    cli = TradewireCommand(tmp_path)
    status, out, err = await cli.run("doctor", "--exchange", "local")
    assert status == 0, out + err
    lines = out.splitlines()
    assert lines[0].startswith("tradewire doctor: http://127.0.0.1:")
    assert [line.split()[:2] for line in lines[2:-1]] == [
        ["OK", "connectivity:"],
        ["OK", "clock:"],
        ["OK", "rate"],
        ["OK", "streams:"],
        ["OK", "websocket"],
    ]
    assert err == ""
