"""``backtest()``: the one call that runs a strategy over data files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire._core import Tape
from tradewire.backtest.run import BacktestResult, FillModel, run_tapes
from tradewire.backtest.symbols import default_rules

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from decimal import Decimal

    from tradewire.rules import SymbolRules
    from tradewire.trading.strategy import Strategy

__all__ = ["backtest"]


def _tapes(data: Iterable[str | Path | Tape], symbol: str) -> Iterator[Tape]:
    for item in data:
        if isinstance(item, Tape):
            yield item
            continue
        from tradewire.backtest.data import read_tape

        yield from read_tape(Path(item), symbol)


def backtest(
    strategy: Strategy,
    data: Sequence[str | Path | Tape],
    *,
    symbol: str = "BTCUSDT",
    fill_model: FillModel = "trade-through",
    start_balances: Mapping[str, Decimal | str] | None = None,
    rules: SymbolRules | None = None,
    **options: Any,
) -> BacktestResult:
    """Run ``strategy`` over ``data`` (files, read in the order given, or tapes).

    Files: Binance's public historical data (trades, aggTrades, klines; CSV, zipped or not) and
    recorded streams (``tradewire record``). ``start_balances`` defaults to 10,000 of the quote
    asset; ``rules`` to the built-in rules of ``symbol``. Other options: see
    :func:`tradewire.backtest.run_tapes` (fees, BNB discount, latency, book cadence, timer).

    Raises:
        BacktestError: unknown symbol without rules, bad settings or data, or a callback that
            waits or raises.
    """
    rules = rules or default_rules(symbol)
    return run_tapes(
        strategy,
        _tapes(data, rules.symbol),
        rules,
        fill_model=fill_model,
        start_balances=start_balances,
        **options,
    )
