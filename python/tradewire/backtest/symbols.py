"""The trading rules backtests use when none are given: Binance spot's, from a real exchangeInfo.

The built-in rules are those of the 15 symbols of a real ``/api/v3/exchangeInfo`` answer of
2021-10-12 (server time 1633998511098; ``tests/data/binance/exchangeInfo-2021-10-subset.json``,
from cryptofeed's sample data): PRICE_FILTER, PERCENT_PRICE, LOT_SIZE, MARKET_LOT_SIZE and
MIN_NOTIONAL as Binance listed them that day (today's Binance lists NOTIONAL in place of
MIN_NOTIONAL, and its minimums may differ). They go through the same parser as the Binance
client's answers, :func:`tradewire.rules.rules_from_exchange_info`.

For another symbol, or another day's rules, give an exchangeInfo file (``exchange_info=``,
``--exchange-info FILE``) or ``rules=SymbolRules(...)``. An unknown symbol is an error, never
an invented market.

>>> rules = default_rules("ETHBTC")
>>> rules.tick_size, rules.step_size, rules.quote_asset
(Decimal('0.000001'), Decimal('0.0001'), 'BTC')
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from os import PathLike, fspath
from typing import TypeAlias

from tradewire.errors import BacktestError
from tradewire.rules import SymbolRules, rules_from_exchange_info

__all__ = [
    "EXCHANGE_INFO_SOURCE",
    "KNOWN_SYMBOLS",
    "ExchangeInfoSource",
    "default_rules",
    "load_exchange_info",
]

EXCHANGE_INFO_SOURCE = (
    "Binance spot /api/v3/exchangeInfo of 2021-10-12 (serverTime 1633998511098), 15 symbols "
    "(tests/data/binance/exchangeInfo-2021-10-subset.json, cryptofeed sample data)"
)
"""Where the built-in rules come from."""

ExchangeInfoSource: TypeAlias = "str | PathLike[str] | Mapping[str, object]"
"""An exchangeInfo: a JSON file's path, or the parsed body (``{"symbols": [...]}``)."""

# The filters of that answer, one symbol a line. The same for every symbol, so not repeated:
# minPrice = tickSize; MARKET_LOT_SIZE stepSize and minQty 0; MIN_NOTIONAL applyToMarket true;
# PERCENT_PRICE multiplierDown 0.2, multiplierUp 5; the order types below.
_TABLE = """
symbol    base   quote tickSize   maxPrice stepSize minQty  maxQty      minNotional marketMaxQty
ETHBTC    ETH    BTC   0.000001   922327   0.0001   0.0001  100000      0.0001      873.90727776
BTCUSDT   BTC    USDT  0.01       1000000  0.00001  0.00001 9000        10          100.05381873
ETHUSDT   ETH    USDT  0.01       1000000  0.0001   0.0001  9000        10          1600.51202668
LRCBTC    LRC    BTC   0.00000001 1000     1        1       90000000    0.0001      361723.84572619
BNBUSDT   BNB    USDT  0.1        100000   0.001    0.001   900000      10          28160.593369
XMRBTC    XMR    BTC   0.000001   1000     0.001    0.001   10000000    0.0001      2287.87158095
BLZETH    BLZ    ETH   0.00000001 1000     1        1       90000000    0.005       262095.4447533
XRPUSDT   XRP    USDT  0.0001     10000    1        1       9222449     10          9222449
FTMUSDT   FTM    USDT  0.0001     1000     1        1       9000000     10          1350167.27936066
DOGEUSDT  DOGE   USDT  0.0001     1000     1        1       9000000     10          32613681.7095205
NKNUSDT   NKN    USDT  0.0001     1000     1        1       9000000     10          691026.0799166
SXPBTC    SXP    BTC   0.00000001 1000     0.1      0.1     90000000    0.0001      131589.14371091
BADGERBTC BADGER BTC   0.0000001  1000     0.01     0.01    90000000    0.0001      4350.26739402
SHIBUSDT  SHIB   USDT  0.00000001 1        1        1       46116860414 10          46116860414
RUNEEUR   RUNE   EUR   0.001      10000    0.1      0.1     9222449     10          9053.11035441
"""
_ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]


