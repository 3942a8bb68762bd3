"""The server clock: offset by RTT midpoint, best sample, and -1021 resync with one retry."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest

from tradewire.binance.clock import ServerClock, local_ms
from tradewire.testing import eventually

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tradewire.binance.client import BinanceClient
    from tradewire.exchange import LocalExchange


@pytest.mark.asyncio
async def test_offset_comes_from_the_lowest_rtt_sample() -> None:
    # Three samples: slow, fast, slow. The server is exactly 5000 ms ahead; the slow samples
    # answer late with a stale reading, so their midpoints are wrong.
    delays = iter([0.05, 0.0, 0.05])

    async def fetch() -> int:
        delay = next(delays)
        reading = int(local_ms()) + 5000
        await asyncio.sleep(delay)  # the behaviour under test: a slow answer, a stale reading
        return reading

    clock = ServerClock(fetch, samples=3, refresh_interval_s=0)
    offset = await clock.sync()
    assert abs(offset - 5000) < 5
    assert clock.rtt_ms is not None and clock.rtt_ms < 20
    assert abs(clock.now_ms() - (local_ms() + 5000)) < 5


@pytest.mark.asyncio
async def test_concurrent_resyncs_share_one_measurement() -> None:
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)  # the behaviour under test: a measurement others overlap
        return int(local_ms())

    clock = ServerClock(fetch, samples=2, refresh_interval_s=0)
    seen = clock.sync_count
    await asyncio.gather(*(clock.resync(seen_sync_count=seen) for _ in range(5)))
    assert calls == 2 and clock.sync_count == 1


@pytest.mark.asyncio
async def test_periodic_refresh() -> None:
    calls = 0

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        return int(local_ms())

    clock = ServerClock(fetch, samples=1, refresh_interval_s=0.02)
    clock.start()
    await eventually(lambda: clock.sync_count >= 3, message="three refreshes")
    await clock.aclose()
    assert clock.sync_count >= 3 and calls == clock.sync_count


@pytest.mark.asyncio
@pytest.mark.parametrize("skew_ms", [10_000, -10_000])
async def test_skewed_exchange_clock_fails_no_request(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient], skew_ms: int
) -> None:
    ex.set_faults(clock_skew_ms=skew_ms)
    async with make_client(key) as client:
        assert abs(client.clock.offset_ms - skew_ms) < 100
        for _ in range(3):
            await client.account()
            order = await client.place_order(
                "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
            )
            await client.cancel_order("BTCUSDT", order_id=order.order_id)
        assert client.clock.sync_count == 1  # nothing needed a resync


@pytest.mark.asyncio
async def test_minus_1021_resyncs_once_and_retries(
    ex: LocalExchange, key: Any, make_client: Callable[..., BinanceClient], tmp_path: Path
) -> None:
    log = tmp_path / "errors.jsonl"
    async with make_client(key, error_log=log) as client:
        assert client.clock.sync_count == 1
        ex.set_faults(clock_skew_ms=-10_000)  # the exchange's clock jumps back mid-session
        order = await client.place_order(
            "BTCUSDT", "BUY", "LIMIT", quantity="0.001", price="60000", time_in_force="GTC"
        )
        assert order.status == "NEW"
        assert client.clock.sync_count == 2
        assert abs(client.clock.offset_ms + 10_000) < 100
        assert ex.metrics()["orders_placed"] == 1
    (entry,) = [json.loads(line) for line in log.read_text().splitlines()]
    assert entry["code"] == -1021 and entry["error"] == "InvalidTimestamp"
