"""eventually / wait_until: a condition polled within a bound, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time

import pytest

from tradewire.testing import eventually, wait_until


@pytest.mark.asyncio
async def test_eventually_returns_the_first_truthy_value_of_a_sync_or_async_check() -> None:
    seen: list[int] = []
    asyncio.get_running_loop().call_later(0.05, seen.append, 7)
    assert await eventually(lambda: seen, timeout=5) == [7]

    calls = 0

    async def third_time() -> str:
        nonlocal calls
        calls += 1
        return "ready" if calls == 3 else ""

    assert await eventually(third_time, interval=0.001) == "ready"
    assert calls == 3


@pytest.mark.asyncio
async def test_eventually_times_out_with_what_it_waited_for() -> None:
    def subscribed() -> int:
        return 0

    start = time.monotonic()
    with pytest.raises(
        TimeoutError, match=r"subscribed: still not true after 0.1 s \(last value: 0\)"
    ):
        await eventually(subscribed, timeout=0.1)
    assert time.monotonic() - start < 2
    with pytest.raises(TimeoutError, match="the grid is up"):
        await eventually(lambda: None, timeout=0.05, message="the grid is up")


@pytest.mark.asyncio
async def test_an_error_in_the_check_is_not_swallowed() -> None:
    def broken() -> bool:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        await eventually(broken, timeout=5)


def test_wait_until_blocks_until_the_check_holds() -> None:
    deadline = time.monotonic() + 0.05
    assert wait_until(lambda: time.monotonic() >= deadline, timeout=5) is True
    with pytest.raises(TimeoutError, match="never"):
        wait_until(lambda: False, timeout=0.05, message="never")
