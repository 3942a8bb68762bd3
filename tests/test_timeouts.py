"""tradewire.timeouts.within: a time limit that never loses a cancellation."""

from __future__ import annotations

import asyncio
import types

import pytest

from tradewire import timeouts
from tradewire.timeouts import within


@pytest.fixture(autouse=True, params=["this Python", "the 3.10 path"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs on this interpreter's path and on the one Python 3.10 takes."""
    if request.param == "the 3.10 path":
        monkeypatch.setattr(timeouts, "sys", types.SimpleNamespace(version_info=(3, 10, 0)))


async def _cancelled_as_it_finishes(wait: object) -> str:
    """Cancel a task waiting on an event in the same loop step as the event is set; what the
    task saw."""
    event = asyncio.Event()
    outcome: list[str] = []

    async def waiter() -> None:
        try:
            await wait(event.wait(), 10)  # type: ignore[operator]
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("returned")
        await asyncio.sleep(3600)  # carries on as if never cancelled

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    event.set()
    task.cancel()
    for _ in range(5):
        await asyncio.sleep(0)
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return outcome[0]


@pytest.mark.asyncio
async def test_a_cancellation_at_the_moment_the_wait_ends_is_kept() -> None:
    assert await _cancelled_as_it_finishes(within) == "cancelled"


@pytest.mark.asyncio
async def test_the_limit_ends_the_wait_with_a_timeout_and_cancels_what_it_awaited() -> None:
    started = asyncio.Event()
    ended: list[str] = []

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise

    with pytest.raises(asyncio.TimeoutError):
        await within(slow(), 0.05)
    assert started.is_set() and ended == ["cancelled"]


@pytest.mark.asyncio
async def test_a_result_in_time_is_returned() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    assert await within(answer(), 1) == 42
    assert await within(answer(), None) == 42
