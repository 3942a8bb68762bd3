"""Order rules, in one place: what an order must look like before it leaves.

Everything that decides whether an order is well formed lives here and nowhere else: rounding to
the step and the tick, Binance's symbol filters, amount formatting, which statuses are open,
client order ids, the one exact-decimal coercer and commission rounding. The strategy context,
the paper broker and the Binance client all call this module, so one request gives the same
rounded order (or the same error) on every venue. Rounding is done by the Rust core's exact
decimals (:class:`~tradewire.ExactDecimal`).

The local exchange (:mod:`tradewire.exchange`) keeps its own, independent copy of these rules on
purpose: it is the oracle this module is tested against.

Policy, as Binance's filters (filters.md) and the house design want it:

- a quantity is floored to ``stepSize`` (never more than asked);
- a price is rounded to ``tickSize`` away from the market: a BUY down, a SELL up (never a worse
  price than asked);
- then PRICE_FILTER, PERCENT_PRICE(_BY_SIDE), (MARKET_)LOT_SIZE and (MIN_)NOTIONAL are checked;
  a breach raises :class:`~tradewire.errors.InvalidOrder` naming the symbol, the filter, its
  limit and the value.

>>> rules = SymbolRules("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"))
>>> order = rules.prepare("BUY", "LIMIT", quantity="0.001234", price="60000.005")
>>> order.params()
{'quantity': '0.00123', 'price': '60000.00'}
"""

from __future__ import annotations

import decimal
import re
import secrets
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Protocol

from tradewire._core import ExactDecimal
from tradewire.errors import DecimalError, InvalidOrder

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "CLIENT_ORDER_ID_PATTERN",
    "COMMISSION_PLACES",
    "ENDPOINT",
    "OPEN_STATUSES",
    "DecimalInput",
    "OrderLike",
    "PreparedOrder",
    "SymbolRules",
    "commission",
    "floor_to_step",
    "format_amount",
    "is_multiple",
    "is_open",
    "is_valid_client_order_id",
    "new_client_order_id",
    "per_share_commission",
    "places",
    "round_to_tick",
    "rules_from_exchange_info",
    "to_decimal",
]

DecimalInput = Decimal | int | str | ExactDecimal
"""What an amount may be given as: exact values only, never a float."""

ENDPOINT = "local filter check"
"""The ``endpoint`` of every :class:`InvalidOrder` this module raises (nothing was sent)."""

_CTX = decimal.Context(
    prec=100,
    rounding=decimal.ROUND_HALF_UP,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)
_ZERO = Decimal(0)
_E18 = Decimal("1e-18")  # ExactDecimal's resolution
_MARKET_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT"})
_PRICED_TYPES = frozenset({"LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"})
_STOP_MARKET_TYPES = frozenset({"STOP_LOSS", "TAKE_PROFIT"})


# --- exact decimals -------------------------------------------------------------------------------