def _entry(row: str) -> dict[str, object]:
    """One table row as the exchangeInfo ``symbols`` entry it was taken from."""
    symbol, base, quote, tick, max_price, step, min_qty, max_qty, min_notional, mkt_max = (
        row.split()
    )
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": base,
        "quoteAsset": quote,
        "orderTypes": _ORDER_TYPES,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": max_price,
                "tickSize": tick,
            },
            {"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0.2"},
            {"filterType": "LOT_SIZE", "minQty": min_qty, "maxQty": max_qty, "stepSize": step},
            {"filterType": "MIN_NOTIONAL", "minNotional": min_notional, "applyToMarket": True},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0", "maxQty": mkt_max, "stepSize": "0"},
        ],
    }


def _builtin() -> dict[str, SymbolRules]:
    entries = [_entry(row) for row in _TABLE.strip().splitlines()[1:]]
    return _rules_of({"symbols": entries}, "the built-in exchangeInfo")


def _rules_of(info: Mapping[str, object], where: str) -> dict[str, SymbolRules]:
    symbols = info.get("symbols")
    if not isinstance(symbols, list) or not symbols:
        raise BacktestError(f"{where}: not an exchangeInfo (no 'symbols' list)")
    rules: dict[str, SymbolRules] = {}
    for entry in symbols:
        if not isinstance(entry, Mapping):
            raise BacktestError(f"{where}: a 'symbols' entry is not an object: {entry!r:.60}")
        parsed = rules_from_exchange_info(entry, error=lambda m: BacktestError(f"{where}: {m}"))
        rules[parsed.symbol.upper()] = parsed
    return rules


def load_exchange_info(source: ExchangeInfoSource) -> dict[str, SymbolRules]:
    """The rules of every symbol of an exchangeInfo (a JSON file or its parsed body), by symbol.

    Binance's filters as they were on the day of the file: MIN_NOTIONAL and today's NOTIONAL
    both work.

    Raises:
        BacktestError: the file cannot be read, is not JSON or not an exchangeInfo, or a
            symbol's filters are malformed.
    """
    if isinstance(source, Mapping):
        return _rules_of(source, "exchangeInfo")
    path = fspath(source)
    try:
        with open(path, encoding="utf-8") as f:
            info = json.load(f)
    except OSError as exc:
        raise BacktestError(f"cannot read the exchangeInfo file {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BacktestError(f"the exchangeInfo file {path} is not JSON: {exc}") from None
    if not isinstance(info, dict):
        raise BacktestError(f"{path}: not an exchangeInfo (a JSON object with 'symbols')")
    return _rules_of(info, path)


_BUILTIN = _builtin()
KNOWN_SYMBOLS: tuple[str, ...] = tuple(sorted(_BUILTIN))
"""The symbols with built-in rules."""


def default_rules(symbol: str, exchange_info: ExchangeInfoSource | None = None) -> SymbolRules:
    """The rules of ``symbol``: from ``exchange_info`` if given, else the built-in ones.

    Args:
        symbol: The symbol, e.g. ``"ETHBTC"`` (any case).
        exchange_info: An exchangeInfo JSON file (or its parsed body) to take the rules from.

    Raises:
        BacktestError: the symbol is not listed (pass ``exchange_info=`` or
            ``rules=SymbolRules(...)``), or the exchangeInfo cannot be read.
    """
    name = symbol.upper()
    table = _BUILTIN if exchange_info is None else load_exchange_info(exchange_info)
    rules = table.get(name)
    if rules is None:
        if exchange_info is None:
            raise BacktestError(
                f"no built-in trading rules for {symbol!r} (built in: {', '.join(KNOWN_SYMBOLS)}): "
                "give the symbol's exchangeInfo (exchange_info=, --exchange-info FILE) or "
                "rules=SymbolRules(...)"
            )
        raise BacktestError(f"{symbol!r} is not in the exchangeInfo given ({len(table)} symbols)")
    return rules
