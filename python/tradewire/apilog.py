"""The API error log: one JSON line per error answered by (or on the way to) a venue.

Venue-neutral: the Binance and the Interactive Brokers clients both write through it.

Each line holds the time, the endpoint, the method, the request parameters without their
signature or API key, the error code and message, and the latency in ms. Nothing secret is ever
written: the signature and any credential-like parameter are dropped before the line is built.
Every error recorded here is also raised to the caller, so it goes to ``logging`` at DEBUG only:
an error is reported once (by whoever catches it), not printed and raised both.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.errors import APIError

__all__ = ["ErrorLog", "redact_params"]


# Parameters that are credentials (or derived from one) and never leave the process in a log.
_SECRET_PARAMS = frozenset(
    {"signature", "apikey", "secret", "secretkey", "privatekey", "authorization", "oauth_token"}
)


def redact_params(params: Mapping[str, object] | None) -> dict[str, str]:
    """The parameters as strings, without ``signature``, ``apiKey`` or other credentials."""
    if not params:
        return {}
    return {
        str(k): str(v)
        for k, v in params.items()
        if v is not None and str(k).lower() not in _SECRET_PARAMS
    }


class ErrorLog:
    """Appends every API error as one JSON line to ``path`` (or only logs it, without a path)."""

    def __init__(self, path: str | Path | None = None, *, venue: str = "binance") -> None:
        self._path = Path(path) if path is not None else None
        self._log = logging.getLogger(f"tradewire.{venue}")
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        """The file the errors are appended to, if any."""
        return self._path

    def __repr__(self) -> str:
        return f"ErrorLog(path={str(self._path)!r})"

    def record(
        self,
        error: APIError,
        *,
        method: str,
        endpoint: str,
        params: Mapping[str, object] | None = None,
        latency_ms: float | None = None,
    ) -> None:
        """Write one error: a JSON line in the file, and a debug record through ``logging``."""
        entry = {
            "time": time.time_ns() // 1_000_000,
            "endpoint": endpoint,
            "method": method,
            "params": redact_params(params),
            "status": error.status,
            "code": error.code,
            "message": error.msg,
            "error": type(error).__name__,
            "latency_ms": None if latency_ms is None else round(latency_ms, 3),
        }
        self._log.debug(
            "%s %s failed: %s [%s] (%s)",
            method,
            endpoint,
            type(error).__name__,
            error.code,
            error.msg,
        )
        if self._path is None:
            return
        line = json.dumps(entry, separators=(",", ":"), ensure_ascii=False) + "\n"
        # One short append per error (errors are rare); the lock keeps lines whole across threads.
        with self._lock, self._path.open("a", encoding="utf-8") as f:
            f.write(line)

    def ws_error(self, error: APIError, params: Mapping[str, object]) -> None:
        """The ``on_error`` callback of the WebSocket API client."""
        self.record(
            error,
            method="WS",
            endpoint=error.endpoint or "ws-api",
            params=params,
        )
