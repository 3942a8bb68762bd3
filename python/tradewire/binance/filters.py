"""Symbol filters from exchangeInfo, applied to orders before they are sent (exact decimals).

Quantities are floored to ``stepSize``; a BUY price is rounded down and a SELL price up to
``tickSize`` (never to a worse price than asked); then the price range, the quantity range and the
notional are checked. An order that cannot pass raises :class:`~tradewire.errors.InvalidOrder`
here, naming the filter, the limit and the value, instead of a -1013 from the exchange.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from tradewire._core import ExactDecimal
from tradewire.errors import InvalidOrder

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["DecimalInput", "ExchangeInfo", "PreparedOrder", "SymbolFilters", "to_decimal"]

DecimalInput = str | int | Decimal | ExactDecimal

_CONTEXT = decimal.Context(prec=60, traps=[decimal.InvalidOperation, decimal.DivisionByZero])
_ZERO = Decimal(0)
_MARKET_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})


def to_decimal(value: DecimalInput, name: str = "value") -> Decimal:
    """An exact ``Decimal`` from a decimal string, int, Decimal or ExactDecimal (never a float)."""
    if isinstance(value, (bool, float)):
        raise TypeError(f"{name} must be a decimal string or Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, (int, ExactDecimal)):
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise InvalidOrder(f"{name} {value!r} is not a decimal number") from None
    else:
        raise TypeError(f"{name} must be a decimal string or Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise InvalidOrder(f"{name} {value!r} is not a finite number")
    return result


def _text(value: Decimal) -> str:
    """Plain decimal notation, no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _dec(raw: object) -> Decimal:
    return Decimal(str(raw))


def _floor_to(value: Decimal, step: Decimal) -> Decimal:
    if step <= 0:
        return value
    return _CONTEXT.multiply(_CONTEXT.divide(value, step).to_integral_value(ROUND_FLOOR), step)


def _round_to_tick(value: Decimal, tick: Decimal, side: str) -> Decimal:
    if tick <= 0:
        return value
    rounding = ROUND_FLOOR if side == "BUY" else ROUND_CEILING
    return _CONTEXT.multiply(_CONTEXT.divide(value, tick).to_integral_value(rounding), tick)


