"""The exchange's shared state: engine, keys, limits, faults, clock and counters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradewire.exchange.engine import ExchangeEngine
from tradewire.exchange.faults import Faults
from tradewire.exchange.keys import KeyRegistry
from tradewire.exchange.ratelimit import Limits, RequestLimiter

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.exchange.listen_keys import ListenKeys
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["ExchangeCore", "Metrics"]


@dataclass
class Metrics:
    """Counters of what the exchange served."""

    requests: int = 0
    responses_429: int = 0
    responses_418: int = 0
    orders_placed: int = 0
    stream_messages: int = 0
    stream_connections: int = 0
    ws_api_requests: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters by name."""
        return dict(self.__dict__)


@dataclass
class ExchangeCore:
    """Everything the REST, stream and WebSocket-API front ends share."""

    specs: Iterable[SymbolSpec]
    limits: Limits
    faults: Faults = field(default_factory=Faults)
    metrics: Metrics = field(default_factory=Metrics)
    keys: KeyRegistry = field(default_factory=KeyRegistry)
    listen_keys: ListenKeys | None = None  # the legacy listenKeys, when served

    def __post_init__(self) -> None:
        self.engine = ExchangeEngine(self.specs, self.now)
        self.limiter = RequestLimiter(self.limits)
        self.engine.subscribe(self.limiter.on_event)  # filled orders leave the order count

    def now(self) -> int:
        """Server time in ms (with the clock-skew fault applied)."""
        return time.time_ns() // 1_000_000 + self.faults.clock_skew_ms
