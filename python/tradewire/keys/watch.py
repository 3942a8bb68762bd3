"""Follow a key's rotations while a bot runs, so it switches keys without stopping."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from tradewire.errors import KeyNotFound, KeyStoreError

if TYPE_CHECKING:
    from types import TracebackType

    from tradewire.keys.secret import ApiCredentials
    from tradewire.keys.store import KeyStore

__all__ = ["KeyWatcher", "OnChange"]

OnChange = Callable[["ApiCredentials"], "Awaitable[None] | None"]
"""Called with the new credentials after a rotation (may be a coroutine function)."""

_log = logging.getLogger("tradewire.keys")


class KeyWatcher:
    """Polls the key store for a new version of one key and swaps in the new credentials.

    ``async with store.watch("main", interval=1.0, on_change=cb) as w:`` loads the key, then checks
    its version every ``interval`` seconds (file reads run in a thread). ``w.credentials`` is
    always the newest key; ``cb`` is called after each switch. A removed key is logged and the
    last credentials are kept (``w.removed`` becomes True) so the bot can stop cleanly.
    """

    def __init__(
        self,
        store: KeyStore,
        name: str,
        *,
        interval: float = 1.0,
        on_change: OnChange | None = None,
    ) -> None:
        self.store = store
        self.name = name
        self.interval = interval
        self.removed = False
        self._on_change = on_change
        self._credentials: ApiCredentials | None = None
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"KeyWatcher({self.name!r}, version={self.version})"

    @property
    def credentials(self) -> ApiCredentials:
        """The newest credentials of the key."""
        if self._credentials is None:
            raise RuntimeError("the watcher has not loaded the key yet: use `async with`")
        return self._credentials

    @property
    def version(self) -> int | None:
        """The version of the credentials in use (None before the first load)."""
        return None if self._credentials is None else self._credentials.version

    async def check(self) -> bool:
        """Look for a new version now; True if the credentials were switched."""
        try:
            version = await asyncio.to_thread(self.store.version, self.name)
        except KeyNotFound:
            if not self.removed:
                _log.warning("key %s was removed from the key store", self.name)
            self.removed = True
            return False
        self.removed = False
        if self._credentials is not None and version == self._credentials.version:
            return False
        credentials = await asyncio.to_thread(self.store.get, self.name)
        first = self._credentials is None
        self._credentials = credentials
        if not first:
            _log.info("key %s: switched to version %d", self.name, credentials.version)
            if self._on_change is not None:
                result = self._on_change(credentials)
                if inspect.isawaitable(result):
                    await result
        return not first

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except KeyStoreError as e:  # e.g. the file's mode was loosened: keep the old key
                _log.error("key %s: cannot read the key store: %s", self.name, e)

    async def __aenter__(self) -> KeyWatcher:
        self._credentials = await asyncio.to_thread(self.store.get, self.name)
        self._task = asyncio.create_task(self._poll(), name=f"key-watch-{self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
