"""Waiting on the exchange instead of sleeping: steps, connections, user data, any predicate."""

from __future__ import annotations

import asyncio
import json
import secrets
from decimal import Decimal

import pytest
import websockets

from tradewire import Signer
from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_wait_for_wakes_on_the_change_it_waits_for(ex: LocalExchange) -> None:
    api_key = ex.add_key(secrets.token_hex(16))
    checked = asyncio.Event()
    checks = 0

    def has_bnb() -> bool:
        nonlocal checks
        checks += 1
        checked.set()
        account = ex.core.keys.get(api_key)
        assert account is not None
        bnb = ex.core.engine.account_balances(account.account).get("BNB")
        return bnb is not None and bnb.free == Decimal(2)

    waiter = asyncio.create_task(ex.wait_for(has_bnb, poll_s=None))  # changes only, no polling
    await asyncio.wait_for(checked.wait(), 5)
    assert not waiter.done()
    ex.deposit(api_key, "BNB", "2")
    await asyncio.wait_for(waiter, 5)
    assert checks >= 2


@pytest.mark.asyncio
async def test_wait_for_times_out_with_what_it_waited_for(ex: LocalExchange) -> None:
    with pytest.raises(TimeoutError, match="did not happen"):
        await ex.wait_for(lambda: False, timeout=0.05)


@pytest.mark.asyncio
async def test_wait_for_steps_follows_the_market() -> None:
    async with LocalExchange(symbols=("BTCUSDT",), market_interval_ms=5) as ex:
        before = ex.market_steps
        assert await ex.wait_for_steps(3) >= before + 3
        ex.pause()
        paused_at = ex.market_steps
        with pytest.raises(TimeoutError):
            await ex.wait_for_steps(1, timeout=0.1)
        assert ex.market_steps == paused_at
        ex.advance(2)
        assert ex.market_steps == paused_at + 2


@pytest.mark.asyncio
async def test_wait_for_steps_needs_a_market(ex: LocalExchange) -> None:
    with pytest.raises(ValueError, match="no market"):
        await ex.wait_for_steps(1)


@pytest.mark.asyncio
async def test_wait_for_stream_connections_sees_accept_and_close(ex: LocalExchange) -> None:
    assert ex.stream_connections == 0
    async with websockets.connect(f"{ex.stream_url}/ws/btcusdt@trade"):
        await ex.wait_for_stream_connections(1)
        assert ex.stream_connections == 1
    await ex.wait_for_stream_connections(0)


@pytest.mark.asyncio
async def test_wait_for_user_data_then_end_the_streams(ex: LocalExchange) -> None:
    secret = secrets.token_hex(16)
    api_key = ex.add_key(secret)
    params = {"apiKey": api_key, "timestamp": ex.server_time()}
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    request = {
        "id": 1,
        "method": "userDataStream.subscribe.signature",
        "params": {**params, "signature": Signer.from_secret(secret).sign(payload)},
    }
    async with websockets.connect(ex.ws_api_url) as ws:
        await ws.send(json.dumps(request))
        await ex.wait_for_user_data(api_key)
        assert ex.user_data_subscriptions(api_key) == ex.user_data_subscriptions() == 1
        ex.deposit(api_key, "BNB", "1")
        assert ex.end_user_data_streams() == 1
        await ex.wait_for_user_data(api_key, subscriptions=0)
        messages = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(4)]
    assert (messages[0]["id"], messages[0]["result"]) == (1, {"subscriptionId": 0})
    kinds = [m["event"]["e"] for m in messages[1:]]
    assert kinds == ["balanceUpdate", "outboundAccountPosition", "eventStreamTerminated"]


@pytest.mark.asyncio
async def test_wait_for_faults_until_connections_are_accepted_again(ex: LocalExchange) -> None:
    ex.set_faults(refuse_connections=True)
    with pytest.raises(ConnectionRefusedError):
        await websockets.connect(f"{ex.stream_url}/ws/btcusdt@trade", open_timeout=2)
    ex.set_faults()
    await ex.wait_for_faults()
    async with websockets.connect(f"{ex.stream_url}/ws/btcusdt@trade", open_timeout=2):
        await ex.wait_for_stream_connections(1)
