"""Faults injected on demand, for testing clients against an exchange that misbehaves."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Faults"]


@dataclass
class Faults:
    """What to break; all off by default (``LocalExchange.set_faults()`` clears them)."""

    clock_skew_ms: int = 0
    delay_ms: int = 0
    error_after_accept: float = 0.0
    skip_sequence_every: int = 0
    drop_streams_every_s: float = 0.0
    refuse_connections: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def answer_503(self) -> bool:
        """Whether to answer this accepted order with a 503 anyway (``error_after_accept``)."""
        return self.error_after_accept > 0 and self.rng.random() < self.error_after_accept
