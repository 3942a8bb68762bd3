"""A deterministic synthetic Binance depth stream, for replays, tests and benchmarks.

:class:`SyntheticDepthStream` yields a REST ``/api/v3/depth`` snapshot and then ``depthUpdate``
events in Binance's wire format (field names ``e E s U u b a``, numbers as strings with 8
decimals, ``"0.00000000"`` removing a level). The same seed always gives the same bytes. Prices
take a random walk on the tick; the levels a move crosses are removed in the same event, so the
book never crosses; the first event starts right after the snapshot's ``lastUpdateId``.

>>> stream = SyntheticDepthStream(seed=1)
>>> snapshot = stream.snapshot()
>>> first = next(stream.events(1))
>>> first.startswith(b'{"e":"depthUpdate"')
True
"""

from __future__ import annotations

import json
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["SyntheticDepthStream", "write_depth_stream"]

_QTY_SCALE = 10**8  # quantities carry 8 decimals


class SyntheticDepthStream:
    """A seeded random order book and the diff events that move it."""

    def __init__(
        self,
        symbol: str = "BTCUSDT",
        *,
        seed: int = 7,
        mid_price_ticks: int = 6_500_000,
        tick_decimals: int = 2,
        levels_per_side: int = 1000,
        first_update_id: int = 1_000_000,
        start_time_ms: int = 1_700_000_000_000,
    ) -> None:
        self.symbol = symbol
        self._rng = random.Random(seed)
        self._tick_decimals = tick_decimals
        self._mid = mid_price_ticks
        rng = self._rng
        self._bids = {
            self._mid - i: rng.randint(1, 5_000) * 10_000 for i in range(1, levels_per_side + 1)
        }
        self._asks = {
            self._mid + i: rng.randint(1, 5_000) * 10_000 for i in range(1, levels_per_side + 1)
        }
        self._last_id = first_update_id
        self._time = start_time_ms

    def _price(self, ticks: int) -> str:
        whole, frac = divmod(ticks, 10**self._tick_decimals)
        return f"{whole}.{frac:0{self._tick_decimals}d}{'0' * (8 - self._tick_decimals)}"

    @staticmethod
    def _qty(units: int) -> str:
        whole, frac = divmod(units, _QTY_SCALE)
        return f"{whole}.{frac:08d}"

    def snapshot(self) -> bytes:
        """The REST depth body for the current book (all levels)."""
        body = {
            "lastUpdateId": self._last_id,
            "bids": [
                [self._price(p), self._qty(q)] for p, q in sorted(self._bids.items(), reverse=True)
            ],
            "asks": [[self._price(p), self._qty(q)] for p, q in sorted(self._asks.items())],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def _changes(
        self, side: dict[int, int], old_mid: int, new_mid: int, sign: int
    ) -> dict[int, int]:
        """Random level changes on one side; ``sign`` is -1 for bids, +1 for asks.

        Bids stay strictly below the mid and asks strictly above it, so only the levels between
        the old and the new mid can end up on the wrong side: those are removed.
        """
        rng = self._rng
        changes: dict[int, int] = {}
        low, high = sorted((old_mid, new_mid))
        for price in range(low, high + 1):
            if price in side and (price - new_mid) * sign <= 0:
                changes[price] = 0
        for _ in range(rng.randint(2, 25)):
            distance = 1 + int(rng.expovariate(1 / 35))
            price = new_mid + sign * distance
            if rng.random() < 0.3:
                if price in side:
                    changes[price] = 0
            else:
                changes[price] = rng.randint(1, 2_000_000) * 100
        return changes

    def events(self, count: int) -> Iterator[bytes]:
        """The next ``count`` depthUpdate events, as compact JSON bytes."""
        rng = self._rng
        for _ in range(count):
            old_mid = self._mid
            self._mid += rng.choice((-2, -1, -1, 0, 0, 0, 0, 1, 1, 2))
            bid_changes = self._changes(self._bids, old_mid, self._mid, -1)
            ask_changes = self._changes(self._asks, old_mid, self._mid, +1)
            for side, changes in ((self._bids, bid_changes), (self._asks, ask_changes)):
                for price, qty in changes.items():
                    if qty:
                        side[price] = qty
                    else:
                        side.pop(price, None)
            first = self._last_id + 1
            self._last_id += rng.randint(1, 12)
            self._time += rng.randint(90, 110)
            bids = ",".join(
                f'["{self._price(p)}","{self._qty(q)}"]' for p, q in bid_changes.items()
            )
            asks = ",".join(
                f'["{self._price(p)}","{self._qty(q)}"]' for p, q in ask_changes.items()
            )
            yield (
                f'{{"e":"depthUpdate","E":{self._time},"s":"{self.symbol}",'
                f'"U":{first},"u":{self._last_id},"b":[{bids}],"a":[{asks}]}}'
            ).encode()

    def best(self) -> tuple[str, str]:
        """The current best bid and ask prices, as exchange strings."""
        return self._price(max(self._bids)), self._price(min(self._asks))


def write_depth_stream(path: Path, count: int, *, symbol: str = "BTCUSDT", seed: int = 7) -> Path:
    """Write ``count`` events to ``path`` (JSON lines) and the snapshot beside it.

    The snapshot goes to ``<path without suffix>.snapshot.json``, the layout the replay command
    reads. Returns the snapshot's path.
    """
    stream = SyntheticDepthStream(symbol, seed=seed)
    snapshot_path = path.with_suffix(".snapshot.json")
    snapshot_path.write_bytes(stream.snapshot())
    with path.open("wb") as f:
        for event in stream.events(count):
            f.write(event + b"\n")
    return snapshot_path
