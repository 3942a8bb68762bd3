"""One symbol's resting orders in price-time priority, with per-level totals and update ids."""

from __future__ import annotations

import bisect
import itertools
from collections import deque
from typing import TYPE_CHECKING

from tradewire.exchange.amounts import ZERO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from decimal import Decimal

    from tradewire.exchange.orders import OrderRecord

__all__ = ["Book"]


class _Side:
    """One side of the book: price levels (FIFO queues) kept sorted best first."""

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self.keys: list[Decimal] = []  # sorted ascending by sort key (negated price for bids)
        self.levels: dict[Decimal, deque[OrderRecord]] = {}
        self.totals: dict[Decimal, Decimal] = {}

    def _key(self, price: Decimal) -> Decimal:
        return -price if self.descending else price

    def prices(self) -> Iterator[Decimal]:
        """Prices best first."""
        for key in self.keys:
            yield -key if self.descending else key

    def best(self) -> Decimal | None:
        """The best price, or None for an empty side."""
        if not self.keys:
            return None
        return -self.keys[0] if self.descending else self.keys[0]

    def add(self, order: OrderRecord) -> None:
        """Queue ``order`` at the back of its price level."""
        level = self.levels.get(order.price)
        if level is None:
            level = self.levels[order.price] = deque()
            bisect.insort(self.keys, self._key(order.price))
            self.totals[order.price] = ZERO
        level.append(order)
        self.totals[order.price] += order.remaining

    def remove(self, order: OrderRecord, qty: Decimal) -> None:
        """Take ``qty`` off the level total and drop ``order`` from its queue."""
        level = self.levels[order.price]
        level.remove(order)
        self.reduce(order.price, qty)

    def reduce(self, price: Decimal, qty: Decimal) -> None:
        """Take ``qty`` off a level's total, dropping the level once it is empty."""
        self.totals[price] -= qty
        if not self.levels[price]:
            del self.levels[price]
            del self.totals[price]
            index = bisect.bisect_left(self.keys, self._key(price))
            del self.keys[index]


class Book:
    """Resting orders of one symbol, in price-time priority, with Binance-style update ids.

    ``on_change(side, price, new_total, update_id)`` is called after every change of a level.
    """

    def __init__(
        self,
        symbol: str,
        on_change: Callable[[str, Decimal, Decimal, int], None],
        first_update_id: int = 1,
    ) -> None:
        self.symbol = symbol
        self._update_id = first_update_id
        self._bids = _Side(descending=True)
        self._asks = _Side(descending=False)
        self._on_change = on_change

    @property
    def update_id(self) -> int:
        """The id of the last change (what depth calls lastUpdateId)."""
        return self._update_id

    def side(self, side: str) -> _Side:
        """The BUY (bids) or SELL (asks) side."""
        return self._bids if side == "BUY" else self._asks

    def _changed(self, side: str, price: Decimal) -> None:
        self._update_id += 1
        total = self.side(side).totals.get(price, ZERO)
        self._on_change(side, price, total, self._update_id)

    def rest(self, order: OrderRecord) -> None:
        """Put ``order`` on the book behind the orders already at its price."""
        self.side(order.side).add(order)
        self._changed(order.side, order.price)

    def pull(self, order: OrderRecord) -> None:
        """Take a resting ``order`` off the book (cancel, expiry or full fill)."""
        self.side(order.side).remove(order, order.remaining)
        self._changed(order.side, order.price)

    def executed(self, maker: OrderRecord, qty: Decimal) -> None:
        """Record that ``qty`` of a resting ``maker`` traded (its executed_qty already updated)."""
        side = self.side(maker.side)
        if maker.remaining == 0:
            side.levels[maker.price].remove(maker)
        side.reduce(maker.price, qty)
        self._changed(maker.side, maker.price)

    def amend_down(self, order: OrderRecord, new_qty: Decimal) -> None:
        """Lower a resting order's quantity in place, keeping its priority."""
        side = self.side(order.side)
        side.totals[order.price] -= order.orig_qty - new_qty
        order.orig_qty = new_qty
        self._changed(order.side, order.price)

    def makers(self, taker_side: str, limit: Decimal | None) -> Iterator[OrderRecord]:
        """Resting orders a ``taker_side`` order may trade with, best price and oldest first."""
        side = self._asks if taker_side == "BUY" else self._bids
        # The book changes while the caller trades, so each next level is looked up after the
        # last one (a level emptied by the trades is gone from ``keys`` by then).
        last: Decimal | None = None
        while True:
            keys = side.keys
            index = 0 if last is None else bisect.bisect_right(keys, last)
            if index >= len(keys):
                return
            last = keys[index]
            price = -last if side.descending else last
            if limit is not None and (price > limit if taker_side == "BUY" else price < limit):
                return
            yield from list(side.levels.get(price, ()))

    def best_bid(self) -> tuple[Decimal, Decimal] | None:
        """(price, total quantity) of the best bid."""
        price = self._bids.best()
        return None if price is None else (price, self._bids.totals[price])

    def best_ask(self) -> tuple[Decimal, Decimal] | None:
        """(price, total quantity) of the best ask."""
        price = self._asks.best()
        return None if price is None else (price, self._asks.totals[price])

    def depth(
        self, limit: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """The top ``limit`` levels of bids and asks as (price, total quantity)."""
        bids = [(p, self._bids.totals[p]) for p in itertools.islice(self._bids.prices(), limit)]
        asks = [(p, self._asks.totals[p]) for p in itertools.islice(self._asks.prices(), limit)]
        return bids, asks
