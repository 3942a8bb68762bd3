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

Other symbols get BTCUSDT's market scaled to their rules (tick and step) and typical price;
a symbol with no built-in rules or typical price is refused, not invented.
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

__all__ = [
    "DEFAULT_START",
    "TYPICAL_PRICES",
    "RecordingWriter",
    "SynthSpec",
    "synth_spec",
    "synth_tapes",
]

#: Where a synthetic market starts in time when no start is given.
DEFAULT_START = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: A typical price of each symbol the generator knows: the start price by default, and what
#: the book and flow are scaled by (a symbol's book holds about as much quote value as
#: BTCUSDT's to the power 0.55 of the price ratio: ETHUSDT's touch is ~6 ETH against ~1 BTC).
TYPICAL_PRICES: dict[str, Decimal] = {
    "BTCUSDT": Decimal("65000"),
    "ETHUSDT": Decimal("3000"),
}
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


def synth_spec(symbol: str, start_price: Decimal | str | None = None) -> SynthSpec:
    """The generator's settings for ``symbol``.

    Raises:
        BacktestError: the symbol has no built-in rules or typical price, or the start price is
            not a positive price on the symbol's tick.
    """
    symbol = symbol.upper()
    if symbol not in TYPICAL_PRICES:
        raise BacktestError(
            f"no synthetic market for {symbol!r}: the generator knows "
            f"{', '.join(sorted(TYPICAL_PRICES))} (it scales a symbol from its rules and a "
            "typical price, and does not invent markets)"
        )
    rules = default_rules(symbol)
    typical = TYPICAL_PRICES[symbol]
    price = typical if start_price is None else Decimal(str(start_price))
    if not price.is_finite() or price <= 0 or price % rules.tick_size != 0:
        raise BacktestError(
            f"start price {start_price} must be a positive multiple of the tick {rules.tick_size}"
        )
    ratio = float(TYPICAL_PRICES[_REFERENCE] / typical)
    return SynthSpec(
        symbol=symbol,
        tick=_units(rules.tick_size, "tick size"),
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
) -> Iterator[Tape]:
    """``hours`` of a synthetic ``symbol`` market as tapes, about a minute each.

    The settings are checked at once (not on the first tape); the market is generated as the
    tapes are taken.

    Args:
        symbol: A symbol with built-in rules and a typical price (:data:`TYPICAL_PRICES`).
        hours: Market time to generate (whole 100 ms windows, at least one).
        seed: The seed: the same seed gives the same market, byte for byte.
        vol: Annualised volatility, jumps included (0.35 calm, 0.5 normal, 0.8 stressed).
        drift: Annualised drift of the log-price.
        start_price: The first mid (default: the symbol's typical price).
        range_day: Pull the price back to the start price (an Ornstein-Uhlenbeck pull with
            half-life ``range_half_life_s``): a day on which grids can earn.
        start: The market's first time (default :data:`DEFAULT_START`).
        chunk_seconds: Market time per tape.

    Raises:
        BacktestError: An unknown symbol or a setting out of range.
    """
    if not (math.isfinite(hours) and 0 < hours <= _MAX_HOURS):
        raise BacktestError(f"hours must be positive and at most {_MAX_HOURS:,}, got {hours}")
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0):
        raise BacktestError(f"chunk_seconds must be positive, got {chunk_seconds}")
    if not 0 <= seed < 2**64:
        raise BacktestError(f"seed must be in [0, 2**64), got {seed}")
    if range_day and not range_half_life_s > 0:
        raise BacktestError("range_half_life_s must be positive on a range day")
    spec = synth_spec(symbol, start_price)
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