def to_decimal(
    value: object, name: str = "value", *, error: Callable[[str], Exception] = DecimalError
) -> Decimal:
    """An exact ``Decimal`` from a ``Decimal``, ``int``, decimal string or ``ExactDecimal``.

    Floats (and bools, and anything else) are refused: a float is not the amount the user
    meant. ``error`` builds the exception to raise, so each caller raises its own typed error
    (``JournalError``, ``BotConfigError``, ``InvalidOrder``...); the default is ``DecimalError``.

    Raises:
        DecimalError: (or ``error``) a float, another type, a non-number or a non-finite number.
    """
    if isinstance(value, float):
        raise error(f"{name} must be exact (a decimal string or Decimal), not the float {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, ExactDecimal):
        result = value.to_decimal()
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise error(f"{name} {value!r} is not a decimal number") from None
    else:
        raise error(f"{name} must be a decimal string, int or Decimal, not {type(value).__name__}")
    if not result.is_finite():
        raise error(f"{name} {value!r} is not a finite number")
    return result


def _plain(value: Decimal) -> str:
    """``value`` in plain notation: no exponent, no trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _exact(value: Decimal, rounding: str) -> ExactDecimal:
    """``value`` as an ExactDecimal, first rounded (``rounding``) to its 18 decimals if finer."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: checked by to_decimal
    if exponent < -18:
        value = value.quantize(_E18, rounding=rounding, context=_CTX)
    return ExactDecimal(value)


def places(step: DecimalInput) -> int:
    """How many decimals a multiple of ``step`` needs (``0.01000000`` -> 2, ``10`` -> 0)."""
    return ExactDecimal(to_decimal(step, "step")).decimals


def _as_sent(value: ExactDecimal, step: Decimal) -> Decimal:
    """A rounded ExactDecimal as a ``Decimal`` carrying exactly the step's decimals."""
    return Decimal(value.to_string_fixed(places(step)))


def floor_to_step(value: DecimalInput, step: DecimalInput) -> Decimal:
    """The largest multiple of ``step`` not above ``value``, with the step's decimals.

    A zero step (a disabled filter) leaves ``value`` unchanged.

    Raises:
        DecimalError: a float, or a value outside the exact range (|x| < 1.7e20).
    """
    v, s = to_decimal(value, "value"), to_decimal(step, "step")
    if s <= 0:
        return v
    return _as_sent(_exact(v, ROUND_FLOOR).floor_to(s), s)


def round_to_tick(value: DecimalInput, tick: DecimalInput, side: str | None) -> Decimal:
    """``value`` on the tick, away from the market: down for a BUY, up for a SELL.

    With no side the nearest tick is taken (a tie goes to the even tick), for prices that are
    not yet an order's (a grid's lines). A zero tick leaves ``value`` unchanged.

    Raises:
        DecimalError: a float, or a value outside the exact range.
        InvalidOrder: ``side`` is not BUY, SELL or None.
    """
    v, t = to_decimal(value, "price"), to_decimal(tick, "tick")
    if side not in ("BUY", "SELL", None):
        raise InvalidOrder(f"side must be BUY or SELL, got {side!r}", endpoint=ENDPOINT)
    if t <= 0:
        return v
    if side == "BUY":
        return _as_sent(_exact(v, ROUND_FLOOR).round_to_tick(t, "BUY"), t)
    if side == "SELL":
        return _as_sent(_exact(v, ROUND_CEILING).round_to_tick(t, "SELL"), t)
    low = _exact(v, ROUND_FLOOR).floor_to(t)
    high = _exact(v, ROUND_CEILING).ceil_to(t)
    below, above = v - low.to_decimal(), high.to_decimal() - v
    if below == above:  # a tie: the even multiple of the tick
        even = int(low.div_trunc(t).to_decimal()) % 2 == 0
        return _as_sent(low if even else high, t)
    return _as_sent(low if below < above else high, t)


def is_multiple(value: DecimalInput, step: DecimalInput) -> bool:
    """Whether ``value % step == 0`` (Binance's test); always true for a zero step."""
    v, s = to_decimal(value, "value"), to_decimal(step, "step")
    return s <= 0 or _CTX.remainder(v, s) == 0


def format_amount(value: DecimalInput, step: DecimalInput | None = None) -> str:
    """``value`` as sent to the exchange: plain notation, with exactly the step's decimals.

    Without a step (or with a zero one) the value is written plainly, without trailing zeros.

    Raises:
        DecimalError: ``value`` has more decimals than the step allows (round it first).
    """
    v = to_decimal(value, "value")
    s = _ZERO if step is None else to_decimal(step, "step")
    if s <= 0:
        return _plain(v)
    try:
        return ExactDecimal(v.normalize(_CTX)).to_string_fixed(places(s))
    except ValueError as exc:
        raise DecimalError(f"{_plain(v)} is not on the step {_plain(s)}: {exc}") from None


# --- orders ---------------------------------------------------------------------------------------

OPEN_STATUSES = frozenset({"NEW", "PENDING_NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"})
"""Statuses of an order still working on the exchange.

Binance's order statuses (enums.md): ``NEW``, ``PENDING_NEW`` (an order list's order waiting
for its working order to fill), ``PARTIALLY_FILLED`` and ``PENDING_CANCEL`` (documented as
"currently unused") are open; ``FILLED``, ``CANCELED``, ``REJECTED``, ``EXPIRED`` and
``EXPIRED_IN_MATCH`` are final.
"""


def is_open(status: str) -> bool:
    """Whether an order with this status is still working on the exchange."""
    return status in OPEN_STATUSES


CLIENT_ORDER_ID_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,36}$")
"""Binance's rule for ``newClientOrderId``: 1 to 36 letters, digits, ``-`` and ``_``.

This is the legal range Binance's -1100 answer states for client order ids
(``^[a-zA-Z0-9-_]{1,36}$``). Older documents also allowed ``.``, ``:`` and ``/``; ids made here
never use them.
"""


