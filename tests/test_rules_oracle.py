"""tradewire.rules against the local exchange's own, independent copy of Binance's rules.

The exchange (``tradewire.exchange``) implements the same rules separately, on purpose: here the
two are compared on 10,000 seeded random cases per property, with steps and ticks like Binance's
(0.00000001 to 10) and values across magnitudes. Compared: flooring to the step, the tick
multiple test, formatting and parsing of amounts, commission amounts (computed by the exchange's
matching engine on a real trade) and the accept/refuse decision, with the filter named, of whole
orders.

Minima are generated on and off their grids: both sides follow filters.md (``price % tickSize ==
0``, ``quantity % stepSize == 0``), not a grid counted from ``minPrice``/``minQty``.
"""

from __future__ import annotations

import random
import re
from decimal import Decimal as D
from typing import TYPE_CHECKING

from tradewire.binance.filters import rules_from_exchange_info
from tradewire.errors import ExchangeRejection, InvalidOrder
from tradewire.exchange.amounts import floor_to_step, fmt, fmt_places, is_multiple, parse_amount
from tradewire.exchange.engine import ExchangeEngine
from tradewire.exchange.engine import NewOrder as ExchangeRequest
from tradewire.exchange.symbols import SymbolSpec
from tradewire.model import OrderRequest
from tradewire.rules import SymbolRules, commission, format_amount, places
from tradewire.rules import floor_to_step as rules_floor
from tradewire.rules import is_multiple as rules_is_multiple

if TYPE_CHECKING:
    from collections.abc import Callable

    from tradewire.model import Side

CASES = 10_000
SIDES: tuple[Side, ...] = ("BUY", "SELL")
STEPS = [D(s) for s in ("0.00000001", "0.00001", "0.001", "0.01", "0.025", "0.5", "1", "10")]
RATES = [D(r) for r in ("0.001", "0.00075", "0.0001", "0.00025", "0.0002", "0")]
_FILTER = re.compile(r"\b(PRICE_FILTER|MARKET_LOT_SIZE|LOT_SIZE|MIN_NOTIONAL|NOTIONAL)\b")


def amount(rng: random.Random) -> D:
    """A positive amount: 1 to 12 significant digits, from 1e-10 to 1e9."""
    digits = rng.randint(1, 12)
    return D(rng.randint(1, 10**digits - 1)).scaleb(rng.randint(-10, 9) - digits + 1)


def on_grid(rng: random.Random, step: D, low: int = 1, high: int = 10**7) -> D:
    """A multiple of ``step``."""
    return step * rng.randint(low, high)


def off_grid(rng: random.Random, step: D) -> D:
    """Half a step half of the time, when exchangeInfo's 8 decimals can write it; else 0."""
    half = step / 2
    exponent = half.normalize().as_tuple().exponent
    return half if rng.random() < 0.5 and isinstance(exponent, int) and exponent >= -8 else D(0)


def spec(rng: random.Random) -> SymbolSpec:
    """A symbol with Binance-like filters (minima on their grids, or half a step off)."""
    tick, step = rng.choice(STEPS), rng.choice(STEPS)
    return SymbolSpec(
        symbol="XYZUSDT",
        base="XYZ",
        quote="USDT",
        tick_size=tick,
        step_size=step,
        min_notional=rng.choice([D(0), D("0.0001"), D(5), D(10), D(100)]),
        start_price=D(1),
        min_price=tick * rng.randint(1, 3) + off_grid(rng, tick),
        max_price=rng.choice([D(1000000), D(100000000), tick * rng.randint(100, 10**6)]),
        min_qty=step * rng.randint(1, 3) + off_grid(rng, step),
        max_qty=rng.choice([D(9000), D(9000000), step * rng.randint(100, 10**6)]),
        market_max_qty=rng.choice([D(100), D(1000000)]),
        max_notional=rng.choice([D(1000), D(9000000)]),
    )


def exchange_decision(engine: ExchangeEngine, request: ExchangeRequest) -> str:
    """``"ok"`` or the filter the exchange names (``Filter failure: LOT_SIZE``)."""
    try:
        engine.validate(1, request)
    except ExchangeRejection as e:
        return e.msg.removeprefix("Filter failure: ")
    return "ok"


def rules_decision(check: Callable[..., object], *args: object, **kwargs: object) -> str:
    """``"ok"`` or the filter tradewire.rules names when ``check(*args, **kwargs)`` refuses."""
    try:
        check(*args, **kwargs)
    except InvalidOrder as e:
        found = _FILTER.search(e.msg)
        return found.group(1) if found else e.msg
    return "ok"


def test_floor_to_step_and_the_tick_multiple_test_agree() -> None:
    rng = random.Random(9001)
    mismatches: list[tuple[object, ...]] = []
    for _ in range(CASES):
        value, step = amount(rng), rng.choice(STEPS)
        if rng.random() < 0.3:
            value = on_grid(rng, step)
        ours, theirs = rules_floor(value, step), floor_to_step(value, step)
        if ours != theirs or not ours <= value < ours + step:
            mismatches.append(("floor", value, step, ours, theirs))
        if rules_is_multiple(value, step) != is_multiple(value, step):
            mismatches.append(("multiple", value, step))
    assert mismatches == [], mismatches[:5]


