"""``backtest()``: the one call that runs a strategy over data files."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradewire._core import Tape
from tradewire.backtest.run import BacktestResult, FillModel, run_symbols, run_tapes
from tradewire.backtest.symbols import default_rules
from tradewire.errors import BacktestError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
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
    data: Sequence[str | Path | Tape] | Mapping[str, Sequence[str | Path | Tape]],
    *,
    symbol: str | None = None,
    fill_model: FillModel = "trade-through",
    start_balances: Mapping[str, Decimal | str] | None = None,
    rules: SymbolRules | Mapping[str, SymbolRules] | None = None,
    **options: Any,
) -> BacktestResult:
    """Run ``strategy`` over ``data`` (files, read in the order given, or tapes).

    Files: Binance's public historical data (trades, aggTrades, klines; CSV, zipped or not) and
    recorded streams (``tradewire record``). ``start_balances`` defaults to 10,000 of the quote
    asset; ``rules`` to the built-in rules of ``symbol`` (default: the strategy's first
    ``symbols``, else BTCUSDT). Other options: see :func:`tradewire.backtest.run_tapes` (fees,
    BNB discount, latency, book cadence, timer).

    Several symbols: ``data`` maps each symbol to its files or tapes (``{"BTCUSDT": [...],
    "ETHUSDT": [...]}``), ``rules`` (optional) each symbol to its rules; the primary symbol is
    the strategy's first ``symbols``, else the first key. The symbols' events are merged in
    market time, one engine per symbol, with the options of one symbol
    (:func:`tradewire.backtest.run.run_symbols`).

    Raises:
        BacktestError: unknown symbol without rules, bad settings or data, a strategy whose
            ``symbols`` the data does not cover, or a callback that waits or raises.
    """
    if isinstance(data, Mapping):
        return _backtest_symbols(
            strategy,
            data,
            fill_model=fill_model,
            start_balances=start_balances,
            rules=rules,
            **options,
        )
    if isinstance(rules, Mapping):
        raise BacktestError("rules by symbol go with data by symbol ({symbol: files})")
    declared = tuple(strategy.symbols)
    if len(declared) > 1:
        raise BacktestError(
            f"{type(strategy).__name__} trades {', '.join(declared)}: give the data of each "
            "({symbol: files})"
        )
    rules = rules or default_rules(symbol or (declared[0] if declared else "BTCUSDT"))
    return run_tapes(
        strategy,
        _tapes(data, rules.symbol),
        rules,
        fill_model=fill_model,
        start_balances=start_balances,
        **options,
    )


def _backtest_symbols(
    strategy: Strategy,
    data: Mapping[str, Sequence[str | Path | Tape]],
    *,
    fill_model: FillModel,
    start_balances: Mapping[str, Decimal | str] | None,
    rules: SymbolRules | Mapping[str, SymbolRules] | None,
    **options: Any,
) -> BacktestResult:
    declared = tuple(strategy.symbols)
    symbols = declared or tuple(data)
    if set(symbols) != set(data):
        raise BacktestError(
            f"{type(strategy).__name__} trades {', '.join(symbols)}; the data is of "
            f"{', '.join(data)}"
        )
    given: Mapping[str, SymbolRules] = (
        {rules.symbol: rules}
        if rules is not None and not isinstance(rules, Mapping)
        else rules or {}
    )
    all_rules = [given.get(s) or default_rules(s) for s in symbols]
    tapes = {r.symbol: _tapes(data[r.symbol], r.symbol) for r in all_rules}
    return run_symbols(
        strategy,
        tapes,
        all_rules,
        fill_model=fill_model,
        start_balances=start_balances,
        **options,
    )
