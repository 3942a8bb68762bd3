"""``tradewire doctor --venue ib`` against the local IB gateway and its faults: one line per
check, healthy and each failure explained."""

from __future__ import annotations

import datetime
import socket
import time
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from tradewire.cli.doctor import Check, diagnose_ib, exit_status
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK
from tradewire.testing.command import TradewireCommand

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

MONDAY_10AM = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=NEW_YORK).timestamp()


def _clock() -> float:
    return MONDAY_10AM + time.time() - _T0


_T0 = time.time()


@pytest_asyncio.fixture
async def gw() -> AsyncIterator[LocalIBGateway]:
    """A gateway listing AAPL during market hours."""
    async with LocalIBGateway(symbols=("AAPL",), seed=2, clock=_clock) as gateway:
        yield gateway


def lines(checks: list[Check]) -> dict[str, Check]:
    """The checks by name (each name once)."""
    out = {c.name: c for c in checks}
    assert len(out) == len(checks)
    return out


@pytest.mark.asyncio
async def test_a_healthy_gateway_passes_every_check(gw: LocalIBGateway) -> None:
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path), account=gw.account_id)
    by = lines(checks)
    assert list(by) == ["gateway", "session", "account", "market data", "limits"]
    assert {c.status for c in checks} == {"OK"}
    assert gw.account_id in by["account"].message
    assert "AAPL@NASDAQ (USD) bid" in by["market data"].message
    assert exit_status(checks) == 0


@pytest.mark.asyncio
async def test_an_untrusted_certificate_says_to_pass_it(gw: LocalIBGateway) -> None:
    checks = await diagnose_ib(gw.url)
    assert [(c.name, c.status) for c in checks] == [("gateway", "FAIL")]
    assert "--ib-cafile" in checks[0].message


@pytest.mark.asyncio
async def test_nothing_listening_is_named() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checks = await diagnose_ib(f"https://127.0.0.1:{port}/v1/api", timeout=2)
    assert [(c.name, c.status) for c in checks] == [("gateway", "FAIL")]
    assert "nothing listens" in checks[0].message


@pytest.mark.asyncio
async def test_a_logged_out_gateway_needs_a_browser_login(gw: LocalIBGateway) -> None:
    gw.set_faults(logged_out=True)
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path))
    by = lines(checks)
    assert by["gateway"].status == "OK"
    assert by["session"].status == "FAIL"
    assert "browser login" in by["session"].message
    assert exit_status(checks) == 2


@pytest.mark.asyncio
async def test_a_competing_session_is_named(gw: LocalIBGateway) -> None:
    gw.set_faults(competing=True)
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path))
    session = lines(checks)["session"]
    assert session.status == "FAIL"
    assert session.message.startswith("competing")


@pytest.mark.asyncio
async def test_an_account_the_login_does_not_list_fails(gw: LocalIBGateway) -> None:
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path), account="U9999999")
    account = lines(checks)["account"]
    assert account.status == "FAIL"
    assert "U9999999" in account.message and gw.account_id in account.message


@pytest.mark.asyncio
async def test_a_symbol_without_market_data_fails(gw: LocalIBGateway) -> None:
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path), symbol="ZZZZ")
    by = lines(checks)
    assert by["market data"].status == "FAIL"
    assert "ZZZZ" in by["market data"].message
    assert by["limits"].status == "OK"


@pytest.mark.asyncio
async def test_the_penalty_box_shows_in_the_limits(gw: LocalIBGateway) -> None:
    gw.set_faults(rate_limit_per_s=1, penalty_box_s=60)
    checks = await diagnose_ib(gw.url, cafile=str(gw.cert_path))
    assert checks[-1].status == "FAIL"
    assert checks[-1].name == "limits" and "penalty box" in checks[-1].message
    assert exit_status(checks) == 2


@pytest.mark.asyncio
async def test_the_command_prints_one_line_per_check(tmp_path: Path) -> None:
    status, out, err = await TradewireCommand(tmp_path).run("doctor", "--venue", "ib")
    rows = out.splitlines()
    assert rows[0].startswith("tradewire doctor: a local IB gateway at https://127.0.0.1:")
    names = [r.split()[1] for r in rows[1:-1]]
    assert names == ["gateway:", "session:", "account:", "market", "limits:"]
    assert rows[-1] in ("Everything looks right.", "Works, but see the warnings."), out + err
    assert status in (0, 1)  # WARN when run outside US market hours: the last is a close
