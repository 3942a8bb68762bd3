"""Bot parameters, their order ladders, and their validation against a symbol's rules.

Names follow what users know: Pionex/3Commas grid (``lower_price``, ``upper_price``,
``grid_number``, ``grid_mode`` arithmetic or geometric, ``investment`` or
``quantity_per_grid``, ``stop_loss``, ``take_profit``) and 3Commas DCA (``base_order_size``,
``safety_order_size``, ``max_safety_orders``, ``price_deviation``, ``safety_order_step_scale``,
``safety_order_volume_scale``, ``take_profit``, ``stop_loss``; percentages as numbers, sizes in
the quote asset). Everything is ``Decimal``; prices are put on the tick, quantities on the step.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal, localcontext
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

from tradewire.errors import BotConfigError
from tradewire.rules import to_decimal

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tradewire.model import Balance, SymbolRules

__all__ = [
    "BINANCE_FEE",
    "DEFAULT_FEE_MULTIPLE",
    "DcaParams",
    "GridParams",
    "SafetyOrder",
    "ceil_quantity",
    "check_fees",
    "check_funds",
    "dca_ladder",
    "default_grid_step",
    "default_take_profit",
    "grid_levels",
    "grid_line",
    "grid_quantity",
    "infinity_quantity",
    "params_from_record",
    "params_record",
    "venue_fees",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)

BINANCE_FEE = Decimal("0.001")
"""Binance spot's default commission rate, maker and taker (0.1%), when the run knows no other."""

DEFAULT_FEE_MULTIPLE = Decimal("2.5")
"""How many round-trip fees the default grid step and DCA take profit are at least worth."""

_MIN_GRID_STEP = Decimal("0.005")  # 0.5% of the price
_MIN_TAKE_PROFIT = Decimal(1)  # percent


