"""tradewire: connect trading bots to exchanges.

Binance Spot connectivity, a local Binance-compatible exchange for paper trading, and a Rust core
for what runs per message or per request: request signing, exact decimals, exchange message
parsing and order books.
"""

from __future__ import annotations

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

__all__ = [
    "APIError",
    "BookError",
    "BookNotSynced",
    "DecimalError",
    "ExactDecimal",
    "InvalidKey",
    "OrderBook",
    "ParseError",
    "SequenceGap",
    "Signer",
    "SymbolMismatch",
    "TradewireError",
    "Verifier",
    "__version__",
]