def test_formatting_agrees_and_parses_back() -> None:
    rng = random.Random(9002)
    mismatches: list[tuple[object, ...]] = []
    for _ in range(CASES):
        step = rng.choice(STEPS)
        value = rules_floor(amount(rng), step)
        text = format_amount(value, step)
        if text != fmt_places(value, places(step)) or "E" in text:
            mismatches.append(("places", value, step, text, fmt_places(value, places(step))))
        if parse_amount(text) != value:
            mismatches.append(("parse", text, parse_amount(text)))
        if places(step) <= 8 and format_amount(value, "0.00000001") != fmt(value):
            mismatches.append(("fmt", value, fmt(value)))
    assert mismatches == [], mismatches[:5]


def test_commissions_agree_with_the_matching_engine() -> None:
    rng = random.Random(9003)
    mismatches: list[tuple[object, ...]] = []
    for _ in range(CASES):
        tick, step = rng.choice(STEPS), rng.choice(STEPS)
        symbol = SymbolSpec(
            symbol="XYZUSDT",
            base="XYZ",
            quote="USDT",
            tick_size=tick,
            step_size=step,
            min_notional=D(0),
            start_price=D(1),
            min_price=tick,
            max_price=D(10) ** 12,
            min_qty=step,
            max_qty=D(10) ** 12,
            max_notional=D(10) ** 20,
        )
        price = on_grid(rng, tick, 1, rng.choice([10, 10**4, 10**8]))
        qty = on_grid(rng, step, 1, rng.choice([10, 10**4, 10**8]))
        maker_rate, taker_rate = rng.choice(RATES), rng.choice(RATES)
        maker_side, taker_side = rng.choice([("SELL", "BUY"), ("BUY", "SELL")])
        engine = ExchangeEngine([symbol], now=lambda: 1)
        funds = {"XYZ": qty, "USDT": price * qty}
        engine.open_account(1, funds, maker_rate=maker_rate)
        engine.open_account(2, funds, taker_rate=taker_rate)
        for account, side in ((1, maker_side), (2, taker_side)):
            engine.place(
                account,
                ExchangeRequest("XYZUSDT", side, "LIMIT", qty, None, price, None, "GTC", side),
            )
        (maker_fill,) = engine.my_trades(1)
        (taker_fill,) = engine.my_trades(2)
        for fill, side, rate in (
            (maker_fill, maker_side, maker_rate),
            (taker_fill, taker_side, taker_rate),
        ):
            received = qty if side == "BUY" else price * qty
            ours = commission(received, rate)
            if ours != fill.commission:
                mismatches.append((side, price, qty, rate, ours, fill.commission))
    assert mismatches == [], mismatches[:5]


def test_orders_are_accepted_and_refused_alike_with_the_same_filter() -> None:
    rng = random.Random(9004)
    mismatches: list[tuple[object, ...]] = []
    refused: dict[str, int] = {}
    for _ in range(CASES):
        symbol = spec(rng)
        engine = ExchangeEngine([symbol], now=lambda: 1)
        rules: SymbolRules = rules_from_exchange_info(symbol.exchange_info())
        side = rng.choice(SIDES)
        kind = rng.choice(["LIMIT", "LIMIT", "MARKET", "QUOTE"])
        qty = amount(rng) if rng.random() < 0.5 else on_grid(rng, symbol.step_size, 1, 10**6)
        price = amount(rng) if rng.random() < 0.5 else on_grid(rng, symbol.tick_size, 1, 10**6)
        outcomes: list[tuple[str, str, ExchangeRequest]] = []
        if kind == "LIMIT":
            requests = [(qty, price)]
            if rules_decision(rules.prepare, side, "LIMIT", quantity=qty, price=price) == "ok":
                sent = rules.prepare(side, "LIMIT", quantity=qty, price=price)
                assert sent.quantity is not None and sent.price is not None
                requests.append((sent.quantity, sent.price))  # what is sent is accepted as is
            for q, p in requests:
                ours = rules_decision(
                    rules.check, OrderRequest("XYZUSDT", side, "LIMIT", q, "c", p)
                )
                request = ExchangeRequest("XYZUSDT", side, "LIMIT", q, None, p, None, "GTC")
                outcomes.append((ours, exchange_decision(engine, request), request))
        elif kind == "MARKET":
            ours = rules_decision(rules.check, OrderRequest("XYZUSDT", side, "MARKET", qty, "c"))
            request = ExchangeRequest("XYZUSDT", side, "MARKET", qty)
            outcomes.append((ours, exchange_decision(engine, request), request))
        else:
            ours = rules_decision(
                rules.prepare, side, "MARKET", quote_order_qty=price, rounding=False
            )
            request = ExchangeRequest("XYZUSDT", side, "MARKET", None, price)
            outcomes.append((ours, exchange_decision(engine, request), request))
        for ours, theirs, request in outcomes:
            if ours != theirs:
                mismatches.append((ours, theirs, request, symbol))
            refused[theirs] = refused.get(theirs, 0) + 1
    assert mismatches == [], mismatches[:5]
    # Every outcome was exercised, so agreement is not agreement on one answer only.
    assert {"ok", "PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "NOTIONAL"} <= set(refused)