@dataclass(frozen=True)
class GridParams:
    """A spot grid: buy low, sell high between ``lower_price`` and ``upper_price``."""

    lower_price: Decimal
    upper_price: Decimal
    grid_number: int
    grid_mode: Literal["arithmetic", "geometric"] = "arithmetic"
    investment: Decimal | None = None
    quantity_per_grid: Decimal | None = None
    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    sell_on_stop: bool = True
    force: bool = False
    """Run even if a grid step cannot pay the round-trip fee (warning, :func:`check_fees`)."""
    trailing_up: bool = False
    """When the price rises above the top line, move the range up one line (cancel the lowest
    buy, place a buy on the old top line), up to ``trailing_up_limit``."""
    trailing_down: bool = False
    """When the price falls below the lowest line, move the range down one line (cancel the
    highest sell, place a sell on the old lowest line), down to ``trailing_down_limit``."""
    trailing_up_limit: Decimal | None = None
    trailing_down_limit: Decimal | None = None
    infinity: bool = False
    """No upper bound: geometric lines from ``lower_price`` on, the base kept worth
    ``investment`` (each line sells or buys just enough), the range following a rise."""
    reverse: bool = False
    """Start holding base only: sells on the lines above the price, none below; each sell's
    quote buys back one line lower, so a round trip's profit is kept in base."""
    trigger_price: Decimal | None = None
    """Place nothing until the price crosses this price."""
    start_order: Literal["market", "limit", "none"] = "market"
    """How the base (or quote) the starting orders need is bought (or sold) at the start: one
    MARKET order, one LIMIT at the best price, or none (then a shortfall is refused)."""

    def __post_init__(self) -> None:
        for name in (
            "lower_price",
            "upper_price",
            "investment",
            "quantity_per_grid",
            "trailing_up_limit",
            "trailing_down_limit",
            "trigger_price",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, name, error=BotConfigError))
        for name in ("stop_loss", "take_profit"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, name, error=BotConfigError))
        if self.lower_price <= 0 or self.upper_price <= self.lower_price:
            raise BotConfigError(
                f"need 0 < lower_price < upper_price, got {self.lower_price} and {self.upper_price}"
            )
        if not 2 <= self.grid_number <= 500:
            raise BotConfigError(f"grid_number must be 2 to 500, got {self.grid_number}")
        if self.grid_mode not in ("arithmetic", "geometric"):
            raise BotConfigError(f"grid_mode is arithmetic or geometric, not {self.grid_mode!r}")
        if (self.investment is None) == (self.quantity_per_grid is None):
            raise BotConfigError("give exactly one of investment and quantity_per_grid")
        if self.stop_loss is not None and self.stop_loss >= self.lower_price:
            raise BotConfigError(
                f"stop_loss {self.stop_loss} must be below lower_price {self.lower_price}"
            )
        if self.take_profit is not None and self.take_profit <= self.upper_price:
            raise BotConfigError(
                f"take_profit {self.take_profit} must be above upper_price {self.upper_price}"
            )
        self._check_features()

    def _check_features(self) -> None:
        if self.trailing_up_limit is not None:
            if not self.trailing_up:
                raise BotConfigError("trailing_up_limit needs trailing_up")
            if self.trailing_up_limit <= self.upper_price:
                raise BotConfigError(
                    f"trailing_up_limit {self.trailing_up_limit} must be above upper_price "
                    f"{self.upper_price}"
                )
        if self.trailing_down_limit is not None:
            if not self.trailing_down:
                raise BotConfigError("trailing_down_limit needs trailing_down")
            if not _ZERO < self.trailing_down_limit < self.lower_price:
                raise BotConfigError(
                    f"trailing_down_limit {self.trailing_down_limit} must be between 0 and "
                    f"lower_price {self.lower_price}"
                )
        if self.infinity:
            if self.grid_mode != "geometric":
                raise BotConfigError("infinity needs grid_mode geometric (a constant % per line)")
            if self.investment is None:
                raise BotConfigError(
                    "infinity needs investment (the quote value of base it keeps), not "
                    "quantity_per_grid"
                )
            if self.reverse or self.trailing_down or self.trailing_up:
                raise BotConfigError(
                    "infinity already follows a rise; it takes no reverse, trailing_up or "
                    "trailing_down"
                )
            if self.take_profit is not None:
                raise BotConfigError("infinity has no upper bound: it takes no take_profit")
        if self.trigger_price is not None and self.trigger_price <= 0:
            raise BotConfigError(f"trigger_price must be above 0, got {self.trigger_price}")
        if self.start_order not in ("market", "limit", "none"):
            raise BotConfigError(f"start_order is market, limit or none, not {self.start_order!r}")
        if self.trailing_up and self.take_profit is not None:
            limit = self.trailing_up_limit
            if limit is None or limit >= self.take_profit:
                raise BotConfigError(
                    f"trailing_up_limit must be below take_profit {self.take_profit} (the range "
                    "would trail into it)"
                )
        if self.trailing_down and self.stop_loss is not None:
            limit = self.trailing_down_limit
            if limit is None or limit <= self.stop_loss:
                raise BotConfigError(
                    f"trailing_down_limit must be above stop_loss {self.stop_loss} (the range "
                    "would trail into it)"
                )


def grid_line(params: GridParams, rules: SymbolRules, k: int) -> Decimal:
    """Grid line ``k`` on the tick: line 0 is ``lower_price``, line ``grid_number`` the upper
    price; lines past either end (a trailing or infinity grid's) go on at the same step."""
    low, high, n = params.lower_price, params.upper_price, params.grid_number
    if k == 0:
        return rules.round_price(low)
    if k == n:
        return rules.round_price(high)
    with localcontext() as c:
        c.prec = 34
        if params.grid_mode == "arithmetic":
            raw = low + (high - low) / n * k
        else:
            raw = low * ((high / low) ** (Decimal(1) / n)) ** k
    return rules.round_price(raw)


