"""Replay of recorded or generated depth streams (JSONL of depthUpdate events, plus a snapshot)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewire.exchange.venue import Venue

__all__ = ["DepthReplay", "load_events"]


def load_events(path: Path) -> list[dict[str, object]]:
    """depthUpdate events from a JSONL file: bare events or combined-stream ``{"data": ...}``."""
    events = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            item = json.loads(line)
            if isinstance(item, dict) and isinstance(item.get("data"), dict):
                item = item["data"]
            if isinstance(item, dict) and item.get("e") == "depthUpdate":
                events.append(item)
    return events


class DepthReplay:
    """Drives the venue's market liquidity from a depth file: one event per step.

    Level quantities become the market's own resting quantity; a level that crosses an
    account's resting order trades with it, as the real market would have.
    """

    def __init__(self, venue: Venue, path: str | Path, symbol: str | None = None) -> None:
        self.venue = venue
        self.path = Path(path)
        self.events = load_events(self.path)
        first = self.events[0] if self.events else {}
        self.symbol = (symbol or str(first.get("s", ""))).upper()
        if self.symbol not in venue.specs:
            raise ValueError(f"the replay's symbol {self.symbol!r} is not listed")
        self.position = 0
        snapshot = self.path.with_name(self.path.name.rsplit(".", 1)[0] + ".snapshot.json")
        self.snapshot: dict[str, object] | None = None
        if snapshot.exists():
            self.snapshot = json.loads(snapshot.read_text(encoding="utf-8"))

    def open(self) -> None:
        """Load the snapshot (if there is one) into the book."""
        if self.snapshot is None:
            return
        self._apply(self.snapshot.get("bids", []), "BUY")
        self._apply(self.snapshot.get("asks", []), "SELL")

    def _apply(self, levels: object, side: str) -> None:
        assert isinstance(levels, list)
        for price, qty in levels:
            self.venue.mm_quote(self.symbol, side, Decimal(price), Decimal(qty))

    @property
    def done(self) -> bool:
        """Whether every event has been replayed."""
        return self.position >= len(self.events)

    def step(self) -> None:
        """Apply the next event (nothing once the file is exhausted)."""
        if self.done:
            return
        event = self.events[self.position]
        self.position += 1
        self._apply(event.get("b", []), "BUY")
        self._apply(event.get("a", []), "SELL")
