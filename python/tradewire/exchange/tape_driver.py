"""Applying a tape of market events to the exchange's books, coalesced.

A tape (``tradewire._core.Tape``: kind/time_us/price/qty columns, prices and quantities in
10^-8 units) holds level changes and trades in time order. The driver turns them into the
market's own quotes and takes (``ExchangeEngine.quote``/``take``), which go through the matcher
like any order, so accounts' resting orders fill when the market trades through them.

What the streams and the matcher need not see one by one is coalesced: a level changed several
times in one call is set once, to its last quantity. Order still holds where it decides fills:
before a trade, every pending change of the side it meets, at a price it can reach, is applied,
so the trade meets the book as it was. A trade is a take limited to its own price and quantity,
so it fills an account's resting order only if it reaches the order's price, and never for more
than traded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewire._core import Tape
    from tradewire.exchange.engine import ExchangeEngine

__all__ = ["TRADE_BUY", "TRADE_SELL", "TapeDriver"]

TRADE_BUY, TRADE_SELL, BID, ASK, BOOK_END, CLEAR = 0, 1, 2, 3, 4, 5
_UNIT = Decimal(100_000_000)
_CACHE_LIMIT = 200_000
_NONE_ASK = 1 << 62  # above any price in 10^-8 units


class TapeDriver:
    """Applies one symbol's tapes to the engine as the market's own quotes and takes.

    Args:
        engine: The exchange engine.
        symbol: The listed symbol the tapes are for.
    """

    def __init__(self, engine: ExchangeEngine, symbol: str) -> None:
        self._engine = engine
        self.symbol = symbol
        self._quoted: dict[int, set[int]] = {BID: set(), ASK: set()}
        self._decimals: dict[int, Decimal] = {}
        self.rows = 0
        """Rows read from tapes."""
        self.level_changes = 0
        """Level changes applied to the book (after coalescing)."""
        self.trades = 0
        """Trades applied (takes sent)."""

    def _decimal(self, units: int) -> Decimal:
        """A price in ``units`` of 10^-8 as a Decimal (prices repeat, so they are cached)."""
        cached = self._decimals.get(units)
        if cached is None:
            if len(self._decimals) >= _CACHE_LIMIT:
                self._decimals.clear()
            cached = self._decimals[units] = Decimal(units) / _UNIT
        return cached

    def apply(self, tape: Tape) -> None:
        """Apply a whole tape (see :meth:`apply_rows`)."""
        self.apply_rows(tape.kind.tolist(), tape.price.tolist(), tape.qty.tolist())

    def apply_rows(self, kinds: list[int], prices: list[int], qtys: list[int]) -> None:
        """Apply rows (kind, price, qty in 10^-8 units) in order, coalescing level changes."""
        pending: dict[int, dict[int, int]] = {BID: {}, ASK: {}}
        bids, asks = pending[BID], pending[ASK]
        # the best pending price of each side: a trade that cannot reach it skips the scan
        high_bid, low_ask = -1, _NONE_ASK
        self.rows += len(kinds)
        for kind, price, qty in zip(kinds, prices, qtys, strict=True):
            if kind == BID:
                bids[price] = qty
                if price > high_bid:
                    high_bid = price
            elif kind == ASK:
                asks[price] = qty
                if price < low_ask:
                    low_ask = price
            elif kind == CLEAR:
                for side, levels in pending.items():
                    for level in self._quoted[side]:
                        levels[level] = 0
                    for level in levels:
                        levels[level] = 0
                high_bid = max(bids, default=-1)
                low_ask = min(asks, default=_NONE_ASK)
            elif kind == TRADE_BUY:
                if low_ask <= price:
                    self._flush_reached(ASK, asks, price)
                    low_ask = min(asks, default=_NONE_ASK)
                self._take("BUY", price, qty)
            elif kind == TRADE_SELL:
                if high_bid >= price:
                    self._flush_reached(BID, bids, price)
                    high_bid = max(bids, default=-1)
                self._take("SELL", price, qty)
        # removals first, so a new level never meets a level the same step took away
        for side, levels in pending.items():
            self._set(side, {p: q for p, q in levels.items() if q <= 0})
        for side, levels in pending.items():
            self._set(side, {p: q for p, q in levels.items() if q > 0})

    def _flush_reached(self, side: int, levels: dict[int, int], limit: int) -> None:
        """Apply the pending changes of ``side`` that a take limited to ``limit`` can reach."""
        if side == ASK:
            due = {p: q for p, q in levels.items() if p <= limit}
        else:
            due = {p: q for p, q in levels.items() if p >= limit}
        if due:
            for price in due:
                del levels[price]
            self._set(side, {p: q for p, q in due.items() if q <= 0})
            self._set(side, {p: q for p, q in due.items() if q > 0})

    def _set(self, side: int, levels: dict[int, int]) -> None:
        if not levels:
            return
        quote = self._engine.quote
        symbol = self.symbol
        name = "BUY" if side == BID else "SELL"
        quoted = self._quoted[side]
        decimal = self._decimal
        for price, qty in levels.items():
            if qty > 0:
                quoted.add(price)
            elif price in quoted:
                quoted.discard(price)
            else:
                continue  # never quoted: nothing to take away
            quote(symbol, name, decimal(price), Decimal(qty) / _UNIT)
            self.level_changes += 1

    def _take(self, side: str, price: int, qty: int) -> None:
        self.trades += 1
        self._engine.take(self.symbol, side, Decimal(qty) / _UNIT, limit=self._decimal(price))
