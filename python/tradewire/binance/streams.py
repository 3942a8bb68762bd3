"""Market streams over one combined-stream WebSocket, kept alive across drops and restarts.

``StreamClient.events(*names)`` opens ``<stream_url>/stream?streams=a/b`` and yields parsed
events. Behind it a reader task owns the socket: it answers the server's pings (the websockets
library does that on every frame it reads), probes the server with a ping after ``ping_timeout``
seconds of silence and reconnects if no pong comes, reconnects with exponential backoff and full
jitter after a drop, an error or a ``serverShutdown`` event, and reconnects on its own before
the exchange's 24-hour cut (``max_connection_age``). A stream that never connected gives up: after
``connect_attempts`` failed attempts or ``connect_timeout`` seconds the iterator raises
:class:`~tradewire.errors.StreamUnavailable` (a wrong URL or an exchange that is not there must
not loop "reconnecting" forever). Messages wait in a bounded queue; when the
consumer falls behind, the overflow policy drops the oldest message (counted in
``stats.dropped``) or raises :class:`StreamOverflow`.

After every reconnect the iterator yields a :class:`Reconnected` marker before the first message
of the new connection: anything built from earlier messages (a local order book) may have missed
some and must be rebuilt. Pass ``markers=False`` to leave the markers out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import websockets
from websockets.asyncio.client import connect
from websockets.protocol import State

from tradewire.binance.wire import ServerShutdown, parse_message
from tradewire.errors import ParseError, StreamOverflow, StreamUnavailable
from tradewire.timeouts import within

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator
    from types import TracebackType

    from websockets.asyncio.client import ClientConnection

    from tradewire._core import Event

__all__ = ["Reconnected", "StreamClient", "StreamOverflow", "StreamStats"]

log = logging.getLogger(__name__)

Overflow = Literal["drop_oldest", "raise"]
_PROBE_TIMEOUT_S = 10.0
_SHUTDOWN_SCAN = 160  # the event type sits near the start, bare or in a combined envelope


@dataclass(frozen=True, slots=True)
class Reconnected:
    """Yielded after the stream reconnected: messages may have been missed in between."""

    reason: str
    reconnects: int


@dataclass
class StreamStats:
    """Counters of a StreamClient, over all its connections."""

    connects: int = 0
    reconnects: int = 0
    messages: int = 0
    dropped: int = 0
    parse_errors: int = 0
    silence_probes: int = 0
    server_shutdowns: int = 0


class _Subscription:
    """One combined-stream connection (re-opened as needed) and its bounded message queue."""

    def __init__(self, owner: StreamClient, url: str) -> None:
        self.owner = owner
        self.url = url
        self.queue: deque[bytes | Reconnected] = deque()
        self.ready = asyncio.Event()
        self.error: BaseException | None = None
        self.closed = False
        self.ws: ClientConnection | None = None
        self.task = asyncio.create_task(self._run(), name=f"tradewire-stream {url}")

    def push(self, item: bytes | Reconnected) -> None:
        """Queue one item, applying the overflow policy when the queue is full."""
        owner = self.owner
        if len(self.queue) >= owner.queue_size:
            if owner.overflow == "raise":
                self.error = StreamOverflow(
                    f"stream queue full ({owner.queue_size} messages): the consumer is too slow"
                )
                self.closed = True
                self.ready.set()
                return
            self.queue.popleft()
            owner.stats.dropped += 1
        self.queue.append(item)
        self.ready.set()

    async def get(self) -> bytes | Reconnected | None:
        """The next queued item, None once closed; raises the reader's error once drained."""
        while not self.queue:
            if self.error is not None:
                raise self.error
            if self.closed:
                return None
            self.ready.clear()
            await self.ready.wait()
        return self.queue.popleft()

    async def close(self) -> None:
        """Stop the reader and close the socket."""
        self.closed = True
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.ready.set()

    def _backoff(self, failures: int) -> float:
        owner = self.owner
        ceiling = min(owner.max_reconnect_delay, owner.reconnect_delay * 2 ** max(failures - 1, 0))
        return random.uniform(ceiling / 2, ceiling)

    def _give_up(self, failures: int, started: float, reason: str) -> bool:
        """Whether a stream that never connected has used up its attempts or its time."""
        owner = self.owner
        elapsed = time.monotonic() - started
        if failures < owner.connect_attempts and elapsed < owner.connect_timeout:
            return False
        self.error = StreamUnavailable(
            f"cannot connect to the market streams at {owner.stream_url}: {failures} attempts "
            f"in {elapsed:.1f} s failed (last: {reason})",
            endpoint=self.url,
        )
        self.closed = True
        self.ready.set()
        return True

    async def _run(self) -> None:
        owner = self.owner
        failures = 0
        reason = ""
        connected = False
        started = time.monotonic()
        try:
            while not self.closed:
                if reason:
                    await asyncio.sleep(
                        0 if reason == "serverShutdown" else self._backoff(failures)
                    )
                try:
                    async with connect(
                        self.url,
                        ping_interval=None,
                        max_queue=owner.socket_queue,
                        open_timeout=owner.open_timeout,
                        close_timeout=1.0,
                    ) as ws:
                        self.ws = ws
                        connected = True
                        owner.stats.connects += 1
                        if reason:
                            owner.stats.reconnects += 1
                            self.push(Reconnected(reason, owner.stats.reconnects))
                        reason, got_any = await self._read(ws)
                        if got_any:
                            failures = 0
                except websockets.ConnectionClosed as exc:
                    reason = f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close'})"
                except (OSError, websockets.InvalidHandshake, asyncio.TimeoutError) as exc:
                    reason = f"connect failed: {type(exc).__name__}: {exc}".rstrip(": ")
                finally:
                    if self.ws is not None and self.ws.state is not State.CLOSED:
                        self.ws.transport.abort()  # cancelled mid-close: never leave it open
                    self.ws = None
                failures += 1
                if not connected and self._give_up(failures, started, reason):
                    log.warning("stream %s: giving up (%s)", self.url, reason)
                    return
                log.warning("stream %s: reconnecting (%s)", self.url, reason)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: surface it to the consumer instead of hanging
            log.exception("stream reader failed")
            self.error = exc
            self.ready.set()

    async def _read(self, ws: ClientConnection) -> tuple[str, bool]:
        """Read until the connection must be replaced; return why, and whether data came."""
        owner = self.owner
        watch = _Watchdog(ws, owner.ping_timeout, owner.max_connection_age, owner.stats)
        watchdog = asyncio.create_task(watch.run())
        got_any = False
        try:
            while not self.closed:
                try:
                    raw = await ws.recv(decode=False)
                except websockets.ConnectionClosed as exc:
                    if watch.reason:
                        return watch.reason, got_any
                    code = exc.rcvd.code if exc.rcvd else "no close frame"
                    return f"connection closed ({code})", got_any
                watch.last_message = time.monotonic()
                got_any = True
                owner.stats.messages += 1
                if b'"serverShutdown"' in raw[:_SHUTDOWN_SCAN]:
                    owner.stats.server_shutdowns += 1
                    await ws.close()
                    return "serverShutdown", got_any
                self.push(raw)
            return "closed", got_any
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog


class _Watchdog:
    """Ends a connection that went silent (and failed a ping probe) or reached its age limit."""

    def __init__(
        self, ws: ClientConnection, silence: float, max_age: float, stats: StreamStats
    ) -> None:
        self.ws = ws
        self.silence = silence
        self.max_age = max_age
        self.stats = stats
        self.opened = self.last_message = time.monotonic()
        self.reason = ""

    async def run(self) -> None:
        """Check the connection until it must go; then close it and say why in ``reason``."""
        while True:
            now = time.monotonic()
            age_left = self.max_age - (now - self.opened)
            if age_left <= 0:
                self.reason = "connection age limit"
                await self.ws.close()
                return
            quiet_left = self.silence - (now - self.last_message)
            if quiet_left > 0:
                await asyncio.sleep(min(quiet_left, age_left))
                continue
            self.stats.silence_probes += 1
            try:
                pong = await self.ws.ping()
                await within(pong, min(self.silence, _PROBE_TIMEOUT_S))
            except (asyncio.TimeoutError, websockets.ConnectionClosed):
                self.reason = "silence (no pong)"
                self.ws.transport.abort()
                return
            self.last_message = time.monotonic()


class StreamClient:
    """Binance market streams: parsed events, reconnects, a silence watchdog, a bounded queue.

    Args:
        stream_url: Base URL, e.g. ``wss://stream.binance.com:9443``.
        ping_timeout: Seconds of silence before the server is probed with a ping; no pong within
            that time (at most 10 s) means the connection is dead and is replaced.
        reconnect_delay: First backoff delay; doubles per failed attempt, with full jitter.
        max_reconnect_delay: Ceiling of the backoff delay.
        max_connection_age: Seconds after which a connection is replaced (Binance cuts at 24 h).
        queue_size: Messages kept for a slow consumer, per ``events()`` iterator.
        overflow: ``"drop_oldest"`` (counted in ``stats.dropped``) or ``"raise"``.
        open_timeout: Seconds one connection attempt may take.
        connect_attempts: Failed attempts after which a stream that never connected gives up
            (raises :class:`~tradewire.errors.StreamUnavailable`).
        connect_timeout: Seconds after which a stream that never connected gives up, whatever
            the attempts. Once connected, a stream reconnects for as long as it is read.
    """

    def __init__(
        self,
        stream_url: str,
        *,
        ping_timeout: float = 60.0,
        reconnect_delay: float = 0.1,
        max_reconnect_delay: float = 30.0,
        max_connection_age: float = 23.5 * 3600,
        queue_size: int = 10_000,
        overflow: Overflow = "drop_oldest",
        open_timeout: float = 10.0,
        socket_queue: int = 64,
        connect_attempts: int = 8,
        connect_timeout: float = 60.0,
    ) -> None:
        if overflow not in ("drop_oldest", "raise"):
            raise ValueError("overflow is 'drop_oldest' or 'raise'")
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.stream_url = stream_url.rstrip("/")
        self.ping_timeout = ping_timeout
        self.reconnect_delay = reconnect_delay
        self.max_reconnect_delay = max_reconnect_delay
        self.max_connection_age = max_connection_age
        self.queue_size = queue_size
        self.overflow: Overflow = overflow
        self.open_timeout = open_timeout
        if connect_attempts < 1:
            raise ValueError("connect_attempts must be at least 1")
        self.connect_attempts = connect_attempts
        self.connect_timeout = connect_timeout
        self.socket_queue = socket_queue
        self.stats = StreamStats()
        self._subs: set[_Subscription] = set()

    def __repr__(self) -> str:
        return f"StreamClient({self.stream_url!r}, open={len(self._subs)})"

    def url_for(self, streams: tuple[str, ...]) -> str:
        """The combined-stream URL for ``streams``."""
        return f"{self.stream_url}/stream?streams={'/'.join(streams)}"

    async def messages(self, *streams: str) -> AsyncGenerator[bytes | Reconnected, None]:
        """Yield the raw frames of ``streams`` (combined envelopes) and ``Reconnected`` markers."""
        if not streams:
            raise ValueError("give at least one stream name")
        sub = _Subscription(self, self.url_for(streams))
        self._subs.add(sub)
        try:
            while (item := await sub.get()) is not None:
                yield item
        finally:
            self._subs.discard(sub)
            await sub.close()

    async def events(
        self, *streams: str, markers: bool = True
    ) -> AsyncGenerator[Event | Reconnected, None]:
        """Yield parsed events of ``streams``, and a ``Reconnected`` marker after each reconnect.

        A malformed message is counted in ``stats.parse_errors`` and logged, and skipped.
        """
        source = self.messages(*streams)
        try:
            async for item in source:
                if isinstance(item, Reconnected):
                    if markers:
                        yield item
                    continue
                try:
                    event = parse_message(item)
                except ParseError as exc:
                    self.stats.parse_errors += 1
                    log.warning("skipping a malformed stream message: %s (%.120r)", exc, item)
                    continue
                if isinstance(event, ServerShutdown):
                    continue
                yield event
        finally:
            await source.aclose()

    async def aclose(self) -> None:
        """Close every open connection; iterators then end."""
        subs = list(self._subs)
        self._subs.clear()
        for sub in subs:
            await sub.close()

    async def __aenter__(self) -> StreamClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
