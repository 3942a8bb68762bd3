"""A synthetic market that moves like Binance spot BTCUSDT, as tapes (docs/market.md).

The generator is in Rust (``tradewire._core.SynthMarket``): seeded, deterministic, in integer
units; stochastic volatility with fat-tailed steps and a few jumps a day, self-exciting taker
flow that rises with volatility and trades toward the next move, and a book with the measured
spread, top size and depth, emitted as 100 ms depth diffs and trades. The same seed gives the
same market, whatever the chunking.

>>> from tradewire.backtest.synth import synth_tapes
>>> tapes = list(synth_tapes("BTCUSDT", hours=0.01, seed=7))
>>> sum(len(t) for t in tapes) > 1000, int(tapes[0].kind[0])  # the book starts with a CLEAR
(True, 5)

Other symbols get BTCUSDT's market scaled to their rules (tick and step) and their price in
USDT; a symbol without rules, or without a typical price or a given start price, is refused,
not invented.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire._core import RecordingWriter, SynthMarket
from tradewire.backtest.symbols import default_rules
from tradewire.errors import BacktestError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradewire._core import Tape
    from tradewire.rules import SymbolRules

__all__ = [
    "DEFAULT_START",
    "QUOTE_PRICES_USDT",
    "TYPICAL_PRICES",
    "RecordingWriter",
    "SynthSpec",
    "synth_spec",
    "synth_tapes",
]

#: Where a synthetic market starts in time when no start is given.
DEFAULT_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: Measured typical prices: the start price by default, and what the book and flow are scaled
#: by. Each is the mid of a real Binance depth snapshot, floored to the tick:
#: BTCUSDT 61837.63/61837.64 on 2024-08-08 23:54 UTC
#: (tests/data/market/binance-spot-btcusdt-2024-08-08T2354Z.jsonl.gz) and ETHUSDT 2683.80/2683.81
#: in the ETHUSDT recording of the same minute (hftbacktest's ``ethusdt_20240808.gz``); the
#: others from the snapshots of tests/data/binance: capture-2021-10.http.txt (2021-10-12 00:28
#: UTC) and capture-2021-08.http.txt (2021-08-14 14:46 UTC). Any other symbol needs a start
#: price.
TYPICAL_PRICES: dict[str, Decimal] = {
    "BTCUSDT": Decimal("61837.63"),  # 2024-08-08
    "ETHUSDT": Decimal("2683.80"),  # 2024-08-08
    "NKNUSDT": Decimal("0.3523"),  # 2021-10-12
    "BLZETH": Decimal("0.00006551"),  # 2021-10-12
    "LRCBTC": Decimal("0.00000637"),  # 2021-10-12
    "RUNEEUR": Decimal("6.260"),  # 2021-10-12
    "XMRBTC": Decimal("0.005776"),  # 2021-08-14
    "FTMUSDT": Decimal("0.3400"),  # 2021-08-14
    "SXPBTC": Decimal("0.00007475"),  # 2021-08-14
    "BADGERBTC": Decimal("0.0005849"),  # 2021-08-14
}
#: The USDT price of each quote asset the size scale can convert from (from the table above).
QUOTE_PRICES_USDT: dict[str, Decimal] = {
    "USDT": Decimal(1),
    "BTC": TYPICAL_PRICES["BTCUSDT"],
    "ETH": TYPICAL_PRICES["ETHUSDT"],
}
#: A symbol's book holds about as much quote value as BTCUSDT's to the power 0.55 of the price
#: ratio, in USDT (ETHUSDT's touch is ~6 ETH against ~1 BTC).
_REFERENCE = "BTCUSDT"
_SIZE_EXPONENT = 0.55
_UNIT = 100_000_000
#: Tape units per second, and how much market one chunk holds.
_US = 1_000_000
_CHUNK_S = 60.0
#: Ten years of market time: more is a mistake, not a backtest.
_MAX_HOURS = 87_600


@dataclass(frozen=True)
class SynthSpec:
    """What the generator needs of a symbol: its tick and step, a price, a size scale (units)."""

    symbol: str
    tick: int
    step: int
    start_price: int
    size_scale: float


def _units(value: Decimal, what: str) -> int:
    scaled = value * _UNIT
    if scaled != scaled.to_integral_value() or scaled <= 0:
        raise BacktestError(f"{what} {value} is not a positive multiple of 10^-8")
    return int(scaled)


def synth_spec(
    symbol: str,
    start_price: Decimal | str | None = None,
    *,
    rules: SymbolRules | None = None,
) -> SynthSpec:
    """The generator's settings for ``symbol``: its tick and step, start price and size scale.

    The rules are ``rules`` or the built-in ones (:func:`tradewire.backtest.default_rules`);
    the price is ``start_price`` or the symbol's measured typical price; the size scale
    follows the price in USDT (price times the quote asset's USDT price, for a quote such as
    BTC or ETH).

    Raises:
        BacktestError: the symbol has no rules, it has no typical price and no start price is
            given, its quote asset has no known USDT price, or the start price is not a
            positive price on the symbol's tick.
    """
    symbol = symbol.upper()
    if rules is None:
        rules = default_rules(symbol)
    elif rules.symbol.upper() != symbol:
        raise BacktestError(f"the rules given are for {rules.symbol}, not {symbol}")
    typical = TYPICAL_PRICES.get(symbol)
    if start_price is None and typical is None:
        raise BacktestError(
            f"no typical price for {symbol}: give its start price (--start-price, or "
            f"start_price=); measured prices are built in for {', '.join(sorted(TYPICAL_PRICES))}"
        )
    try:
        price = typical if start_price is None else Decimal(str(start_price))
    except ArithmeticError:
        raise BacktestError(f"start price {start_price!r} is not a number") from None
    assert price is not None
    tick = rules.tick_size
    if not price.is_finite() or price <= 0 or tick <= 0 or price % tick != 0:
        raise BacktestError(
            f"start price {start_price} must be a positive multiple of the tick {tick}"
        )
    quote_usdt = QUOTE_PRICES_USDT.get(rules.quote_asset)
    if quote_usdt is None:
        raise BacktestError(
            f"no USDT price for {symbol}'s quote asset {rules.quote_asset!r}, which the size "
            f"scale needs (known: {', '.join(sorted(QUOTE_PRICES_USDT))})"
        )
    in_usdt = (typical if typical is not None else price) * quote_usdt
    ratio = float(TYPICAL_PRICES[_REFERENCE] / in_usdt)
    return SynthSpec(
        symbol=symbol,
        tick=_units(tick, "tick size"),
        step=_units(rules.step_size, "step size"),
        start_price=_units(price, "start price"),
        size_scale=ratio**_SIZE_EXPONENT,
    )


def synth_tapes(
    symbol: str,
    hours: float,
    seed: int,
    *,
    vol: float = 0.5,
    drift: float = 0.0,
    start_price: Decimal | str | None = None,
    range_day: bool = False,
    range_half_life_s: float = 1800.0,
    start: datetime | None = None,
    chunk_seconds: float = _CHUNK_S,
    rules: SymbolRules | None = None,
) -> Iterator[Tape]:
    """``hours`` of a synthetic ``symbol`` market as tapes, about a minute each.

    The settings are checked at once (not on the first tape); the market is generated as the
    tapes are taken.

    Args:
        symbol: A symbol with rules (built in, or ``rules``) and a typical price
            (:data:`TYPICAL_PRICES`) or a ``start_price``.
        hours: Market time to generate (whole 100 ms windows, at least one).
        seed: The seed: the same seed gives the same market, byte for byte.
        vol: Annualised volatility, jumps included (0.35 calm, 0.5 normal, 0.8 stressed).
        drift: Annualised drift of the log-price.
        start_price: The first mid (default: the symbol's typical price; required for a
            symbol without one).
        range_day: Pull the price back to the start price (an Ornstein-Uhlenbeck pull with
            half-life ``range_half_life_s``): a day on which grids can earn.
        start: The market's first time (default :data:`DEFAULT_START`).
        chunk_seconds: Market time per tape.
        rules: The symbol's rules (default: the built-in ones), e.g. from a user's
            exchangeInfo (:func:`tradewire.backtest.symbols.load_exchange_info`).

    Raises:
        BacktestError: An unknown symbol, no price to start from, or a setting out of range.
    """
    if not (math.isfinite(hours) and 0 < hours <= _MAX_HOURS):
        raise BacktestError(f"hours must be positive and at most {_MAX_HOURS:,}, got {hours}")
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0):
        raise BacktestError(f"chunk_seconds must be positive, got {chunk_seconds}")
    if not 0 <= seed < 2**64:
        raise BacktestError(f"seed must be in [0, 2**64), got {seed}")
    if range_day and not range_half_life_s > 0:
        raise BacktestError("range_half_life_s must be positive on a range day")
    spec = synth_spec(symbol, start_price, rules=rules)
    begin = start if start is not None else DEFAULT_START
    if begin.tzinfo is None:
        raise BacktestError("start must be an aware datetime (e.g. with tzinfo=timezone.utc)")
    start_us = int(begin.timestamp()) * _US + begin.microsecond
    market = SynthMarket(
        seed=seed,
        start_us=start_us,
        tick=spec.tick,
        step=spec.step,
        start_price=spec.start_price,
        size_scale=spec.size_scale,
        vol=vol,
        drift=drift,
        range_half_life_s=range_half_life_s if range_day else 0.0,
    )
    end_us = start_us + max(1, round(hours * 3600 * _US))
    step_us = max(100_000, round(chunk_seconds * _US))
    return _chunks(market, end_us, step_us)


def _chunks(market: SynthMarket, end_us: int, step_us: int) -> Iterator[Tape]:
    while market.now_us < end_us:
        yield market.generate(min(end_us, market.now_us + step_us))