def is_valid_client_order_id(client_order_id: str) -> bool:
    """Whether Binance accepts ``client_order_id`` as a ``newClientOrderId``."""
    return CLIENT_ORDER_ID_PATTERN.match(client_order_id) is not None


def new_client_order_id(prefix: str = "tw") -> str:
    """A fresh client order id: ``PREFIX-`` and 16 random hex digits (at most 36 characters).

    Characters Binance does not allow are dropped from ``prefix``, which is cut to 19.
    """
    prefix = re.sub(r"[^a-zA-Z0-9_-]", "", prefix)[:19]
    token = secrets.token_hex(8)
    return f"{prefix}-{token}" if prefix else token


COMMISSION_PLACES = 8
"""Decimals of a commission (``baseCommissionPrecision``/``quoteCommissionPrecision``: 8)."""


def commission(
    received: DecimalInput, rate: DecimalInput, decimals: int = COMMISSION_PLACES
) -> Decimal:
    """The commission on ``received`` (the amount the fill gives: base for a BUY, the notional
    for a SELL) at ``rate``, rounded to the nearest ``decimals``-th (half up).

    Source: Binance's commission FAQ (binance-spot-api-docs ``faqs/commission_faq.md``, "How is
    the commission calculated?"): the commission is the received amount times the sum of the
    rates, and its worked example writes 17491.25 x 0.0000023 = 0.040229875 as 0.04022988 USDT,
    i.e. rounded to the nearest at 8 decimals. The FAQ states no rule beyond that example; the
    local exchange (``tradewire.exchange``), the oracle this module is tested against, follows
    the same example.

    Raises:
        DecimalError: a float, or an amount outside the exact range.
    """
    product = _CTX.multiply(to_decimal(received, "amount"), to_decimal(rate, "rate"))
    quantum = Decimal(1).scaleb(-decimals)
    return _CTX.quantize(product, quantum).quantize(quantum)


def per_share_commission(
    quantity: Decimal,
    price: Decimal,
    *,
    per_share: Decimal = Decimal("0.005"),
    minimum: Decimal = Decimal("1.00"),
    max_fraction: Decimal = Decimal("0.01"),
    cent: Decimal = Decimal("0.01"),
) -> Decimal:
    """A broker's per-share commission in cash, rounded half up to the cent: ``per_share`` a
    share, at least ``minimum``, at most ``max_fraction`` of the trade value (IBKR Pro fixed
    for US stocks by default: USD 0.005 a share, USD 1.00 minimum, 1% maximum).

    >>> per_share_commission(Decimal(100), Decimal("190"))
    Decimal('1.00')
    >>> per_share_commission(Decimal(1000), Decimal("190"))
    Decimal('5.00')
    >>> per_share_commission(Decimal(10), Decimal("5"))
    Decimal('0.50')
    """
    fee = min(max(quantity * per_share, minimum), quantity * price * max_fraction)
    return fee.quantize(cent, decimal.ROUND_HALF_UP)


