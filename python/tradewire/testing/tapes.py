"""A plain-Python replay of tapes, the reference the readers' and the recorder's tests check.

>>> from tradewire._core import Tape
>>> tape = Tape.from_columns([5, 2, 3, 4, 0], [1, 1, 1, 1, 2], [0, 10, 11, 0, 11], [0, 5, 6, 0, 1])
>>> r = replay([tape])
>>> r.top(), len(r.trades), r.books
(((10, 5), (11, 6)), 1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire.errors import DataError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tradewire._core import Tape

__all__ = ["TapeReplay", "replay", "units"]

# The tape's kinds (tradewire.backtest.data has the same names; kept apart so this reference
# does not lean on the code it checks).
_TRADE_BUY, _TRADE_SELL, _BID, _ASK, _BOOK_END, _CLEAR = range(6)

Level = tuple[int, int]


def units(text: str | Decimal) -> int:
    """An exact decimal as a count of 10^-8 (refused if it has more digits)."""
    scaled = Decimal(text).scaleb(8)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{text} has more than 8 decimals")
    return int(scaled)


@dataclass
class TapeReplay:
    """The book after a tape's events, the trades in it, and what was checked on the way."""

    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    #: (kind, time_us, price, qty) of every trade.
    trades: list[tuple[int, int, int, int]] = field(default_factory=list)
    #: Book messages ended (BOOK_END rows) and books started over (CLEAR rows).
    books: int = 0
    clears: int = 0
    events: int = 0
    last_time_us: int | None = None

    def top(self) -> tuple[Level | None, Level | None]:
        """The best bid and the best ask, as (price, qty), None for an empty side."""
        bid = max(self.bids) if self.bids else None
        ask = min(self.asks) if self.asks else None
        return (
            None if bid is None else (bid, self.bids[bid]),
            None if ask is None else (ask, self.asks[ask]),
        )


def replay(tapes: Iterable[Tape]) -> TapeReplay:
    """Apply every row of ``tapes`` in order to dict books; times must never go backwards.

    Raises:
        DataError: A time that goes backwards, or an unknown kind.
    """
    r = TapeReplay()
    for tape in tapes:
        rows = zip(
            tape.kind.tolist(),
            tape.time_us.tolist(),
            tape.price.tolist(),
            tape.qty.tolist(),
            strict=True,
        )
        for kind, time_us, price, qty in rows:
            if r.last_time_us is not None and time_us < r.last_time_us:
                raise DataError(f"time goes backwards at event {r.events}: {time_us}")
            r.last_time_us = time_us
            r.events += 1
            if kind in (_TRADE_BUY, _TRADE_SELL):
                r.trades.append((kind, time_us, price, qty))
            elif kind in (_BID, _ASK):
                side = r.bids if kind == _BID else r.asks
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
            elif kind == _BOOK_END:
                r.books += 1
            elif kind == _CLEAR:
                r.clears += 1
                r.bids.clear()
                r.asks.clear()
            else:
                raise DataError(f"unknown event kind {kind} at event {r.events}")
    return r
