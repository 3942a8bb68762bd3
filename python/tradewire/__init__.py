"""tradewire: connect trading bots to exchanges.

Binance Spot connectivity, a local Binance-compatible exchange for paper trading, and a Rust core
for what runs per message or per request: request signing, exact decimals, exchange message
parsing and order books.

The bot API is here too, for a strategy file to import from one place (docs/strategy.md)::

    from tradewire import BookUpdate, Strategy, StrategyContext

It is imported on first use, so ``import tradewire`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradewire._core import ExactDecimal, OrderBook, Signer, Verifier, __version__
from tradewire.errors import (
    APIError,
    BookError,
    BookNotSynced,
    DecimalError,
    InvalidKey,
    ParseError,
    SequenceGap,
    SymbolMismatch,
    TradewireError,
)

if TYPE_CHECKING:
    from tradewire.model import (
        Balance,
        BookUpdate,
        Fill,
        MarketTrade,
        Order,
        OrderUpdate,
        SymbolRules,
    )
    from tradewire.trading.strategy import Strategy, StrategyContext

#: The bot API: where each name lives (imported when first asked for).
_BOT_API = {
    "Balance": "tradewire.model",
    "BookUpdate": "tradewire.model",
    "Fill": "tradewire.model",
    "MarketTrade": "tradewire.model",
    "Order": "tradewire.model",
    "OrderUpdate": "tradewire.model",
    "SymbolRules": "tradewire.model",
    "Strategy": "tradewire.trading.strategy",
    "StrategyContext": "tradewire.trading.strategy",
}

__all__ = [
    "APIError",
    "Balance",
    "BookError",
    "BookNotSynced",
    "BookUpdate",
    "DecimalError",
    "ExactDecimal",
    "Fill",
    "InvalidKey",
    "MarketTrade",
    "Order",
    "OrderBook",
    "OrderUpdate",
    "ParseError",
    "SequenceGap",
    "Signer",
    "Strategy",
    "StrategyContext",
    "SymbolMismatch",
    "SymbolRules",
    "TradewireError",
    "Verifier",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _BOT_API.get(name)
    if module is None:
        raise AttributeError(f"module 'tradewire' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_BOT_API))
