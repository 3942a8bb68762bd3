"""Binance's exchangeInfo, read: each symbol's filters as :class:`tradewire.rules.SymbolRules`.

The filters of one symbol are parsed by :func:`tradewire.rules.rules_from_exchange_info` (the
one parser, shared with the backtests' built-in and user-given exchangeInfo).

This module only parses Binance's format; rounding and checking an order against the filters
is :mod:`tradewire.rules`' job (quantities floored to ``stepSize``, a BUY price rounded down
and a SELL price up to ``tickSize``, then the filters checked, an order that cannot pass
raising :class:`~tradewire.errors.InvalidOrder` naming the filter, the limit and the value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import InvalidOrder
from tradewire.rules import (
    ENDPOINT,
    DecimalInput,
    PreparedOrder,
    SymbolRules,
    rules_from_exchange_info,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "DecimalInput",
    "ExchangeInfo",
    "PreparedOrder",
    "SymbolFilters",
    "rules_from_exchange_info",
]

SymbolFilters = SymbolRules
"""The rules of one symbol, as the Binance client reads them (the same class)."""


class ExchangeInfo:
    """exchangeInfo, read: per-symbol filters and the rate limits."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        symbols = raw.get("symbols") or []
        assert isinstance(symbols, list)
        self.symbols: dict[str, SymbolRules] = {
            str(s["symbol"]): rules_from_exchange_info(s) for s in symbols
        }
        limits = raw.get("rateLimits") or []
        assert isinstance(limits, list)
        self.rate_limits: Sequence[Mapping[str, object]] = limits
        server_time = raw.get("serverTime")
        self.server_time = server_time if isinstance(server_time, int) else None
        self.raw = raw

    def __repr__(self) -> str:
        return f"ExchangeInfo({len(self.symbols)} symbols)"

    def filters(self, symbol: str) -> SymbolRules:
        """The rules (filters) of ``symbol``.

        Raises:
            InvalidOrder: the exchange does not list ``symbol``.
        """
        try:
            return self.symbols[symbol.upper()]
        except KeyError:
            raise InvalidOrder(
                f"unknown symbol {symbol!r}: not in exchangeInfo",
                endpoint=ENDPOINT,
                hint="Check the symbol's spelling (e.g. BTCUSDT) and that it is listed.",
            ) from None
