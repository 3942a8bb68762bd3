"""The calibrated synthetic market driving the local exchange's books.

The generator is the Rust one backtests use (``tradewire._core.SynthMarket``, docs/market.md):
stochastic volatility with fat tails and jumps, bursty taker flow that trades toward the next
move, and a book shaped like BTCUSDT's. Each step of the exchange advances its market time by
the step's interval times ``speed`` and applies what it generated through a
:class:`~tradewire.exchange.tape_driver.TapeDriver`: book levels become the market's own resting
quotes (a level changed several times in one step is set once), trades become the market's own
takes at their price. Both go through the matcher like any order, so accounts' resting orders
fill when the market trades through them, and the streams and REST answers show the generated
market as Binance would.

The exchange keeps its own scaling of a symbol's sizes (an oracle does not import the backtest
package): a symbol's book holds about as much quote value as BTCUSDT's to the power 0.55 of
the price ratio.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire._core import SynthMarket
from tradewire.exchange.tape_driver import TapeDriver

if TYPE_CHECKING:
    from tradewire._core import Tape
    from tradewire.exchange.engine import ExchangeEngine
    from tradewire.exchange.symbols import SymbolSpec

__all__ = ["CalibratedMarket"]

_UNIT = Decimal(100_000_000)
_WINDOW_US = 100_000  # the generator's window: it emits whole 100 ms windows
_REFERENCE_PRICE = Decimal(65000)
_SIZE_EXPONENT = 0.55


def _units(value: Decimal) -> int:
    return int(value * _UNIT)


def _seed(seed: int, symbol: str) -> int:
    """One seed per symbol, stable across runs and Python versions."""
    digest = hashlib.sha256(f"{seed}:{symbol}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


class CalibratedMarket:
    """Drives every listed symbol's book from its own seeded :class:`SynthMarket`."""

    def __init__(
        self,
        engine: ExchangeEngine,
        seed: int,
        *,
        interval_ms: int,
        speed: float = 1.0,
        vol: float = 0.5,
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._engine = engine
        self.seed = seed
        self.speed = speed
        self._advance_us = interval_ms * 1000 * speed
        self._markets: dict[str, SynthMarket] = {}
        self._drivers: dict[str, TapeDriver] = {}
        for spec in sorted(engine.specs(), key=lambda s: s.symbol):
            self._markets[spec.symbol] = self._market(spec, seed, vol)
            self._drivers[spec.symbol] = TapeDriver(engine, spec.symbol)
        self._target_us = {s: float(m.now_us) for s, m in self._markets.items()}
        self.steps = 0

    @staticmethod
    def _market(spec: SymbolSpec, seed: int, vol: float) -> SynthMarket:
        ratio = float(_REFERENCE_PRICE / spec.start_price)
        return SynthMarket(
            seed=_seed(seed, spec.symbol),
            tick=_units(spec.tick_size),
            step=_units(spec.step_size),
            start_price=_units(spec.start_price),
            size_scale=ratio**_SIZE_EXPONENT,
            vol=vol,
        )

    def open(self) -> None:
        """The first window of every symbol: its book."""
        for symbol, market in self._markets.items():
            self._apply(symbol, market.generate(market.now_us + _WINDOW_US))
            self._target_us[symbol] = float(market.now_us)

    def step(self) -> None:
        """Advance every symbol's market by one step's worth of market time."""
        self.steps += 1
        for symbol, market in self._markets.items():
            target = self._target_us[symbol] + self._advance_us
            self._target_us[symbol] = target
            if target >= market.now_us + _WINDOW_US:
                self._apply(symbol, market.generate(int(target)))

    def _apply(self, symbol: str, tape: Tape) -> None:
        self._drivers[symbol].apply(tape)
