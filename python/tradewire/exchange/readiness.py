"""Waiting on the exchange's state instead of sleeping: a signal raised on every change."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["ChangeSignal"]


class ChangeSignal:
    """Wakes the coroutines waiting on a condition whenever the exchange reports a change.

    The exchange calls :meth:`changed` after every engine event, stream connection accepted or
    closed, stream message sent, WebSocket-API session opened or closed, user data subscription
    added or removed, market step and fault change. :meth:`wait_for` re-checks its predicate each
    time, so a wait ends in the same loop iteration as the change it waits for.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def changed(self) -> None:
        """Report a change: every waiter re-checks its predicate."""
        event = self._event
        if event is not None:
            self._event = None
            event.set()

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,
        poll_s: float | None = 0.05,
        what: str | None = None,
    ) -> None:
        """Return once ``predicate()`` is true; TimeoutError after ``timeout`` seconds.

        Args:
            predicate: Checked now and after every change (it must not block).
            timeout: Seconds to wait at most.
            poll_s: Also re-check at least this often (for a predicate that looks at state the
                exchange does not report, such as a client's); None to wait on changes only.
            what: Named in the TimeoutError's message (default: the predicate's repr).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(
                    f"waited {timeout} s for {what or predicate!r} and it did not happen"
                )
            if self._event is None:
                self._event = asyncio.Event()
            event = self._event
            wait = left if poll_s is None else min(left, poll_s)
            try:
                await within(event.wait(), wait)
            except asyncio.TimeoutError:  # not the builtin before Python 3.11
                continue