class OrderLike(Protocol):
    """What :meth:`SymbolRules.check` reads from an order request."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def quantity(self) -> Decimal: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def stop_price(self) -> Decimal | None: ...


@dataclass(frozen=True)
class PreparedOrder:
    """An order's amounts after rounding and checking, each with its step's or tick's decimals.

    ``str()`` of each amount is exactly what is sent.
    """

    quantity: Decimal | None
    price: Decimal | None
    quote_order_qty: Decimal | None = None
    stop_price: Decimal | None = None

    def params(self) -> dict[str, str]:
        """The amounts as Binance parameters (only those that are set), as sent."""
        out = {
            "quantity": self.quantity,
            "quoteOrderQty": self.quote_order_qty,
            "price": self.price,
            "stopPrice": self.stop_price,
        }
        return {k: format(v, "f") for k, v in out.items() if v is not None}


_AMOUNTS = (
    "tick_size",
    "step_size",
    "min_qty",
    "min_notional",
    "max_qty",
    "min_price",
    "max_price",
    "market_step_size",
    "market_min_qty",
    "market_max_qty",
    "max_notional",
)


@dataclass(frozen=True)
class SymbolRules:
    """A symbol's trading rules (Binance's symbol filters), as exact decimals.

    A zero limit is an unset one (as in Binance's PRICE_FILTER). Build it from exchangeInfo
    with :func:`rules_from_exchange_info`, or directly.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal = _ZERO
    min_notional: Decimal = _ZERO
    _: KW_ONLY
    max_qty: Decimal = _ZERO
    min_price: Decimal = _ZERO
    max_price: Decimal = _ZERO
    market_step_size: Decimal = _ZERO
    market_min_qty: Decimal = _ZERO
    market_max_qty: Decimal = _ZERO
    max_notional: Decimal = _ZERO
    min_notional_to_market: bool = True
    max_notional_to_market: bool = False
    notional_filter: str = "NOTIONAL"
    """The filter that set the notional limits: ``NOTIONAL`` or ``MIN_NOTIONAL``."""
    bid_multipliers: tuple[Decimal, Decimal] | None = None
    """PERCENT_PRICE(_BY_SIDE) for a BUY: (multiplierDown, multiplierUp)."""
    ask_multipliers: tuple[Decimal, Decimal] | None = None
    """PERCENT_PRICE(_BY_SIDE) for a SELL: (multiplierDown, multiplierUp)."""
    percent_price_filter: str = "PERCENT_PRICE"
    """The filter that set the multipliers: ``PERCENT_PRICE`` or ``PERCENT_PRICE_BY_SIDE``."""
    status: str = "TRADING"
    order_types: frozenset[str] = frozenset()
    """Order types the symbol allows (empty: not known, none refused)."""
    tick_schedule: tuple[tuple[Decimal, Decimal], ...] = ()
    """Price bands ``(lower edge, tick)``, ascending: the tick at a price is the one of the
    band with the highest edge not above it (IB's ``incrementRules``). Empty: ``tick_size``
    everywhere (Binance)."""
    instrument_id: str = ""
    """The venue's id of the instrument (IB's conid); empty where the symbol is the id."""

    def __post_init__(self) -> None:
        for name in _AMOUNTS:
            value = to_decimal(getattr(self, name), name)
            if value < 0:
                raise DecimalError(f"{self.symbol}: {name} must not be negative, got {value}")
            object.__setattr__(self, name, value)
        if self.tick_schedule:
            bands = tuple(
                sorted(
                    (to_decimal(edge, "tick band edge"), to_decimal(tick, "tick"))
                    for edge, tick in self.tick_schedule
                )
            )
            if any(tick <= 0 for _, tick in bands):
                raise DecimalError(f"{self.symbol}: every tick of a tick schedule must be positive")
            object.__setattr__(self, "tick_schedule", bands)

    def tick_for(self, price: DecimalInput) -> Decimal:
        """The tick at ``price``: its band's in the tick schedule, else ``tick_size``."""
        if not self.tick_schedule:
            return self.tick_size
        px = to_decimal(price, "price")
        tick = self.tick_schedule[0][1]
        for edge, band_tick in self.tick_schedule:
            if px < edge:
                break
            tick = band_tick
        return tick

    # --- rounding ---------------------------------------------------------------------------

    def _market_step(self) -> Decimal:
        return max(self.step_size, self.market_step_size)

    def floor_quantity(self, quantity: DecimalInput, *, market: bool = False) -> Decimal:
        """``quantity`` floored to the step size (MARKET_LOT_SIZE's too for a market order)."""
        step = self._market_step() if market else self.step_size
        return floor_to_step(quantity, step)

    def round_price(self, price: DecimalInput, side: str | None = None) -> Decimal:
        """``price`` on the tick (its band's, with a tick schedule): a BUY rounds down, a SELL
        up, no side to the nearest."""
        return round_to_tick(price, self.tick_for(price), side)

    # --- checking ---------------------------------------------------------------------------

    def _fail(self, message: str) -> InvalidOrder:
        return InvalidOrder(f"{self.symbol}: {message}", endpoint=ENDPOINT)

    def _dec(self, value: object, name: str) -> Decimal:
        return to_decimal(value, name, error=self._fail)

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
        rounding: bool = True,
    ) -> PreparedOrder:
        """Round an order's amounts to the rules and check them: what is sent, or an error.

        The quantity is floored to the step, the price (and stop price) rounded to the tick
        away from the market; ``reference_price`` (the average price) enables the notional
        check of market orders given by quantity and PERCENT_PRICE. A stop-market (STOP_LOSS,
        TAKE_PROFIT) without one has its notional checked at its stop price. With ``rounding=False``
        nothing is rounded: an amount off the step or tick is refused instead.

        Raises:
            InvalidOrder: the order breaks a rule; the message names the symbol, the filter,
                its limit and the value.
        """
        side, order_type = side.upper(), order_type.upper()
        if side not in ("BUY", "SELL"):
            raise self._fail(f"side must be BUY or SELL, got {side!r}")
        if self.status != "TRADING":
            raise self._fail(f"symbol is not trading (status {self.status})")
        if self.order_types and order_type not in self.order_types:
            allowed = ", ".join(sorted(self.order_types))
            raise self._fail(f"order type {order_type} is not allowed (allowed: {allowed})")
        if order_type in _MARKET_TYPES and price is not None:
            raise self._fail(f"a {order_type} order takes no price")
        if order_type in _PRICED_TYPES and price is None:
            raise self._fail(f"a {order_type} order needs a price")
        market = order_type in _MARKET_TYPES
        px = None if price is None else self._price(price, side, "price", rounding)
        stop = None if stop_price is None else self._price(stop_price, side, "stopPrice", rounding)
        ref = None if reference_price is None else self._dec(reference_price, "reference price")
        if px is not None and ref is not None:
            self._check_percent_price(px, ref, side)
        qty = None if quantity is None else self._quantity(quantity, market, rounding)
        quote_qty = None
        if quote_order_qty is not None:
            quote_qty = self._dec(quote_order_qty, "quoteOrderQty")
            if quote_qty <= 0:
                raise self._fail(f"quoteOrderQty must be positive, got {_plain(quote_qty)}")
        notional_price = ref if market else px
        if order_type in _STOP_MARKET_TYPES and notional_price is None:
            notional_price = stop  # a stop-market's notional at the price it triggers at
        if qty is not None and notional_price is not None:
            self._check_notional(_CTX.multiply(qty, notional_price), market)
        elif quote_qty is not None and market:
            self._check_notional(quote_qty, market)
        return PreparedOrder(quantity=qty, price=px, quote_order_qty=quote_qty, stop_price=stop)

    def check(self, request: OrderLike, reference_price: DecimalInput | None = None) -> None:
        """Refuse ``request`` if it breaks a rule as it is (nothing is rounded).

        Raises:
            InvalidOrder: the order is for another symbol or breaks a rule (named).
        """
        if request.symbol != self.symbol:
            raise self._fail(f"the order is for {request.symbol}, the rules for {self.symbol}")
        self.prepare(
            request.side,
            request.type,
            quantity=request.quantity,
            price=request.price,
            stop_price=request.stop_price,
            reference_price=reference_price,
            rounding=False,
        )

    def _quantity(self, value: object, market: bool, rounding: bool) -> Decimal:
        raw = self._dec(value, "quantity")
        if raw <= 0:
            raise self._fail(f"quantity must be positive, got {_plain(raw)}")
        lots: list[tuple[str, Decimal, Decimal, Decimal]] = []
        if market and (self.market_max_qty > 0 or self.market_min_qty > 0):
            lots.append(
                (
                    "MARKET_LOT_SIZE",
                    self.market_min_qty,
                    self.market_max_qty,
                    self.market_step_size,
                )
            )
        lots.append(("LOT_SIZE", self.min_qty, self.max_qty, self.step_size))
        step = self._market_step() if market else self.step_size
        try:
            qty = floor_to_step(raw, step) if rounding else raw
        except DecimalError as exc:
            raise self._fail(f"quantity {_plain(raw)} is out of range: {exc}") from None
        floored = "" if qty == raw else f" (floored to stepSize {_plain(step)})"
        for name, low, high, lot_step in lots:
            if not is_multiple(qty, lot_step):
                raise self._fail(
                    f"quantity {_plain(qty)} is not a multiple of {name} stepSize "
                    f"{_plain(lot_step)}"
                )
            if qty < low:
                raise self._fail(
                    f"quantity {_plain(raw)}{floored} is below {name} minQty {_plain(low)}"
                )
            if qty <= 0:
                raise self._fail(
                    f"quantity {_plain(raw)} floors to 0 at {name} stepSize {_plain(step)}"
                )
            if high > 0 and qty > high:
                raise self._fail(f"quantity {_plain(qty)} is above {name} maxQty {_plain(high)}")
        return qty if step <= 0 else Decimal(format_amount(qty, step))

    def _price(self, value: object, side: str, name: str, rounding: bool) -> Decimal:
        raw = self._dec(value, name)
        if raw <= 0:
            raise self._fail(f"{name} must be positive, got {_plain(raw)}")
        tick = self.tick_for(raw)
        try:
            px = round_to_tick(raw, tick, side) if rounding else raw
        except DecimalError as exc:
            raise self._fail(f"{name} {_plain(raw)} is out of range: {exc}") from None
        if not is_multiple(px, tick):
            raise self._fail(
                f"{name} {_plain(px)} is not a multiple of PRICE_FILTER tickSize {_plain(tick)}"
            )
        rounded = "" if px == raw else f" (rounded to tickSize {_plain(tick)})"
        if self.min_price > 0 and px < self.min_price:
            raise self._fail(
                f"{name} {_plain(raw)}{rounded} is below PRICE_FILTER minPrice "
                f"{_plain(self.min_price)}"
            )
        if self.max_price > 0 and px > self.max_price:
            raise self._fail(
                f"{name} {_plain(raw)}{rounded} is above PRICE_FILTER maxPrice "
                f"{_plain(self.max_price)}"
            )
        return px if tick <= 0 else Decimal(format_amount(px, tick))

    def _check_notional(self, notional: Decimal, market: bool) -> None:
        rule = self.notional_filter
        applies_min = not market or self.min_notional_to_market
        if self.min_notional > 0 and applies_min and notional < self.min_notional:
            raise self._fail(
                f"notional {_plain(notional)} (price x quantity) is below {rule} minNotional "
                f"{_plain(self.min_notional)}"
            )
        applies_max = not market or self.max_notional_to_market
        if self.max_notional > 0 and applies_max and notional > self.max_notional:
            raise self._fail(
                f"notional {_plain(notional)} (price x quantity) is above {rule} maxNotional "
                f"{_plain(self.max_notional)}"
            )

    def _check_percent_price(self, price: Decimal, reference: Decimal, side: str) -> None:
        pair = self.bid_multipliers if side == "BUY" else self.ask_multipliers
        if pair is None:
            return
        low, high = _CTX.multiply(reference, pair[0]), _CTX.multiply(reference, pair[1])
        if not low <= price <= high:
            raise self._fail(
                f"price {_plain(price)} is outside the {self.percent_price_filter} range "
                f"[{_plain(low)}, {_plain(high)}] (multipliers {_plain(pair[0])} to "
                f"{_plain(pair[1])} of the average price {_plain(reference)})"
            )


