"""Session upkeep against the local gateway: login, brokerage session, timeouts, faults."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.errors import (
    IBCompetingSession,
    IBLoginRequired,
    IBPenaltyBox,
    IBUnavailable,
    NetworkError,
)
from tradewire.ib import IBClient, IBLimiter, WindowRule
from tradewire.ib.transport import make_ssl
from tradewire.ibgateway import LocalIBGateway
from tradewire.ibgateway.market import NEW_YORK

ALL_QUESTIONS = ("o354", "o163", "o403", "o10151", "o10331")

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


@pytest.mark.asyncio
async def test_start_opens_the_session_and_picks_the_account(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    gw.session.authenticated = False  # logged in, brokerage session not open yet
    async with connect(confirm_questions=ALL_QUESTIONS) as ib:
        assert gw.session.authenticated
        assert ib.session.state == "ready"
        assert ib.account_id == gw.account_id
        assert gw.session.suppressed == set(ALL_QUESTIONS)
        assert await ib.accounts() == [gw.account_id]


@pytest.mark.asyncio
async def test_a_gateway_without_login_says_a_browser_login_is_needed(
    gw: LocalIBGateway, connect: Callable[..., Any], tmp_path: Path
) -> None:
    gw.set_faults(logged_out=True)
    with pytest.raises(IBLoginRequired, match="no logged-in session") as info:
        async with connect():
            pass
    assert "browser" in info.value.hint
    lines = (tmp_path / "ib-errors.jsonl").read_text().splitlines()
    entry = json.loads(lines[-1])
    assert (entry["error"], entry["status"]) == ("IBLoginRequired", 401)


@pytest.mark.asyncio
async def test_a_competing_session_is_refused_unless_told_to_compete(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    gw.set_faults(competing=True)
    with pytest.raises(IBCompetingSession, match="another login") as info:
        async with connect():
            pass
    assert "compete=True" in info.value.hint
    assert gw.session.competing
    async with connect(compete=True) as ib:
        assert not gw.session.competing and gw.session.authenticated
        assert ib.session.state == "ready"


@pytest.mark.asyncio
async def test_competing_mid_session_surfaces_as_a_typed_error(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect() as ib:
        gw.set_faults(competing=True)
        with pytest.raises(IBCompetingSession, match="different IP address"):
            await ib.accounts()


@pytest.mark.asyncio
async def test_an_expired_brokerage_session_is_reopened_once(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect(confirm_questions=("o354",)) as ib:
        assert ib.session.opened == 1
        gw.expire_session()  # as ~6 minutes without a request would
        assert not gw.session.suppressed
        assert await ib.accounts() == [gw.account_id]
        assert ib.session.opened == 2
        assert gw.session.suppressed == {"o354"}  # suppression re-applied for the new session


@pytest.mark.asyncio
async def test_tickling_keeps_the_session_past_the_idle_timeout(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    gw.set_faults(session_timeout_s=0.4)
    async with connect(tickle_s=0.1) as ib:
        await asyncio.sleep(1.0)  # 2.5 idle timeouts: only the tickles keep it
        assert gw.session.authenticated
        assert ib.session.opened == 1


@pytest.mark.asyncio
async def test_the_nightly_outage_is_typed_and_the_session_reopens_after(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    async with connect() as ib:
        gw.set_faults(outage=True)
        with pytest.raises(IBUnavailable, match="Service Unavailable") as info:
            await ib.snapshot([265598])
        assert "midnight" in info.value.hint
        # the reset ends the brokerage session; after the outage the client re-opens it
        gw.expire_session()
        gw.set_faults(outage=False)
        await ib.session.upkeep_once()
        assert ib.session.state == "ready" and gw.session.authenticated
        assert await ib.accounts() == [gw.account_id]


@pytest.mark.asyncio
async def test_a_429_locks_the_client_without_a_retry_storm(
    gw: LocalIBGateway, tmp_path: Path
) -> None:
    # a limiter set far above the gateway's limit, to draw the 429 the default never draws
    loose = IBLimiter(global_rule=WindowRule(1000, 1.0))
    async with IBClient(
        gw.url, cafile=gw.cert_path, limiter=loose, error_log=tmp_path / "e.jsonl"
    ) as ib:
        gw.set_faults(rate_limit_per_s=3, penalty_box_s=60)
        for _ in range(3):
            await ib.accounts()
        with pytest.raises(IBPenaltyBox, match="penalty box") as info:
            await ib.accounts()  # the fourth in a second: over the gateway's 3
        assert info.value.retry_after == 900
        sent = loose.sent
        with pytest.raises(IBPenaltyBox, match="refused for"):
            await ib.accounts()
        assert loose.sent == sent  # nothing left this host
        assert loose.locked_for > 800


@pytest.mark.asyncio
async def test_the_default_limiter_never_draws_a_429(
    gw: LocalIBGateway, connect: Callable[..., Any]
) -> None:
    gw.set_faults(rate_limit_per_s=10, penalty_box_s=60)
    async with connect() as ib:
        await asyncio.gather(*(ib.accounts() for _ in range(15)))
        assert ib.transport.limiter.locked_for == 0


@pytest.mark.asyncio
async def test_tls_is_verified_unless_turned_off_explicitly(gw: LocalIBGateway) -> None:
    with pytest.raises(NetworkError, match="certificate is not trusted") as info:
        async with IBClient(gw.url, timeout=2.0):
            pass
    assert "cafile=" in info.value.hint
    async with IBClient(gw.url, verify=False) as ib:
        assert ib.account_id == gw.account_id
    assert make_ssl(verify=False) is False
    async with IBClient(gw.url, ssl=gw.ssl_context()) as ib:
        assert ib.account_id == gw.account_id


@pytest.mark.asyncio
async def test_the_nightly_reset_ends_the_session_and_the_client_reopens_it(
    clock_at: Callable[..., Callable[[], float]], tmp_path: Path
) -> None:
    midnight = datetime.datetime(2026, 12, 1, tzinfo=NEW_YORK).timestamp()
    async with LocalIBGateway(symbols=("AAPL",), seed=2, clock=clock_at(midnight - 0.5)) as gw:
        gw.set_faults(outage_minutes=0.01)  # IB's outage lasts minutes; this one 0.6 s
        async with IBClient(gw.url, cafile=gw.cert_path, error_log=tmp_path / "e.jsonl") as ib:
            await gw.wait_for(lambda: not gw.session.authenticated)  # midnight in New York
            with pytest.raises(IBUnavailable):
                await ib.accounts()
            await gw.wait_for(lambda: gw.now_ms() / 1000 > midnight + 0.7)
            await ib.session.upkeep_once()  # what the tickle loop does each minute
            assert ib.session.state == "ready" and gw.session.authenticated
            assert await ib.accounts() == [gw.account_id]
