"""The gateway's contracts: symbol to conid with its listing, and IB's price-banded tick rules."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal

__all__ = [
    "INCREMENT_RULES",
    "Contract",
    "make_contracts",
    "on_tick",
    "tick_for",
]

# US stocks: sub-dollar prices trade in 0.0001, a dollar and up in 0.01 (Reg NMS rule 612), which
# is how IB's /iserver/contract/rules lists them: one band per lowerEdge.
INCREMENT_RULES: tuple[tuple[Decimal, Decimal], ...] = (
    (Decimal("0"), Decimal("0.0001")),
    (Decimal("1"), Decimal("0.01")),
)

# Real conids and primary listings for the symbols the fixtures name; other symbols get a stable
# made-up conid on NASDAQ.
_KNOWN: dict[str, tuple[int, str, str, str]] = {
    "AAPL": (265598, "NASDAQ", "APPLE INC", "190.00"),
    "MSFT": (272093, "NASDAQ", "MICROSOFT CORP", "380.00"),
    "SPY": (756733, "ARCA", "SPDR S&P 500 ETF TRUST", "455.00"),
    "GOOG": (208813720, "NASDAQ", "ALPHABET INC-CL C", "135.00"),
    "IBKR": (43645865, "NASDAQ", "INTERACTIVE BROKERS GRO-CL A", "85.00"),
}


@dataclass(frozen=True, slots=True)
class Contract:
    """One US stock listing the gateway trades."""

    symbol: str
    conid: int
    exchange: str
    name: str
    start_price: Decimal
    currency: str = "USD"


def make_contracts(
    symbols: tuple[str, ...], start_prices: dict[str, Decimal] | None = None
) -> dict[int, Contract]:
    """The contracts for ``symbols``, by conid (ValueError on an empty or malformed symbol)."""
    if not symbols:
        raise ValueError("LocalIBGateway needs at least one symbol")
    out: dict[int, Contract] = {}
    for raw in symbols:
        symbol = raw.strip().upper()
        if not symbol.isalnum() or len(symbol) > 12:
            raise ValueError(f"not a stock symbol: {raw!r}")
        known = _KNOWN.get(symbol)
        if known is not None:
            conid, exchange, name, price = known
        else:
            conid = 100_000_000 + zlib.crc32(symbol.encode()) % 800_000_000
            exchange, name = "NASDAQ", f"{symbol} INC"
            price = str(20 + zlib.crc32(symbol.encode()[::-1]) % 300)
        start = Decimal(price)
        if start_prices and symbol in start_prices:
            start = Decimal(start_prices[symbol])
            if start <= 0:
                raise ValueError(f"start price of {symbol} must be positive, not {start}")
        out[conid] = Contract(symbol, conid, exchange, name, start)
    return out


def tick_for(price: Decimal) -> Decimal:
    """The price increment that applies at ``price`` (the band whose lowerEdge is below it)."""
    increment = INCREMENT_RULES[0][1]
    for lower_edge, band_increment in INCREMENT_RULES:
        if price >= lower_edge:
            increment = band_increment
    return increment


def on_tick(price: Decimal) -> bool:
    """Whether ``price`` is a whole multiple of the increment of its band."""
    return price > 0 and price % tick_for(price) == 0