# --- Binance's symbol filters -----------------------------------------------------------------


def rules_from_exchange_info(
    entry: Mapping[str, object], *, error: Callable[[str], Exception] = DecimalError
) -> SymbolRules:
    """The rules of one symbol of exchangeInfo's ``symbols`` (one parser for every caller).

    Reads PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE, MIN_NOTIONAL and its successor NOTIONAL,
    PERCENT_PRICE and PERCENT_PRICE_BY_SIDE; other filters are not order amounts and are left
    out. The Binance client reads the exchange's answer with it, the backtests their built-in
    table and a user's exchangeInfo file.

    Raises:
        DecimalError: (or ``error``) the entry is not a symbol with well-formed filters.
    """
    try:
        return _parse_symbol(entry)
    except (KeyError, TypeError, AttributeError, DecimalError) as exc:
        name = entry.get("symbol", "?") if isinstance(entry, Mapping) else "?"
        what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise error(f"exchangeInfo symbol {name}: malformed filters ({what})") from None


def _filter_dec(f: Mapping[str, object], key: str, default: object = None) -> Decimal:
    raw = f[key] if default is None else f.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise DecimalError(f"{f.get('filterType')} {key} must be a decimal string, got {raw!r}")
    return to_decimal(str(raw), key)


def _parse_symbol(entry: Mapping[str, object]) -> SymbolRules:
    kw: dict[str, object] = {}
    filters = entry.get("filters") or []
    if not isinstance(filters, list) or not all(isinstance(f, Mapping) for f in filters):
        raise TypeError("filters must be a list of objects")
    for f in filters:
        kind = f.get("filterType")
        if kind == "PRICE_FILTER":
            kw.update(
                tick_size=_filter_dec(f, "tickSize"),
                min_price=_filter_dec(f, "minPrice"),
                max_price=_filter_dec(f, "maxPrice"),
            )
        elif kind == "LOT_SIZE":
            kw.update(
                step_size=_filter_dec(f, "stepSize"),
                min_qty=_filter_dec(f, "minQty"),
                max_qty=_filter_dec(f, "maxQty"),
            )
        elif kind == "MARKET_LOT_SIZE":
            kw.update(
                market_step_size=_filter_dec(f, "stepSize"),
                market_min_qty=_filter_dec(f, "minQty"),
                market_max_qty=_filter_dec(f, "maxQty"),
            )
        elif kind == "MIN_NOTIONAL":
            kw.update(
                min_notional=_filter_dec(f, "minNotional"),
                min_notional_to_market=bool(f.get("applyToMarket", True)),
                notional_filter="MIN_NOTIONAL",
            )
        elif kind == "NOTIONAL":
            kw.update(
                min_notional=_filter_dec(f, "minNotional", 0),
                max_notional=_filter_dec(f, "maxNotional", 0),
                min_notional_to_market=bool(f.get("applyMinToMarket", True)),
                max_notional_to_market=bool(f.get("applyMaxToMarket", False)),
                notional_filter="NOTIONAL",
            )
        elif kind == "PERCENT_PRICE":
            pair = (_filter_dec(f, "multiplierDown"), _filter_dec(f, "multiplierUp"))
            kw.update(
                bid_multipliers=pair, ask_multipliers=pair, percent_price_filter="PERCENT_PRICE"
            )
        elif kind == "PERCENT_PRICE_BY_SIDE":
            kw.update(
                bid_multipliers=(
                    _filter_dec(f, "bidMultiplierDown"),
                    _filter_dec(f, "bidMultiplierUp"),
                ),
                ask_multipliers=(
                    _filter_dec(f, "askMultiplierDown"),
                    _filter_dec(f, "askMultiplierUp"),
                ),
                percent_price_filter="PERCENT_PRICE_BY_SIDE",
            )
    kw.setdefault("tick_size", 0)
    kw.setdefault("step_size", 0)
    order_types = entry.get("orderTypes") or []
    if not isinstance(order_types, list):
        raise TypeError("orderTypes must be a list")
    return SymbolRules(
        symbol=str(entry["symbol"]),
        status=str(entry.get("status", "TRADING")),
        base_asset=str(entry.get("baseAsset", "")),
        quote_asset=str(entry.get("quoteAsset", "")),
        order_types=frozenset(str(t) for t in order_types),
        **kw,  # type: ignore[arg-type]
    )
