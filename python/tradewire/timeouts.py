"""Waiting with a time limit without ever losing a cancellation.

``asyncio.wait_for`` on Python 3.10 and 3.11 returns the awaited result instead of raising
``CancelledError`` when the awaited thing finishes in the same loop step as the cancellation
(CPython gh-86296, fixed in 3.12): the cancelled task then runs on as if nothing had happened,
and whoever cancelled it waits for it forever. :func:`within` is what tradewire waits with
instead. This module imports nothing of tradewire.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["within"]

T = TypeVar("T")


async def within(awaitable: Awaitable[T], timeout: float | None) -> T:
    """Await ``awaitable`` for at most ``timeout`` seconds (None: no limit).

    Raises:
        asyncio.TimeoutError: the time ran out (``awaitable`` is cancelled and has ended).
        asyncio.CancelledError: the waiting task was cancelled, always, even when
            ``awaitable`` finished at the same moment.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(timeout):  # novermin (3.11 and later only)
            return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise asyncio.TimeoutError  # TimeoutError itself from 3.11 on
    return task.result()
