"""Hand-made markets for tests: a price path as a tape the paper broker trades on, and a run
of a strategy over it on paper, in market time."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING

from tradewire._core import Tape
from tradewire.clock import MarketClock
from tradewire.model import SymbolRules
from tradewire.trading.runner import Runner
from tradewire.venues.paper import PaperBroker
from tradewire.venues.replay import TapeMarket

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tradewire.trading.runner import RunResult
    from tradewire.trading.strategy import Strategy

__all__ = ["RULES", "path_tape", "run_path", "walk"]

RULES = SymbolRules(
    "BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"), Decimal("5")
)
_U = 10**8
_BUY, _SELL, _BID, _ASK, _END, _CLEAR = range(6)


def walk(*points: str | int | float, step: str = "0.5") -> list[Decimal]:
    """Prices from each point to the next in ``step`` increments (both ends included)."""
    prices = [Decimal(str(p)) for p in points]
    out = [prices[0]]
    d = Decimal(step)
    for target in prices[1:]:
        while out[-1] != target:
            here = out[-1]
            out.append(min(here + d, target) if target > here else max(here - d, target))
    return out


def path_tape(prices: Iterable[Decimal], *, seconds: int = 1, spread: str = "0.01") -> Tape:
    """One book (bid and ask ``spread`` around the price) and a print each way through the
    price every ``seconds``: a limit order at the price fills once the path passes it."""
    kind: list[int] = []
    time_us: list[int] = []
    price: list[int] = []
    qty: list[int] = []
    s = Decimal(spread)
    for i, p in enumerate(prices):
        t = (i + 1) * seconds * 1_000_000
        for k, px, q in (
            (_CLEAR, 0, 0),
            (_BID, p - s, 1000),
            (_ASK, p + s, 1000),
            (_END, 0, 0),
            (_SELL, p - s, 1000),
            (_BUY, p + s, 1000),
        ):
            kind.append(k)
            time_us.append(t)
            price.append(int(Decimal(px) * _U))
            qty.append(int(Decimal(q) * _U))
    return Tape.from_columns(kind, time_us, price, qty)


def run_path(
    strategy: Strategy,
    prices: Iterable[Decimal],
    balances: Mapping[str, str],
    *,
    fee: str = "0",
    rules: SymbolRules = RULES,
) -> RunResult:
    """``strategy`` on paper over the path, in market time; the run's result (no error)."""
    broker = PaperBroker(rules, balances, maker_fee=fee, taker_fee=fee)
    market = TapeMarket([path_tape(prices)])
    runner = Runner(strategy, broker, market, rules, mode="paper", clock=MarketClock())
    result = asyncio.run(runner.run())
    assert result.error is None, result.error
    return result
