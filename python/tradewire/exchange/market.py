"""The market's own flow: a seeded synthetic market that quotes around a random walk and trades."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import floor_to_step

if TYPE_CHECKING:
    from tradewire.exchange.symbols import SymbolSpec
    from tradewire.exchange.venue import Venue

__all__ = ["SyntheticMarket"]


class _SymbolWalk:
    """One symbol's random walk and the levels it quotes."""

    def __init__(self, spec: SymbolSpec, rng: random.Random, levels: int) -> None:
        self.spec = spec
        self.rng = rng
        self.levels = levels
        self.mid = int(spec.start_price / spec.tick_size)
        self.quoted: dict[tuple[str, int], bool] = {}

    def price(self, ticks: int) -> Decimal:
        return ticks * self.spec.tick_size

    def lot(self, ticks: int) -> Decimal:
        """A random quantity worth 1 to 200 times the minimum notional, on the step grid."""
        spec = self.spec
        notional = spec.min_notional * self.rng.randint(1, 200)
        qty = floor_to_step(notional / self.price(ticks), spec.step_size)
        return max(qty, spec.min_qty)


class SyntheticMarket:
    """A deterministic market per seed: each step moves the mid, requotes levels and trades.

    Its quotes and trades go through the venue like any order, so accounts' resting orders fill
    when the market moves through their price or its flow reaches them in the queue.
    """

    def __init__(self, venue: Venue, seed: int, levels: int = 20) -> None:
        self.venue = venue
        self.walks = {
            symbol: _SymbolWalk(spec, random.Random(f"{seed}:{symbol}"), levels)
            for symbol, spec in sorted(venue.specs.items())
        }
        self.steps = 0

    def open(self) -> None:
        """Quote every level on both sides around the starting price."""
        for walk in self.walks.values():
            for i in range(1, walk.levels + 1):
                self._quote(walk, "BUY", walk.mid - i)
                self._quote(walk, "SELL", walk.mid + i)

    def _quote(self, walk: _SymbolWalk, side: str, ticks: int) -> None:
        if ticks <= 0:
            return
        self.venue.mm_quote(walk.spec.symbol, side, walk.price(ticks), walk.lot(ticks))
        walk.quoted[(side, ticks)] = True

    def _unquote(self, walk: _SymbolWalk, side: str, ticks: int) -> None:
        self.venue.mm_quote(walk.spec.symbol, side, walk.price(ticks), Decimal(0))
        walk.quoted.pop((side, ticks), None)

    def step(self) -> None:
        """One tick of the market for every symbol."""
        self.steps += 1
        for walk in self.walks.values():
            self._step(walk)

    def _step(self, walk: _SymbolWalk) -> None:
        rng = walk.rng
        walk.mid = max(walk.levels + 2, walk.mid + rng.choice((-2, -1, -1, 0, 0, 0, 1, 1, 2)))
        low, high = walk.mid - walk.levels, walk.mid + walk.levels
        for side, ticks in list(walk.quoted):
            stale = ticks < low or ticks > high
            crossed = ticks >= walk.mid if side == "BUY" else ticks <= walk.mid
            if stale or crossed:
                self._unquote(walk, side, ticks)
        for _ in range(rng.randint(2, 6)):
            i = rng.randint(1, walk.levels)
            self._quote(walk, "BUY", walk.mid - i)
            self._quote(walk, "SELL", walk.mid + rng.randint(1, walk.levels))
        for i in (1, 2):  # keep the touch populated
            if ("BUY", walk.mid - i) not in walk.quoted:
                self._quote(walk, "BUY", walk.mid - i)
            if ("SELL", walk.mid + i) not in walk.quoted:
                self._quote(walk, "SELL", walk.mid + i)
        if rng.random() < 0.6:
            side = rng.choice(("BUY", "SELL"))
            self.venue.mm_take(walk.spec.symbol, side, walk.lot(walk.mid))
            for key in [k for k in walk.quoted if not self._still_quoted(walk, *k)]:
                walk.quoted.pop(key, None)

    def _still_quoted(self, walk: _SymbolWalk, side: str, ticks: int) -> bool:
        order = self.venue.mm_orders.get((walk.spec.symbol, side, walk.price(ticks)))
        return order is not None and order.is_open
