"""The legacy listenKey user data stream, served with ``LocalExchange(legacy_listen_key=True)``.

Binance retired it on 2026-02-20 (user data now comes over the WebSocket API); some clients
still know no other way. A listenKey belongs to the API key that started it: it lives 60
minutes, each keepalive extends it by 60 minutes, starting one for a key that holds an active
listenKey returns that one (extended). ``/ws/<listenKey>`` (or ``/stream?streams=<listenKey>``)
then carries the account's executionReport, outboundAccountPosition and balanceUpdate events.
When the key expires, or the API key is removed, each stream gets ``listenKeyExpired`` and is
closed; closing the listenKey (DELETE, ``userDataStream.stop``) closes its streams without it.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewire.errors import ExchangeRejection
from tradewire.exchange.handlers import Call, Endpoint

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.exchange.keys import ApiKey
    from tradewire.exchange.userdata import Subscriber, UserDataHub

__all__ = ["LIFETIME_MS", "LISTEN_KEY_METHODS", "LISTEN_KEY_ROUTES", "ListenKeys"]

LIFETIME_MS = 60 * 60_000
"""How long a listenKey lives after its start or its last keepalive."""
_ALPHABET = string.ascii_letters + string.digits
_KEY_LENGTH = 60
_WEIGHT = 2


def _no_such_key() -> ExchangeRejection:
    return ExchangeRejection(-1125, "This listenKey does not exist.")


@dataclass(eq=False)
class _ListenKey:
    key: str
    api_key: str
    account: int
    expires_at: int
    timer: asyncio.TimerHandle | None = None
    sinks: list[Callable[[dict[str, object] | None], None]] = field(default_factory=list)


class ListenKeys:
    """The active listenKeys and the stream connections attached to them.

    Args:
        userdata: Where the accounts' events come from.
        now: The server clock in ms.
        lifetime_ms: How long a listenKey lives without a keepalive (Binance: 60 minutes).
    """

    def __init__(
        self, userdata: UserDataHub, now: Callable[[], int], lifetime_ms: int = LIFETIME_MS
    ) -> None:
        self._userdata = userdata
        self._now = now
        self.lifetime_ms = lifetime_ms
        self._keys: dict[str, _ListenKey] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, listen_key: object) -> bool:
        return listen_key in self._keys

    def expires_at(self, listen_key: str) -> int | None:
        """When ``listen_key`` expires (server ms), None if it is not active."""
        entry = self._keys.get(listen_key)
        return None if entry is None else entry.expires_at

    def start(self, key: ApiKey) -> str:
        """A listenKey for ``key``: its active one, extended, or a new one."""
        for active in self._keys.values():
            if active.api_key == key.api_key:
                self._extend(active)
                return active.key
        listen_key = "".join(secrets.choice(_ALPHABET) for _ in range(_KEY_LENGTH))
        entry = _ListenKey(listen_key, key.api_key, key.account, 0)
        self._keys[listen_key] = entry
        self._extend(entry)
        return listen_key

    def keep_alive(self, listen_key: str, key: ApiKey) -> None:
        """Extend ``key``'s listenKey by the lifetime; -1125 if it has no such listenKey."""
        self._extend(self._owned(listen_key, key))

    def close(self, listen_key: str, key: ApiKey) -> None:
        """Invalidate ``key``'s listenKey and close its streams (no event, as Binance does)."""
        self._drop(self._owned(listen_key, key), expired=False)

    def end_key(self, api_key: str) -> int:
        """End the listenKeys of a removed API key (their streams get listenKeyExpired)."""
        ended = [k for k in self._keys.values() if k.api_key == api_key]
        for entry in ended:
            self._drop(entry, expired=True)
        return len(ended)

    def stop(self) -> None:
        """Cancel every expiry timer (the server is stopping)."""
        for entry in self._keys.values():
            if entry.timer is not None:
                entry.timer.cancel()

    def attach(
        self, listen_key: str, sink: Callable[[dict[str, object] | None], None]
    ) -> Callable[[], None] | None:
        """Send the account's events to ``sink``; returns the detach function (None: unknown key).

        ``sink`` is a stream connection's side: called with each event, and with None when the
        listenKey ends and the connection must close.
        """
        entry = self._keys.get(listen_key)
        if entry is None:
            return None
        subscriber: Subscriber = sink
        entry.sinks.append(sink)
        self._userdata.subscribe(entry.account, subscriber)

        def detach() -> None:
            if sink in entry.sinks:
                entry.sinks.remove(sink)
                self._userdata.unsubscribe(entry.account, subscriber)

        return detach

    def _owned(self, listen_key: str, key: ApiKey) -> _ListenKey:
        entry = self._keys.get(listen_key)
        if entry is None or entry.api_key != key.api_key:
            raise _no_such_key()
        return entry

    def _extend(self, entry: _ListenKey) -> None:
        entry.expires_at = self._now() + self.lifetime_ms
        if entry.timer is not None:
            entry.timer.cancel()
        loop = asyncio.get_running_loop()
        entry.timer = loop.call_later(self.lifetime_ms / 1000, self._expire, entry)

    def _expire(self, entry: _ListenKey) -> None:
        if self._keys.get(entry.key) is entry:
            self._drop(entry, expired=True)

    def _drop(self, entry: _ListenKey, *, expired: bool) -> None:
        self._keys.pop(entry.key, None)
        if entry.timer is not None:
            entry.timer.cancel()
        # user-data-stream.md shows the event time of this one event as a string
        event: dict[str, object] = {
            "e": "listenKeyExpired",
            "E": str(self._now()),
            "listenKey": entry.key,
        }
        for sink in list(entry.sinks):
            self._userdata.unsubscribe(entry.account, sink)
            if expired:
                sink(event)
            sink(None)
        entry.sinks.clear()


def _registry(c: Call) -> ListenKeys:
    registry = c.core.listen_keys
    assert registry is not None  # the routes are served only with the option on
    return registry


def _start(c: Call) -> object:
    assert c.key is not None
    return {"listenKey": _registry(c).start(c.key)}


def _keep_alive(c: Call) -> object:
    assert c.key is not None
    _registry(c).keep_alive(c.params.require("listenKey"), c.key)
    return {}


def _close(c: Call) -> object:
    assert c.key is not None
    _registry(c).close(c.params.require("listenKey"), c.key)
    return {}


def _fixed(_params: object) -> int:
    return _WEIGHT


_START = Endpoint(_start, _fixed, "USER_STREAM")
_PING = Endpoint(_keep_alive, _fixed, "USER_STREAM")
_STOP = Endpoint(_close, _fixed, "USER_STREAM")

LISTEN_KEY_ROUTES: dict[tuple[str, str], Endpoint] = {
    ("POST", "/api/v3/userDataStream"): _START,
    ("PUT", "/api/v3/userDataStream"): _PING,
    ("DELETE", "/api/v3/userDataStream"): _STOP,
}
"""The REST routes of the legacy listenKey (USER_STREAM: the API key header, no signature)."""

LISTEN_KEY_METHODS: dict[str, Endpoint] = {
    "userDataStream.start": _START,
    "userDataStream.ping": _PING,
    "userDataStream.stop": _STOP,
}
"""The WebSocket API methods of the legacy listenKey (``apiKey`` parameter, no signature)."""
