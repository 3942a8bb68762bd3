"""Wait for a condition, not for a time: bounded polling for tests.

A test that sleeps "long enough" is slow on a fast machine and flaky on a loaded one. These
helpers poll a check until it holds and fail with a clear message after ``timeout`` seconds.

>>> import asyncio
>>> ready: list[str] = []
>>> async def main() -> list[str]:
...     asyncio.get_running_loop().call_later(0.05, ready.append, "subscribed")
...     return await eventually(lambda: ready, timeout=5)
>>> asyncio.run(main())
['subscribed']
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING, TypeVar, overload

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["eventually", "wait_until"]

T = TypeVar("T")


def _timed_out(check: object, message: str | None, timeout: float, last: object) -> TimeoutError:
    what = message or getattr(check, "__name__", repr(check))
    return TimeoutError(f"{what}: still not true after {timeout:g} s (last value: {last!r})")


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout: float = ...,
    interval: float = ...,
    message: str | None = ...,
) -> T: ...
@overload
async def eventually(
    check: Callable[[], T],
    *,
    timeout: float = ...,
    interval: float = ...,
    message: str | None = ...,
) -> T: ...
async def eventually(
    check: Callable[[], object],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str | None = None,
) -> object:
    """Poll ``check`` (a function or a coroutine function) until it returns a truthy value.

    Args:
        check: Called with no arguments; awaited if it returns an awaitable.
        timeout: Seconds to keep trying.
        interval: Seconds between two tries.
        message: What is awaited, for the error (default: the check's name).

    Returns:
        The first truthy value ``check`` returned.

    Raises:
        TimeoutError: ``check`` stayed falsy for ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= deadline:
            raise _timed_out(check, message, timeout, value)
        await asyncio.sleep(interval)


def wait_until(
    check: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    message: str | None = None,
) -> T:
    """Poll ``check`` until it returns a truthy value, blocking (for code without an event loop).

    >>> wait_until(lambda: 42, timeout=1)
    42

    Raises:
        TimeoutError: ``check`` stayed falsy for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _timed_out(check, message, timeout, value)
        time.sleep(interval)
