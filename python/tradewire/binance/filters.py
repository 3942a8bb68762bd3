"""Binance's exchangeInfo, read: each symbol's filters as :class:`tradewire.rules.SymbolRules`.

This module only parses Binance's format; rounding and checking an order against the filters
is :mod:`tradewire.rules`' job (quantities floored to ``stepSize``, a BUY price rounded down
and a SELL price up to ``tickSize``, then the filters checked, an order that cannot pass
raising :class:`~tradewire.errors.InvalidOrder` naming the filter, the limit and the value).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradewire.errors import InvalidOrder
from tradewire.rules import ENDPOINT, DecimalInput, PreparedOrder, SymbolRules, to_decimal

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from decimal import Decimal

__all__ = [
    "DecimalInput",
    "ExchangeInfo",
    "PreparedOrder",
    "SymbolFilters",
    "rules_from_exchange_info",
]

SymbolFilters = SymbolRules
"""The rules of one symbol, as the Binance client reads them (the same class)."""


def _dec(raw: object, name: str) -> Decimal:
    return to_decimal(str(raw), name)


def rules_from_exchange_info(entry: Mapping[str, object]) -> SymbolRules:
    """The rules of one symbol of exchangeInfo's ``symbols``.

    Reads PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL, NOTIONAL, PERCENT_PRICE and
    PERCENT_PRICE_BY_SIDE; other filters are not order amounts and are left out.
    """
    kw: dict[str, object] = {}
    filters = entry.get("filters") or []
    assert isinstance(filters, list)
    for f in filters:
        kind = f.get("filterType")
        if kind == "PRICE_FILTER":
            kw.update(
                tick_size=_dec(f["tickSize"], "tickSize"),
                min_price=_dec(f["minPrice"], "minPrice"),
                max_price=_dec(f["maxPrice"], "maxPrice"),
            )
        elif kind == "LOT_SIZE":
            kw.update(
                step_size=_dec(f["stepSize"], "stepSize"),
                min_qty=_dec(f["minQty"], "minQty"),
                max_qty=_dec(f["maxQty"], "maxQty"),
            )
        elif kind == "MARKET_LOT_SIZE":
            kw.update(
                market_step_size=_dec(f["stepSize"], "stepSize"),
                market_min_qty=_dec(f["minQty"], "minQty"),
                market_max_qty=_dec(f["maxQty"], "maxQty"),
            )
        elif kind == "MIN_NOTIONAL":
            kw.update(
                min_notional=_dec(f["minNotional"], "minNotional"),
                min_notional_to_market=bool(f.get("applyToMarket", True)),
                notional_filter="MIN_NOTIONAL",
            )
        elif kind == "NOTIONAL":
            kw.update(
                min_notional=_dec(f.get("minNotional", 0), "minNotional"),
                max_notional=_dec(f.get("maxNotional", 0), "maxNotional"),
                min_notional_to_market=bool(f.get("applyMinToMarket", True)),
                max_notional_to_market=bool(f.get("applyMaxToMarket", False)),
                notional_filter="NOTIONAL",
            )
        elif kind == "PERCENT_PRICE":
            pair = (
                _dec(f["multiplierDown"], "multiplierDown"),
                _dec(f["multiplierUp"], "multiplierUp"),
            )
            kw.update(
                bid_multipliers=pair, ask_multipliers=pair, percent_price_filter="PERCENT_PRICE"
            )
        elif kind == "PERCENT_PRICE_BY_SIDE":
            kw.update(
                bid_multipliers=(
                    _dec(f["bidMultiplierDown"], "bidMultiplierDown"),
                    _dec(f["bidMultiplierUp"], "bidMultiplierUp"),
                ),
                ask_multipliers=(
                    _dec(f["askMultiplierDown"], "askMultiplierDown"),
                    _dec(f["askMultiplierUp"], "askMultiplierUp"),
                ),
                percent_price_filter="PERCENT_PRICE_BY_SIDE",
            )
    kw.setdefault("tick_size", 0)
    kw.setdefault("step_size", 0)
    order_types = entry.get("orderTypes") or []
    assert isinstance(order_types, list)
    return SymbolRules(
        symbol=str(entry["symbol"]),
        status=str(entry.get("status", "TRADING")),
        base_asset=str(entry.get("baseAsset", "")),
        quote_asset=str(entry.get("quoteAsset", "")),
        order_types=frozenset(str(t) for t in order_types),
        **kw,  # type: ignore[arg-type]
    )


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