def grid_levels(params: GridParams, rules: SymbolRules, first: int = 0) -> list[Decimal]:
    """The ``grid_number + 1`` grid prices from line ``first`` on (0: the range as given),
    lowest first, on the tick (distinct, or an error)."""
    levels = [grid_line(params, rules, k) for k in range(first, first + params.grid_number + 1)]
    for a, b in pairwise(levels):
        if b <= a:
            raise BotConfigError(
                f"grid lines {a} and {b} fall on the same tick ({rules.tick_size}): use fewer "
                "grids or a wider range"
            )
    if levels[0] < rules.min_price or levels[0] <= 0:
        raise BotConfigError(f"lowest grid line {levels[0]} is below the minimum price")
    return levels


def grid_quantity(params: GridParams, rules: SymbolRules, levels: list[Decimal]) -> Decimal:
    """The base quantity of every grid order, on the step, checked against the rules.

    An infinity grid's orders differ per line (:func:`infinity_quantity`): this is then the
    smallest of its starting orders'.
    """
    if params.infinity:
        assert params.investment is not None
        qty = min(infinity_quantity(params.investment, a, b, rules) for a, b in pairwise(levels))
    elif params.quantity_per_grid is not None:
        qty = params.quantity_per_grid
        if rules.floor_quantity(qty) != qty:
            raise BotConfigError(
                f"quantity_per_grid {qty} is not a multiple of the step size {rules.step_size}"
            )
    else:
        assert params.investment is not None
        mean = sum(levels, _ZERO) / len(levels)
        qty = rules.floor_quantity(params.investment / params.grid_number / mean)
    if qty <= 0 or qty < rules.min_qty:
        raise BotConfigError(
            f"quantity per grid {qty} is below the minimum quantity {rules.min_qty}: "
            "raise the investment or lower grid_number"
        )
    if qty * levels[0] < rules.min_notional:
        raise BotConfigError(
            f"a grid order at {levels[0]} is worth {qty * levels[0]} {rules.quote_asset}, below "
            f"the minimum notional {rules.min_notional}: raise the investment or use fewer grids"
        )
    return qty


def infinity_quantity(value: Decimal, low: Decimal, high: Decimal, rules: SymbolRules) -> Decimal:
    """What an infinity grid trades between lines ``low`` and ``high``: the base worth
    ``value`` at ``low`` less the base worth ``value`` at ``high``, floored to the step, so
    the base it holds stays worth ``value`` at whichever line the price last crossed."""
    with localcontext() as c:
        c.prec = 34
        return rules.floor_quantity(value / low - value / high)


def ceil_quantity(rules: SymbolRules, qty: Decimal) -> Decimal:
    """``qty`` rounded up to the symbol's step size."""
    floored = rules.floor_quantity(qty)
    return floored if floored >= qty else floored + rules.step_size


def check_funds(
    balances: dict[str, Balance], rules: SymbolRules, quote_needed: Decimal, base_needed: Decimal
) -> None:
    """Raise :class:`BotConfigError` if the free balances cannot cover the bot's orders."""
    for asset, needed in ((rules.quote_asset, quote_needed), (rules.base_asset, base_needed)):
        free = balances[asset].free if asset in balances else _ZERO
        if needed > free:
            raise BotConfigError(
                f"the bot needs {needed} {asset} for its orders, the account has {free} free"
            )


