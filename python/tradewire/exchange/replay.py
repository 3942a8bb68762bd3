"""Replay of recorded or generated depth streams (JSONL of depthUpdate events, plus a snapshot)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire.exchange.engine import ExchangeEngine

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


def _snapshot_of(path: Path) -> dict[str, object] | None:
    """``NAME.snapshot.json`` beside ``NAME.jsonl`` (as gen_binance_depth.py writes), if any."""
    snapshot = path.with_name(path.name.rsplit(".", 1)[0] + ".snapshot.json")
    if not snapshot.exists():
        return None
    loaded: dict[str, object] = json.loads(snapshot.read_text(encoding="utf-8"))
    return loaded


class DepthReplay:
    """Drives the market's own liquidity from depth files: one event per step.

    Each event goes to the symbol it names (``s``), so several files (or one recorded
    multi-symbol stream) replay several symbols at once, merged in event-time order. Level
    quantities become the market's own resting quantity; a level that crosses an account's
    resting order trades with it, as the real market would have.
    """

    def __init__(self, engine: ExchangeEngine, paths: str | Path | Iterable[str | Path]) -> None:
        self._engine = engine
        listed = set(engine.symbols())
        files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
        self._snapshots: list[tuple[str, dict[str, object]]] = []
        self._events: list[dict[str, object]] = []
        for path in files:
            events = load_events(path)
            for event in events:
                if str(event.get("s", "")).upper() not in listed:
                    raise ValueError(f"{path.name}: symbol {event.get('s')!r} is not listed")
            snapshot = _snapshot_of(path)
            if snapshot is not None and events:
                self._snapshots.append((str(events[0]["s"]).upper(), snapshot))
            self._events.extend(events)
        self._events.sort(key=lambda e: int(str(e.get("E", 0))))
        self._position = 0

    def open(self) -> None:
        """Load the snapshots into the books."""
        for symbol, snapshot in self._snapshots:
            self._apply(symbol, snapshot.get("bids", []), "BUY")
            self._apply(symbol, snapshot.get("asks", []), "SELL")

    def _apply(self, symbol: str, levels: object, side: str) -> None:
        assert isinstance(levels, list)
        for price, qty in levels:
            self._engine.quote(symbol, side, Decimal(price), Decimal(qty))

    @property
    def done(self) -> bool:
        """Whether every event has been replayed."""
        return self._position >= len(self._events)

    def step(self) -> None:
        """Apply the next event (nothing once the files are exhausted)."""
        if self.done:
            return
        event = self._events[self._position]
        self._position += 1
        symbol = str(event["s"]).upper()
        self._apply(symbol, event.get("b", []), "BUY")
        self._apply(symbol, event.get("a", []), "SELL")
