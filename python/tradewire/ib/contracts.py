"""IB contracts: a symbol resolved to one conid with its listing named, and its price/size rules.

A ticker names several listings at IB (AAPL: 265598 on NASDAQ, 38708077 on MEXI, 273982664 on
EBS, and other companies' products with AAPL in their symbol), so resolution always names the
listing: by exchange, or the US listing when none is given; several matches are refused with the
candidates listed (:class:`~tradewire.errors.IBContractError`). The tick size depends on the
price (``incrementRules`` of ``/iserver/contract/rules``: 0.0001 below $1, 0.01 from $1 for US
stocks), so :class:`TickRules` answers ``tick_for(price)``; sizes are whole shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from tradewire.errors import IBContractError, ParseError

__all__ = ["IBContract", "Listing", "TickRules", "parse_tick_rules", "select_listing"]


@dataclass(frozen=True)
class Listing:
    """One listing ``/trsrv/stocks`` names for a symbol."""

    conid: int
    symbol: str
    exchange: str
    is_us: bool
    name: str

    def __str__(self) -> str:
        return f"{self.symbol} {self.conid}@{self.exchange} ({self.name})"


def _listings(body: Any, symbol: str) -> list[Listing]:
    if not isinstance(body, dict):
        raise ParseError(f"/trsrv/stocks answered {type(body).__name__}, not an object")
    out: list[Listing] = []
    for entry in body.get(symbol) or []:
        if not isinstance(entry, dict):
            continue
        for c in entry.get("contracts") or []:
            if isinstance(c, dict) and isinstance(c.get("conid"), int):
                out.append(
                    Listing(
                        conid=c["conid"],
                        symbol=symbol,
                        exchange=str(c.get("exchange") or ""),
                        is_us=c.get("isUS") is True,
                        name=str(entry.get("name") or ""),
                    )
                )
    return out


def select_listing(
    body: Any, symbol: str, *, exchange: str | None = None, us_only: bool = True
) -> Listing:
    """The one listing of ``symbol`` in a ``/trsrv/stocks`` answer.

    Args:
        body: The parsed answer.
        symbol: The ticker (upper case).
        exchange: The listing exchange (``NASDAQ``, ``NYSE``, ``MEXI``...); any when None.
        us_only: Without an exchange, keep only US listings (``isUS``).

    Raises:
        IBContractError: no listing matches, or several do (``candidates`` names them).
    """
    every = _listings(body, symbol)
    found = [
        x
        for x in every
        if (x.exchange == exchange if exchange is not None else (x.is_us or not us_only))
    ]
    if len(found) == 1:
        return found[0]
    where = f" on {exchange}" if exchange else (" in the US" if us_only else "")
    if not found:
        raise IBContractError(
            f"IB lists no {symbol}{where}"
            + (f"; its listings: {', '.join(map(str, every))}" if every else ""),
            candidates=tuple(map(str, every)),
        )
    raise IBContractError(
        f"{symbol}{where} is ambiguous: {', '.join(map(str, found))}; name the exchange",
        candidates=tuple(map(str, found)),
    )


@dataclass(frozen=True)
class TickRules:
    """A contract's price bands (``(lower edge, increment)``, ascending) and size step."""

    bands: tuple[tuple[Decimal, Decimal], ...]
    size_increment: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        if not self.bands or any(inc <= 0 for _, inc in self.bands):
            raise ParseError("incrementRules must hold at least one positive increment")

    def tick_for(self, price: Decimal) -> Decimal:
        """The price increment at ``price`` (the band with the highest edge not above it)."""
        tick = self.bands[0][1]
        for edge, increment in self.bands:
            if price >= edge:
                tick = increment
        return tick

    def on_tick(self, price: Decimal) -> bool:
        """Whether ``price`` is a multiple of its band's increment."""
        return price % self.tick_for(price) == 0

    def round_price(self, price: Decimal, *, up: bool) -> Decimal:
        """``price`` on its band's tick: rounded up (a SELL) or down (a BUY)."""
        tick = self.tick_for(price)
        steps = (price / tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
        return steps * tick

    def round_size(self, quantity: Decimal) -> Decimal:
        """``quantity`` floored to whole steps (whole shares for US stocks)."""
        return (quantity / self.size_increment).to_integral_value(ROUND_FLOOR) * (
            self.size_increment
        )


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.replace(",", ""))
        except ArithmeticError:
            pass
    raise ParseError(f"{name} is not a number: {value!r}")


def parse_tick_rules(body: Any) -> TickRules:
    """:class:`TickRules` from a ``/iserver/contract/rules`` answer (numbers as Decimal)."""
    if not isinstance(body, dict):
        raise ParseError("/iserver/contract/rules did not answer an object")
    raw = body.get("incrementRules")
    bands: list[tuple[Decimal, Decimal]] = []
    if isinstance(raw, list) and raw:
        for rule in raw:
            if not isinstance(rule, dict):
                raise ParseError(f"incrementRules holds {rule!r}")
            bands.append(
                (
                    _decimal(rule.get("lowerEdge"), "lowerEdge"),
                    _decimal(rule.get("increment"), "increment"),
                )
            )
    elif body.get("increment") is not None:
        bands.append((Decimal(0), _decimal(body["increment"], "increment")))
    else:
        raise ParseError("/iserver/contract/rules gave neither incrementRules nor increment")
    size = body.get("sizeIncrement")
    return TickRules(
        bands=tuple(sorted(bands)),
        size_increment=_decimal(size, "sizeIncrement") if size is not None else Decimal(1),
    )


@dataclass(frozen=True)
class IBContract:
    """A resolved contract: conid, display symbol, listing exchange, currency and rules."""

    conid: int
    symbol: str
    exchange: str
    currency: str
    name: str
    rules: TickRules

    @property
    def listing(self) -> str:
        """The listing as people write it: ``AAPL@NASDAQ (USD)``."""
        return f"{self.symbol}@{self.exchange} ({self.currency})"

    def tick_for(self, price: Decimal) -> Decimal:
        """The price increment at ``price``."""
        return self.rules.tick_for(price)