@dataclass(frozen=True)
class DcaParams:
    """A long DCA deal: a base order, safety orders below it, a take profit above the average."""

    base_order_size: Decimal
    safety_order_size: Decimal
    max_safety_orders: int
    price_deviation: Decimal
    take_profit: Decimal
    safety_order_step_scale: Decimal = Decimal(1)
    safety_order_volume_scale: Decimal = Decimal(1)
    stop_loss: Decimal | None = None
    max_deals: int = 1
    force: bool = False
    """Run even if the take profit cannot pay the round-trip fee (with a warning)."""
    trailing_deviation: Decimal | None = None
    """Trailing take profit: once the take profit price is reached, follow the price up and
    close when it falls this many percent from its peak (no take-profit order on the book)."""
    trailing_stop_loss: bool = False
    """The stop loss follows the highest price of the deal: ``stop_loss`` percent below it."""
    cooldown: int = 0
    """Seconds (on the run's clock: market time in backtests) between a deal's end, or the
    last start, and the next deal's start."""
    max_active_deals: int = 1
    """Deals open at once on the symbol: with more than 1, a new deal starts while others are
    open, each ``cooldown`` seconds after the last one started."""

    def __post_init__(self) -> None:
        for name in (
            "base_order_size",
            "safety_order_size",
            "price_deviation",
            "take_profit",
            "safety_order_step_scale",
            "safety_order_volume_scale",
            "stop_loss",
            "trailing_deviation",
        ):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, to_decimal(value, name, error=BotConfigError))
        if self.base_order_size <= 0 or self.safety_order_size <= 0:
            raise BotConfigError("base_order_size and safety_order_size must be above zero")
        if not 0 <= self.max_safety_orders <= 100:
            raise BotConfigError(
                f"max_safety_orders must be 0 to 100, not {self.max_safety_orders}"
            )
        if not _ZERO < self.price_deviation < _HUNDRED:
            raise BotConfigError(
                f"price_deviation must be between 0 and 100 (%), got {self.price_deviation}"
            )
        if self.take_profit <= 0:
            raise BotConfigError(f"take_profit must be above 0 (%), got {self.take_profit}")
        if self.safety_order_step_scale <= 0 or self.safety_order_volume_scale <= 0:
            raise BotConfigError("the step and volume scales must be above zero")
        if self.stop_loss is not None and not _ZERO < self.stop_loss < _HUNDRED:
            raise BotConfigError(f"stop_loss must be between 0 and 100 (%), got {self.stop_loss}")
        if self.max_deals < 1:
            raise BotConfigError("max_deals must be at least 1")
        dev = self.trailing_deviation
        if dev is not None and not _ZERO < dev < self.take_profit:
            raise BotConfigError(
                f"trailing_deviation must be above 0 and below take_profit {self.take_profit} "
                f"(%), got {dev}"
            )
        if self.trailing_stop_loss and self.stop_loss is None:
            raise BotConfigError("trailing_stop_loss needs stop_loss (the % it trails by)")
        if isinstance(self.cooldown, bool) or not isinstance(self.cooldown, int):
            raise BotConfigError(f"cooldown is whole seconds, not {self.cooldown!r}")
        if self.cooldown < 0:
            raise BotConfigError(f"cooldown must be 0 or more seconds, got {self.cooldown}")
        if not 1 <= self.max_active_deals <= 50:
            raise BotConfigError(f"max_active_deals must be 1 to 50, not {self.max_active_deals}")


@dataclass(frozen=True)
class SafetyOrder:
    """One safety order: its deviation from the base price (%), price and quantity."""

    index: int
    deviation: Decimal
    price: Decimal
    quantity: Decimal


def dca_ladder(params: DcaParams, rules: SymbolRules, base_price: Decimal) -> list[SafetyOrder]:
    """The safety orders of a deal started at ``base_price`` (3Commas' formulas), checked.

    Safety order k (1-based) sits ``price_deviation * (1 + s + ... + s^(k-1))`` percent below
    the base price (s: step scale) and spends ``safety_order_size * v^(k-1)`` (v: volume scale).
    """
    orders: list[SafetyOrder] = []
    deviation = _ZERO
    step = params.price_deviation
    size = params.safety_order_size
    for k in range(1, params.max_safety_orders + 1):
        deviation += step
        if deviation >= _HUNDRED:
            raise BotConfigError(
                f"safety order {k} would be {deviation}% below the base price: lower "
                "price_deviation, the step scale or max_safety_orders"
            )
        price = rules.round_price(base_price * (_HUNDRED - deviation) / _HUNDRED, "BUY")
        qty = rules.floor_quantity(size / price)
        if qty < rules.min_qty or qty <= 0 or qty * price < rules.min_notional:
            raise BotConfigError(
                f"safety order {k} ({size} {rules.quote_asset} at {price}) is below the "
                f"symbol's minimum (quantity {rules.min_qty}, notional {rules.min_notional})"
            )
        orders.append(SafetyOrder(k, deviation, price, qty))
        step *= params.safety_order_step_scale
        size *= params.safety_order_volume_scale
    return orders