@dataclass(frozen=True)
class PreparedOrder:
    """An order's amounts after rounding and checking: exact decimal strings, ready to send."""

    quantity: str | None
    price: str | None
    quote_order_qty: str | None
    stop_price: str | None

    def params(self) -> dict[str, str]:
        """The amounts as Binance parameters (only those that are set)."""
        out = {
            "quantity": self.quantity,
            "quoteOrderQty": self.quote_order_qty,
            "price": self.price,
            "stopPrice": self.stop_price,
        }
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True)
class SymbolFilters:
    """The trading rules of one symbol (exchangeInfo ``symbols[i]``), as exact decimals."""

    symbol: str
    status: str
    base_asset: str
    quote_asset: str
    order_types: frozenset[str]
    tick_size: Decimal = _ZERO
    min_price: Decimal = _ZERO
    max_price: Decimal = _ZERO
    step_size: Decimal = _ZERO
    min_qty: Decimal = _ZERO
    max_qty: Decimal = _ZERO
    market_step_size: Decimal = _ZERO
    market_min_qty: Decimal = _ZERO
    market_max_qty: Decimal = _ZERO
    min_notional: Decimal = _ZERO
    max_notional: Decimal = _ZERO
    min_notional_to_market: bool = True
    max_notional_to_market: bool = False
    # PERCENT_PRICE (same for both sides) or PERCENT_PRICE_BY_SIDE: (down, up) per side.
    bid_multipliers: tuple[Decimal, Decimal] | None = None
    ask_multipliers: tuple[Decimal, Decimal] | None = None

    @classmethod
    def from_exchange_info(cls, entry: Mapping[str, object]) -> SymbolFilters:
        """Read one symbol of exchangeInfo's ``symbols``."""
        kw: dict[str, object] = {}
        filters = entry.get("filters") or []
        assert isinstance(filters, list)
        for f in filters:
            kind = f.get("filterType")
            if kind == "PRICE_FILTER":
                kw.update(
                    tick_size=_dec(f["tickSize"]),
                    min_price=_dec(f["minPrice"]),
                    max_price=_dec(f["maxPrice"]),
                )
            elif kind == "LOT_SIZE":
                kw.update(
                    step_size=_dec(f["stepSize"]),
                    min_qty=_dec(f["minQty"]),
                    max_qty=_dec(f["maxQty"]),
                )
            elif kind == "MARKET_LOT_SIZE":
                kw.update(
                    market_step_size=_dec(f["stepSize"]),
                    market_min_qty=_dec(f["minQty"]),
                    market_max_qty=_dec(f["maxQty"]),
                )
            elif kind == "MIN_NOTIONAL":
                kw.update(
                    min_notional=_dec(f["minNotional"]),
                    min_notional_to_market=bool(f.get("applyToMarket", True)),
                )
            elif kind == "NOTIONAL":
                kw.update(
                    min_notional=_dec(f.get("minNotional", 0)),
                    max_notional=_dec(f.get("maxNotional", 0)),
                    min_notional_to_market=bool(f.get("applyMinToMarket", True)),
                    max_notional_to_market=bool(f.get("applyMaxToMarket", False)),
                )
            elif kind == "PERCENT_PRICE":
                pair = (_dec(f["multiplierDown"]), _dec(f["multiplierUp"]))
                kw.update(bid_multipliers=pair, ask_multipliers=pair)
            elif kind == "PERCENT_PRICE_BY_SIDE":
                kw.update(
                    bid_multipliers=(_dec(f["bidMultiplierDown"]), _dec(f["bidMultiplierUp"])),
                    ask_multipliers=(_dec(f["askMultiplierDown"]), _dec(f["askMultiplierUp"])),
                )
        order_types = entry.get("orderTypes") or []
        assert isinstance(order_types, list)
        return cls(
            symbol=str(entry["symbol"]),
            status=str(entry.get("status", "TRADING")),
            base_asset=str(entry.get("baseAsset", "")),
            quote_asset=str(entry.get("quoteAsset", "")),
            order_types=frozenset(str(t) for t in order_types),
            **kw,  # type: ignore[arg-type]
        )

    def _fail(self, message: str) -> InvalidOrder:
        return InvalidOrder(f"{self.symbol}: {message}", endpoint="local filter check")

    def round_quantity(self, quantity: DecimalInput, *, market: bool = False) -> Decimal:
        """``quantity`` floored to the step size (MARKET_LOT_SIZE's for market orders, if set)."""
        step = self.step_size
        if market and self.market_step_size > 0:
            step = max(step, self.market_step_size)
        return _floor_to(to_decimal(quantity, "quantity"), step)

    def round_price(self, price: DecimalInput, side: str) -> Decimal:
        """``price`` rounded to the tick: down for BUY, up for SELL."""
        return _round_to_tick(to_decimal(price, "price"), self.tick_size, side)

    def prepare(
        self,
        side: str,
        order_type: str,
        *,
        quantity: DecimalInput | None = None,
        quote_order_qty: DecimalInput | None = None,
        price: DecimalInput | None = None,
        stop_price: DecimalInput | None = None,
        reference_price: DecimalInput | None = None,
    ) -> PreparedOrder:
        """Round and check an order's amounts; ``reference_price`` enables notional/percent checks
        of market orders and PERCENT_PRICE (use the symbol's average price).

        Raises:
            InvalidOrder: the order breaks a filter (the message names it, its limit and value).
        """
        try:
            return self._prepare(
                side.upper(),
                order_type.upper(),
                quantity,
                quote_order_qty,
                price,
                stop_price,
                reference_price,
            )
        except InvalidOrder as exc:
            if exc.endpoint is None:  # from to_decimal: say which symbol and where
                raise self._fail(exc.msg) from None
            raise

    def _prepare(
        self,
        side: str,
        order_type: str,
        quantity: DecimalInput | None,
        quote_order_qty: DecimalInput | None,
        price: DecimalInput | None,
        stop_price: DecimalInput | None,
        reference_price: DecimalInput | None,
    ) -> PreparedOrder:
        if side not in ("BUY", "SELL"):
            raise self._fail(f"side must be BUY or SELL, got {side!r}")
        if self.status != "TRADING":
            raise self._fail(f"symbol is not trading (status {self.status})")
        if self.order_types and order_type not in self.order_types:
            allowed = ", ".join(sorted(self.order_types))
            raise self._fail(f"order type {order_type} is not allowed (allowed: {allowed})")
        market = order_type in _MARKET_TYPES
        qty = self._quantity(quantity, market) if quantity is not None else None
        quote_qty = None
        if quote_order_qty is not None:
            quote_qty = to_decimal(quote_order_qty, "quoteOrderQty")
            if quote_qty <= 0:
                raise self._fail(f"quoteOrderQty must be positive, got {_text(quote_qty)}")
        px = self._price(price, side, "price") if price is not None else None
        stop = self._price(stop_price, side, "stopPrice") if stop_price is not None else None
        ref = to_decimal(reference_price, "reference price") if reference_price else None
        if px is not None and ref is not None:
            self._check_percent_price(px, ref, side)
        notional_price = px if px is not None and not market else (ref if market else None)
        if qty is not None and notional_price is not None:
            self._check_notional(_CONTEXT.multiply(qty, notional_price), market)
        elif quote_qty is not None and market:
            self._check_notional(quote_qty, market)
        return PreparedOrder(
            quantity=None if qty is None else _text(qty),
            price=None if px is None else _text(px),
            quote_order_qty=None if quote_qty is None else _text(quote_qty),
            stop_price=None if stop is None else _text(stop),
        )

    def _quantity(self, quantity: DecimalInput, market: bool) -> Decimal:
        raw = to_decimal(quantity, "quantity")
        if raw <= 0:
            raise self._fail(f"quantity must be positive, got {_text(raw)}")
        qty = self.round_quantity(raw, market=market)
        step = self.step_size
        lots: list[tuple[str, Decimal, Decimal]] = [("LOT_SIZE", self.min_qty, self.max_qty)]
        if market and (self.market_max_qty > 0 or self.market_min_qty > 0):
            lots.append(("MARKET_LOT_SIZE", self.market_min_qty, self.market_max_qty))
            step = max(step, self.market_step_size)
        for name, low, high in lots:
            if qty < low or qty <= 0:
                floored = f" (floored to stepSize {_text(step)})" if qty != raw else ""
                raise self._fail(
                    f"quantity {_text(raw)}{floored} is below {name} minQty {_text(low)}"
                    if qty < low
                    else f"quantity {_text(raw)} floors to 0 at stepSize {_text(step)}"
                )
            if high > 0 and qty > high:
                raise self._fail(f"quantity {_text(qty)} is above {name} maxQty {_text(high)}")
        return qty

    def _price(self, value: DecimalInput, side: str, name: str) -> Decimal:
        raw = to_decimal(value, name)
        if raw <= 0:
            raise self._fail(f"{name} must be positive, got {_text(raw)}")
        px = _round_to_tick(raw, self.tick_size, side)
        if self.min_price > 0 and px < self.min_price:
            raise self._fail(
                f"{name} {_text(raw)} is below PRICE_FILTER minPrice {_text(self.min_price)}"
            )
        if self.max_price > 0 and px > self.max_price:
            raise self._fail(
                f"{name} {_text(raw)} is above PRICE_FILTER maxPrice {_text(self.max_price)}"
            )
        return px

    def _check_notional(self, notional: Decimal, market: bool) -> None:
        applies_min = not market or self.min_notional_to_market
        if self.min_notional > 0 and applies_min and notional < self.min_notional:
            raise self._fail(
                f"notional {_text(notional)} (price x quantity) is below the minimum "
                f"notional {_text(self.min_notional)}"
            )
        applies_max = not market or self.max_notional_to_market
        if self.max_notional > 0 and applies_max and notional > self.max_notional:
            raise self._fail(
                f"notional {_text(notional)} (price x quantity) is above the maximum "
                f"notional {_text(self.max_notional)}"
            )

    def _check_percent_price(self, price: Decimal, reference: Decimal, side: str) -> None:
        pair = self.bid_multipliers if side == "BUY" else self.ask_multipliers
        if pair is None:
            return
        low = _CONTEXT.multiply(reference, pair[0])
        high = _CONTEXT.multiply(reference, pair[1])
        if not low <= price <= high:
            raise self._fail(
                f"price {_text(price)} is outside PERCENT_PRICE range "
                f"[{_text(low)}, {_text(high)}] around the average price {_text(reference)}"
            )


class ExchangeInfo:
    """exchangeInfo, read: per-symbol filters and the rate limits."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        symbols = raw.get("symbols") or []
        assert isinstance(symbols, list)
        self.symbols: dict[str, SymbolFilters] = {
            str(s["symbol"]): SymbolFilters.from_exchange_info(s) for s in symbols
        }
        limits = raw.get("rateLimits") or []
        assert isinstance(limits, list)
        self.rate_limits: Sequence[Mapping[str, object]] = limits
        server_time = raw.get("serverTime")
        self.server_time = server_time if isinstance(server_time, int) else None
        self.raw = raw

    def __repr__(self) -> str:
        return f"ExchangeInfo({len(self.symbols)} symbols)"

    def filters(self, symbol: str) -> SymbolFilters:
        """The filters of ``symbol``.

        Raises:
            InvalidOrder: the exchange does not list ``symbol``.
        """
        try:
            return self.symbols[symbol.upper()]
        except KeyError:
            raise InvalidOrder(
                f"unknown symbol {symbol!r}: not in exchangeInfo",
                endpoint="local filter check",
                hint="Check the symbol's spelling (e.g. BTCUSDT) and that it is listed.",
            ) from None
