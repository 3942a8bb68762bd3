"""The user's gateway session: login state, brokerage session, competing sessions, timeouts."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GatewaySession", "PendingReply"]

SERVER_INFO = {"serverName": "LocalIBGateway", "serverVersion": "tradewire local gateway"}
_MAC = "02:00:00:00:00:01"


@dataclass(slots=True)
class PendingReply:
    """An order waiting on the answer to a question."""

    order: Any
    questions: list[tuple[str, str]]


@dataclass
class GatewaySession:
    """What ``/iserver/auth/status`` and ``/tickle`` report, and the per-session order state."""

    user_id: int
    authenticated: bool = True
    connected: bool = True
    competing: bool = False
    session_id: str = field(default_factory=lambda: secrets.token_hex(16))
    last_request: float = 0.0
    suppressed: set[str] = field(default_factory=set)
    snapshot_seen: set[int] = field(default_factory=set)
    replies: dict[str, PendingReply] = field(default_factory=dict)
    accounts_called: bool = False

    def status(self, *, with_fail: bool = True) -> dict[str, Any]:
        """The ``/iserver/auth/status`` body (the fixture's keys)."""
        body: dict[str, Any] = {
            "MAC": _MAC,
            "authenticated": self.authenticated,
            "competing": self.competing,
            "connected": self.connected,
            "fail": "",
            "hardware_info": f"{self.user_id:08x}|{_MAC}",
            "message": "",
            "serverInfo": dict(SERVER_INFO),
        }
        if not with_fail:
            del body["fail"]
        return body

    def tickle(self, sso_expires_ms: int) -> dict[str, Any]:
        """The ``/tickle`` body (the fixture's keys; ``session`` is the WebSocket cookie)."""
        return {
            "collission": self.competing,
            "hmds": {"error": "no bridge"},
            "iserver": {"authStatus": self.status(with_fail=False)},
            "session": self.session_id,
            "ssoExpires": sso_expires_ms,
            "userId": self.user_id,
        }

    def end_brokerage(self) -> None:
        """The brokerage session ends (timeout, nightly reset, logout): questions are dropped."""
        self.authenticated = False
        self.replies.clear()
        self.snapshot_seen.clear()
        self.suppressed.clear()

    def start_brokerage(self, *, compete: bool) -> bool:
        """``ssodh/init``: start the brokerage session; a competing one is taken over only with
        ``compete``. Returns whether the session is now authenticated."""
        if self.competing and not compete:
            return False
        self.competing = False
        self.authenticated = True
        self.connected = True
        return True
