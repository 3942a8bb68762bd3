"""The injected clocks: wall time, and market time driven by the events a run observes."""

from __future__ import annotations

import asyncio
import time

import pytest

from tradewire.clock import Clock, MarketClock, WallClock


def test_both_clocks_are_clocks() -> None:
    assert isinstance(WallClock(), Clock)
    assert isinstance(MarketClock(), Clock)


def test_wall_clock_reads_the_system_time_and_ignores_market_time() -> None:
    clock = WallClock()
    before = time.time_ns() // 1_000_000
    now = clock.now_ms()
    assert before <= now <= time.time_ns() // 1_000_000
    assert clock.observe(0) is False
    assert clock.now_ms() >= now


def test_market_time_only_moves_forward() -> None:
    clock = MarketClock(start_ms=5_000)
    assert clock.now_ms() == 5_000
    clock.observe(7_000)
    clock.observe(6_000)  # a late event does not move time back
    assert clock.now_ms() == 7_000


@pytest.mark.asyncio
async def test_market_timers_fire_in_market_time_and_in_order() -> None:
    clock = MarketClock(start_ms=0)
    fired: list[tuple[str, int]] = []

    async def timer(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        fired.append((name, clock.now_ms()))

    tasks = [
        asyncio.create_task(timer("late", 3.0)),
        asyncio.create_task(timer("early", 1.0)),
        asyncio.create_task(timer("same-as-early", 1.0)),
    ]
    await asyncio.sleep(0)  # every timer is waiting now
    assert clock.observe(999) is False
    await asyncio.sleep(0)
    assert fired == []
    assert clock.observe(1_000) is True
    await asyncio.sleep(0)
    assert fired == [("early", 1_000), ("same-as-early", 1_000)]
    assert clock.observe(5_000) is True
    await asyncio.gather(*tasks)
    assert fired[-1] == ("late", 5_000)


@pytest.mark.asyncio
async def test_a_zero_market_sleep_only_yields() -> None:
    clock = MarketClock(start_ms=10)
    await asyncio.wait_for(clock.sleep(0), timeout=1)
    assert clock.now_ms() == 10


@pytest.mark.asyncio
async def test_a_cancelled_market_sleep_is_skipped_when_due() -> None:
    clock = MarketClock(start_ms=0)
    task = asyncio.create_task(clock.sleep(1))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.observe(2_000) is False  # nothing left to wake


@pytest.mark.asyncio
async def test_sleeps_begun_before_the_first_event_count_from_it() -> None:
    clock = MarketClock()
    task = asyncio.create_task(clock.sleep(2))
    await asyncio.sleep(0)
    assert clock.observe(1_700_000_000_000) is False  # the first event anchors the clock
    assert clock.now_ms() == 1_700_000_000_000
    assert clock.observe(1_700_000_001_999) is False
    assert clock.observe(1_700_000_002_000) is True
    await asyncio.wait_for(task, timeout=1)
