"""Position and PnL of one symbol, from fills, by the average-cost method (exact Decimal).

Realized and unrealized PnL are net of fees: a commission taken in the base asset reduces the
position, one taken in the quote asset reduces the cash. So, for any mark price, exactly::

    realized + unrealized(mark) == change in quote balance + change in base balance * mark
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradewire.model import Fill

__all__ = ["PnL", "PnLTracker"]

_ZERO = Decimal(0)
_QUANTUM = Decimal("1e-12")


@dataclass(frozen=True)
class PnL:
    """A snapshot of position and PnL, in the quote asset."""

    position: Decimal
    cost_basis: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    volume: Decimal
    fills: int

    @property
    def total(self) -> Decimal:
        """Realized plus unrealized (both already net of fees)."""
        return self.realized + self.unrealized


class PnLTracker:
    """Accumulates fills of one symbol; :meth:`snapshot` values them at a mark price."""

    def __init__(self, base_asset: str, quote_asset: str) -> None:
        self.base_asset = base_asset
        self.quote_asset = quote_asset
        self.position = _ZERO
        self.cost_basis = _ZERO  # quote paid for the position (negative for a short)
        self.realized = _ZERO
        self.fees = _ZERO  # every commission, valued in quote at its fill's price
        self.volume = _ZERO
        self.fills = 0

    def apply(self, fill: Fill) -> None:
        """Account for one fill."""
        value = fill.price * fill.quantity
        base_fee = fill.commission if fill.commission_asset == self.base_asset else _ZERO
        quote_fee = fill.commission if fill.commission_asset == self.quote_asset else _ZERO
        if fill.side == "BUY":
            dq, cash = fill.quantity - base_fee, -value - quote_fee
        else:
            dq, cash = -fill.quantity - base_fee, value - quote_fee
        if fill.commission_asset in (self.base_asset, self.quote_asset):
            self.fees += quote_fee + base_fee * fill.price
        self.volume += value
        self.fills += 1
        self._trade(dq, cash)

    def _trade(self, dq: Decimal, cash: Decimal) -> None:
        if dq == 0:
            self.realized += cash
            return
        pos = self.position
        if pos != 0 and (pos > 0) != (dq > 0):
            close = min(abs(dq), abs(pos))
            removed = (self.cost_basis * close / abs(pos)).quantize(_QUANTUM)
            cash_close = (cash * close / abs(dq)).quantize(_QUANTUM)
            self.realized += cash_close - removed
            self.cost_basis -= removed
            signed_close = close if dq > 0 else -close
            self.position += signed_close
            if self.position == 0:
                self.realized -= self.cost_basis  # rounding crumbs of a closed position
                self.cost_basis = _ZERO
            dq -= signed_close
            cash -= cash_close
            if dq == 0:
                self.realized += cash
                return
        self.position += dq
        self.cost_basis -= cash

    def unrealized(self, mark: Decimal | None) -> Decimal:
        """Value of the open position at ``mark`` minus what it cost."""
        if mark is None or self.position == 0:
            return _ZERO
        return self.position * mark - self.cost_basis

    def snapshot(self, mark: Decimal | None) -> PnL:
        """Position and PnL valued at ``mark``."""
        return PnL(
            position=self.position,
            cost_basis=self.cost_basis,
            realized=self.realized,
            unrealized=self.unrealized(mark),
            fees=self.fees,
            volume=self.volume,
            fills=self.fills,
        )
