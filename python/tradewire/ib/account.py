"""IB accounts, ledger and positions, with every amount the exact Decimal of IB's number text."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradewire.errors import ParseError

__all__ = ["IBLedgerRow", "IBPosition", "parse_ledger", "parse_positions"]


def _dec(row: dict[str, Any], key: str) -> Decimal:
    value = row.get(key)
    if value is None:
        return Decimal(0)
    if isinstance(value, bool):
        raise ParseError(f"IB field {key} is not a number: {value!r}")
    if isinstance(value, int | Decimal):
        return Decimal(value)
    try:
        return Decimal(str(value).replace(",", ""))
    except ArithmeticError:
        raise ParseError(f"IB field {key} is not a number: {value!r}") from None


@dataclass(frozen=True)
class IBLedgerRow:
    """One currency of ``/portfolio/{acct}/ledger`` (``BASE`` is the account's base currency)."""

    currency: str
    cash: Decimal
    settled_cash: Decimal
    net_liquidation: Decimal
    stock_market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    exchange_rate: Decimal
    timestamp_s: int


def parse_ledger(body: Any) -> dict[str, IBLedgerRow]:
    """The ledger by currency (``USD``, ``BASE``...)."""
    if not isinstance(body, dict):
        raise ParseError("the ledger is not a JSON object")
    out: dict[str, IBLedgerRow] = {}
    for key, row in body.items():
        if not isinstance(row, dict):
            continue
        ts = row.get("timestamp")
        out[str(key)] = IBLedgerRow(
            currency=str(key),
            cash=_dec(row, "cashbalance"),
            settled_cash=_dec(row, "settledcash"),
            net_liquidation=_dec(row, "netliquidationvalue"),
            stock_market_value=_dec(row, "stockmarketvalue"),
            unrealized_pnl=_dec(row, "unrealizedpnl"),
            realized_pnl=_dec(row, "realizedpnl"),
            exchange_rate=_dec(row, "exchangerate"),
            timestamp_s=int(ts) if isinstance(ts, int | Decimal) else 0,
        )
    return out


@dataclass(frozen=True)
class IBPosition:
    """One position (negative ``quantity`` when short)."""

    conid: int
    symbol: str
    exchange: str
    currency: str
    quantity: Decimal
    avg_cost: Decimal
    market_price: Decimal
    market_value: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal


def parse_positions(body: Any) -> list[IBPosition]:
    """The rows of ``/portfolio/{acct}/positions/{page}``."""
    if not isinstance(body, list):
        raise ParseError("the positions page is not a JSON list")
    out = []
    for row in body:
        if not isinstance(row, dict) or not isinstance(row.get("conid"), int):
            raise ParseError(f"a position row without a conid: {row!r}")
        out.append(
            IBPosition(
                conid=row["conid"],
                symbol=str(row.get("ticker") or row.get("contractDesc") or ""),
                exchange=str(row.get("listingExchange") or ""),
                currency=str(row.get("currency") or ""),
                quantity=_dec(row, "position"),
                avg_cost=_dec(row, "avgCost"),
                market_price=_dec(row, "mktPrice"),
                market_value=_dec(row, "mktValue"),
                unrealized_pnl=_dec(row, "unrealizedPnl"),
                realized_pnl=_dec(row, "realizedPnl"),
            )
        )
    return out
