"""Exact decimal amounts as Binance parses and prints them."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

__all__ = ["ZERO", "floor_to_step", "fmt", "fmt_places", "is_multiple", "parse_amount"]

ZERO = Decimal(0)
# Binance's legal range for decimals, matched against the whole value: ASCII digits only, and no
# trailing newline (``$`` alone would accept ``0.001\n``).
_AMOUNT = re.compile(r"([0-9]{1,20})(\.[0-9]{1,20})?")


def parse_amount(text: str) -> Decimal | None:
    """Parse a decimal parameter in Binance's legal range, or None when it is outside it."""
    if _AMOUNT.fullmatch(text) is None:
        return None
    return Decimal(text)


_FMT_CACHE: dict[Decimal, str] = {}
_FMT_CACHE_LIMIT = 100_000


def fmt(value: Decimal) -> str:
    """Format an amount with 8 decimals, as Binance prints prices and quantities."""
    # The same prices and sizes are printed over and over (every stream message): cache them.
    # A Decimal's hash and equality go by value, and equal values print the same here.
    text = _FMT_CACHE.get(value)
    if text is None:
        if len(_FMT_CACHE) >= _FMT_CACHE_LIMIT:
            _FMT_CACHE.clear()
        text = _FMT_CACHE[value] = fmt_places(value, 8)
    return text


def fmt_places(value: Decimal, places: int) -> str:
    """Format an amount with ``places`` decimals (exact when it has no more digits than that)."""
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):f}"


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round ``value`` down to a multiple of ``step`` (a zero step leaves it unchanged)."""
    if step == 0:
        return value
    return (value // step) * step


def is_multiple(value: Decimal, step: Decimal, base: Decimal = ZERO) -> bool:
    """Whether ``value - base`` is a whole number of ``step``\\ s (always true for a zero step)."""
    return step == 0 or (value - base) % step == 0