def default_grid_step(maker_fee: Decimal) -> Decimal:
    """The default grid step, as a fraction of the price: 0.5%, or 2.5 round trips if more.

    A round trip (a buy, then a sell one line up) pays the maker fee twice; with Binance's 0.1%
    that is 0.2%, so the 0.5% step is 2.5 of them.
    """
    return max(_MIN_GRID_STEP, DEFAULT_FEE_MULTIPLE * 2 * maker_fee)


def default_take_profit(maker_fee: Decimal, taker_fee: Decimal) -> Decimal:
    """The default DCA take profit, in percent: 1%, or 2.5 round trips if more.

    A deal's round trip is its market base order (taker) and its limit take profit (maker):
    0.2% with Binance's 0.1% fees, so the 1% take profit is 5 of them.
    """
    return max(_MIN_TAKE_PROFIT, DEFAULT_FEE_MULTIPLE * (maker_fee + taker_fee) * _HUNDRED)


def venue_fees(
    venue: object, maker_fee: Decimal | None = None, taker_fee: Decimal | None = None
) -> tuple[Decimal, Decimal]:
    """The maker and taker rates a bot counts with: those given, else the venue's own (a paper
    broker's ``maker_fee`` and ``taker_fee``), else Binance's default :data:`BINANCE_FEE`."""
    rates = []
    for given, name in ((maker_fee, "maker_fee"), (taker_fee, "taker_fee")):
        told = getattr(venue, name, None)
        if given is not None:
            rates.append(to_decimal(given, name, error=BotConfigError))
        elif isinstance(told, Decimal):
            rates.append(told)
        else:
            rates.append(BINANCE_FEE)
    for rate, name in zip(rates, ("maker_fee", "taker_fee"), strict=True):
        if not _ZERO <= rate < 1:
            raise BotConfigError(f"{name} is a fraction from 0 to 1 (0.001 is 0.1%), not {rate}")
    return rates[0], rates[1]


def _sig(value: Decimal, digits: int = 2) -> str:
    """``value`` to ``digits`` significant digits, in plain notation (``0.000092``, ``130``)."""
    if value == 0:
        return "0"
    return format(value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1)).normalize(), "f")


def _pct(fraction: Decimal) -> str:
    return f"{_sig(fraction * _HUNDRED, 3)}%"


