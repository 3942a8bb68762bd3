"""Every webhook call as one JSON line: when, from where, which bot and action, what became of it.

The token is never written: a line is built from named fields only, never from the body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CallLog"]

log = logging.getLogger("tradewire.signals")


class CallLog:
    """Appends one JSON line per call to ``path`` (owner-only), and logs it.

    A line holds ``time`` (ISO 8601, UTC), ``remote``, ``bot``, ``action``, ``nonce``,
    ``status``, ``outcome`` and ``reason``; ``lines`` counts those written.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.lines = 0
        self._lock = threading.Lock()
        self._file = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            self._file = os.fdopen(fd, "a", encoding="utf-8")

    def __repr__(self) -> str:
        return f"CallLog({str(self.path) if self.path else None!r}, lines={self.lines})"

    def write(
        self,
        *,
        remote: str | None,
        bot: str | None,
        action: str | None,
        nonce: str | None,
        status: int,
        outcome: str,
        reason: str | None,
    ) -> dict[str, Any]:
        """Write one call's line; returns it as a dict."""
        line: dict[str, Any] = {
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
            "remote": remote,
            "bot": bot,
            "action": action,
            "nonce": nonce,
            "status": status,
            "outcome": outcome,
            "reason": reason,
        }
        text = json.dumps(line, ensure_ascii=True)
        log.info("%s", text)
        with self._lock:
            self.lines += 1
            if self._file is not None:
                self._file.write(text + "\n")
                self._file.flush()
        return line

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
