"""The market's own liquidity: its quotes and takes, and the seeded synthetic market behind them.

Quotes and takes are orders of the market's own account (``MARKET_ACCOUNT``): they go through
the matcher like any order, so accounts' resting orders fill when the market trades with them.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import floor_to_step

if TYPE_CHECKING:
    from tradewire.exchange.engine import ExchangeEngine
    from tradewire.exchange.matching import Matcher
    from tradewire.exchange.orders import OrderRecord
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["MarketMaker", "SyntheticMarket"]


class MarketMaker:
    """The market's own orders: at most one quote per (symbol, side, price), and market takes."""

    def __init__(self, matcher: Matcher) -> None:
        self._matcher = matcher
        self._quotes: dict[tuple[str, str, Decimal], OrderRecord] = {}

    def quote(self, symbol: str, side: str, price: Decimal, qty: Decimal) -> None:
        """Set the market's resting quantity at ``price`` (0 removes it); a cross trades.

        A smaller quantity keeps the quote's place in the queue; a larger one requeues it.
        """
        key = (symbol, side, price)
        existing = self._quotes.get(key)
        now = self._matcher.now()
        if existing is not None and existing.is_open:
            if qty == existing.remaining:
                return
            if 0 < qty < existing.remaining:
                self._matcher.amend_down(existing, qty)
                return
            self._matcher.withdraw(existing, now)
        if qty <= 0:
            return
        order = self._matcher.submit_own(symbol, side, price, qty, now)
        if order.is_open:
            self._quotes[key] = order

    def take(self, symbol: str, side: str, qty: Decimal, limit: Decimal | None = None) -> None:
        """Send an order of the market's own flow: it trades with whatever rests on top.

        With ``limit``, an IOC at that price: it trades no further and rests nothing.
        """
        if limit is None:
            self._matcher.submit_own(symbol, side, None, qty, self._matcher.now())
        else:
            self._matcher.submit_own(symbol, side, limit, qty, self._matcher.now(), take=True)

    def is_quoted(self, symbol: str, side: str, price: Decimal) -> bool:
        """Whether the market still has quantity resting at ``price``."""
        order = self._quotes.get((symbol, side, price))
        return order is not None and order.is_open

    def closed(self, order: OrderRecord) -> None:
        """Forget a quote that filled or was pulled (the matcher calls this)."""
        key = (order.symbol, order.side, order.price)
        if self._quotes.get(key) is order:
            del self._quotes[key]


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

    Its quotes and trades go through the engine like any order, so accounts' resting orders fill
    when the market moves through their price or its flow reaches them in the queue.
    """

    def __init__(self, engine: ExchangeEngine, seed: int, levels: int = 20) -> None:
        self._engine = engine
        self._walks = {
            spec.symbol: _SymbolWalk(spec, random.Random(f"{seed}:{spec.symbol}"), levels)
            for spec in sorted(engine.specs(), key=lambda s: s.symbol)
        }
        self.steps = 0

    def open(self) -> None:
        """Quote every level on both sides around the starting price."""
        for walk in self._walks.values():
            for i in range(1, walk.levels + 1):
                self._quote(walk, "BUY", walk.mid - i)
                self._quote(walk, "SELL", walk.mid + i)

    def _quote(self, walk: _SymbolWalk, side: str, ticks: int) -> None:
        if ticks <= 0:
            return
        self._engine.quote(walk.spec.symbol, side, walk.price(ticks), walk.lot(ticks))
        walk.quoted[(side, ticks)] = True

    def _unquote(self, walk: _SymbolWalk, side: str, ticks: int) -> None:
        self._engine.quote(walk.spec.symbol, side, walk.price(ticks), Decimal(0))
        walk.quoted.pop((side, ticks), None)

    def step(self) -> None:
        """One tick of the market for every symbol."""
        self.steps += 1
        for walk in self._walks.values():
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
            self._engine.take(walk.spec.symbol, side, walk.lot(walk.mid))
            symbol = walk.spec.symbol
            for key in [
                k for k in walk.quoted if not self._engine.is_quoted(symbol, k[0], walk.price(k[1]))
            ]:
                walk.quoted.pop(key, None)