def check_fees(
    params: GridParams | DcaParams,
    rules: SymbolRules,
    price: Decimal,
    *,
    maker_fee: Decimal,
    taker_fee: Decimal,
) -> list[str]:
    """Refuse parameters that cannot make money after fees; the warnings of forced ones.

    A grid's round trip buys on one line and sells on the next, both as maker: it loses unless
    the step is more than the two fees, ``step > maker_fee x (buy price + sell price)``, checked
    on the narrowest pair of lines relative to their price (the top pair of an arithmetic grid).
    A DCA deal buys at market (taker) and takes profit with a limit sell (maker): its take
    profit must be more than ``taker_fee + maker_fee``.

    Returns:
        An empty list when the parameters clear the fees; with ``params.force``, the warning
        (the same text the refusal would have).

    Raises:
        BotConfigError: the parameters cannot make money after fees and ``params.force`` is
            not set; the message gives the step or take profit and the fees, in numbers.
    """
    quote, base = rules.quote_asset, rules.base_asset
    if isinstance(params, GridParams):
        levels = grid_levels(params, rules)
        with localcontext() as c:
            c.prec = 34
            low, high = min(pairwise(levels), key=lambda ab: (ab[1] - ab[0]) / (ab[1] + ab[0]))
            step = high - low
            cost = maker_fee * (low + high)
            if step > cost:
                return []
            trip = 2 * maker_fee
            best = default_grid_step(maker_fee)
            problem = (
                f"grid step {step} {quote} (from {low} to {high}) is {_pct(step / low)} of the "
                f"price; a round trip (a buy and a sell, each paying the maker fee "
                f"{_pct(maker_fee)}) costs {_pct(trip)} = {_sig(cost, 3)} {quote} per {base} "
                f"there, so every round trip loses money after fees"
            )
            how = (
                f"widen the range or use fewer grids (the default step is {_pct(best)} = "
                f"{_sig(best * price, 3)} {quote} at {price}), or pass --force (force=True) to "
                "run anyway"
            )
    else:
        trip = maker_fee + taker_fee
        tp = params.take_profit / _HUNDRED
        if tp > trip:
            return []
        best = default_take_profit(maker_fee, taker_fee)
        problem = (
            f"take profit {_sig(params.take_profit, 3)}% is not above the round-trip fee "
            f"{_pct(trip)} (the market base order pays the taker fee {_pct(taker_fee)}, the "
            f"take profit the maker fee {_pct(maker_fee)}): at {price} the take profit is "
            f"{_sig(tp * price, 3)} {quote} per {base} and the fees {_sig(trip * price, 3)} "
            f"{quote}, so a deal cannot make money after fees"
        )
        how = (
            f"raise the take profit above {_pct(trip)} (the default is {_sig(best, 3)}%), or pass "
            "--force (force=True) to run anyway"
        )
    if not params.force:
        raise BotConfigError(f"{problem}: {how}")
    return [f"{problem} (running anyway: forced)"]


def params_record(params: GridParams | DcaParams) -> dict[str, str | int | bool | None]:
    """``params`` as plain values to store: amounts as exact decimal strings (``"0.001"``)."""
    out: dict[str, str | int | bool | None] = {}
    for f in fields(params):
        value = getattr(params, f.name)
        out[f.name] = format(value, "f") if isinstance(value, Decimal) else value
    return out


def params_from_record(kind: str, values: Mapping[str, object]) -> GridParams | DcaParams:
    """The ``kind`` (``grid`` or ``dca``) parameters :func:`params_record` stored, checked again.

    Raises:
        BotConfigError: an unknown kind, a missing or unknown field, or a value out of range.
    """
    cls: type[GridParams | DcaParams]
    if kind == "grid":
        cls = GridParams
    elif kind == "dca":
        cls = DcaParams
    else:
        raise BotConfigError(f"no built-in bot {kind!r} (grid or dca)")
    names = {f.name for f in fields(cls)}
    if not set(values) <= names:
        raise BotConfigError(f"unknown {kind} parameters: {sorted(set(values) - names)}")
    for name in ("grid_number", "max_safety_orders", "max_deals", "max_active_deals", "cooldown"):
        if name in values and type(values[name]) is not int:
            raise BotConfigError(f"{name} must be a whole number, not {values[name]!r}")
    for name in (
        "sell_on_stop",
        "force",
        "trailing_up",
        "trailing_down",
        "infinity",
        "reverse",
        "trailing_stop_loss",
    ):
        if name in values and not isinstance(values[name], bool):
            raise BotConfigError(f"{name} must be true or false, not {values[name]!r}")
    try:
        return cls(**values)  # type: ignore[arg-type]
    except TypeError as e:  # a required field is missing
        raise BotConfigError(f"incomplete {kind} parameters: {e}") from None
