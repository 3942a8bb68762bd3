"""Position and PnL of one symbol, from fills, exactly (Decimal), with fees kept apart.

Every fill moves base at its price: a BUY of ``q`` whose commission ``c`` is taken in the base
asset (Binance charges a BUY's commission in the asset received) adds ``q - c`` to the position
at the fill price, and ``c`` at that price is a fee; a commission in the quote asset is a fee as
it is. Realized and unrealized PnL are gross of fees (average cost); ``fees`` is every commission
in the symbol's two assets, valued in quote at its fill's price. So, for any mark price,
exactly (to the last digit)::

    realized + unrealized(mark) - fees == change in quote balance + change in base balance * mark

A commission in a third asset (BNB) moves neither of the two balances and is not in ``fees``.

The same fills also pair up, last in first out, into round trips (a buy closed by a later sell,
or a sell closed by a later buy): ``round_trips`` is the gross profit of those pairs, which
splits the total the way a grid bot shows it (:attr:`PnL.grid_profit`, :attr:`PnL.trend`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Context, Decimal, localcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tradewire.model import Balance, Fill

__all__ = ["EquityCurve", "PnL", "PnLTracker", "account_equity", "combined_pnl"]

_ZERO = Decimal(0)
_QUANTUM = Decimal("1e-12")
# Enough digits that no sum or product of exchange amounts is rounded (only the quantized
# average-cost share is, and both sides of the books take the same rounded value).
_CTX = Context(prec=80)


@dataclass(frozen=True)
class PnL:
    """A snapshot of position and PnL at one mark price, in the quote asset.

    ``realized`` and ``unrealized`` are gross of fees (average cost); ``total`` is net.
    """

    position: Decimal
    cost_basis: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    volume: Decimal
    fills: int
    round_trips: Decimal = _ZERO

    @property
    def total(self) -> Decimal:
        """``realized + unrealized - fees``: the equity change at the mark price."""
        with localcontext(_CTX):
            return self.realized + self.unrealized - self.fees

    @property
    def grid_profit(self) -> Decimal:
        """Profit of completed round trips (paired last in, first out), less every fee."""
        with localcontext(_CTX):
            return self.round_trips - self.fees

    @property
    def trend(self) -> Decimal:
        """The held inventory (the lots no round trip closed) marked to market.

        ``grid_profit + trend == total``.
        """
        with localcontext(_CTX):
            return self.realized + self.unrealized - self.round_trips


class PnLTracker:
    """Accumulates fills of one symbol; :meth:`snapshot` values them at a mark price."""

    def __init__(self, base_asset: str, quote_asset: str) -> None:
        self.base_asset = base_asset
        self.quote_asset = quote_asset
        self.position = _ZERO
        self.cost_basis = _ZERO  # quote paid for the position (negative for a short)
        self.realized = _ZERO
        self.fees = _ZERO  # commissions in base or quote, valued in quote at the fill price
        self.volume = _ZERO
        self.fills = 0
        self.round_trips = _ZERO
        # Open lots, oldest first: (signed base quantity, price).
        self._lots: list[tuple[Decimal, Decimal]] = []

    def __repr__(self) -> str:
        return f"PnLTracker({self.base_asset}/{self.quote_asset}, position={self.position})"

    def apply(self, fill: Fill) -> None:
        """Account for one fill."""
        price = fill.price
        with localcontext(_CTX):
            base_fee = fill.commission if fill.commission_asset == self.base_asset else _ZERO
            quote_fee = fill.commission if fill.commission_asset == self.quote_asset else _ZERO
            dq = (fill.quantity if fill.side == "BUY" else -fill.quantity) - base_fee
            self.fees += quote_fee + base_fee * price
            self.volume += price * fill.quantity
            self.fills += 1
            if dq != 0:
                self._trade(dq, -dq * price)
                self._pair(dq, price)

    def apply_commission(self, commission: Decimal, asset: str) -> None:
        """Account for the commission of an earlier fill that arrived after it (IB).

        Raises:
            ValueError: the commission is not in the quote asset (a broker charges cash).
        """
        if asset != self.quote_asset:
            raise ValueError(
                f"a late commission in {asset} cannot be taken: only {self.quote_asset} can"
            )
        with localcontext(_CTX):
            self.fees += commission

    def _trade(self, dq: Decimal, cash: Decimal) -> None:
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

    def _pair(self, dq: Decimal, price: Decimal) -> None:
        """Close the latest opposite lots first (a grid's sell closes the buy just below it)."""
        lots = self._lots
        while dq != 0 and lots and (lots[-1][0] > 0) != (dq > 0):
            qty, at = lots[-1]
            close = min(abs(qty), abs(dq))
            # A long lot closed by a sell earns (price - at); a short lot closed by a buy,
            # (at - price).
            self.round_trips += (price - at) * close if qty > 0 else (at - price) * close
            rest = abs(qty) - close
            if rest == 0:
                lots.pop()
            else:
                lots[-1] = (rest if qty > 0 else -rest, at)
            dq += close if dq < 0 else -close
        if dq != 0:
            lots.append((dq, price))

    @property
    def lots(self) -> list[tuple[Decimal, Decimal]]:
        """The open lots no round trip closed, oldest first: (signed base quantity, price)."""
        return list(self._lots)

    def unrealized(self, mark: Decimal | None) -> Decimal:
        """Value of the open position at ``mark`` minus what it cost."""
        if mark is None or self.position == 0:
            return _ZERO
        with localcontext(_CTX):
            return self.position * mark - self.cost_basis

    def snapshot(self, mark: Decimal | None) -> PnL:
        """Position and PnL valued at ``mark`` (without a mark, the position is not valued)."""
        return PnL(
            position=self.position,
            cost_basis=self.cost_basis,
            realized=self.realized,
            unrealized=self.unrealized(mark),
            fees=self.fees,
            volume=self.volume,
            fills=self.fills,
            round_trips=self.round_trips,
        )


def combined_pnl(pnls: Iterable[PnL]) -> PnL:
    """Several symbols' P&L added up (they share a quote asset); the position is the first's
    (positions of different assets do not add)."""
    items = list(pnls)
    with localcontext(_CTX):
        return PnL(
            position=items[0].position if items else _ZERO,
            cost_basis=sum((p.cost_basis for p in items), _ZERO),
            realized=sum((p.realized for p in items), _ZERO),
            unrealized=sum((p.unrealized for p in items), _ZERO),
            fees=sum((p.fees for p in items), _ZERO),
            volume=sum((p.volume for p in items), _ZERO),
            fills=sum(p.fills for p in items),
            round_trips=sum((p.round_trips for p in items), _ZERO),
        )


def account_equity(
    balances: Mapping[str, Balance],
    base_asset: str,
    quote_asset: str,
    mark: Decimal,
    plus: Decimal = _ZERO,
) -> Decimal:
    """The one equity definition: quote + base x ``mark`` of ``balances`` (free plus locked),
    plus ``plus``, exactly."""
    base = balances.get(base_asset)
    quote = balances.get(quote_asset)
    with localcontext(_CTX):
        return (quote.total if quote else _ZERO) + (base.total if base else _ZERO) * mark + plus


class EquityCurve:
    """A run's equity over time: the drawdown over every sample, and points for a chart.

    Each sample is (time_ms, mark price, equity, position). The largest drawdown (peak to
    trough, in quote and in percent of the peak) is kept over every sample; the points kept for
    the chart are thinned evenly (every other one dropped) whenever they pass ``max_points``, so
    a long backtest keeps a bounded series. The last sample is always in :attr:`points`.
    """

    def __init__(self, max_points: int = 4096) -> None:
        self.max_points = max(2, max_points)
        self.samples = 0
        self.peak: Decimal | None = None
        self.max_drawdown = _ZERO
        self.max_drawdown_pct = _ZERO
        self._points: list[tuple[int, Decimal, Decimal, Decimal]] = []
        self._stride = 1
        self._last: tuple[int, Decimal, Decimal, Decimal] | None = None

    def __repr__(self) -> str:
        return f"EquityCurve(samples={self.samples}, max_drawdown={self.max_drawdown})"

    def add(self, time_ms: int, mark: Decimal, equity: Decimal, position: Decimal) -> None:
        """Record one sample."""
        point = (time_ms, mark, equity, position)
        self._last = point
        peak = self.peak
        if peak is None or equity > peak:
            self.peak = equity
        else:
            with localcontext(_CTX):
                drawdown = peak - equity
                if drawdown > self.max_drawdown:
                    self.max_drawdown = drawdown
                deeper = peak > 0 and drawdown * 100 > self.max_drawdown_pct * peak
            if deeper:  # a percentage is analytics: 28 digits are plenty
                self.max_drawdown_pct = drawdown * 100 / peak
        if self.samples % self._stride == 0:
            self._points.append(point)
            if len(self._points) > self.max_points:
                del self._points[1::2]
                self._stride *= 2
        self.samples += 1

    @property
    def points(self) -> list[tuple[int, Decimal, Decimal, Decimal]]:
        """The samples kept (time_ms, mark, equity, position), oldest first, the last one last."""
        last = self._last
        if last is None:
            return []
        points = self._points
        return points if points[-1] is last else [*points, last]

    @property
    def first(self) -> tuple[int, Decimal, Decimal, Decimal] | None:
        """The first sample, if any."""
        return self._points[0] if self._points else None

    @property
    def last(self) -> tuple[int, Decimal, Decimal, Decimal] | None:
        """The last sample, if any."""
        return self._last
