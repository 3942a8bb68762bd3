"""The trading rules backtests use when none are given: Binance spot's, for common symbols.

Tick size, step size and minimum quantity as Binance's exchangeInfo lists them (the same in
the 2021 exchangeInfo the tests carry and in recent answers), and the NOTIONAL minimum of 5
USDT of today's answers; pass ``rules=`` to :func:`tradewire.backtest.backtest` for any
other symbol, or to use the rules of a given day.
"""

from __future__ import annotations

from decimal import Decimal

from tradewire.errors import BacktestError
from tradewire.rules import SymbolRules

__all__ = ["KNOWN_SYMBOLS", "default_rules"]

# symbol: (base, quote, tick size, step size, min qty, min notional)
_SPOT: dict[str, tuple[str, str, str, str, str, str]] = {
    "BTCUSDT": ("BTC", "USDT", "0.01", "0.00001", "0.00001", "5"),
    "ETHUSDT": ("ETH", "USDT", "0.01", "0.0001", "0.0001", "5"),
}

KNOWN_SYMBOLS = tuple(sorted(_SPOT))


def default_rules(symbol: str) -> SymbolRules:
    """The built-in rules of ``symbol``.

    Raises:
        BacktestError: the symbol has no built-in rules (pass ``rules=``).
    """
    spec = _SPOT.get(symbol.upper())
    if spec is None:
        raise BacktestError(
            f"no built-in trading rules for {symbol!r} (built in: {', '.join(KNOWN_SYMBOLS)}): "
            "pass rules=SymbolRules(...) with the symbol's exchangeInfo filters"
        )
    base, quote, tick, step, min_qty, min_notional = spec
    return SymbolRules(
        symbol.upper(),
        base,
        quote,
        Decimal(tick),
        Decimal(step),
        Decimal(min_qty),
        Decimal(min_notional),
    )
