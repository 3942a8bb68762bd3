"""The IB session upkeep: login state, the brokerage session, ``/tickle`` every minute.

The Client Portal gateway holds two sessions: the login (made by a person in a browser, or by
OAuth) and the *brokerage* session every ``/iserver`` route needs, opened with
``POST /iserver/auth/ssodh/init``. It ends after about 6 minutes without requests, at the
nightly reset (about midnight New York, with a short outage), and when the same user logs in
elsewhere (a *competing* session). :class:`IBSession` checks the state, opens the brokerage
session when it can, tickles every minute, and turns the states it cannot fix into typed
errors: :class:`~tradewire.errors.IBLoginRequired` (a person must log in) and
:class:`~tradewire.errors.IBCompetingSession`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tradewire.errors import APIError, IBCompetingSession, IBLoginRequired

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tradewire.ib.transport import IBTransport

__all__ = ["IBAuthStatus", "IBSession", "SessionState"]

log = logging.getLogger("tradewire.ib")

SessionState = Literal["ready", "login_required", "competing", "unavailable", "closed"]


@dataclass(frozen=True)
class IBAuthStatus:
    """``/iserver/auth/status``: logged in (``connected``), brokerage session open
    (``authenticated``), another login holds it (``competing``), IB's message."""

    authenticated: bool
    connected: bool
    competing: bool
    message: str

    @classmethod
    def parse(cls, body: Any) -> IBAuthStatus:
        """From the status (or ``tickle``'s ``iserver.authStatus``) body."""
        if not isinstance(body, dict):
            body = {}
        return cls(
            authenticated=body.get("authenticated") is True,
            connected=body.get("connected") is True,
            competing=body.get("competing") is True,
            message=str(body.get("message") or ""),
        )


class IBSession:
    """Keeps the brokerage session open: check, ``ssodh/init``, tickle, re-open after a reset.

    Args:
        transport: The HTTP layer.
        compete: Take the brokerage session over from a competing login (that login is then
            disconnected); otherwise a competing session is an error.
        tickle_s: Seconds between ``/tickle`` calls (IB: about once a minute; the session ends
            after about 6 minutes without requests).
        on_open: Awaited each time the brokerage session (re)opens (question suppression).
        before_upkeep: Awaited at the start of each upkeep round (OAuth token renewal).
    """

    def __init__(
        self,
        transport: IBTransport,
        *,
        compete: bool = False,
        tickle_s: float = 60.0,
        on_open: Callable[[], Awaitable[None]] | None = None,
        before_upkeep: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._t = transport
        self._compete = compete
        self._tickle_s = tickle_s
        self._on_open = on_open
        self._before_upkeep = before_upkeep
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.state: SessionState = "closed"
        self.session_id: str | None = None
        self.opened = 0

    def __repr__(self) -> str:
        return f"IBSession(state={self.state!r}, opened={self.opened})"

    async def status(self) -> IBAuthStatus:
        """The gateway's ``/iserver/auth/status``."""
        return IBAuthStatus.parse(await self._t.request("POST", "/iserver/auth/status"))

    async def tickle(self) -> IBAuthStatus:
        """``POST /tickle``: keeps the session alive; its ``session`` is the WebSocket cookie."""
        body = await self._t.request("POST", "/tickle")
        if isinstance(body, dict):
            if isinstance(body.get("session"), str):
                self.session_id = body["session"]
            iserver = body.get("iserver")
            if isinstance(iserver, dict):
                return IBAuthStatus.parse(iserver.get("authStatus"))
        return IBAuthStatus.parse(None)

    def _refuse(self, status: IBAuthStatus) -> APIError:
        if status.competing:
            self.state = "competing"
            return IBCompetingSession(
                "another login of this IB user holds the brokerage session"
                + (f" ({status.message})" if status.message else ""),
                endpoint="/iserver/auth/ssodh/init",
            )
        self.state = "login_required"
        return IBLoginRequired(
            "the IB gateway is not logged in" + (f" ({status.message})" if status.message else ""),
            endpoint="/iserver/auth/status",
        )

    async def ensure(self) -> None:
        """Make sure the brokerage session is open; open it with ``ssodh/init`` if not.

        Raises:
            IBLoginRequired: nobody is logged in to the gateway (a browser login is needed).
            IBCompetingSession: another login holds the session and ``compete`` is off.
            IBUnavailable: IB's brokerage service is down (the nightly reset).
        """
        async with self._lock:
            try:
                status = await self.status()
            except IBLoginRequired:
                self.state = "login_required"
                raise
            if status.authenticated and not status.competing:
                if self.state != "ready":
                    await self._opened()
                return
            if status.competing and not self._compete:
                raise self._refuse(status)
            body = await self._t.request(
                "POST",
                "/iserver/auth/ssodh/init",
                body={"publish": True, "compete": self._compete},
            )
            opened = IBAuthStatus.parse(body)
            if not opened.authenticated:
                opened = await self.status()
            if not opened.authenticated or (opened.competing and not self._compete):
                raise self._refuse(opened)
            await self._opened()

    async def _opened(self) -> None:
        self.state = "ready"
        self.opened += 1
        if self._on_open is not None:
            await self._on_open()

    def lost(self) -> None:
        """The brokerage session ended (an ``sts`` push or ``Init session first``)."""
        if self.state == "ready":
            self.state = "closed"

    async def upkeep_once(self) -> None:
        """One upkeep round: tickle, and re-open the brokerage session if it ended."""
        if self._before_upkeep is not None:
            await self._before_upkeep()
        status = await self.tickle()
        if not status.authenticated or status.competing:
            self.lost()
            await self.ensure()

    def start(self) -> None:
        """Start tickling every ``tickle_s`` seconds in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="ib-tickle")

    async def stop(self) -> None:
        """Stop the background upkeep."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._tickle_s)
            try:
                await self.upkeep_once()
            except APIError as exc:
                # The state says what is wrong; requests raise the typed error themselves.
                if self.state == "ready":
                    self.state = "unavailable"
                log.warning("IB session upkeep: %s", exc)
